"""Execution backends behind one small interface, found by name in a registry.

Importing this package does not import qiskit; ``get_backend`` loads the
adapter (and qiskit) for the kind it builds.
"""

from quantum.backends.base import (
    Backend,
    BackendSpec,
    CostModel,
    JobNotFoundError,
    JobStatus,
    Tier,
)
from quantum.backends.registry import (
    BackendFactory,
    default_backend_specs,
    default_spec,
    get_backend,
    register_backend,
    spec_problems,
)

__all__ = [
    "Backend",
    "BackendFactory",
    "BackendSpec",
    "CostModel",
    "JobNotFoundError",
    "JobStatus",
    "Tier",
    "default_backend_specs",
    "default_spec",
    "get_backend",
    "register_backend",
    "spec_problems",
]
