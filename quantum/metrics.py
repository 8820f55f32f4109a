"""Quality measures for solver output, shared by quantum and classical solvers.

Candidates carry a ``probability`` (share of shots; a classical solver gives
its best answer 1.0 and the runners-up 0.0), so one set of formulas serves
both: a classical answer is a distribution concentrated on one point.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from quantum.problems.problem import Problem, Sense
from quantum.results import CandidateResult

# Objectives equal within this relative tolerance count as "the best": decoded
# objectives and an optimum from another solver are summed in different orders.
BEST_RTOL = 1e-9


def approximation_ratio(
    value: float, optimum: float, sense: Sense, worst: float | None = None
) -> float | None:
    """How close ``value`` is to ``optimum``: 1.0 is optimal, lower is worse.

    With ``worst`` (the worst feasible objective): (value - worst) / (optimum - worst),
    which is 0 at the worst answer and meaningful whatever the signs.
    Without it, the usual ratio of magnitudes: value / optimum when the
    optimum is the larger magnitude (maximising a positive objective,
    minimising a negative one), optimum / value otherwise. None when the ratio
    is undefined: a zero optimum or value without ``worst``, or
    worst == optimum with value != optimum.
    """
    if worst is not None:
        if optimum == worst:
            return 1.0 if value == optimum else None
        return (value - worst) / (optimum - worst)
    if value == optimum:
        return 1.0
    if optimum == 0 or value == 0:
        return None
    # True when "better" means "larger in magnitude" for this sign and sense.
    larger_is_better = (optimum > 0) == (sense == "maximize")
    numerator, denominator = (value, optimum) if larger_is_better else (optimum, value)
    return numerator / denominator


def total_variation_distance(p: Mapping[str, float | int], q: Mapping[str, float | int]) -> float:
    """Half the L1 distance between two distributions; counts are normalised first."""
    p_norm, q_norm = _normalised(p, "p"), _normalised(q, "q")
    keys = p_norm.keys() | q_norm.keys()
    return 0.5 * math.fsum(abs(p_norm.get(k, 0.0) - q_norm.get(k, 0.0)) for k in keys)


def expected_objective(candidates: Sequence[CandidateResult]) -> float | None:
    """Mean objective under the sampled distribution (all candidates, feasible or not)."""
    weights = _weights(candidates)
    if weights is None:
        return None
    return math.fsum(w * c.objective for w, c in zip(weights, candidates, strict=True))


def shot_variance(candidates: Sequence[CandidateResult]) -> float | None:
    """Variance of the objective under the sampled distribution."""
    mean = expected_objective(candidates)
    weights = _weights(candidates)
    if mean is None or weights is None:
        return None
    return math.fsum(
        w * (c.objective - mean) ** 2 for w, c in zip(weights, candidates, strict=True)
    )


def probability_of_best(
    candidates: Sequence[CandidateResult], best_objective: float, sense: Sense
) -> float:
    """Probability mass on feasible candidates at least as good as ``best_objective``."""
    weights = _weights(candidates) or []
    return math.fsum(
        w
        for w, c in zip(weights, candidates, strict=True)
        if c.feasible and _at_least_as_good(c.objective, best_objective, sense)
    )


def distinct_feasible_top(candidates: Sequence[CandidateResult], k: int = 10) -> int:
    """How many distinct feasible assignments are among the first ``k`` candidates."""
    return len({c.assignment for c in candidates[:k] if c.feasible})


def feasible_probability(candidates: Sequence[CandidateResult]) -> float:
    weights = _weights(candidates) or []
    return math.fsum(w for w, c in zip(weights, candidates, strict=True) if c.feasible)


def summary_metrics(
    problem: Problem, candidates: Sequence[CandidateResult], optimum: float | None
) -> dict[str, float | int | None]:
    """The metrics every SolveResult carries. ``candidates`` are ranked best first."""
    feasible = [c for c in candidates if c.feasible]
    best = feasible[0].objective if feasible else None
    reference = optimum if optimum is not None else best
    ratio = None
    if best is not None and optimum is not None:
        ratio = approximation_ratio(best, optimum, problem.sense)
    return {
        "best_objective": best,
        "approximation_ratio": ratio,
        "expected_objective": expected_objective(candidates),
        "probability_of_best": (
            probability_of_best(candidates, reference, problem.sense)
            if reference is not None
            else 0.0
        ),
        "feasible_probability": feasible_probability(candidates),
        "shot_variance": shot_variance(candidates),
        "distinct_feasible_top10": distinct_feasible_top(candidates, 10),
    }


def _at_least_as_good(value: float, reference: float, sense: Sense) -> bool:
    slack = BEST_RTOL * max(1.0, abs(reference))
    return value >= reference - slack if sense == "maximize" else value <= reference + slack


def _weights(candidates: Sequence[CandidateResult]) -> list[float] | None:
    total = math.fsum(c.probability for c in candidates)
    if total <= 0:
        return None
    return [c.probability / total for c in candidates]


def _normalised(dist: Mapping[str, float | int], name: str) -> dict[str, float]:
    values = list(dist.values())
    if any(v < 0 or not math.isfinite(v) for v in values):
        raise ValueError(f"{name} must hold finite, non-negative weights")
    total = math.fsum(values)
    if total <= 0:
        raise ValueError(f"{name} must have positive total weight")
    return {k: v / total for k, v in dist.items()}
