"""The one small interface every execution backend implements.

A backend turns circuits into measurement counts. It is asynchronous by
shape even when the work is local: ``run`` returns a provider job id at once,
so the caller can store it *before* waiting (a retried task then resumes the
job instead of paying for it twice), and ``poll`` reports progress.

Nothing here imports qiskit: the interface is importable (and type-checkable)
from Django code that never runs a circuit.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from quantum.errors import BackendError
from quantum.model import FloatArray

if TYPE_CHECKING:
    from qiskit.circuit import QuantumCircuit
    from qiskit.quantum_info import SparsePauliOp

Tier = Literal["simulator", "noisy_simulator", "hardware"]
JobState = Literal["queued", "running", "done", "failed", "cancelled"]
KINDS = ("aer_statevector", "aer_mps", "aer_noisy", "ibm_runtime")
TERMINAL_STATES: frozenset[str] = frozenset({"done", "failed", "cancelled"})


@dataclass(frozen=True)
class CostModel:
    """Credits a run costs: a fixed price per job, per shot and per quantum second."""

    per_task: float = 0.0
    per_shot: float = 0.0
    per_second: float = 0.0

    def __post_init__(self) -> None:
        for name in ("per_task", "per_shot", "per_second"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"CostModel.{name} must be a finite number >= 0; got {value}")

    def estimate(self, tasks: int, shots: int, seconds: float) -> float:
        return self.per_task * tasks + self.per_shot * shots + self.per_second * seconds

    @property
    def is_free(self) -> bool:
        return self.per_task == self.per_shot == self.per_second == 0.0


@dataclass(frozen=True)
class BackendSpec:
    """Everything needed to build a backend; admins configure these per deployment.

    ``device`` names the fake device an ``aer_noisy`` backend copies (e.g.
    ``"fake_torino"``). ``channel``/``instance``/``backend_name``/``token`` are
    for ``ibm_runtime``; ``channel="local"`` or a ``fake_*`` backend name runs
    qiskit-ibm-runtime's local testing mode. ``options`` holds kind-specific
    knobs (``optimization_level``, ``noise``). The token is kept out of
    ``repr`` so a logged spec never leaks it.
    """

    name: str
    kind: str
    max_qubits: int
    max_shots: int
    cost: CostModel = field(default_factory=CostModel)
    device: str | None = None
    channel: str | None = None
    instance: str | None = None
    backend_name: str | None = None
    token: str | None = field(default=None, repr=False)
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown backend kind {self.kind!r}; one of: {', '.join(KINDS)}")
        if self.max_qubits < 1 or self.max_shots < 1:
            raise ValueError("max_qubits and max_shots must be positive")

    @property
    def is_local_runtime(self) -> bool:
        """IBM Runtime's local testing mode: a fake device instead of the cloud."""
        return self.kind == "ibm_runtime" and (
            self.channel == "local" or (self.backend_name or "").startswith("fake_")
        )


@dataclass(frozen=True)
class JobStatus:
    """What ``poll`` saw. ``counts`` holds one dict per submitted circuit once ``done``.

    ``usage`` has ``quantum_seconds`` (what the provider bills) and
    ``queue_seconds`` when the provider reports them. ``permanent`` says
    whether a failure would recur on retry.
    """

    job_id: str
    state: JobState
    counts: tuple[dict[str, int], ...] = ()
    usage: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    permanent: bool = True

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES


class JobNotFoundError(BackendError):
    """The backend does not know this job id (a local simulator's jobs die with its process)."""

    def __init__(self, job_id: str, backend: str) -> None:
        self.job_id = job_id
        super().__init__(f"backend {backend} has no job {job_id}", permanent=True)


class Backend(ABC):
    """Submit circuits, poll for counts, cancel; plus what a backend can tell about itself."""

    tier: ClassVar[Tier]

    def __init__(self, spec: BackendSpec) -> None:
        self.spec = spec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def max_qubits(self) -> int:
        return self.spec.max_qubits

    def check_width(self, num_qubits: int) -> None:
        if num_qubits > self.max_qubits:
            raise BackendError(
                f"needs {num_qubits} qubits; backend {self.name} allows {self.max_qubits}",
                permanent=True,
            )

    def check_shots(self, shots: int) -> None:
        if not 1 <= shots <= self.spec.max_shots:
            raise BackendError(
                f"shots must be between 1 and {self.spec.max_shots} on backend {self.name}; "
                f"got {shots}",
                permanent=True,
            )

    @abstractmethod
    def transpile(self, circuit: QuantumCircuit, *, seed: int | None = None) -> QuantumCircuit:
        """The circuit rewritten for this target (ISA); ``seed`` fixes layout and routing."""

    @abstractmethod
    def run(
        self,
        circuits: Sequence[QuantumCircuit],
        *,
        shots: int,
        seed: int | None = None,
        tags: Sequence[str] = (),
    ) -> str:
        """Submit bound, measured, transpiled circuits; return the provider's job id at once."""

    @abstractmethod
    def poll(self, job_id: str) -> JobStatus:
        """Current state of a job; never blocks on the job itself."""

    @abstractmethod
    def cancel(self, job_id: str) -> None:
        """Ask the provider to stop a job; a job already finished is left as it is."""

    def expectation(
        self, circuit: QuantumCircuit, observable: SparsePauliOp, params_batch: FloatArray
    ) -> FloatArray:
        """Exact <observable> for each row of ``params_batch`` (ideal simulators only)."""
        raise BackendError(
            f"backend {self.name} ({self.tier}) does not compute exact expectation values; "
            "optimise on samples instead",
            permanent=True,
        )

    @property
    def supports_expectation(self) -> bool:
        return False

    def estimate_cost(self, shots: int, circuits: int = 1, est_seconds: float = 0.0) -> float:
        """Credits for ``circuits`` jobs of ``shots`` shots each taking ``est_seconds`` in all."""
        return self.spec.cost.estimate(circuits, shots * circuits, est_seconds)

    @contextmanager
    def batch(self) -> Iterator[Backend]:
        """Group the jobs submitted inside into one provider batch (a no-op by default)."""
        yield self

    def initial_layout(self, circuit: QuantumCircuit) -> list[int] | None:
        """Physical qubit of each virtual qubit after ``transpile``; None when not placed."""
        layout = getattr(circuit, "layout", None)
        if layout is None:
            return None
        return [int(q) for q in layout.initial_index_layout(filter_ancillas=True)]


def redact(message: str, token: str | None) -> str:
    """Provider errors sometimes quote the request they refused; never pass the token on."""
    return message.replace(token, "[redacted]") if token else message
