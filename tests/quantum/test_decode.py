"""decode_counts: Qiskit counts -> ranked candidates in the problem's own terms."""

from __future__ import annotations

import numpy as np
import pytest

from quantum import CandidateResult, decode_counts, parse_problem
from quantum.decode import rank_candidates

TRIANGLE = parse_problem(
    {"type": "maxcut", "graph": {"nodes": 3, "edges": [[0, 1], [1, 2], [0, 2]]}}
)
PORTFOLIO = parse_problem(
    {
        "type": "portfolio",
        "expected_returns": [0.3, 0.1, 0.2],
        "covariance": [[0.1, 0.0, 0.0], [0.0, 0.1, 0.0], [0.0, 0.0, 0.1]],
        "budget": 1,
        "risk_factor": 1.0,
    }
)


def test_rightmost_bit_is_variable_zero() -> None:
    (candidate,) = decode_counts(TRIANGLE, {"001": 7})
    assert candidate.assignment == (1, 0, 0)
    assert candidate.bitstring == "001"


def test_candidates_carry_objective_probability_and_count() -> None:
    candidates = decode_counts(TRIANGLE, {"001": 30, "000": 10})
    assert candidates[0] == CandidateResult(
        assignment=(1, 0, 0),
        bitstring="001",
        objective=2.0,
        feasible=True,
        probability=0.75,
        count=30,
    )
    assert candidates[1].objective == 0.0
    assert candidates[1].probability == 0.25


def test_better_objective_outranks_more_shots() -> None:
    candidates = decode_counts(TRIANGLE, {"000": 900, "011": 1, "111": 99})
    assert [c.bitstring for c in candidates] == ["011", "000", "111"]


def test_equal_objectives_rank_by_count_then_bitstring() -> None:
    candidates = decode_counts(TRIANGLE, {"110": 5, "001": 5, "010": 9})
    assert [c.bitstring for c in candidates] == ["010", "001", "110"]


def test_feasible_candidates_come_before_better_looking_infeasible_ones() -> None:
    # Selecting every asset scores a lower (better) raw objective but breaks the budget.
    candidates = decode_counts(PORTFOLIO, {"111": 500, "001": 1, "100": 2})
    assert [c.bitstring for c in candidates] == ["001", "100", "111"]
    assert [c.feasible for c in candidates] == [True, True, False]
    assert candidates[2].objective < candidates[0].objective


def test_space_separated_registers_are_joined() -> None:
    candidates = decode_counts(TRIANGLE, {"0 01": 2, "001": 2})
    assert [(c.bitstring, c.count) for c in candidates] == [("001", 4)]


def test_empty_counts_decode_to_no_candidates() -> None:
    assert decode_counts(TRIANGLE, {}) == ()


@pytest.mark.parametrize(
    ("counts", "words"),
    [
        ({"01": 1}, "has 2 bits; the problem has 3"),
        ({"012": 1}, "only '0' and '1'"),
        ({"0-1": 1}, "only '0' and '1'"),
        ({"0é1": 1}, "only '0' and '1'"),
        ({"001": -1}, "must not be negative"),
        ({"001": 0}, "at least one shot"),
    ],
)
def test_malformed_counts_are_rejected_clearly(counts: dict[str, int], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        decode_counts(TRIANGLE, counts)


def test_every_outcome_of_sixteen_qubits_decodes_and_the_optimum_ranks_first() -> None:
    n = 16
    edges = [[i, (i + 1) % n] for i in range(n)]
    ring = parse_problem({"type": "maxcut", "graph": {"nodes": n, "edges": edges}})
    rng = np.random.default_rng(0)
    counts = {format(k, f"0{n}b"): int(c) for k, c in enumerate(rng.integers(1, 50, 1 << n))}
    candidates = decode_counts(ring, counts)
    assert len(candidates) == 1 << n
    assert candidates[0].objective == n
    assert {candidates[0].bitstring, candidates[1].bitstring} == {"01" * 8, "10" * 8}
    assert sum(c.probability for c in candidates) == pytest.approx(1.0)
    objectives = [c.objective for c in candidates]
    assert objectives == sorted(objectives, reverse=True)


def test_rank_candidates_orders_like_decode_counts() -> None:
    candidates = decode_counts(PORTFOLIO, {"111": 500, "001": 1, "100": 2, "010": 2})
    assert rank_candidates(reversed(candidates), PORTFOLIO.sense) == candidates
