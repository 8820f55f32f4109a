"""IBM Quantum through qiskit-ibm-runtime's SamplerV2: the only module that talks to IBM.

Two modes behind one class. With credentials it uses ``QiskitRuntimeService``
and the cloud: ``run`` returns the job id as soon as the job is accepted,
``poll`` looks the job up by id (so any process can resume it), and usage
comes from ``job.metrics()``. With ``channel="local"`` or a ``fake_*``
backend name it uses the library's local testing mode, where the fake
device is the primitive's ``mode``; local jobs cannot be looked up by id, so
their handles are kept in this object.

SamplerV2 is pinned to qiskit-ibm-runtime < 0.50, which deprecates it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar, cast

from qiskit.circuit import QuantumCircuit
from qiskit.providers.exceptions import QiskitBackendNotFoundError
from qiskit.transpiler import generate_preset_pass_manager
from qiskit_ibm_runtime import Batch, QiskitRuntimeService, SamplerV2
from qiskit_ibm_runtime.api.exceptions import RequestsApiError
from qiskit_ibm_runtime.exceptions import (
    IBMAccountError,
    IBMBackendValueError,
    IBMInputValueError,
    IBMNotAuthorizedError,
    IBMRuntimeError,
    RuntimeInvalidStateError,
    RuntimeJobFailureError,
    RuntimeJobMaxTimeoutError,
    RuntimeJobNotFound,
)

from quantum.backends.aer import device_pass_manager
from quantum.backends.base import (
    Backend,
    BackendSpec,
    JobNotFoundError,
    JobState,
    JobStatus,
    Tier,
    redact,
)
from quantum.backends.devices import fake_device
from quantum.errors import BackendError

# Runtime reports states as strings (cloud) or qiskit JobStatus enums (local mode).
_STATES: dict[str, JobState] = {
    "INITIALIZING": "queued",
    "QUEUED": "queued",
    "VALIDATING": "queued",
    "RUNNING": "running",
    "DONE": "done",
    "ERROR": "failed",
    "CANCELLED": "cancelled",
}
# HTTP statuses a retry can fix: timeouts, throttling, and the server's own faults.
_TRANSIENT_HTTP = frozenset({-1, 408, 425, 429})


class IBMRuntimeBackend(Backend):
    tier: ClassVar[Tier] = "hardware"

    def __init__(self, spec: BackendSpec) -> None:
        super().__init__(spec)
        self.local = spec.is_local_runtime
        if not self.local:
            missing = [k for k in ("channel", "token", "backend_name") if not getattr(spec, k)]
            if missing:
                raise BackendError(
                    f"backend {spec.name} needs {', '.join(missing)} in its BackendSpec",
                    permanent=True,
                )
        self._optimization_level = int(spec.options.get("optimization_level", 2))
        self._service: Any = None
        self._device: Any = None
        self._mode: Any = None  # an open Batch, when inside ``batch()``
        self._local_jobs: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- the target ----------------------------------------------------------

    def device(self) -> Any:
        """The BackendV2 circuits are compiled for: a fake device or the real one."""
        if self._device is None:
            if self.local:
                self._device = fake_device(self._local_name())
            else:
                with translate_errors(self.name, self.spec.token):
                    self._device = self._cloud().backend(self.spec.backend_name)
        return self._device

    def _local_name(self) -> str:
        return self.spec.backend_name or self.spec.device or "fake_torino"

    def _cloud(self) -> Any:
        if self._service is None:
            with translate_errors(self.name, self.spec.token):
                self._service = QiskitRuntimeService(
                    channel=self.spec.channel,
                    token=self.spec.token,
                    instance=self.spec.instance,
                )
        return self._service

    def transpile(self, circuit: QuantumCircuit, *, seed: int | None = None) -> QuantumCircuit:
        if self.local:
            pass_manager = device_pass_manager(self._local_name(), self._optimization_level, seed)
        else:
            # Not cached: a real device's target changes with each calibration.
            pass_manager = generate_preset_pass_manager(
                optimization_level=self._optimization_level,
                backend=self.device(),
                seed_transpiler=seed,
            )
        return cast(QuantumCircuit, pass_manager.run(circuit))

    # -- jobs ----------------------------------------------------------------

    def run(
        self,
        circuits: Sequence[QuantumCircuit],
        *,
        shots: int,
        seed: int | None = None,
        tags: Sequence[str] = (),
    ) -> str:
        self.check_shots(shots)
        sampler = SamplerV2(mode=self._mode or self.device())
        sampler.options.default_shots = shots
        if tags:
            sampler.options.environment.job_tags = list(tags)
        if self.local and seed is not None:
            # Only simulators honour a seed; hardware would reject the option.
            sampler.options.simulator.seed_simulator = seed
        with translate_errors(self.name, self.spec.token):
            job = sampler.run(list(circuits))
            job_id = str(job.job_id())
        if self.local:
            with self._lock:
                self._local_jobs[job_id] = job
        return job_id

    def poll(self, job_id: str) -> JobStatus:
        job = self._job(job_id)
        with translate_errors(self.name, self.spec.token):
            state = _state(job.status())
            if state == "done":
                counts = tuple(_pub_counts(pub) for pub in job.result())
                return JobStatus(job_id, state, counts=counts, usage=job_usage(job))
            if state == "failed":
                return JobStatus(
                    job_id,
                    state,
                    usage=job_usage(job),
                    error=redact(_failure(job), self.spec.token),
                )
            return JobStatus(job_id, state, usage=job_usage(job) if state != "queued" else {})

    def cancel(self, job_id: str) -> None:
        job = self._job(job_id)
        with translate_errors(self.name, self.spec.token):
            if _state(job.status()) in ("done", "failed", "cancelled"):
                return
            job.cancel()

    def _job(self, job_id: str) -> Any:
        if self.local:
            with self._lock:
                job = self._local_jobs.get(job_id)
            if job is None:
                raise JobNotFoundError(job_id, self.name)
            return job
        with translate_errors(self.name, self.spec.token):
            return self._cloud().job(job_id)

    @contextmanager
    def batch(self) -> Iterator[Backend]:
        """Submit the jobs inside as one IBM batch: they are compiled and scheduled together.

        Re-entrant: a solve inside a caller's batch joins it rather than
        opening (and on exit closing) one of its own.
        """
        if self._mode is not None:
            yield self
            return
        with translate_errors(self.name, self.spec.token):
            batch = Batch(backend=self.device())
        self._mode = batch
        try:
            yield self
        finally:
            self._mode = None
            # Closing stops new jobs joining; jobs already submitted still run.
            with translate_errors(self.name, self.spec.token):
                batch.close()


@contextmanager
def translate_errors(backend: str, token: str | None = None) -> Iterator[None]:
    """Re-raise qiskit-ibm-runtime errors as ``BackendError`` with ``permanent`` set.

    Permanent: bad credentials or input, unknown job or backend, a job the
    service failed (it would fail again). Transient: the network, the API
    throttling or timing out, the service's own 5xx faults. Messages have the
    API token removed: they end up in run errors, pages and logs.
    """
    try:
        yield
    except BackendError:
        raise
    except RuntimeJobNotFound as exc:
        raise JobNotFoundError(redact(str(exc), token), backend) from exc
    except RequestsApiError as exc:
        transient = exc.status_code in _TRANSIENT_HTTP or exc.status_code >= 500
        message = redact(f"{backend}: IBM API error: {exc}", token)
        raise BackendError(message, permanent=not transient) from exc
    except (
        IBMNotAuthorizedError,
        IBMAccountError,
        IBMInputValueError,
        IBMBackendValueError,
        QiskitBackendNotFoundError,
        RuntimeInvalidStateError,
        RuntimeJobFailureError,
        RuntimeJobMaxTimeoutError,
    ) as exc:
        message = redact(f"{backend}: {type(exc).__name__}: {exc}", token)
        raise BackendError(message, permanent=True) from exc
    except (IBMRuntimeError, ConnectionError, TimeoutError, OSError) as exc:
        message = redact(f"{backend}: {type(exc).__name__}: {exc}", token)
        raise BackendError(message, permanent=False) from exc


def job_usage(job: Any) -> dict[str, float]:
    """Billed quantum seconds and time spent queued, from ``job.metrics()``."""
    metrics = job.metrics() or {}
    usage = metrics.get("usage") or {}
    result: dict[str, float] = {"quantum_seconds": float(usage.get("quantum_seconds") or 0.0)}
    stamps = metrics.get("timestamps") or {}
    created, running = _timestamp(stamps.get("created")), _timestamp(stamps.get("running"))
    if created is not None and running is not None:
        result["queue_seconds"] = max(0.0, (running - created).total_seconds())
    return result


def _timestamp(value: Any) -> datetime | None:
    # The cloud sends ISO 8601 strings ("...Z"); local mode sends datetimes.
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def _failure(job: Any) -> str:
    message = job.error_message()
    if message:
        return str(message)
    # Local-mode jobs keep the simulator's exception instead of a message.
    try:
        job.result()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "job failed"


def _state(status: Any) -> JobState:
    name = str(getattr(status, "name", status)).upper()
    return _STATES.get(name, "queued")


def _pub_counts(pub: Any) -> dict[str, int]:
    return {str(k): int(v) for k, v in pub.join_data().get_counts().items()}
