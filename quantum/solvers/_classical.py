"""What every classical solver shares: option checking and building the SolveResult."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from quantum.decode import rank_order
from quantum.metrics import summary_metrics
from quantum.model import assignment_to_bitstring
from quantum.problems.problem import Problem
from quantum.results import CandidateResult, SolveResult

TOP_K = 10


def check_option_names(solver: str, options: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
            f"unknown option(s) for {solver}: {', '.join(map(str, unknown))}; "
            f"allowed: {', '.join(allowed) or 'none'}"
        )


def int_option(options: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = options.get(name, default)
    # bool is an int subclass; "restarts": true is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"option {name} must be an integer; got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"option {name} must be between {low} and {high}; got {value}")
    return value


def finite(value: int | float) -> bool:
    """Whether ``value`` is a finite float: JSON integers have no bound, and one too
    large for a float would make ``math.isfinite`` raise OverflowError."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def positive_float_option(options: Mapping[str, Any], name: str) -> float | None:
    value = options.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"option {name} must be a number; got {value!r}")
    if not (finite(value) and value > 0):
        raise ValueError(f"option {name} must be a finite number > 0; got {value}")
    return float(value)


def classical_result(
    solver: str,
    problem: Problem,
    xs: npt.ArrayLike,
    *,
    started: float,
    optimum: float | None = None,
    extra_metrics: Mapping[str, Any] | None = None,
) -> SolveResult:
    """Rank the distinct rows of ``xs`` and keep the best ``TOP_K`` as candidates.

    The best candidate gets probability 1.0 and the rest 0.0: a classical
    solver *answers* with its best; the runners-up are there for comparison.
    """
    candidates = top_candidates(problem, xs)
    metrics: dict[str, Any] = dict(summary_metrics(problem, candidates, optimum))
    metrics.update(extra_metrics or {})
    return SolveResult(
        solver=solver,
        backend=None,
        tier="classical",
        counts={},
        candidates=candidates,
        metrics=metrics,
        timings={"total": time.perf_counter() - started},
    )


def top_candidates(problem: Problem, xs: npt.ArrayLike) -> tuple[CandidateResult, ...]:
    unique = np.unique(np.asarray(xs, dtype=np.int8), axis=0)
    objectives, feasible = problem.evaluate_many(unique)
    rows = unique.tolist()
    bitstrings = [assignment_to_bitstring(row) for row in rows]
    no_counts = np.zeros(len(rows), dtype=np.int64)
    order = rank_order(objectives, feasible, no_counts, bitstrings, problem.sense)[:TOP_K]
    return tuple(
        CandidateResult(
            assignment=tuple(rows[i]),
            bitstring=bitstrings[i],
            objective=float(objectives[i]),
            feasible=bool(feasible[i]),
            probability=1.0 if rank == 0 else 0.0,
            count=0,
        )
        for rank, i in enumerate(order.tolist())
    )
