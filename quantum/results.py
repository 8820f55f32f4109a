"""What a solve returns: plain frozen dataclasses, JSON-friendly via ``to_dict``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class CandidateResult:
    """One decoded solution. ``assignment`` is in the problem's own variable order."""

    assignment: tuple[int, ...]
    bitstring: str  # Qiskit little-endian: bitstring[-1] is variable 0
    objective: float  # in the problem's own terms (cut weight, QUBO value, portfolio objective)
    feasible: bool
    probability: float  # share of shots (1.0 for a deterministic classical answer)
    count: int  # shots that measured it (0 for classical solvers)


@dataclass(frozen=True)
class SolveResult:
    solver: str
    backend: str | None
    tier: str  # "simulator" | "noisy_simulator" | "hardware" | "classical"
    counts: dict[str, int]  # whole raw distribution; empty for classical solvers
    candidates: tuple[CandidateResult, ...]  # best first: feasible first, then objective
    metrics: dict[str, Any]
    timings: dict[str, float]  # seconds: transpile, optimise, sample, total
    # sha256, depth, two_qubit_gates, width, shots, initial_layout
    circuit: dict[str, Any] | None = None
    trace: tuple[float, ...] = ()  # optimiser objective per iteration
    provider_job_id: str | None = None
    usage: dict[str, float] = field(default_factory=dict)  # quantum_seconds, queue_seconds

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
