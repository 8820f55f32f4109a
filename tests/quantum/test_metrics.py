"""Metrics over candidates and distributions."""

from __future__ import annotations

import pytest

from quantum import CandidateResult, decode_counts, parse_problem
from quantum.metrics import (
    approximation_ratio,
    distinct_feasible_top,
    expected_objective,
    probability_of_best,
    shot_variance,
    summary_metrics,
    total_variation_distance,
)

TRIANGLE = parse_problem(
    {"type": "maxcut", "graph": {"nodes": 3, "edges": [[0, 1], [1, 2], [0, 2]]}}
)


def candidate(objective: float, probability: float, feasible: bool = True) -> CandidateResult:
    return CandidateResult(
        assignment=(0,), bitstring="0", objective=objective, feasible=feasible,
        probability=probability, count=0,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("value", "optimum", "sense", "expected"),
    [
        (8.0, 10.0, "maximize", 0.8),
        (10.0, 10.0, "maximize", 1.0),
        (10.0, 5.0, "minimize", 0.5),
        (-8.0, -10.0, "minimize", 0.8),
        (-4.0, -2.0, "maximize", 0.5),
        (3.0, 0.0, "minimize", None),
        (0.0, 0.0, "minimize", 1.0),
    ],
)
def test_approximation_ratio_is_one_at_the_optimum_and_less_below_it(
    value: float, optimum: float, sense: str, expected: float | None
) -> None:
    assert approximation_ratio(value, optimum, sense, None) == (  # type: ignore[arg-type]
        pytest.approx(expected) if expected is not None else None
    )


def test_approximation_ratio_with_a_worst_value_is_normalised_for_either_sense() -> None:
    assert approximation_ratio(7.0, 10.0, "maximize", worst=4.0) == pytest.approx(0.5)
    assert approximation_ratio(-1.0, -3.0, "minimize", worst=1.0) == pytest.approx(0.5)
    assert approximation_ratio(2.0, 2.0, "minimize", worst=2.0) == 1.0


def test_total_variation_distance_normalises_counts() -> None:
    assert total_variation_distance({"0": 5, "1": 5}, {"0": 0.5, "1": 0.5}) == 0.0
    assert total_variation_distance({"0": 1}, {"1": 3}) == 1.0
    assert total_variation_distance({"0": 3, "1": 1}, {"0": 1, "1": 1}) == pytest.approx(0.25)


@pytest.mark.parametrize("bad", [{}, {"0": 0}, {"0": -1, "1": 2}, {"0": float("nan")}])
def test_total_variation_distance_rejects_empty_or_negative_weights(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="p must"):
        total_variation_distance(bad, {"0": 1})


def test_expected_objective_and_shot_variance_follow_the_sampled_distribution() -> None:
    candidates = [candidate(2.0, 0.5), candidate(0.0, 0.5)]
    assert expected_objective(candidates) == 1.0
    assert shot_variance(candidates) == 1.0
    assert expected_objective([]) is None
    assert shot_variance([]) is None


def test_probability_of_best_counts_only_feasible_mass_at_the_best() -> None:
    candidates = [candidate(-5.0, 0.2, feasible=False), candidate(-3.0, 0.3), candidate(-1.0, 0.5)]
    assert probability_of_best(candidates, -3.0, "minimize") == pytest.approx(0.3)
    assert probability_of_best(candidates, -3.0 + 1e-12, "minimize") == pytest.approx(0.3)


def test_distinct_feasible_top_ignores_infeasible_and_counts_within_k() -> None:
    candidates = decode_counts(TRIANGLE, {"001": 3, "010": 2, "011": 2, "000": 1})
    assert distinct_feasible_top(candidates, k=2) == 2
    assert distinct_feasible_top(candidates) == 4


def test_summary_metrics_of_a_sampled_distribution() -> None:
    candidates = decode_counts(TRIANGLE, {"001": 3, "110": 1, "000": 4})
    metrics = summary_metrics(TRIANGLE, candidates, optimum=2.0)
    assert metrics == {
        "best_objective": 2.0,
        "approximation_ratio": 1.0,
        "expected_objective": pytest.approx(1.0),
        "probability_of_best": pytest.approx(0.5),
        "feasible_probability": 1.0,
        "shot_variance": pytest.approx(1.0),
        "distinct_feasible_top10": 3,
    }


def test_summary_metrics_without_a_known_optimum_measure_against_the_best_seen() -> None:
    candidates = decode_counts(TRIANGLE, {"000": 4})
    metrics = summary_metrics(TRIANGLE, candidates, optimum=None)
    assert metrics["approximation_ratio"] is None
    assert metrics["probability_of_best"] == 1.0
