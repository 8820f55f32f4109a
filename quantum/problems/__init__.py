"""Versioned problem schemas, parsed into one canonical ``Problem``.

No qiskit and no jsonschema at import time: both load on first use.
"""

from quantum.problems.limits import (
    MAX_ABS_COEFFICIENT,
    MAX_ASSETS,
    MAX_PAYLOAD_BYTES,
    MAX_TERMS,
    MAX_VARIABLES,
)
from quantum.problems.parsing import parse_problem
from quantum.problems.problem import Problem, Sense
from quantum.problems.schemas import SUPPORTED_SCHEMA_VERSIONS, problem_schemas

__all__ = [
    "MAX_ABS_COEFFICIENT",
    "MAX_ASSETS",
    "MAX_PAYLOAD_BYTES",
    "MAX_TERMS",
    "MAX_VARIABLES",
    "SUPPORTED_SCHEMA_VERSIONS",
    "Problem",
    "Sense",
    "parse_problem",
    "problem_schemas",
]
