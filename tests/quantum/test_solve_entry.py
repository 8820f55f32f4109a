"""``quantum.solve`` and friends: dispatch, limits, option checks and pre-run estimates."""

from __future__ import annotations

import subprocess
import sys

import pytest

from quantum import (
    SOLVERS,
    BackendError,
    BackendSpec,
    CostModel,
    check_options,
    estimate_run,
    parse_problem,
    solve,
)

SQUARE = parse_problem(
    {"type": "maxcut", "graph": {"nodes": 4, "edges": [[0, 1], [1, 2], [2, 3], [3, 0]]}}
)
BIG = parse_problem(
    {"type": "maxcut", "graph": {"nodes": 30, "edges": [[i, i + 1] for i in range(29)]}}
)
IBM = BackendSpec(
    "ibm_runtime:ibm_torino",
    "ibm_runtime",
    max_qubits=133,
    max_shots=100_000,
    cost=CostModel(per_second=1.6),
    channel="ibm_quantum_platform",
    backend_name="ibm_torino",
    token="not-used-by-estimates",
)


def test_importing_quantum_does_not_import_qiskit() -> None:
    code = "import sys, quantum; print(any(m.split('.')[0] == 'qiskit' for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_solvers_are_named_with_their_kind() -> None:
    assert SOLVERS == {
        "qaoa": "quantum",
        "exact": "classical",
        "annealing": "classical",
        "local_search": "classical",
    }


@pytest.mark.parametrize("solver", ["exact", "annealing", "local_search"])
def test_classical_solvers_are_dispatched_and_ignore_the_backend(solver: str) -> None:
    result = solve(SQUARE, solver=solver, seed=1, backend="aer_noisy:fake_torino")
    assert result.solver == solver and result.tier == "classical"
    assert result.candidates[0].objective == 4.0


def test_an_unknown_solver_is_a_value_error_listing_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unknown solver 'grover'; one of: qaoa, exact"):
        solve(SQUARE, solver="grover")


def test_exact_refuses_more_variables_than_it_can_enumerate() -> None:
    with pytest.raises(BackendError) as caught:
        solve(BIG, solver="exact")
    assert caught.value.permanent
    assert str(caught.value) == "needs 30 variables; solver exact allows 26"


def test_check_options_refuses_what_solve_would_refuse_without_solving() -> None:
    check_options("qaoa", {"reps": 3, "cvar_alpha": 0.1}, SQUARE)
    check_options("annealing", {"sweeps": 10}, SQUARE)
    with pytest.raises(ValueError, match="option reps"):
        check_options("qaoa", {"reps": 0}, SQUARE)
    with pytest.raises(ValueError, match="unknown option"):
        check_options("local_search", {"sweeps": 10}, SQUARE)
    with pytest.raises(ValueError, match="solver exact allows 26"):
        check_options("exact", {}, BIG)


@pytest.mark.parametrize(
    ("solver", "options", "message"),
    [
        ("annealing", {"sweeps": 0}, "option sweeps must be between 1"),
        ("annealing", {"restarts": True}, "option restarts must be an integer"),
        ("annealing", {"initial_temperature": "hot"}, "option initial_temperature must be"),
        (
            "annealing",
            {"initial_temperature": 1.0, "final_temperature": 2.0},
            "must not exceed initial_temperature",
        ),
        ("local_search", {"restarts": 0}, "option restarts must be between 1"),
    ],
)
def test_classical_option_values_are_refused_before_any_run(solver, options, message) -> None:
    """A bad value must fail at submit (the estimate), not later on a worker."""
    with pytest.raises(ValueError, match=message):
        check_options(solver, options, SQUARE)
    with pytest.raises(ValueError, match=message):
        estimate_run(SQUARE, solver=solver, options=options, shots=0, backend_spec=None)
    with pytest.raises(ValueError, match=message):
        solve(SQUARE, solver=solver, options=options)


def test_classical_runs_are_estimated_free() -> None:
    estimate = estimate_run(SQUARE, solver="annealing", options={}, shots=0, backend_spec=None)
    assert estimate.credits == 0.0 and estimate.qubits == 0
    assert 0 < estimate.seconds < 1


def test_qaoa_on_a_simulator_is_estimated_free() -> None:
    estimate = estimate_run(SQUARE, solver="qaoa", options={}, shots=4096, backend_spec=None)
    assert estimate.credits == 0.0
    assert estimate.qubits == 4 and estimate.jobs == 1 and estimate.shots == 4096


def test_qaoa_on_hardware_is_charged_per_quantum_second_of_every_job() -> None:
    estimate = estimate_run(
        SQUARE, solver="qaoa", options={"maxiter": 10}, shots=4096, backend_spec=IBM
    )
    # 10 optimiser jobs at 1024 shots, then the final 4096-shot job.
    assert estimate.jobs == 11 and estimate.shots == 10 * 1024 + 4096
    quantum_seconds = 11 * 2.0 + estimate.shots * 3e-4
    assert estimate.credits == pytest.approx(1.6 * quantum_seconds)
    assert estimate.seconds > quantum_seconds


def test_estimating_an_oversized_qaoa_names_the_limit() -> None:
    with pytest.raises(BackendError, match="needs 30 qubits; backend aer_statevector allows 24"):
        estimate_run(BIG, solver="qaoa", options={}, shots=100, backend_spec="aer_statevector")
