"""The noisy device copy: averaged trajectories, readout applied to probabilities, the fallback.

Averaging only pays, and so only runs, where a density matrix would cost
more than the trajectories: 2^k > 4 * trajectories for k active qubits. The
circuits here are 10 qubits wide with ~100 trajectories to land on that
path; each test checks that they do.
"""

from __future__ import annotations

import time
from functools import reduce

import numpy as np
import pytest
from qiskit.circuit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import SamplerV2

from quantum import BackendError, BackendSpec, get_backend
from quantum.backends.aer import AerNoisyBackend, compact
from quantum.backends.base import Backend
from quantum.backends.devices import fake_device, readout_matrices, restricted_noise_model
from quantum.backends.trajectories import (
    apply_readout,
    default_trajectories,
    noisy_probabilities,
    sample_counts,
    split_terminal_measurements,
)

DEVICE = "fake_torino"
WIDTH = 10


def noisy_backend(**options: object) -> AerNoisyBackend:
    spec = BackendSpec(
        f"aer_noisy:{DEVICE}", "aer_noisy", 20, 100_000, device=DEVICE, options=options
    )
    backend = get_backend(spec.name, spec)
    assert isinstance(backend, AerNoisyBackend)
    return backend


def counts_of(backend: Backend, circuit: QuantumCircuit, shots: int, seed: int) -> dict[str, int]:
    job_id = backend.run([circuit], shots=shots, seed=seed)
    deadline = time.monotonic() + 60
    status = backend.poll(job_id)
    while not status.terminal and time.monotonic() < deadline:
        time.sleep(0.02)
        status = backend.poll(job_id)
    assert status.state == "done", status.error
    return status.counts[0]


def echo(n: int, rounds: int) -> QuantumCircuit:
    """GHZ prepared and undone ``rounds`` times: ideally |0..0>, so every other outcome is noise.

    Barriers keep the transpiler from cancelling each half-round against its inverse.
    """
    circuit = QuantumCircuit(n)
    for _ in range(rounds):
        circuit.h(0)
        for q in range(n - 1):
            circuit.cx(q, q + 1)
        circuit.barrier()
        for q in reversed(range(n - 1)):
            circuit.cx(q, q + 1)
        circuit.h(0)
        circuit.barrier()
    circuit.measure_all()
    return circuit


def scattered_registers() -> QuantumCircuit:
    """Registers declared out of alphabetical order, qubits measured out of order, a bit unused."""
    b, a = ClassicalRegister(4, "b"), ClassicalRegister(7, "a")
    circuit = QuantumCircuit(QuantumRegister(WIDTH, "q"), b, a)
    circuit.x(0)
    circuit.x(5)
    circuit.h(9)
    circuit.measure(0, a[6])
    circuit.measure(9, b[0])
    for q in range(1, 7):
        circuit.measure(q, a[q - 1])
    circuit.measure(7, b[2])
    circuit.measure(8, b[1])  # b[3] is never written: it reads 0
    return circuit


def ideal_counts(circuit: QuantumCircuit, shots: int) -> dict[str, int]:
    counts = SamplerV2(seed=1).run([circuit], shots=shots).result()[0].join_data().get_counts()
    return {str(key): int(value) for key, value in counts.items()}


def test_counts_are_keyed_exactly_as_sampler_v2_keys_them() -> None:
    circuit = scattered_registers()
    split = split_terminal_measurements(circuit)
    assert split is not None
    no_readout = np.tile(np.eye(2), (len(split.qubits), 1, 1))
    probabilities = apply_readout(noisy_probabilities(split, None, 1, seed=1), no_readout)
    ours = sample_counts(probabilities, split, 4000, seed=1)
    assert set(ours) == set(ideal_counts(circuit, 4000)) == {"10100000000", "10100000001"}


def test_the_noisy_backend_keys_its_counts_as_before_on_any_register_layout() -> None:
    backend = noisy_backend(trajectories=100)
    isa = backend.transpile(scattered_registers(), seed=3)
    assert backend.averaged_trajectories(isa, 2000) == 100
    counts = counts_of(backend, isa, 2000, seed=5)
    assert {len(key) for key in counts} == {11}
    top_two = sorted(counts, key=counts.__getitem__)[-2:]
    assert set(top_two) == set(ideal_counts(scattered_registers(), 2000))


def exact_with_readout(circuit: QuantumCircuit) -> dict[str, float]:
    """The exact noisy distribution by counts key: the density matrix, then one readout matrix.

    Written apart from the backend's own code: Aer's density matrix for the
    gates, then one 2^n x 2^n readout matrix, the Kronecker product of the
    per-qubit ones, highest bit first.
    """
    small, physical = compact(circuit)
    split = split_terminal_measurements(small)
    assert split is not None
    probed = split.body.copy()
    probed.save_probabilities(qubits=list(split.qubits), label="p")
    simulator = AerSimulator(
        method="density_matrix", noise_model=restricted_noise_model(DEVICE, physical)
    )
    p = np.asarray(simulator.run(probed, shots=1).result().data(0)["p"])
    matrices = readout_matrices(DEVICE, physical)[list(split.qubits)]
    full = reduce(np.kron, matrices[::-1])
    by_key = {}
    for outcome, probability in enumerate(p @ full):
        key = sum(((outcome >> j) & 1) << position for j, position in enumerate(split.positions))
        by_key[format(key, f"0{split.width}b")] = float(probability)
    return by_key


def test_averaged_trajectories_agree_with_the_exact_noisy_distribution() -> None:
    shots, trajectories = 20_000, 250
    backend = noisy_backend(trajectories=trajectories)
    isa = backend.transpile(echo(WIDTH, rounds=4), seed=3)
    assert backend.averaged_trajectories(isa, shots) == trajectories
    by_key = exact_with_readout(isa)
    assert by_key["0" * WIDTH] < 0.65  # gate noise the test would notice if it were missing
    counts = counts_of(backend, isa, shots, seed=11)
    exact = np.array(list(by_key.values()))
    observed = np.array([counts.get(key, 0) / shots for key in by_key])

    def within_five_sigma(p: np.ndarray, seen: np.ndarray) -> bool:
        # Averaging K trajectories adds at most p(1-p)/K to the multinomial's
        # p(1-p)/shots (a trajectory's probability lies in [0, 1] with mean p).
        sigma = np.sqrt(p * (1 - p) * (1 / shots + 1 / trajectories))
        return bool(np.all(np.abs(seen - p) <= 5 * sigma + 1 / shots))

    # Outcome by outcome where the normal approximation holds. An outcome of
    # probability ~1e-6 is reached by a rare error in one trajectory of K or
    # none: its average is 0 or ~q/K, far in the tail of any normal bound
    # (seed 11 puts 0.0009 on a 4e-6 outcome). Those are checked together,
    # as the mass of all of them, which does behave.
    common = exact >= 1e-3
    assert within_five_sigma(exact[common], observed[common])
    assert within_five_sigma(exact[~common].sum(), observed[~common].sum())


def test_a_circuit_that_prepares_zeros_reads_out_at_the_devices_error_rates() -> None:
    backend = noisy_backend(trajectories=100)
    isa = backend.transpile(echo(WIDTH, rounds=0), seed=3)
    shots = 40_000
    assert backend.averaged_trajectories(isa, shots) == 100
    layout = backend.initial_layout(isa)
    assert layout is not None
    counts = counts_of(backend, isa, shots, seed=2)
    measure = fake_device(DEVICE).target["measure"]
    for bit, physical in enumerate(layout):
        rate = measure[(physical,)].error
        ones = sum(count for key, count in counts.items() if key[-1 - bit] == "1") / shots
        assert abs(ones - rate) <= 5 * np.sqrt(rate * (1 - rate) / shots)


def test_readout_flips_each_bit_with_its_own_qubits_matrix() -> None:
    matrices = np.array(
        [[[0.9, 0.1], [0.2, 0.8]], [[0.7, 0.3], [0.4, 0.6]], [[0.95, 0.05], [0.5, 0.5]]]
    )
    prepared = 0b011  # qubits 0 and 1 in |1>, qubit 2 in |0>
    p = np.zeros(8)
    p[prepared] = 1.0
    read = apply_readout(p, matrices)
    for outcome in range(8):
        expected = np.prod([matrices[j][(prepared >> j) & 1, (outcome >> j) & 1] for j in range(3)])
        assert read[outcome] == pytest.approx(expected)


def test_a_seed_reproduces_the_counts_and_another_seed_changes_them() -> None:
    backend = noisy_backend(trajectories=100)
    isa = backend.transpile(echo(WIDTH, rounds=1), seed=3)
    assert backend.averaged_trajectories(isa, 1000) == 100
    first, again = (counts_of(backend, isa, 1000, seed=7) for _ in range(2))
    assert first == again
    assert counts_of(backend, isa, 1000, seed=8) != first


def test_a_mid_circuit_measurement_takes_the_per_shot_path_and_still_counts_right() -> None:
    circuit = QuantumCircuit(2, 3)
    circuit.x(0)
    circuit.measure(0, 0)
    circuit.x(0)  # touches a measured qubit: averaging probabilities cannot express this
    circuit.measure(0, 1)
    circuit.measure(1, 2)
    assert split_terminal_measurements(circuit) is None
    backend = noisy_backend()
    isa = backend.transpile(circuit, seed=3)
    assert backend.averaged_trajectories(isa, 500) is None
    counts = counts_of(backend, isa, 500, seed=1)
    assert max(counts, key=counts.__getitem__) == "001"


def test_resets_and_classical_control_are_not_averaged() -> None:
    reset = QuantumCircuit(1, 1)
    reset.reset(0)
    reset.measure(0, 0)
    controlled = QuantumCircuit(2, 2)
    controlled.measure(0, 0)
    with controlled.if_test((controlled.clbits[0], 1)):
        controlled.x(1)
    controlled.measure(1, 1)
    assert split_terminal_measurements(reset) is None
    assert split_terminal_measurements(controlled) is None
    assert split_terminal_measurements(echo(2, 1)) is not None


def test_fewer_trajectories_than_shots_by_default_and_an_option_overrides_it() -> None:
    assert default_trajectories(4096) == 512
    assert default_trajectories(100) == 64
    assert default_trajectories(10) == 10
    backend = noisy_backend(trajectories=4096)
    isa = backend.transpile(echo(2, 1), seed=3)
    assert sum(counts_of(backend, isa, 300, seed=1).values()) == 300


@pytest.mark.parametrize("value", [0, -3, "many", 2.5, True])
def test_a_bad_trajectories_option_is_a_permanent_error(value: object) -> None:
    with pytest.raises(BackendError, match="trajectories") as caught:
        noisy_backend(trajectories=value)
    assert caught.value.permanent
