"""Published JSON Schemas (draft 2020-12), one per schema version and problem type.

The schemas carry the structure and the size limits; what JSON Schema cannot
say (indices within ``nodes``, duplicate edges, a symmetric PSD covariance)
is checked in Python by each type's module, after the schema passes.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from quantum.problems.limits import (
    MAX_ABS_COEFFICIENT,
    MAX_ASSETS,
    MAX_TERMS,
    MAX_VARIABLES,
)

SUPPORTED_SCHEMA_VERSIONS: Final = ("1",)
_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"

_COEFFICIENT: Final[dict[str, Any]] = {
    "type": "number",
    "minimum": -MAX_ABS_COEFFICIENT,
    "maximum": MAX_ABS_COEFFICIENT,
}


def _index(limit: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": 0, "maximum": limit - 1}


def _envelope(kind: str, title: str, description: str) -> dict[str, Any]:
    return {
        "$schema": _DIALECT,
        "$id": f"urn:hybridreview:problem:1:{kind}",
        "title": title,
        "description": description,
        "type": "object",
        "additionalProperties": False,
    }


def _maxcut_v1() -> dict[str, Any]:
    schema = _envelope(
        "maxcut",
        "MaxCut (schema version 1)",
        "Split the nodes in two to maximise the total weight of edges cut. "
        "Edges are undirected [u, v] or [u, v, weight] (weight defaults to 1); "
        "self-loops and repeated edges ([v, u] repeats [u, v]) are rejected.",
    )
    edge = {
        "type": "array",
        "minItems": 2,
        "maxItems": 3,
        "prefixItems": [_index(MAX_VARIABLES), _index(MAX_VARIABLES), _COEFFICIENT],
    }
    graph = {
        "type": "object",
        "additionalProperties": False,
        "required": ["nodes", "edges"],
        "properties": {
            "nodes": {"type": "integer", "minimum": 1, "maximum": MAX_VARIABLES},
            "edges": {"type": "array", "maxItems": MAX_TERMS, "items": edge},
        },
    }
    schema["required"] = ["type", "graph"]
    schema["properties"] = {"type": {"const": "maxcut"}, "graph": graph}
    return schema


def _qubo_v1() -> dict[str, Any]:
    schema = _envelope(
        "qubo",
        "QUBO (schema version 1)",
        "offset + sum_i linear[i] x_i + sum over quadratic [i, j, c] of c x_i x_j, "
        "x in {0,1}^n with n = len(linear), minimised or maximised per sense. "
        "A pair may appear once ([j, i] repeats [i, j]); [i, i, c] adds c to linear[i].",
    )
    term = {
        "type": "array",
        "minItems": 3,
        "maxItems": 3,
        "prefixItems": [_index(MAX_VARIABLES), _index(MAX_VARIABLES), _COEFFICIENT],
    }
    schema["required"] = ["type", "linear"]
    schema["properties"] = {
        "type": {"const": "qubo"},
        "linear": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_VARIABLES,
            "items": _COEFFICIENT,
        },
        "quadratic": {"type": "array", "maxItems": MAX_TERMS, "items": term, "default": []},
        "offset": {**_COEFFICIENT, "default": 0},
        "sense": {"enum": ["minimize", "maximize"], "default": "minimize"},
    }
    return schema


def _portfolio_v1() -> dict[str, Any]:
    schema = _envelope(
        "portfolio",
        "Portfolio selection (schema version 1)",
        "Choose exactly budget assets minimising risk_factor * x^T covariance x "
        "- expected_returns . x. The covariance must be n x n, symmetric (relative "
        "tolerance 1e-8) and positive semidefinite (smallest eigenvalue >= "
        "-1e-9 * max(1, spectral norm)); 1 <= budget <= n.",
    )
    row = {"type": "array", "maxItems": MAX_ASSETS, "items": _COEFFICIENT}
    schema["required"] = ["type", "expected_returns", "covariance", "budget", "risk_factor"]
    schema["properties"] = {
        "type": {"const": "portfolio"},
        "expected_returns": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_ASSETS,
            "items": _COEFFICIENT,
        },
        "covariance": {"type": "array", "minItems": 1, "maxItems": MAX_ASSETS, "items": row},
        "budget": {"type": "integer", "minimum": 1, "maximum": MAX_ASSETS},
        "risk_factor": {"type": "number", "minimum": 0, "maximum": MAX_ABS_COEFFICIENT},
    }
    return schema


_SCHEMAS: Final = {
    "1": {"maxcut": _maxcut_v1(), "qubo": _qubo_v1(), "portfolio": _portfolio_v1()},
}


def problem_schemas() -> dict[str, dict[str, Any]]:
    """Every published schema: ``{version: {type: JSON Schema}}``.

    A deep copy, so a caller that decorates the result (an OpenAPI generator,
    say) cannot change what parsing validates against.
    """
    return copy.deepcopy(_SCHEMAS)


def schema_for(version: str, kind: str) -> dict[str, Any]:
    """The schema parsing uses, not copied; callers must not mutate it."""
    return _SCHEMAS[version][kind]


def problem_types(version: str) -> tuple[str, ...]:
    return tuple(_SCHEMAS[version])
