"""``parse_problem``: payload -> ``Problem``, or every field error at once.

Two passes: the published JSON Schema for structure and limits (so what is
published and what is enforced cannot drift), then each type's semantic
checks, which may assume the structure is right. A payload with structural
errors reports only those: semantic checks on a malformed payload would
mostly echo them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from quantum.errors import FieldError, ProblemValidationError
from quantum.problems import maxcut, portfolio, qubo
from quantum.problems.problem import Problem
from quantum.problems.schemas import SUPPORTED_SCHEMA_VERSIONS, problem_types
from quantum.problems.structure import json_type, shown, structural_errors

Builder = Callable[[Mapping[str, Any]], Problem]

_BUILDERS: dict[str, dict[str, Builder]] = {
    "1": {"maxcut": maxcut.build, "qubo": qubo.build, "portfolio": portfolio.build},
}


def parse_problem(payload: object, schema_version: str = "1") -> Problem:
    """Validate ``payload`` against ``schema_version`` and build its ``Problem``.

    Raises ``ProblemValidationError`` whose ``errors`` name each offending
    field by path, e.g. ``problem.graph.edges[3][1]``.
    """
    if schema_version not in SUPPORTED_SCHEMA_VERSIONS:
        supported = ", ".join(SUPPORTED_SCHEMA_VERSIONS)
        message = f"unsupported schema version {shown(schema_version)}; supported: {supported}"
        raise ProblemValidationError([FieldError("schema_version", message)])
    kind = _problem_type(payload, schema_version)
    errors = structural_errors(payload, schema_version, kind)
    if errors:
        raise ProblemValidationError(errors)
    assert isinstance(payload, Mapping)  # the schema requires an object
    return _BUILDERS[schema_version][kind](payload)


def _problem_type(payload: object, version: str) -> str:
    types = problem_types(version)
    listed = ", ".join(types)
    if not isinstance(payload, Mapping):
        message = f"must be a JSON object with a 'type' field; got {json_type(payload)}"
        raise ProblemValidationError([FieldError("problem", message)])
    if "type" not in payload:
        raise ProblemValidationError([FieldError("problem.type", f"is required; one of: {listed}")])
    kind = payload["type"]
    if not isinstance(kind, str) or kind not in types:
        message = f"unknown problem type {shown(kind)}; one of: {listed}"
        raise ProblemValidationError([FieldError("problem.type", message)])
    return kind
