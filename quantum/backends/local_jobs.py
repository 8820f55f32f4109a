"""An in-memory job table for work a backend runs in this process (Aer simulations).

Jobs run on one worker thread per backend object, so ``run`` returns an id
at once exactly like a remote provider and ``poll`` never blocks. The table
lives and dies with the backend object: a local job cannot outlive its
process, which is why a lookup of an unknown id raises ``JobNotFoundError``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from quantum.backends.base import JobNotFoundError, JobState, JobStatus

Counts = list[dict[str, int]]

# Finished jobs are kept so a repeated poll sees the same answer; beyond this
# many the oldest finished ones are dropped to bound a long-lived worker's memory.
MAX_FINISHED_JOBS = 256


@dataclass
class _Entry:
    future: Future[Counts]
    submitted: float
    started: float | None = None
    finished: float | None = None
    cancelled: bool = False


class LocalJobs:
    def __init__(self, backend_name: str) -> None:
        self._backend_name = backend_name
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def submit(self, work: Callable[[], Counts]) -> str:
        job_id = str(uuid.uuid4())
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aer-job")
            entry = _Entry(future=Future(), submitted=time.monotonic())
            entry.future = self._executor.submit(self._timed, entry, work)
            self._entries[job_id] = entry
            self._evict_finished()
        return job_id

    def status(self, job_id: str) -> JobStatus:
        entry = self._entry(job_id)
        usage = _usage(entry)
        if entry.cancelled:
            return JobStatus(job_id, "cancelled", usage=usage, error="cancelled", permanent=True)
        if not entry.future.done():
            state: JobState = "running" if entry.started is not None else "queued"
            return JobStatus(job_id, state, usage=usage)
        error = entry.future.exception()
        if error is not None:
            # A simulation that failed once fails the same way again.
            message = f"{type(error).__name__}: {error}"
            return JobStatus(job_id, "failed", usage=usage, error=message, permanent=True)
        return JobStatus(job_id, "done", counts=tuple(entry.future.result()), usage=usage)

    def cancel(self, job_id: str) -> None:
        entry = self._entry(job_id)
        if entry.future.done():
            return
        # A running simulation cannot be interrupted; its result is discarded.
        entry.future.cancel()
        entry.cancelled = True

    def _entry(self, job_id: str) -> _Entry:
        with self._lock:
            entry = self._entries.get(job_id)
        if entry is None:
            raise JobNotFoundError(job_id, self._backend_name)
        return entry

    @staticmethod
    def _timed(entry: _Entry, work: Callable[[], Counts]) -> Counts:
        entry.started = time.monotonic()
        try:
            return work()
        finally:
            entry.finished = time.monotonic()

    def _evict_finished(self) -> None:
        finished = [k for k, e in self._entries.items() if e.future.done()]
        for key in finished[: max(0, len(finished) - MAX_FINISHED_JOBS)]:
            del self._entries[key]


def _usage(entry: _Entry) -> dict[str, float]:
    # Simulators bill no quantum time; queue and run wall times are still useful.
    usage = {"quantum_seconds": 0.0}
    if entry.started is not None:
        usage["queue_seconds"] = entry.started - entry.submitted
        if entry.finished is not None:
            usage["simulator_seconds"] = entry.finished - entry.started
    return usage
