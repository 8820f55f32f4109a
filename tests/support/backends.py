"""Test backends: real Aer backends wrapped to fail or to be slow on purpose.

They go in through ``quantum.backends.register_backend`` (swapping the
factory of a real kind), the one seam the library offers for this; nothing
inside the library is patched.

A real worker process cannot see a swap made in the test process, so a test
that needs one there starts the worker with ``HR_TEST_BACKENDS_MODULE`` set
to this module (read only by settings/test.py); the jobs app imports it at
start, and ``install_from_env`` applies what ``HR_TEST_SLOW_SECONDS`` asks.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from quantum.backends import Backend, BackendSpec, JobStatus, register_backend
from quantum.errors import BackendError


class WrappedBackend(Backend):
    """Delegates everything to a real backend; subclasses change one thing."""

    def __init__(self, inner: Backend) -> None:
        super().__init__(inner.spec)
        self.inner = inner
        self.tier = inner.tier  # type: ignore[misc]

    def transpile(self, circuit: Any, *, seed: int | None = None) -> Any:
        return self.inner.transpile(circuit, seed=seed)

    def run(
        self,
        circuits: Sequence[Any],
        *,
        shots: int,
        seed: int | None = None,
        tags: Sequence[str] = (),
    ) -> str:
        return self.inner.run(circuits, shots=shots, seed=seed, tags=tags)

    def poll(self, job_id: str) -> JobStatus:
        return self.inner.poll(job_id)

    def cancel(self, job_id: str) -> None:
        self.inner.cancel(job_id)

    def expectation(self, circuit: Any, observable: Any, params_batch: Any) -> Any:
        return self.inner.expectation(circuit, observable, params_batch)

    @property
    def supports_expectation(self) -> bool:
        return self.inner.supports_expectation

    @contextmanager
    def batch(self) -> Iterator[Backend]:
        # The inner backend's provider batch, with jobs still passing through us.
        with self.inner.batch():
            yield self


class ScriptedBackend(WrappedBackend):
    """Raises the scripted errors on the first ``run`` calls, then behaves."""

    def __init__(self, inner: Backend, script: list[BackendError], calls: list[str]) -> None:
        super().__init__(inner)
        self.script = script
        self.calls = calls

    def run(
        self,
        circuits: Sequence[Any],
        *,
        shots: int,
        seed: int | None = None,
        tags: Sequence[str] = (),
    ) -> str:
        self.calls.append("run")
        if self.script:
            raise self.script.pop(0)
        return super().run(circuits, shots=shots, seed=seed, tags=tags)


class SlowBackend(WrappedBackend):
    """Reports every job as running until ``delay`` seconds after it was submitted."""

    def __init__(self, inner: Backend, delay: float) -> None:
        super().__init__(inner)
        self.delay = delay
        self.submitted: dict[str, float] = {}

    def run(
        self,
        circuits: Sequence[Any],
        *,
        shots: int,
        seed: int | None = None,
        tags: Sequence[str] = (),
    ) -> str:
        job_id = super().run(circuits, shots=shots, seed=seed, tags=tags)
        self.submitted[job_id] = time.monotonic()
        return job_id

    def poll(self, job_id: str) -> JobStatus:
        started = self.submitted.setdefault(job_id, time.monotonic())
        if time.monotonic() - started < self.delay:
            return JobStatus(job_id=job_id, state="running")
        return super().poll(job_id)


class BatchRecordingBackend(WrappedBackend):
    """Stands in for an IBM Runtime backend: runs on Aer, records which jobs went
    in which ``batch()`` block (an IBM Runtime Batch, for the real adapter)."""

    def __init__(self, inner: Backend, spec: BackendSpec, log: list[tuple[str, int]]) -> None:
        super().__init__(inner)
        self.spec = spec
        self.tier = "hardware"  # type: ignore[misc]
        self.log = log
        self.current: int | None = None

    @contextmanager
    def batch(self) -> Iterator[Backend]:
        if self.current is not None:  # re-entrant, like the IBM Runtime adapter
            yield self
            return
        self.current = len([e for e in self.log if e[0] == "open"]) + 1
        self.log.append(("open", self.current))
        try:
            yield self
        finally:
            self.log.append(("close", self.current))
            self.current = None

    def run(
        self,
        circuits: Sequence[Any],
        *,
        shots: int,
        seed: int | None = None,
        tags: Sequence[str] = (),
    ) -> str:
        self.log.append(("run", self.current or 0))
        return super().run(circuits, shots=shots, seed=seed, tags=tags)


@contextmanager
def replaced(kind: str, factory: Callable[[BackendSpec], Backend]) -> Iterator[None]:
    """Build ``kind``'s backends with ``factory`` inside the block."""
    real = register_backend(kind, factory)
    try:
        yield
    finally:
        if real is not None:
            register_backend(kind, real)


def wrap_kind(kind: str, wrap: Callable[[Backend], Backend]) -> Callable[..., Backend] | None:
    """Build ``kind``'s backends as ``wrap(real backend)``; returns the real factory."""
    holder: dict[str, Any] = {}

    def factory(spec: BackendSpec) -> Backend:
        return wrap(holder["real"](spec))

    holder["real"] = register_backend(kind, factory)
    return holder["real"]


@contextmanager
def swapped(kind: str, wrap: Callable[[Backend], Backend]) -> Iterator[None]:
    """``wrap_kind`` inside the block only."""
    real = wrap_kind(kind, wrap)
    try:
        yield
    finally:
        if real is not None:
            register_backend(kind, real)


def install_from_env() -> None:
    """In a worker started by a test: make aer_statevector slow if asked to."""
    delay = float(os.environ.get("HR_TEST_SLOW_SECONDS", "0") or 0)
    if delay > 0:
        wrap_kind("aer_statevector", lambda inner: SlowBackend(inner, delay))


install_from_env()
