""" "Test connection": the smallest thing that proves a backend works, and how long it took.

Simulators and IBM's local testing mode run one tiny job (H then measure on
one qubit, a few shots) through the same transpile/run/poll path a solve
uses. IBM hardware gets a status call instead: a job there costs money and
may queue for hours, while fetching the backend proves the credentials, the
instance and the backend name, and its status reports the queue.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from quantum.backends.base import Backend, redact
from quantum.errors import BackendError

PROBE_SHOTS = 16
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    latency_ms: float
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def probe(backend: Backend, *, timeout: float = 60.0) -> ProbeResult:
    """Never raises: a failure is a result with ``ok=False`` and the reason."""
    started = time.perf_counter()
    try:
        if backend.tier == "hardware" and not backend.spec.is_local_runtime:
            details = _provider_status(backend)
            message = (
                "reachable" if details.get("operational", True) else "reachable, not operational"
            )
            ok = bool(details.get("operational", True))
        else:
            details = _tiny_job(backend, timeout)
            ok, message = True, f"ran a {PROBE_SHOTS}-shot 1-qubit job"
    except BackendError as exc:
        ok, message, details = False, str(exc), {}
    except Exception as exc:  # a probe reports whatever went wrong; it never raises
        ok, message, details = False, f"{type(exc).__name__}: {exc}", {}
    latency = (time.perf_counter() - started) * 1000.0
    return ProbeResult(ok, latency, _redacted(message, backend), details)


def _tiny_job(backend: Backend, timeout: float) -> dict[str, Any]:
    from qiskit.circuit import QuantumCircuit

    circuit = QuantumCircuit(1, 1, name="probe")
    circuit.h(0)
    circuit.measure(0, 0)
    job_id = backend.run([backend.transpile(circuit, seed=0)], shots=PROBE_SHOTS, seed=0)
    deadline = time.monotonic() + timeout
    status = backend.poll(job_id)
    while not status.terminal:
        if time.monotonic() > deadline:
            backend.cancel(job_id)
            raise BackendError(
                f"probe job {job_id} still {status.state} after {timeout:g} s", permanent=False
            )
        time.sleep(POLL_SECONDS)
        status = backend.poll(job_id)
    if status.state != "done":
        raise BackendError(
            f"probe job {job_id} {status.state}: {status.error}", permanent=status.permanent
        )
    return {"job_id": job_id, "counts": dict(status.counts[0]) if status.counts else {}}


def _provider_status(backend: Backend) -> dict[str, Any]:
    from quantum.backends.ibm_runtime import IBMRuntimeBackend, translate_errors

    if not isinstance(backend, IBMRuntimeBackend):
        return {}
    with translate_errors(backend.name):
        status = backend.device().status()
    return {
        "operational": bool(getattr(status, "operational", True)),
        "pending_jobs": int(getattr(status, "pending_jobs", 0) or 0),
        "status_msg": str(getattr(status, "status_msg", "")),
    }


def _redacted(message: str, backend: Backend) -> str:
    return redact(message, backend.spec.token)
