"""Classical solvers: known optima, the SolveResult contract, options, reproducibility, scale."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from quantum import Problem, SolveResult, parse_problem
from quantum.solvers import annealing, exact, local_search

from .strategies import all_assignments, any_problem, brute_force_optimum

SOLVERS = [exact, annealing, local_search]
SOLVER_IDS = ["exact", "annealing", "local_search"]


def maxcut(nodes: int, edges: list[list[Any]]) -> Problem:
    return parse_problem({"type": "maxcut", "graph": {"nodes": nodes, "edges": edges}})


SQUARE = maxcut(4, [[0, 1], [1, 2], [2, 3], [3, 0]])
TRIANGLE = maxcut(3, [[0, 1], [1, 2], [0, 2]])
SMALL_QUBO = parse_problem(
    {
        "type": "qubo",
        "linear": [-1.0, 2.0, -3.0, 0.5, -0.5],
        "quadratic": [[0, 1, 4.0], [0, 2, -1.5], [1, 3, -2.0], [2, 4, 3.0], [3, 4, -1.0]],
        "offset": 1.0,
    }
)
SMALL_PORTFOLIO = parse_problem(
    {
        "type": "portfolio",
        "expected_returns": [0.12, 0.10, 0.07, 0.03, 0.15, 0.09],
        "covariance": [
            [0.10, 0.04, 0.00, 0.00, 0.05, 0.01],
            [0.04, 0.08, 0.01, 0.00, 0.02, 0.00],
            [0.00, 0.01, 0.05, 0.00, 0.00, 0.01],
            [0.00, 0.00, 0.00, 0.02, 0.00, 0.00],
            [0.05, 0.02, 0.00, 0.00, 0.20, 0.03],
            [0.01, 0.00, 0.01, 0.00, 0.03, 0.06],
        ],
        "budget": 3,
        "risk_factor": 0.6,
    }
)


def best(result: SolveResult) -> float:
    return result.candidates[0].objective


def random_problems(n: int, seed: int) -> list[Problem]:
    """One MaxCut, QUBO and portfolio of ``n`` variables, drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    edges = [[i, j, float(rng.normal())] for i, j in pairs if rng.random() < 0.4]
    terms = [[i, j, float(rng.normal())] for i, j in pairs if rng.random() < 0.4]
    loadings = rng.normal(scale=0.3, size=(n, 3))
    return [
        maxcut(n, edges),
        parse_problem({"type": "qubo", "linear": rng.normal(size=n).tolist(), "quadratic": terms}),
        parse_problem(
            {
                "type": "portfolio",
                "expected_returns": rng.normal(0.1, 0.1, size=n).tolist(),
                "covariance": (loadings @ loadings.T).tolist(),
                "budget": int(rng.integers(1, n)),
                "risk_factor": 0.5,
            }
        ),
    ]


# ---- known optima


@pytest.mark.parametrize("solver", SOLVERS, ids=SOLVER_IDS)
def test_square_cuts_all_four_edges(solver: ModuleType) -> None:
    result = solver.solve(SQUARE, {}, seed=1)
    assert best(result) == 4.0
    assert result.candidates[0].assignment in {(1, 0, 1, 0), (0, 1, 0, 1)}


@pytest.mark.parametrize("solver", SOLVERS, ids=SOLVER_IDS)
def test_triangle_cuts_two_edges(solver: ModuleType) -> None:
    assert best(solver.solve(TRIANGLE, {}, seed=1)) == 2.0


@pytest.mark.parametrize("solver", SOLVERS, ids=SOLVER_IDS)
def test_small_qubo_reaches_its_brute_force_minimum(solver: ModuleType) -> None:
    assert best(solver.solve(SMALL_QUBO, {}, seed=1)) == pytest.approx(
        brute_force_optimum(SMALL_QUBO)
    )


@pytest.mark.parametrize("solver", SOLVERS, ids=SOLVER_IDS)
def test_small_portfolio_picks_the_best_feasible_basket(solver: ModuleType) -> None:
    result = solver.solve(SMALL_PORTFOLIO, {}, seed=1)
    top = result.candidates[0]
    assert top.feasible
    assert sum(top.assignment) == 3
    assert top.objective == pytest.approx(brute_force_optimum(SMALL_PORTFOLIO))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_annealing_finds_the_optimum_of_random_twenty_variable_problems(seed: int) -> None:
    for problem in random_problems(20 if seed else 16, seed):
        optimum = exact.solve(problem, {}, seed=0).metrics["optimum"]
        assert best(annealing.solve(problem, {}, seed=seed)) == pytest.approx(optimum, abs=1e-9)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=any_problem)
def test_exact_and_annealing_reach_the_brute_force_optimum_and_local_search_never_beats_it(
    problem: Problem,
) -> None:
    optimum = brute_force_optimum(problem)
    assert best(exact.solve(problem, {}, seed=0)) == pytest.approx(optimum, abs=1e-9)
    assert best(annealing.solve(problem, {"sweeps": 200}, seed=0)) == pytest.approx(
        optimum, abs=1e-9
    )
    top = local_search.solve(problem, {}, seed=0).candidates[0]
    assert top.feasible
    assert not problem.better(top.objective, optimum) or top.objective == pytest.approx(optimum)


# ---- the SolveResult contract


@pytest.mark.parametrize("solver", SOLVERS, ids=SOLVER_IDS)
def test_result_is_classical_with_ranked_distinct_candidates(solver: ModuleType) -> None:
    result = solver.solve(SMALL_PORTFOLIO, {}, seed=3)
    assert (result.solver, result.backend, result.tier, result.counts) == (
        solver.NAME,
        None,
        "classical",
        {},
    )
    candidates = result.candidates
    assert 1 <= len(candidates) <= 10
    assert len({c.assignment for c in candidates}) == len(candidates)
    assert [c.probability for c in candidates] == [1.0] + [0.0] * (len(candidates) - 1)
    assert all(c.count == 0 for c in candidates)
    keys = [(not c.feasible, c.objective) for c in candidates]
    assert keys == sorted(keys)
    assert result.timings["total"] >= 0
    assert result.metrics["best_objective"] == candidates[0].objective
    assert result.to_dict()["tier"] == "classical"


def test_exact_reports_the_optimum_with_ratio_one() -> None:
    result = exact.solve(SMALL_QUBO, {}, seed=0)
    assert result.metrics["optimum"] == best(result)
    assert result.metrics["approximation_ratio"] == 1.0
    assert result.metrics["states_evaluated"] == 32
    assert len(result.candidates) == 10


def test_exact_top_candidates_are_the_ten_best_assignments() -> None:
    problem = random_problems(12, seed=5)[1]
    energies = np.sort(problem.bqm.energies(all_assignments(12)))[:10]
    result = exact.solve(problem, {}, seed=0)
    found = problem.bqm.energies([c.assignment for c in result.candidates])
    np.testing.assert_allclose(found, energies, atol=1e-9)


@pytest.mark.parametrize("solver", [annealing, local_search], ids=["annealing", "local_search"])
def test_the_same_seed_gives_the_same_result(solver: ModuleType) -> None:
    problem = random_problems(30, seed=9)[0]
    first, second = solver.solve(problem, {}, seed=42), solver.solve(problem, {}, seed=42)
    assert first.candidates == second.candidates
    assert first.metrics == second.metrics


# ---- options


@pytest.mark.parametrize(
    ("solver", "options", "words"),
    [
        (exact, {"sweeps": 10}, "unknown option(s) for exact: sweeps; allowed: none"),
        (annealing, {"sweep": 10}, "unknown option(s) for annealing: sweep"),
        (annealing, {"sweeps": 0}, "sweeps must be between 1 and 100000"),
        (annealing, {"sweeps": 10.0}, "sweeps must be an integer"),
        (annealing, {"restarts": True}, "restarts must be an integer"),
        (annealing, {"initial_temperature": -1}, "initial_temperature must be a finite number > 0"),
        (annealing, {"final_temperature": "cold"}, "final_temperature must be a number"),
        (
            annealing,
            {"initial_temperature": 1.0, "final_temperature": 2.0},
            "must not exceed initial_temperature",
        ),
        (local_search, {"restarts": 0}, "restarts must be between 1 and 1024"),
        (local_search, {"restarts": "8"}, "restarts must be an integer"),
    ],
)
def test_bad_options_are_rejected_with_a_clear_message(
    solver: ModuleType, options: dict[str, Any], words: str
) -> None:
    with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
        solver.solve(SQUARE, options, seed=0)


def test_annealing_schedule_options_are_used_and_reported() -> None:
    options = {"sweeps": 50, "restarts": 4, "initial_temperature": 5.0, "final_temperature": 0.1}
    result = annealing.solve(SQUARE, options, seed=0)
    assert {k: result.metrics[k] for k in options} == options


def test_exact_refuses_more_than_twenty_six_variables() -> None:
    problem = maxcut(27, [[i, i + 1] for i in range(26)])
    with pytest.raises(ValueError, match="at most 26 variables; got 27"):
        exact.solve(problem, {}, seed=0)


# ---- scale


def test_exact_enumerates_every_state_of_twenty_four_variables() -> None:
    problem = random_problems(24, seed=11)[0]
    result = exact.solve(problem, {}, seed=0)
    assert result.metrics["states_evaluated"] == 1 << 24


def sparse_graph(nodes: int, edges: int, seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    chosen: set[tuple[int, int]] = set()
    while len(chosen) < edges:
        u, v = sorted(int(i) for i in rng.integers(0, nodes, 2))
        if u != v:
            chosen.add((u, v))
    return maxcut(nodes, [[u, v] for u, v in sorted(chosen)])


def test_annealing_a_thousand_node_sparse_graph_at_least_matches_local_search() -> None:
    problem = sparse_graph(1000, 1500, seed=0)
    annealed = annealing.solve(problem, {}, seed=1)
    baseline = local_search.solve(problem, {}, seed=1)
    assert best(annealed) >= best(baseline)
    assert annealed.metrics["restarts"] == 16
