"""Qiskit Aer backends: ideal statevector, matrix product state, and noisy device copies.

Aer work runs in this process on a background thread (see ``local_jobs``);
qiskit is imported here and nowhere above this package.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache, partial
from typing import Any, ClassVar, cast

import numpy as np
from qiskit.circuit import QuantumCircuit, QuantumRegister
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_aer import AerSimulator
from qiskit_aer.primitives import EstimatorV2, SamplerV2

from quantum.backends.base import Backend, BackendSpec, JobStatus, Tier
from quantum.backends.devices import (
    fake_device,
    readout_matrices,
    restricted_noise_model,
    simulation_method,
)
from quantum.backends.local_jobs import Counts, LocalJobs
from quantum.backends.trajectories import (
    NON_OPERATIONS,
    TerminalMeasurements,
    apply_readout,
    default_trajectories,
    noisy_probabilities,
    sample_counts,
    split_terminal_measurements,
)
from quantum.errors import BackendError
from quantum.model import FloatArray

# A statevector of 30 qubits is 16 GB; nothing a worker should attempt.
MAX_SIMULATED_QUBITS = 30
# The probability vector and the observable's diagonal are 2^n floats each:
# 128 MB apiece at 24 qubits, the statevector limit anyway.
MAX_DIAGONAL_QUBITS = 24


class _IdealAerBackend(Backend):
    tier: ClassVar[Tier] = "simulator"
    method: ClassVar[str]

    def __init__(self, spec: BackendSpec) -> None:
        super().__init__(spec)
        self._jobs = LocalJobs(spec.name)

    def transpile(self, circuit: QuantumCircuit, *, seed: int | None = None) -> QuantumCircuit:
        # Only basis translation: Aer runs any connectivity, so there is no
        # layout, and rzz/rx stay native (cheaper to simulate than cx ladders).
        return cast(QuantumCircuit, _ideal_pass_manager(self.method, seed).run(circuit))

    def run(
        self,
        circuits: Sequence[QuantumCircuit],
        *,
        shots: int,
        seed: int | None = None,
        tags: Sequence[str] = (),
    ) -> str:
        self.check_shots(shots)
        for circuit in circuits:
            _check_bound(circuit)
            self.check_width(circuit.num_qubits)
        return self._jobs.submit(partial(self._sample, list(circuits), shots, seed))

    def poll(self, job_id: str) -> JobStatus:
        return self._jobs.status(job_id)

    def cancel(self, job_id: str) -> None:
        self._jobs.cancel(job_id)

    @property
    def supports_expectation(self) -> bool:
        return True

    def expectation(
        self, circuit: QuantumCircuit, observable: SparsePauliOp, params_batch: FloatArray
    ) -> FloatArray:
        """Exact expectation values: EstimatorV2, or one probability vector when diagonal.

        Aer's EstimatorV2 saves one expectation value per Pauli term, so a
        dense 16-node MaxCut (60 terms) costs 60 passes over the state per
        evaluation. A Z-only observable is diagonal: <H> = sum_b p(b) H_bb,
        one pass, equal to the estimator's value to float rounding
        (tests/quantum/test_backends.py checks the two agree).
        """
        if is_diagonal(observable) and circuit.num_qubits <= MAX_DIAGONAL_QUBITS:
            return probability_expectation(self.method, circuit, observable, params_batch)
        return estimator_expectation(self.method, circuit, observable, params_batch)

    def _sample(self, circuits: list[QuantumCircuit], shots: int, seed: int | None) -> Counts:
        sampler = SamplerV2.from_backend(_simulator(self.method), seed=seed)
        return _counts(sampler.run(circuits, shots=shots).result())


class AerStatevectorBackend(_IdealAerBackend):
    method = "statevector"


class AerMpsBackend(_IdealAerBackend):
    method = "matrix_product_state"


class AerNoisyBackend(Backend):
    """A device copy: its coupling map, basis gates and calibrated noise.

    Circuits are transpiled to the whole device, as they would be for the
    real chip, then compacted to the qubits they touch before simulation, with
    a noise model built for exactly those physical qubits.

    A circuit whose measurements all come last (QAOA's ``measure_all``) is
    not simulated once per shot: Aer averages the outcome probabilities over
    fewer noisy trajectories than shots (option ``trajectories``; by default
    ``default_trajectories(shots)``), readout errors are applied to those
    probabilities, and the shots are drawn from the result. See
    docs/noisy-simulation.md for why that is the same distribution and how
    much variance the averaging adds. Any other circuit (mid-circuit
    measurements, classical control), or one where a density matrix is
    cheaper than the trajectories, is sampled shot by shot as before.
    """

    tier: ClassVar[Tier] = "noisy_simulator"

    def __init__(self, spec: BackendSpec) -> None:
        if not spec.device:
            raise BackendError(f"backend {spec.name} needs a device name", permanent=True)
        super().__init__(spec)
        self.device = spec.device
        self._noise = str(spec.options.get("noise", "device"))
        self._optimization_level = int(spec.options.get("optimization_level", 2))
        self._trajectories = _trajectories_option(spec)
        self._jobs = LocalJobs(spec.name)
        fake_device(self.device)  # fail now, not at the first run, on an unknown device

    def transpile(self, circuit: QuantumCircuit, *, seed: int | None = None) -> QuantumCircuit:
        pass_manager = device_pass_manager(self.device, self._optimization_level, seed)
        return cast(QuantumCircuit, pass_manager.run(circuit))

    def run(
        self,
        circuits: Sequence[QuantumCircuit],
        *,
        shots: int,
        seed: int | None = None,
        tags: Sequence[str] = (),
    ) -> str:
        self.check_shots(shots)
        compacted = []
        for circuit in circuits:
            _check_bound(circuit)
            small, physical = compact(circuit)
            self._check_active(len(physical))
            compacted.append((small, physical))
        return self._jobs.submit(partial(self._sample, compacted, shots, seed))

    def poll(self, job_id: str) -> JobStatus:
        return self._jobs.status(job_id)

    def cancel(self, job_id: str) -> None:
        self._jobs.cancel(job_id)

    def _check_active(self, active: int) -> None:
        if active > min(self.max_qubits, MAX_SIMULATED_QUBITS):
            raise BackendError(
                f"the transpiled circuit touches {active} physical qubits; "
                f"backend {self.name} simulates at most {self.max_qubits}",
                permanent=True,
            )

    def averaged_trajectories(self, circuit: QuantumCircuit, shots: int) -> int | None:
        """Trajectories averaged for ``shots`` of ISA ``circuit``; None when sampled per shot."""
        small, physical = compact(circuit)
        plan = self._plan(small, len(physical), shots)
        return plan[1] if plan else None

    def _plan(
        self, circuit: QuantumCircuit, active: int, shots: int
    ) -> tuple[TerminalMeasurements, int] | None:
        split = split_terminal_measurements(circuit)
        trajectories = min(shots, self._trajectories or default_trajectories(shots))
        if split is None or not _averaging_pays(split, active, trajectories, shots):
            return None
        return split, trajectories

    def _sample(
        self,
        compacted: list[tuple[QuantumCircuit, tuple[int, ...]]],
        shots: int,
        seed: int | None,
    ) -> Counts:
        counts: Counts = []
        for circuit, physical in compacted:
            noise_model = restricted_noise_model(self.device, physical, self._noise)
            plan = self._plan(circuit, len(physical), shots)
            if plan is None:
                counts.extend(_sample_per_shot(circuit, noise_model, shots, seed))
                continue
            split, trajectories = plan
            probabilities = noisy_probabilities(split, noise_model, trajectories, seed)
            readout = readout_matrices(self.device, physical)[list(split.qubits)]
            counts.append(sample_counts(apply_readout(probabilities, readout), split, shots, seed))
        return counts


def _averaging_pays(
    split: TerminalMeasurements, active: int, trajectories: int, shots: int
) -> bool:
    # With a trajectory per shot, or a density matrix cheaper than the
    # trajectories, sampling each shot directly costs no more and adds no
    # averaging variance. Past MAX_DIAGONAL_QUBITS measured qubits the
    # probability vector itself is too big to hold.
    return (
        trajectories < shots
        and len(split.qubits) <= MAX_DIAGONAL_QUBITS
        and simulation_method(active, trajectories) == "statevector"
    )


def _sample_per_shot(
    circuit: QuantumCircuit, noise_model: Any, shots: int, seed: int | None
) -> Counts:
    options = {
        "method": simulation_method(circuit.num_qubits, shots),
        "noise_model": noise_model,
    }
    sampler = SamplerV2(seed=seed, options={"backend_options": options})
    return _counts(sampler.run([circuit], shots=shots).result())


def _trajectories_option(spec: BackendSpec) -> int | None:
    value = spec.options.get("trajectories")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BackendError(
            f"backend {spec.name}: option trajectories must be a positive integer; got {value!r}",
            permanent=True,
        )
    return value


def estimator_expectation(
    method: str, circuit: QuantumCircuit, observable: SparsePauliOp, params_batch: FloatArray
) -> FloatArray:
    """<observable> per row of ``params_batch`` from Aer's EstimatorV2 (precision 0: exact)."""
    estimator = EstimatorV2(options={"backend_options": {"method": method}})
    result = estimator.run([(circuit, observable, params_batch)]).result()
    return np.asarray(result[0].data.evs, dtype=np.float64).reshape(-1)


def probability_expectation(
    method: str, circuit: QuantumCircuit, observable: SparsePauliOp, params_batch: FloatArray
) -> FloatArray:
    """<observable> for a diagonal observable, from the exact outcome probabilities."""
    probed = circuit.copy()
    probed.save_probabilities(label="p")
    batch = np.atleast_2d(params_batch)
    binds = {p: batch[:, i].tolist() for i, p in enumerate(probed.parameters)}
    result = _simulator(method).run(probed, parameter_binds=[binds] if binds else None).result()
    diagonal = _diagonal(observable)
    return np.array([np.asarray(result.data(i)["p"]) @ diagonal for i in range(len(batch))])


def is_diagonal(observable: SparsePauliOp) -> bool:
    return not observable.paulis.x.any()


def _diagonal(observable: SparsePauliOp) -> FloatArray:
    masks = tuple(
        int(np.dot(z, 1 << np.arange(len(z), dtype=np.int64))) for z in observable.paulis.z
    )
    coeffs = tuple(float(np.real(c)) for c in observable.coeffs)
    return _diagonal_of(observable.num_qubits, masks, coeffs)


# An optimiser asks for the same observable's diagonal at every evaluation.
@lru_cache(maxsize=2)
def _diagonal_of(n: int, masks: tuple[int, ...], coeffs: tuple[float, ...]) -> FloatArray:
    # Index b holds qubit i in bit i (little-endian, as Aer's probabilities);
    # a Z-string's eigenvalue there is (-1)^(number of its qubits set in b).
    index = np.arange(2**n, dtype=np.int64)
    diagonal = np.zeros(2**n, dtype=np.float64)
    for mask, coeff in zip(masks, coeffs, strict=True):
        parity = (np.bitwise_count(index & mask) & 1).astype(np.float64)  # uint8: would wrap
        diagonal += coeff * (1.0 - 2.0 * parity)
    return diagonal


def compact(circuit: QuantumCircuit) -> tuple[QuantumCircuit, tuple[int, ...]]:
    """Drop the qubits ``circuit`` never touches; return it and the physical qubits kept, in order.

    A 12-variable problem transpiled to a 133-qubit device keeps ~12-16 of
    them. Classical bits are untouched, so counts mean the same thing.
    """
    physical = active_qubits(circuit)
    index = {p: i for i, p in enumerate(physical)}
    small = QuantumCircuit(
        QuantumRegister(len(physical), "q"), *circuit.cregs, global_phase=circuit.global_phase
    )
    for instruction in circuit.data:
        qubits = [circuit.find_bit(q).index for q in instruction.qubits]
        if instruction.operation.name in NON_OPERATIONS:
            # A barrier or delay on dropped qubits only: nothing left to keep.
            qubits = [q for q in qubits if q in index]
            if not qubits:
                continue
        small.append(instruction.operation, [index[q] for q in qubits], instruction.clbits)
    return small, physical


def active_qubits(circuit: QuantumCircuit) -> tuple[int, ...]:
    """Indices of the qubits some operation (not a barrier or delay) acts on, ascending."""
    used = {
        circuit.find_bit(q).index
        for instruction in circuit.data
        if instruction.operation.name not in NON_OPERATIONS
        for q in instruction.qubits
    }
    return tuple(sorted(used))


@lru_cache(maxsize=4)
def _simulator(method: str) -> AerSimulator:
    return AerSimulator(method=method)


@lru_cache(maxsize=64)
def _ideal_pass_manager(method: str, seed: int | None) -> Any:
    # Building a pass manager from the simulator's target costs ~1 s; a QAOA
    # run transpiles twice and a worker solves many runs.
    return generate_preset_pass_manager(
        optimization_level=1, backend=_simulator(method), seed_transpiler=seed
    )


@lru_cache(maxsize=64)
def device_pass_manager(device: str, optimization_level: int, seed: int | None) -> Any:
    return generate_preset_pass_manager(
        optimization_level=optimization_level,
        backend=fake_device(device),
        seed_transpiler=seed,
    )


def _check_bound(circuit: QuantumCircuit) -> None:
    if circuit.parameters:
        raise BackendError(
            f"circuit {circuit.name!r} has unbound parameters; bind them before run",
            permanent=True,
        )


def _counts(result: Any) -> Counts:
    # join_data merges every classical register, so any measurement layout works.
    return [{str(k): int(v) for k, v in pub.join_data().get_counts().items()} for pub in result]
