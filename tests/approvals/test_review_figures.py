"""Figures built on the server: aggregated, marked, and fast on a 2^20-outcome distribution."""

from __future__ import annotations

import json

import pytest

from approvals import services
from approvals.distributions import outcomes_from_counts, parse_counts, total_variation_distance
from approvals.figures import TOP_K, request_figures
from quantum.metrics import total_variation_distance as reference_tvd
from tests.approvals.review_support import best, candidate_ranked, huge_request, ranked_request

N = 20


@pytest.fixture
def ana(make_user, team):
    return make_user("ana", "analyst", team=team)


def by_kind(result, kind):
    return [f for f in result["figures"] if f["kind"] == kind]


# The distribution reader ----------------------------------------------------


def test_the_fast_reader_agrees_with_json_on_canonical_counts():
    counts = {"0010": 3, "0111": 12, "1000": 1, "1111": 40}
    raw = json.dumps(counts, sort_keys=True, separators=(",", ":")).encode()
    outcomes = parse_counts(raw)
    assert [outcomes.label(i) for i in range(len(outcomes))] == sorted(counts)
    assert outcomes.counts.tolist() == [3, 12, 1, 40]
    assert [outcomes.label(i) for i in outcomes.top(2)] == ["1111", "0111"]
    assert outcomes.find("1000") == 2 and outcomes.find("0000") is None
    assert outcomes.int_keys().tolist() == [2, 7, 8, 15]


def test_registers_separated_by_spaces_take_the_general_path_and_are_joined():
    outcomes = parse_counts(b'{"01 10":3,"11 00":5}')
    assert [outcomes.label(i) for i in range(len(outcomes))] == ["0110", "1100"]
    assert outcomes.counts.tolist() == [3, 5]


def test_ties_at_the_top_are_broken_by_outcome_so_the_figure_is_stable():
    outcomes = outcomes_from_counts({"11": 5, "00": 5, "01": 5, "10": 1})
    assert [outcomes.label(i) for i in outcomes.top(2)] == ["00", "01"]


def test_total_variation_distance_matches_the_quantum_library():
    a = {"000": 10, "001": 5, "111": 1}
    b = {"001": 4, "010": 4, "111": 8}
    mine = total_variation_distance(outcomes_from_counts(a), outcomes_from_counts(b))
    assert mine == pytest.approx(reference_tvd(a, b))


# Figures ---------------------------------------------------------------------


def test_a_measurement_figure_shows_the_top_outcomes_one_other_bar_and_marks_best_and_recommended(
    ana, team
):
    counts = {format(i, "04b"): 100 - i for i in range(16)}
    req = ranked_request(ana, team=team, counts=counts)
    services.request_recommend(
        request=req, actor=ana, candidate_id=candidate_ranked(req, 2).pk, comment="second"
    )
    [fig] = by_kind(request_figures(req), "measurement")
    bar = fig["figure"]["data"][0]
    assert len(bar["x"]) == 16  # 16 outcomes: no "other" bar needed
    labels = dict(zip(bar["x"], bar["text"], strict=True))
    assert labels[best(req).bitstring] in ("best", "best + recommended")
    assert "recommended" in labels[candidate_ranked(req, 2).bitstring]
    assert sum(bar["y"]) == pytest.approx(1.0)


def test_an_objective_figure_overlays_samples_and_baselines_and_marks_the_optimum(ana, team):
    req = ranked_request(ana, team=team)
    [fig] = by_kind(request_figures(req), "objective")
    names = [t["name"] for t in fig["figure"]["data"]]
    assert any("(samples)" in n for n in names)
    # The exact solver's best is the optimum: one line, named and labelled for
    # both, rather than the dotted one hidden under the dashed one.
    [line] = [t for t in fig["figure"]["data"] if t["type"] == "scatter"]
    assert line["name"].startswith("optimum = #") and line["name"].endswith("exact best")
    assert line["x"] == [4.0, 4.0]
    assert line["text"][-1].startswith("optimum = #")


def test_a_noisy_run_is_drawn_beside_its_ideal_with_their_distance(ana, team):
    noisy = {"0101": 200, "1010": 150, "0011": 200, "0110": 200, "1111": 150, "0000": 124}
    req = ranked_request(ana, team=team, noisy_counts=noisy)
    [fig] = by_kind(request_figures(req), "noise")
    assert "total variation distance 0.250" in fig["title"]
    ideal, noisy_trace = fig["figure"]["data"]
    assert ideal["name"].startswith("ideal") and noisy_trace["name"].startswith("#")
    for trace in fig["figure"]["data"]:
        assert sum(trace["y"]) == pytest.approx(1.0)


def test_the_problem_figure_colours_the_cut_of_the_chosen_candidate(ana, team):
    req = ranked_request(ana, team=team)
    [fig] = by_kind(request_figures(req), "problem")
    cut = next(t for t in fig["figure"]["data"] if t["name"] == "edge cut")
    assert len(cut["x"]) == 4 * 3  # all four edges of the square are cut
    assert "4 of 4 edges cross the cut" in fig["caption"]


def test_portfolio_and_qubo_problems_get_their_own_figure(ana, team):
    portfolio = {
        "type": "portfolio",
        "expected_returns": [0.10, 0.05, 0.12],
        "covariance": [[0.02, 0.0, 0.0], [0.0, 0.01, 0.0], [0.0, 0.0, 0.03]],
        "budget": 2,
        "risk_factor": 0.5,
    }
    counts = {"101": 60, "011": 30, "111": 10}
    req = ranked_request(ana, team=team, problem=portfolio, counts=counts)
    [fig] = by_kind(request_figures(req), "problem")
    weights = fig["figure"]["data"][0]
    assert sorted(weights["y"]) == [0.0, 0.5, 0.5]
    qubo = {"type": "qubo", "linear": [-1, -1], "quadratic": [[0, 1, 3]]}
    req2 = ranked_request(ana, team=team, problem=qubo, counts={"01": 5, "10": 4, "11": 1})
    [fig2] = by_kind(request_figures(req2), "problem")
    assert fig2["figure"]["data"][0]["x"] == ["x0", "x1"]


@pytest.mark.slow
def test_a_two_to_the_twenty_outcome_distribution_is_aggregated_into_a_small_figure(ana, team):
    req = huge_request(ana, team=team, n=N)
    result = request_figures(req)
    size = len(json.dumps(result))
    [fig] = by_kind(result, "measurement")
    bar = fig["figure"]["data"][0]
    assert len(bar["x"]) <= TOP_K + 3
    assert bar["x"][-1] == f"other ({2**N - len(bar['x']) + 1:,} outcomes)"
    assert sum(bar["y"]) == pytest.approx(1.0)
    assert size < 100_000, size
