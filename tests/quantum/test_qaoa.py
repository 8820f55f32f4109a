"""QAOA end to end on every backend kind, plus resuming, reproducibility and the facts recorded."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pytest

from quantum import (
    Backend,
    BackendError,
    BackendSpec,
    CostModel,
    Problem,
    SolveResult,
    get_backend,
    parse_problem,
    register_backend,
    solve,
)
from quantum.backends import JobNotFoundError, JobStatus
from quantum.backends.registry import BackendFactory
from quantum.solvers import exact
from quantum.solvers.qaoa import cvar
from tests.support.backends import WrappedBackend


def maxcut(nodes: int, edges: list[list[int]]) -> Problem:
    return parse_problem({"type": "maxcut", "graph": {"nodes": nodes, "edges": edges}})


SQUARE = maxcut(4, [[0, 1], [1, 2], [2, 3], [3, 0]])
PRISM = maxcut(6, [[0, 1], [1, 2], [2, 0], [3, 4], [4, 5], [5, 3], [0, 3], [1, 4], [2, 5]])
FAST = {"maxiter": 12}


class Recording(WrappedBackend):
    """A real backend, with every run, poll and callback written to one shared log."""

    def __init__(self, inner: Backend, log: list[str]) -> None:
        super().__init__(inner)
        self.log = log

    def run(
        self,
        circuits: Sequence[Any],
        *,
        shots: int,
        seed: int | None = None,
        tags: Sequence[str] = (),
    ) -> str:
        job_id = super().run(circuits, shots=shots, seed=seed, tags=tags)
        self.log.append(f"run {job_id}")
        return job_id

    def poll(self, job_id: str) -> JobStatus:
        status = super().poll(job_id)
        self.log.append(f"poll {job_id} {status.state}")
        return status


@pytest.fixture
def shared_statevector() -> Iterator[list[str]]:
    """aer_statevector always hands out one recording backend, so its job table survives."""
    log: list[str] = []
    real: BackendFactory | None = None

    def factory(spec: BackendSpec) -> Backend:
        nonlocal shared
        if shared is None:
            assert real is not None
            shared = Recording(real(spec), log)
        return shared

    shared: Recording | None = None
    real = register_backend("aer_statevector", factory)
    try:
        yield log
    finally:
        assert real is not None
        register_backend("aer_statevector", real)


def runs(log: list[str]) -> list[str]:
    return [line for line in log if line.startswith("run ")]


def assert_solved_square(result: SolveResult) -> None:
    assert result.solver == "qaoa"
    assert sum(result.counts.values()) == 512
    assert result.candidates[0].objective == 4.0  # the best sample is the optimum
    assert result.provider_job_id
    assert result.circuit is not None and len(result.circuit["sha256"]) == 64


@pytest.mark.parametrize("backend", ["aer_statevector", "aer_mps"])
def test_qaoa_runs_on_the_ideal_simulators(backend: str) -> None:
    result = solve(SQUARE, solver="qaoa", options=FAST, shots=512, seed=1, backend=backend)
    assert_solved_square(result)
    assert result.tier == "simulator"
    assert result.metrics["objective"] == "expectation"
    assert result.circuit is not None and result.circuit["initial_layout"] is None
    assert "tvd_to_ideal" not in result.metrics


def test_qaoa_on_the_noisy_device_copy_differs_from_ideal_and_reports_the_distance() -> None:
    result = solve(
        SQUARE, solver="qaoa", options=FAST, shots=512, seed=1, backend="aer_noisy:fake_torino"
    )
    assert_solved_square(result)
    assert result.tier == "noisy_simulator"
    assert result.metrics["objective"] == "cvar" and result.metrics["cvar_alpha"] == 0.25
    assert 0 < result.metrics["tvd_to_ideal"] <= 1
    ideal = result.metrics["ideal_counts"]
    assert sum(ideal.values()) == 512 and ideal != result.counts
    assert result.circuit is not None
    assert len(result.circuit["initial_layout"]) == 4
    assert result.circuit["width"] == 4
    assert result.usage["jobs"] == result.metrics["evaluations"] + 1


def test_ibm_local_mode_submits_tells_the_caller_the_job_id_first_then_polls_for_counts() -> None:
    log: list[str] = []
    backend = Recording(get_backend("ibm_runtime:fake_torino"), log)
    # maxiter 0: one local-mode job costs ~12 s (the whole 133-qubit device is simulated).
    result = solve(
        SQUARE,
        solver="qaoa",
        options={"maxiter": 0},
        shots=512,
        seed=1,
        backend=backend,
        on_job_submitted=lambda job_id: log.append(f"submitted {job_id}"),
        tags=["run-42"],
    )
    job_id = result.provider_job_id
    assert result.tier == "hardware" and result.backend == "ibm_runtime:fake_torino"
    assert sum(result.counts.values()) == 512
    assert log[0] == f"run {job_id}"
    assert log[1] == f"submitted {job_id}"
    assert log[-1] == f"poll {job_id} done"
    assert result.metrics["tvd_to_ideal"] > 0
    assert result.usage["quantum_seconds"] == 0.0  # local mode bills nothing


def test_resuming_polls_the_stored_job_instead_of_submitting_again(
    shared_statevector: list[str],
) -> None:
    submitted: list[str] = []
    first = solve(
        SQUARE,
        solver="qaoa",
        options=FAST,
        shots=512,
        seed=3,
        backend="aer_statevector",
        on_job_submitted=submitted.append,
    )
    again = solve(
        SQUARE,
        solver="qaoa",
        options=FAST,
        shots=512,
        seed=3,
        backend="aer_statevector",
        resume_job_id=first.provider_job_id,
        on_job_submitted=submitted.append,
    )
    assert len(runs(shared_statevector)) == 1
    assert submitted == [first.provider_job_id]
    assert again.provider_job_id == first.provider_job_id
    assert again.counts == first.counts


def test_a_lost_job_on_a_free_simulator_is_simply_run_again() -> None:
    submitted: list[str] = []
    result = solve(
        SQUARE,
        solver="qaoa",
        options=FAST,
        shots=512,
        seed=3,
        backend="aer_statevector",
        resume_job_id="lost-with-its-process",
        on_job_submitted=submitted.append,
    )
    assert submitted == [result.provider_job_id]
    assert result.provider_job_id != "lost-with-its-process"


def test_a_lost_job_on_a_paid_backend_is_a_permanent_error_not_a_second_charge() -> None:
    spec = BackendSpec("aer_statevector", "aer_statevector", 24, 100_000, CostModel(per_shot=0.01))
    with pytest.raises(JobNotFoundError) as caught:
        solve(
            SQUARE,
            solver="qaoa",
            options=FAST,
            shots=512,
            seed=3,
            backend_spec=spec,
            resume_job_id="lost",
        )
    assert caught.value.permanent


def test_qaoa_finds_the_exact_optimum_of_a_six_node_maxcut() -> None:
    result = solve(PRISM, solver="qaoa", shots=1024, seed=11, backend="aer_statevector")
    optimum = exact.solve(PRISM, {}, seed=0).candidates[0].objective
    assert result.candidates[0].objective == optimum == 7.0
    assert result.metrics["optimum"] == optimum
    assert result.metrics["approximation_ratio"] == 1.0
    assert result.metrics["probability_of_best"] > 0.3
    # The trace is in the problem's own terms: expected cut weight, improving.
    assert result.trace[-1] > result.trace[0]
    assert min(result.trace) > 0


def test_the_same_seed_gives_the_same_counts() -> None:
    first = solve(PRISM, solver="qaoa", options=FAST, shots=256, seed=5, backend="aer_statevector")
    second = solve(PRISM, solver="qaoa", options=FAST, shots=256, seed=5, backend="aer_statevector")
    other = solve(PRISM, solver="qaoa", options=FAST, shots=256, seed=6, backend="aer_statevector")
    assert first.counts == second.counts
    assert first.trace == second.trace
    assert first.circuit == second.circuit
    assert other.counts != first.counts


def test_too_many_qubits_fails_before_any_circuit_is_built() -> None:
    ring = maxcut(30, [[i, (i + 1) % 30] for i in range(30)])
    with pytest.raises(BackendError) as caught:
        solve(ring, solver="qaoa", backend="aer_statevector")
    assert caught.value.permanent
    assert "needs 30 qubits; backend aer_statevector allows 24" in str(caught.value)


def test_maxiter_zero_samples_the_given_angles_without_optimising() -> None:
    first = solve(SQUARE, solver="qaoa", options=FAST, shots=256, seed=2, backend="aer_statevector")
    replay = solve(
        SQUARE,
        solver="qaoa",
        shots=256,
        seed=2,
        backend="aer_statevector",
        options={"maxiter": 0, "initial": first.metrics["parameters"]},
    )
    assert replay.trace == ()
    assert replay.counts == first.counts


def test_bad_options_are_refused_with_the_option_named() -> None:
    with pytest.raises(ValueError, match="unknown option"):
        solve(SQUARE, solver="qaoa", options={"depth": 3})
    with pytest.raises(ValueError, match="cvar_alpha"):
        solve(SQUARE, solver="qaoa", options={"cvar_alpha": 0})
    with pytest.raises(ValueError, match="needs an ideal simulator"):
        solve(
            SQUARE,
            solver="qaoa",
            options={"objective": "expectation"},
            backend="aer_noisy:fake_torino",
        )


def test_cvar_averages_the_best_share_of_the_shots() -> None:
    energies = np.array([3.0, 1.0, 2.0])
    weights = np.array([2.0, 1.0, 1.0])
    assert cvar(energies, weights, 1.0) == pytest.approx(9 / 4)
    assert cvar(energies, weights, 0.25) == pytest.approx(1.0)
    assert cvar(energies, weights, 0.5) == pytest.approx(1.5)


def test_a_failed_job_reports_what_the_attempt_already_consumed() -> None:
    class FailsAfterBilling(Recording):
        def poll(self, job_id: str) -> JobStatus:
            return JobStatus(
                job_id,
                "failed",
                usage={"quantum_seconds": 1.5},
                error="calibration",
                permanent=False,
            )

    real = register_backend("aer_statevector", lambda spec: FailsAfterBilling(real(spec), []))
    try:
        with pytest.raises(BackendError) as caught:
            solve(SQUARE, solver="qaoa", options=FAST, shots=256, seed=3, backend="aer_statevector")
    finally:
        register_backend("aer_statevector", real)
    assert not caught.value.permanent
    assert caught.value.usage["jobs"] >= 1
    assert caught.value.usage["quantum_seconds"] == 1.5


def test_an_exact_optimisation_leaves_no_checkpoint_and_a_wrong_one_is_refused() -> None:
    """Only a sampled optimisation (jobs, possibly paid) is checkpointed; a
    checkpoint for other reps would sample the wrong circuit, so it is refused."""
    saved: list[dict[str, Any]] = []
    solve(SQUARE, solver="qaoa", options=FAST, seed=1, shots=64, on_optimised=saved.append)
    assert saved == []
    with pytest.raises(ValueError, match="needs 4 finite angles"):
        solve(
            SQUARE,
            solver="qaoa",
            options={"reps": 2, "maxiter": 3},
            seed=1,
            shots=64,
            resume_optimised={"x": [0.1, 0.2], "trace": []},
        )
