"""The QAOA circuit for a problem: a normalised Ising Hamiltonian, its ansatz, and facts about it.

Normalisation: the Hamiltonian is divided by its mean absolute field per
qubit, sum(|c_k|) / n over the non-identity Pauli terms. With that scale one
set of angles (and one initial ramp) works across problem types and sizes:
on 8-variable MaxCut (3-regular, Erdos-Renyi, weighted), QUBO and portfolio
instances the ramp below starts at 0.70-0.95 of the energy range before any
optimisation, where dividing by the largest coefficient gave 0.3-0.8.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from qiskit import qasm3
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.circuit.library import qaoa_ansatz
from qiskit.quantum_info import SparsePauliOp

from quantum.backends.aer import active_qubits
from quantum.backends.base import Backend
from quantum.model import FloatArray
from quantum.problems.problem import Problem

# Linear-ramp (TQA-style) start: gamma_k = t_k * DELTA, beta_k = -(1 - t_k) * DELTA
# with t_k = (k + 1/2) / p. DELTA = 0.75 was best of 0.3-1.0 on the instances
# above. Beta is negative because qiskit's mixer is exp(-i beta sum X) and
# |+...+> is the ground state of -sum X: the ramp must follow the annealing
# path, and the positive-beta ramp starts at 0.3-0.4 of the range instead.
RAMP_DELTA = 0.75
GAMMA_PREFIX, BETA_PREFIX = "\u03b3", "\u03b2"  # gamma, beta: qaoa_ansatz's ParameterVector names


@dataclass(frozen=True)
class QaoaProgram:
    """Everything the optimiser and the sampler need, built once per solve."""

    problem: Problem
    hamiltonian: SparsePauliOp  # normalised: energy = scale * <H> + constant
    scale: float
    constant: float
    reps: int
    measured: QuantumCircuit  # the logical ansatz with measurements
    isa: QuantumCircuit  # ``measured`` transpiled for the backend

    def energy(self, normalised_value: float) -> float:
        """BQM energy from a value of the normalised Hamiltonian."""
        return self.scale * normalised_value + self.constant

    def bound_isa(self, x: FloatArray) -> QuantumCircuit:
        return cast(QuantumCircuit, self.isa.assign_parameters(bindings(self.isa, x, self.reps)))

    def bound_logical(self, x: FloatArray) -> QuantumCircuit:
        values = bindings(self.measured, x, self.reps)
        return cast(QuantumCircuit, self.measured.assign_parameters(values))


def build_program(problem: Problem, reps: int, backend: Backend, seed: int) -> QaoaProgram:
    hamiltonian, constant = problem.bqm.to_ising()
    scale = hamiltonian_scale(hamiltonian, problem.num_variables)
    normalised = (hamiltonian / scale).simplify()
    ansatz = qaoa_ansatz(normalised, reps=reps)
    measured = ansatz.copy()
    measured.measure_all()
    return QaoaProgram(
        problem=problem,
        hamiltonian=normalised,
        scale=scale,
        constant=constant,
        reps=reps,
        measured=measured,
        isa=backend.transpile(measured, seed=seed),
    )


def hamiltonian_scale(hamiltonian: SparsePauliOp, num_variables: int) -> float:
    labels = hamiltonian.paulis.to_labels()
    fields = [
        abs(c) for c, label in zip(hamiltonian.coeffs, labels, strict=True) if label.strip("I")
    ]
    total = float(sum(fields))
    # A constant problem has nothing to normalise; any angle gives the same state.
    return total / max(num_variables, 1) if total > 0 else 1.0


def ramp(reps: int) -> FloatArray:
    t = (np.arange(reps) + 0.5) / reps
    return np.concatenate([t * RAMP_DELTA, -(1 - t) * RAMP_DELTA])


def bindings(circuit: QuantumCircuit, x: FloatArray, reps: int) -> dict[Parameter, float]:
    """Map x = (gamma_0..gamma_{p-1}, beta_0..beta_{p-1}) onto the circuit's parameters."""
    return {
        p: float(x[i])
        for p, i in zip(circuit.parameters, parameter_order(circuit, reps), strict=True)
    }


def parameter_order(circuit: QuantumCircuit, reps: int) -> list[int]:
    """For each circuit parameter in the circuit's own order, its index in x."""
    order = []
    for parameter in circuit.parameters:
        vector = getattr(parameter, "vector", None)
        name = getattr(vector, "name", "")
        offset = {GAMMA_PREFIX: 0, BETA_PREFIX: reps}.get(name)
        if offset is None:
            raise ValueError(f"unexpected ansatz parameter {parameter.name!r}")
        order.append(offset + int(parameter.index))
    return order


def circuit_facts(circuit: QuantumCircuit, backend: Backend, shots: int) -> dict[str, Any]:
    """What identifies and sizes the circuit that was sampled (bound and transpiled)."""
    text = qasm3.dumps(circuit)
    two_qubit = sum(
        1 for inst in circuit.data if len(inst.qubits) == 2 and inst.operation.name != "barrier"
    )
    return {
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
        "depth": int(circuit.depth()),
        "two_qubit_gates": two_qubit,
        "width": len(active_qubits(circuit)),
        "shots": shots,
        "initial_layout": backend.initial_layout(circuit),
        "operations": {str(k): int(v) for k, v in circuit.count_ops().items()},
    }
