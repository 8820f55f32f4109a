"""Noisy sampling by averaged trajectories (docs/noisy-simulation.md).

For a circuit whose measurements all come last: run fewer noisy statevector
trajectories than shots, average their outcome probabilities (an unbiased
estimate of the noisy distribution), apply the readout errors to that, and
draw the shots from it. ``AerNoisyBackend`` decides when this pays.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import numpy as np
from qiskit.circuit import CircuitInstruction, Clbit, Gate, QuantumCircuit
from qiskit_aer import AerSimulator

from quantum.model import FloatArray

# Operations that act on no state: dropped by compaction, harmless before a measurement.
NON_OPERATIONS = frozenset({"barrier", "delay"})
# K = shots / 8 trajectories, at least 64.
SHOTS_PER_TRAJECTORY = 8
MIN_TRAJECTORIES = 64
# Counts keys are built as int64 before formatting.
MAX_KEY_BITS = 62


def default_trajectories(shots: int) -> int:
    """One trajectory per ``SHOTS_PER_TRAJECTORY`` shots, but never fewer than a floor.

    Averaging K trajectories adds about ``shots**2 * Var_t(p_t(x)) / K`` to
    an outcome's count variance, against ``shots * p(x)(1 - p(x))`` of shot
    noise: 3% more for the 12-qubit QAOA of bench section E at K = shots/8,
    at most shots/K times more for a nearly deterministic circuit
    (docs/noisy-simulation.md).
    """
    return min(shots, max(MIN_TRAJECTORIES, shots // SHOTS_PER_TRAJECTORY))


@dataclass(frozen=True)
class TerminalMeasurements:
    """A circuit whose measurements all come last: its body, and which qubit lands where.

    Qubit ``qubits[j]`` is measured into bit ``positions[j]`` of a counts key
    ``width`` bits wide, position 0 rightmost, as SamplerV2's ``join_data``
    prints them; clbits nothing is measured into read 0.
    """

    body: QuantumCircuit
    qubits: tuple[int, ...]
    positions: tuple[int, ...]
    width: int


def split_terminal_measurements(circuit: QuantumCircuit) -> TerminalMeasurements | None:
    """The circuit without its final measurements, or None unless every measurement is final.

    Final means: gates only (no reset, classical control or saved state), no
    qubit touched after its measurement, no qubit or clbit measured twice.
    """
    positions = _clbit_positions(circuit)
    if positions is None:
        return None
    body = circuit.copy_empty_like()
    measured: dict[int, int] = {}  # qubit -> clbit position
    for instruction in circuit.data:
        qubits = [circuit.find_bit(q).index for q in instruction.qubits]
        if instruction.operation.name == "measure":
            position = positions[instruction.clbits[0]]
            if qubits[0] in measured or position in measured.values():
                return None
            measured[qubits[0]] = position
        elif _comes_before_measurements(instruction, qubits, measured.keys()):
            body.append(instruction)
        else:
            return None
    if not measured:
        return None
    return TerminalMeasurements(body, tuple(measured), tuple(measured.values()), circuit.num_clbits)


def _comes_before_measurements(
    instruction: CircuitInstruction, qubits: list[int], measured: AbstractSet[int]
) -> bool:
    operation = instruction.operation
    if operation.name in NON_OPERATIONS:
        return True  # barriers and delays carry no noise in our models
    return isinstance(operation, Gate) and not instruction.clbits and measured.isdisjoint(qubits)


def _clbit_positions(circuit: QuantumCircuit) -> dict[Clbit, int] | None:
    # join_data concatenates the classical registers in order, the first one
    # rightmost. A clbit in no register, or in two, has no one place there;
    # and keys past 62 bits would overflow the int64 arithmetic in sample_counts.
    positions: dict[Clbit, int] = {}
    for register in circuit.cregs:
        for bit in register:
            if bit in positions:
                return None
            positions[bit] = len(positions)
    if len(positions) != circuit.num_clbits or circuit.num_clbits > MAX_KEY_BITS:
        return None
    return positions


def noisy_probabilities(
    split: TerminalMeasurements, noise_model: Any, trajectories: int, seed: int | None
) -> FloatArray:
    """Outcome probabilities of the measured qubits before readout, bit j for ``split.qubits[j]``.

    Each shot of a noisy statevector run is one trajectory, and Aer averages
    saved probabilities over shots: the mean of ``trajectories`` unbiased
    estimates of the density matrix's diagonal. Not with shot branching,
    which would run several times faster: Aer 0.18 then weights every branch
    equally in the average, whatever its number of shots (measured: a 10%
    bit flip came back as 50%).
    """
    probed = split.body.copy()
    probed.save_probabilities(qubits=list(split.qubits), label="p")
    simulator = AerSimulator(method="statevector", noise_model=noise_model)
    run_options: dict[str, Any] = {"shots": trajectories}
    if seed is not None:
        run_options["seed_simulator"] = seed
    result = simulator.run(probed, **run_options).result()
    return np.asarray(result.data(0)["p"], dtype=np.float64)


def apply_readout(probabilities: FloatArray, matrices: FloatArray) -> FloatArray:
    """The distribution after bit j passes through ``matrices[j]`` ([prepared, measured]).

    Index bit j is bit j (little-endian); reshaped C-order to (2,)*m, bit j
    is axis m-1-j. Readout errors are independent per qubit, so this equals
    Aer's per-measurement readout error sampled bit by bit.
    """
    m = len(matrices)
    tensor = probabilities.reshape((2,) * m)
    for j, matrix in enumerate(matrices):
        axis = m - 1 - j
        tensor = np.moveaxis(np.tensordot(tensor, matrix, axes=([axis], [0])), -1, axis)
    return np.ascontiguousarray(tensor).reshape(-1)


def sample_counts(
    probabilities: FloatArray, split: TerminalMeasurements, shots: int, seed: int | None
) -> dict[str, int]:
    """``shots`` draws from ``probabilities``, keyed as SamplerV2 keys its counts."""
    p = np.clip(probabilities, 0.0, None)  # rounding can leave -1e-17
    drawn = np.random.default_rng(seed).multinomial(shots, p / p.sum())
    outcomes = np.flatnonzero(drawn)
    keys = np.zeros_like(outcomes)
    for j, position in enumerate(split.positions):
        keys |= ((outcomes >> j) & 1) << position
    return {
        format(int(key), f"0{split.width}b"): int(drawn[outcome])
        for key, outcome in zip(keys, outcomes, strict=True)
    }
