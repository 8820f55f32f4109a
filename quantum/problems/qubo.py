"""QUBO: offset + linear . x + sum of c x_i x_j over the listed pairs, either sense."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from quantum.model import BinaryQuadraticModel
from quantum.problems._errors import ErrorList
from quantum.problems._models import scaled
from quantum.problems.problem import Problem, Sense

Term = tuple[int, int, float]


def build(payload: Mapping[str, Any]) -> Problem:
    """Build from a schema-valid payload; semantic errors raise ``ProblemValidationError``."""
    errors = ErrorList()
    linear = [float(c) for c in payload["linear"]]
    n = len(linear)
    for i, c in enumerate(linear):
        errors.check_finite(f"problem.linear[{i}]", c)
    offset = float(payload.get("offset", 0.0))
    errors.check_finite("problem.offset", offset)
    terms = _checked_terms(errors, n, payload.get("quadratic", []))
    errors.raise_if_any()
    sense = cast(Sense, payload.get("sense", "minimize"))
    objective = BinaryQuadraticModel.build(
        n, dict(enumerate(linear)), {(i, j): c for i, j, c in terms}, offset
    )
    data = {
        "type": "qubo",
        "linear": linear,
        "quadratic": [list(t) for t in terms],
        "offset": offset,
        "sense": sense,
    }
    return Problem(
        kind="qubo",
        num_variables=n,
        data=data,
        bqm=scaled(objective, -1.0) if sense == "maximize" else objective,
        sense=sense,
        objective_model=objective,
    )


def _checked_terms(errors: ErrorList, n: int, raw: Sequence[Sequence[Any]]) -> list[Term]:
    first_seen: dict[tuple[int, int], int] = {}
    terms: list[Term] = []
    for k, item in enumerate(raw):
        if errors.full:
            break
        path = f"problem.quadratic[{k}]"
        i, j, c = int(item[0]), int(item[1]), float(item[2])
        in_range = True
        for position, index in ((0, i), (1, j)):
            if index >= n:
                message = f"variable {index} is out of range: len(linear) is {n}, so 0 to {n - 1}"
                errors.add(f"{path}[{position}]", message)
                in_range = False
        finite = errors.check_finite(f"{path}[2]", c)
        if not in_range:
            continue
        key = (min(i, j), max(i, j))
        if key in first_seen:
            message = (
                f"repeats quadratic[{first_seen[key]}]: [{i}, {j}] and [{j}, {i}] are one pair"
            )
            errors.add(path, message)
            continue
        first_seen[key] = k
        if finite:
            terms.append((key[0], key[1], c))
    terms.sort()
    return terms
