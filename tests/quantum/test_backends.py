"""Backends: the registry, the width limit, job handling, and the noisy device copy."""

from __future__ import annotations

import time

import numpy as np
import pytest
from qiskit.circuit import QuantumCircuit

from quantum import BackendError, BackendSpec, CostModel, get_backend
from quantum.backends import JobNotFoundError, JobStatus, default_backend_specs
from quantum.backends.aer import compact
from quantum.backends.devices import restricted_noise_model, simulation_method


def ghz(n: int) -> QuantumCircuit:
    circuit = QuantumCircuit(n)
    circuit.h(0)
    for q in range(n - 1):
        circuit.cx(q, q + 1)
    circuit.measure_all()
    return circuit


def finished(backend_name: str, job_id: str, backend: object) -> JobStatus:
    deadline = time.monotonic() + 60
    status = backend.poll(job_id)  # type: ignore[attr-defined]
    while not status.terminal and time.monotonic() < deadline:
        time.sleep(0.02)
        status = backend.poll(job_id)  # type: ignore[attr-defined]
    return status


def test_default_names_resolve_without_a_spec() -> None:
    names = [spec.name for spec in default_backend_specs()]
    assert names == [
        "aer_statevector",
        "aer_mps",
        "aer_noisy:fake_torino",
        "ibm_runtime:fake_torino",
    ]
    tiers = [get_backend(name).tier for name in names]
    assert tiers == ["simulator", "simulator", "noisy_simulator", "hardware"]


def test_simulators_are_free_by_default() -> None:
    for spec in default_backend_specs():
        assert spec.cost.is_free
        assert get_backend(spec.name, spec).estimate_cost(shots=4096, circuits=3) == 0.0


def test_ibm_hardware_without_credentials_is_a_permanent_error_naming_what_is_missing() -> None:
    with pytest.raises(BackendError) as caught:
        get_backend("ibm_runtime:ibm_torino")
    assert caught.value.permanent
    assert "channel, token and backend_name" in str(caught.value)


def test_a_spec_missing_the_token_is_refused_before_any_network_call() -> None:
    spec = BackendSpec(
        "ibm_runtime:ibm_torino",
        "ibm_runtime",
        max_qubits=133,
        max_shots=100_000,
        channel="ibm_quantum_platform",
        backend_name="ibm_torino",
    )
    with pytest.raises(BackendError, match="needs token") as caught:
        get_backend(spec.name, spec)
    assert caught.value.permanent


def test_the_token_stays_out_of_a_specs_repr() -> None:
    spec = BackendSpec("ibm_runtime:x", "ibm_runtime", 1, 1, token="s3cret-token")
    assert "s3cret-token" not in repr(spec)


def test_unknown_names_and_devices_are_permanent_errors() -> None:
    with pytest.raises(BackendError, match="unknown backend 'qpu9000'") as caught:
        get_backend("qpu9000")
    assert caught.value.permanent
    with pytest.raises(BackendError, match="unknown fake device 'fake_nowhere'"):
        get_backend("aer_noisy:fake_nowhere")


def test_cost_model_adds_task_shot_and_second_prices() -> None:
    model = CostModel(per_task=1.0, per_shot=0.001, per_second=1.6)
    assert model.estimate(tasks=2, shots=1000, seconds=10) == pytest.approx(2 + 1 + 16)


def test_too_many_qubits_is_a_permanent_error_naming_the_limit() -> None:
    backend = get_backend("aer_statevector")
    with pytest.raises(BackendError) as caught:
        backend.check_width(30)
    assert caught.value.permanent
    assert str(caught.value) == "needs 30 qubits; backend aer_statevector allows 24"


def test_polling_an_unknown_job_says_so_permanently() -> None:
    with pytest.raises(JobNotFoundError) as caught:
        get_backend("aer_statevector").poll("no-such-job")
    assert caught.value.permanent


def test_run_returns_a_job_id_at_once_and_poll_returns_the_counts() -> None:
    backend = get_backend("aer_statevector")
    job_id = backend.run([backend.transpile(ghz(3))], shots=200, seed=1)
    status = finished("aer_statevector", job_id, backend)
    assert status.state == "done"
    assert set(status.counts[0]) <= {"000", "111"}
    assert sum(status.counts[0].values()) == 200
    assert backend.poll(job_id) == status  # a finished job answers the same way twice


def test_unbound_circuits_are_refused() -> None:
    from qiskit.circuit import Parameter

    circuit = QuantumCircuit(1)
    circuit.rx(Parameter("t"), 0)
    circuit.measure_all()
    with pytest.raises(BackendError, match="unbound parameters"):
        get_backend("aer_statevector").run([circuit], shots=10)


def test_the_noisy_backend_simulates_only_the_qubits_the_circuit_touches() -> None:
    backend = get_backend("aer_noisy:fake_torino")
    isa = backend.transpile(ghz(4), seed=3)
    assert isa.num_qubits == 133
    small, physical = compact(isa)
    assert small.num_qubits == len(physical) == 4
    assert list(physical) == sorted(backend.initial_layout(isa) or [])
    model = restricted_noise_model("fake_torino", physical)
    assert sorted(model.noise_qubits) == [0, 1, 2, 3]


def test_the_noisy_backend_returns_noisy_counts_with_the_logical_bit_order() -> None:
    backend = get_backend("aer_noisy:fake_torino")
    job_id = backend.run([backend.transpile(ghz(4), seed=3)], shots=2000, seed=5)
    counts = finished("aer_noisy", job_id, backend).counts[0]
    assert counts["0000"] + counts["1111"] > 1500  # still mostly GHZ
    assert set(counts) - {"0000", "1111"}  # but noise leaks into other outcomes


def test_density_matrix_is_chosen_only_while_it_is_small_and_cheaper() -> None:
    assert simulation_method(8, 1000) == "density_matrix"
    assert simulation_method(12, 4096) == "density_matrix"
    assert simulation_method(12, 100) == "statevector"
    assert simulation_method(16, 4096) == "statevector"


def test_cancelling_a_finished_job_leaves_it_done() -> None:
    backend = get_backend("aer_statevector")
    job_id = backend.run([backend.transpile(ghz(2))], shots=10, seed=1)
    finished("aer_statevector", job_id, backend)
    backend.cancel(job_id)
    assert backend.poll(job_id).state == "done"


def test_the_diagonal_fast_path_agrees_with_estimator_v2() -> None:
    from qiskit.circuit.library import qaoa_ansatz

    from quantum import parse_problem
    from quantum.backends.aer import estimator_expectation, is_diagonal, probability_expectation

    edges = [[0, 1, 0.5], [1, 2, 2.0], [2, 3, -1.0], [0, 3, 1.5], [1, 4, 1.0], [4, 5, 0.3]]
    problem = parse_problem({"type": "maxcut", "graph": {"nodes": 6, "edges": edges}})
    hamiltonian, _ = problem.bqm.to_ising()
    circuit = get_backend("aer_statevector").transpile(qaoa_ansatz(hamiltonian, reps=2))
    params = np.random.default_rng(0).uniform(-1, 1, (5, circuit.num_parameters))
    assert is_diagonal(hamiltonian)
    fast = probability_expectation("statevector", circuit, hamiltonian, params)
    reference = estimator_expectation("statevector", circuit, hamiltonian, params)
    np.testing.assert_allclose(fast, reference, rtol=1e-9, atol=1e-12)


def test_ibm_errors_never_carry_the_api_token() -> None:
    from quantum.backends.ibm_runtime import translate_errors

    token = "s3cret-token-value"
    with pytest.raises(BackendError) as caught, translate_errors("ibm_runtime:ibm_torino", token):
        raise ConnectionError(f"POST /jobs refused for Authorization: Bearer {token}")
    assert token not in str(caught.value)
    assert "[redacted]" in str(caught.value)
    assert not caught.value.permanent
