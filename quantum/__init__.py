"""HybridReview's solving library: pure Python, usable from a notebook.

Keep this a plain re-export list, and keep it cheap: nothing here may import
qiskit (or jsonschema) at module import time.
"""

from quantum.decode import decode_counts
from quantum.errors import BackendError, FieldError, ProblemValidationError
from quantum.model import BinaryQuadraticModel
from quantum.problems import SUPPORTED_SCHEMA_VERSIONS, Problem, parse_problem, problem_schemas
from quantum.results import CandidateResult, SolveResult

__all__ = [
    "SUPPORTED_SCHEMA_VERSIONS",
    "BackendError",
    "BinaryQuadraticModel",
    "CandidateResult",
    "FieldError",
    "Problem",
    "ProblemValidationError",
    "SolveResult",
    "decode_counts",
    "parse_problem",
    "problem_schemas",
]

# Solving and backends; like the rest, importing these loads no qiskit.
from quantum.backends import (
    Backend,
    BackendSpec,
    CostModel,
    get_backend,
    register_backend,
)
from quantum.solve import SOLVERS, RunEstimate, check_options, estimate_run, solve

__all__ += [
    "SOLVERS",
    "Backend",
    "BackendSpec",
    "CostModel",
    "RunEstimate",
    "check_options",
    "estimate_run",
    "get_backend",
    "register_backend",
    "solve",
]
