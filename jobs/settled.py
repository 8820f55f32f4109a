"""Waking whoever waits for a request to settle (leave submitted/running).

On PostgreSQL, the transition that settles a request also sends
``NOTIFY jobs_request_settled, '<id>'``. NOTIFY is transactional: it reaches
listeners when, and only if, that transaction commits, so a waiter that wakes
reads the committed row. A waiter (``POST /api/v1/solve/?wait=``, the pipeline
benchmark) then sleeps in the socket instead of polling the row: no query per
tick, no CPU taken from the worker on a small machine, and no polling delay
between the commit and the answer.

The row stays the truth: a waiter re-reads it on every wake-up and at least
every ``FALLBACK_POLL_SECONDS``, so a lost notification only delays it. On
SQLite, or inside a transaction (where notifications are held back until it
ends), waiting is plain polling every ``POLL_SECONDS``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from types import TracebackType

from django.db import DatabaseError, connection

from jobs.models import OptimizationRequest, RequestStatus
from jobs.models.request import REQUEST_ACTIVE

CHANNEL = "jobs_request_settled"
# Where a request goes when it leaves submitted/running.
SETTLED = frozenset({RequestStatus.READY_FOR_REVIEW, RequestStatus.FAILED, RequestStatus.CANCELLED})
POLL_SECONDS = 0.1
FALLBACK_POLL_SECONDS = 1.0


def requests_notify_settled(request_ids: Iterable[int]) -> None:
    """Queue a notification per request, delivered at commit (PostgreSQL only)."""
    ids = list(request_ids)
    if not ids or connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_notify(%s, x::text) FROM unnest(%s::bigint[]) AS x", [CHANNEL, ids]
        )


class SettledWaiter:
    """``with SettledWaiter() as waiter: <submit>; status = waiter.wait(id, seconds)``.

    Enter it before the submission commits: a request that settles between
    the commit and the first wait is then not missed (its notification is
    already queued on this connection, and the first thing ``wait`` does is
    read the row anyway).
    """

    def __init__(self) -> None:
        self.listening = False

    def __enter__(self) -> SettledWaiter:
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute(f"LISTEN {CHANNEL}")
            self.listening = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if not self.listening:
            return
        self.listening = False
        # The connection outlives this request (CONN_MAX_AGE): leave it as found,
        # or, if it broke meanwhile, drop it rather than hide the first error.
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"UNLISTEN {CHANNEL}")
            _drain()
        except DatabaseError:
            connection.close()
            if error is None:
                raise

    def wait(self, request_id: int, seconds: float) -> str:
        """The request's status once it settles, or as it is when ``seconds`` run out."""
        deadline = time.monotonic() + seconds
        status = _status(request_id)
        while status in REQUEST_ACTIVE:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if self.listening:
                _sleep_until_notified(request_id, min(left, FALLBACK_POLL_SECONDS))
            else:
                time.sleep(min(left, POLL_SECONDS))
            status = _status(request_id)
        return status


def _status(request_id: int) -> str:
    return str(OptimizationRequest.objects.values_list("status", flat=True).get(id=request_id))


def _sleep_until_notified(request_id: int, seconds: float) -> None:
    """Block in the socket until this request's notification arrives, or ``seconds`` pass.

    Other requests' notifications are skipped without a query; notifications
    that came in while this connection ran other statements are yielded first.
    """
    wanted = str(request_id)
    for note in connection.connection.notifies(timeout=seconds):
        if note.payload == wanted:
            return


def _drain() -> None:
    """Discard notifications that arrived after the last wait."""
    for _ in connection.connection.notifies(timeout=0):
        pass
