"""The only way a request or a run changes status.

Each table lists, for a status, where it may go next. A change is one
conditional UPDATE (``WHERE id = ... AND status IN <allowed sources>``), so of
two conflicting changes at the same moment the database lets exactly one
through and the other sees zero rows and gets ``Conflict``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Q
from django.utils import timezone

from jobs.errors import Conflict, StaleAttempt
from jobs.models import OptimizationRequest, RequestStatus, Run, RunStatus
from jobs.models.run import RUN_TERMINAL
from jobs.services.budget import run_spend_close
from jobs.settled import SETTLED, requests_notify_settled

R = RequestStatus
REQUEST_TRANSITIONS: dict[str, frozenset[str]] = {
    R.SUBMITTED: frozenset({R.RUNNING, R.READY_FOR_REVIEW, R.FAILED, R.CANCELLED}),
    R.RUNNING: frozenset({R.READY_FOR_REVIEW, R.FAILED, R.CANCELLED}),
    R.READY_FOR_REVIEW: frozenset({R.RECOMMENDED, R.CANCELLED}),
    R.RECOMMENDED: frozenset({R.APPROVED, R.REJECTED}),
    R.APPROVED: frozenset(),
    R.REJECTED: frozenset(),
    R.FAILED: frozenset(),
    R.CANCELLED: frozenset(),
}

S = RunStatus
RUN_TRANSITIONS: dict[str, frozenset[str]] = {
    S.QUEUED: frozenset({S.RUNNING, S.CANCELLED, S.TIMED_OUT}),
    # Back to queued: a transient failure's retry, or the reaper after a lost worker.
    S.RUNNING: frozenset({S.SUCCEEDED, S.FAILED, S.TIMED_OUT, S.CANCELLED, S.QUEUED}),
    S.SUCCEEDED: frozenset(),
    S.FAILED: frozenset(),
    S.TIMED_OUT: frozenset(),
    S.CANCELLED: frozenset(),
}


def sources(table: dict[str, frozenset[str]], target: str) -> list[str]:
    """Every status from which ``target`` may be reached."""
    return sorted(status for status, targets in table.items() if target in targets)


def request_transition(
    *, request_id: int, to: str, from_: tuple[str, ...] | None = None, **fields: Any
) -> None:
    """Move a request to ``to`` and set ``fields``, or raise ``Conflict``.

    ``from_`` narrows the legal sources (e.g. "only if still submitted").
    """
    allowed = _narrowed(sources(REQUEST_TRANSITIONS, to), from_)
    updated = OptimizationRequest.objects.filter(id=request_id, status__in=allowed).update(
        status=to, updated_at=timezone.now(), **fields
    )
    if updated and to in SETTLED:
        requests_notify_settled([request_id])  # delivered at commit, to solve?wait and the like
    if updated == 0:
        current = (
            OptimizationRequest.objects.filter(id=request_id)
            .values_list("status", flat=True)
            .first()
        )
        raise Conflict(f"Request {request_id} cannot move from {current!r} to {str(to)!r}.")


def requests_transition(*, request_ids: Sequence[int], to: str, **fields: Any) -> None:
    """``request_transition`` for many requests with the same ``fields``, in one UPDATE;
    ``Conflict`` (and nothing changed, the caller's transaction rolling back) unless
    every one of them could move. Callers hold the requests' row locks."""
    ids = sorted(set(request_ids))
    if not ids:
        return
    allowed = sources(REQUEST_TRANSITIONS, to)
    updated = OptimizationRequest.objects.filter(id__in=ids, status__in=allowed).update(
        status=to, updated_at=timezone.now(), **fields
    )
    if updated != len(ids):
        raise Conflict(f"Not every one of requests {ids} can move to {str(to)!r}.")
    if to in SETTLED:
        requests_notify_settled(ids)


def run_transition(
    *,
    run_id: int,
    to: str,
    from_: tuple[str, ...] | None = None,
    fence: int | None = None,
    where: Q | None = None,
    close_spend: bool = True,
    **fields: Any,
) -> None:
    """Move a run to ``to`` and set ``fields``, or raise.

    ``fence`` is a worker's fencing token, the attempt it claimed: the change
    happens only if the run is still on that attempt, else ``StaleAttempt``. ``where`` adds a
    condition of the caller's (e.g. the attempt cap of a claim). ``close_spend=False``
    is for a caller finishing many runs, which then calls ``runs_spend_close``
    for them in the same transaction, before its audit events.
    """
    allowed = _narrowed(sources(RUN_TRANSITIONS, to), from_)
    condition = Q(id=run_id, status__in=allowed)
    if where is not None:
        condition &= where
    if fence is not None:
        condition &= Q(attempt=fence)
    updated = Run.objects.filter(condition).update(status=to, updated_at=timezone.now(), **fields)
    if updated:
        if to in RUN_TERMINAL and close_spend:
            # A finished run's spend is settled (or its reservation released)
            # in the same transaction as the status change, before any audit
            # event: the budget row lock precedes the audit lock everywhere.
            run_spend_close(run_id=run_id)
        return
    current = Run.objects.filter(id=run_id).values("status", "attempt").first()
    if fence is not None and current is not None:
        raise StaleAttempt(
            f"Run {run_id} attempt {fence} may not move to {str(to)!r}: the run is "
            f"{current['status']!r} on attempt {current['attempt']}."
        )
    status = current["status"] if current else None
    raise Conflict(f"Run {run_id} cannot move from {status!r} to {str(to)!r}.")


def runs_transition(
    *,
    run_ids: Sequence[int],
    to: str,
    from_: tuple[str, ...] | None = None,
    where: Q | None = None,
    **fields: Any,
) -> list[int]:
    """Move those of ``run_ids`` that may go to ``to`` there, in one UPDATE; their ids.

    For the start of a group of runs (claiming them): the caller holds their
    requests' row locks, so the set read here is the set updated. Terminal
    moves go one run at a time through ``run_transition`` (they settle spend).
    """
    if to in RUN_TERMINAL:
        raise ValueError("terminal run transitions go through run_transition, one run each")
    allowed = _narrowed(sources(RUN_TRANSITIONS, to), from_)
    condition = Q(id__in=list(run_ids), status__in=allowed)
    if where is not None:
        condition &= where
    moving = list(Run.objects.filter(condition).order_by("id").values_list("id", flat=True))
    if moving:
        Run.objects.filter(id__in=moving, status__in=allowed).update(
            status=to, updated_at=timezone.now(), **fields
        )
    return moving


def runs_succeed(*, outcomes: Sequence[tuple[int, int, dict[str, Any]]]) -> list[int]:
    """Move running runs to succeeded, each fenced by the attempt it claimed and given
    its own ``fields``; the ids moved. A run no longer on that attempt (reaped,
    cancelled, timed out) is left out, not raised: the caller drops its result.

    ``outcomes`` are (run id, attempt, fields), every one with the same field
    names. On PostgreSQL one ``UPDATE ... FROM (VALUES ...)`` for all of them;
    elsewhere one UPDATE per run. Spend is the caller's to close (``runs_spend_close``).
    """
    if not outcomes:
        return []
    allowed = sources(RUN_TRANSITIONS, S.SUCCEEDED)
    if connection.vendor != "postgresql":
        moved = []
        for run_id, attempt, fields in outcomes:
            condition = Q(id=run_id, attempt=attempt, status__in=allowed)
            now = timezone.now()
            if Run.objects.filter(condition).update(status=S.SUCCEEDED, updated_at=now, **fields):
                moved.append(run_id)
        return moved
    return _runs_succeed_in_one_update(outcomes, allowed)


def _runs_succeed_in_one_update(
    outcomes: Sequence[tuple[int, int, dict[str, Any]]], allowed: list[str]
) -> list[int]:
    names = list(outcomes[0][2])
    fields = [_concrete(name) for name in names]
    columns = [field.column for field in fields]
    # Each value goes through its field's own adaptation (JSON, time zones) and
    # a cast to its column type, so VALUES types the columns as the table does.
    casts = ", ".join(f"%s::{field.db_type(connection)}" for field in fields)
    rows = ", ".join([f"(%s::bigint, %s::integer, {casts})"] * len(outcomes))
    params: list[Any] = []
    for run_id, attempt, values in outcomes:
        params += [run_id, attempt]
        params += [
            field.get_db_prep_save(values[name], connection)
            for name, field in zip(names, fields, strict=True)
        ]
    table = Run._meta.db_table
    assignments = ", ".join(f'"{column}" = v."{column}"' for column in columns)
    names_sql = ", ".join(f'"{column}"' for column in columns)
    sql = (
        f'UPDATE "{table}" AS r SET "status" = %s, "updated_at" = %s, {assignments} '  # noqa: S608
        f'FROM (VALUES {rows}) AS v("id", "attempt", {names_sql}) '
        f'WHERE r."id" = v."id" AND r."attempt" = v."attempt" AND r."status" = ANY(%s) '
        f'RETURNING r."id"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [S.SUCCEEDED, timezone.now(), *params, allowed])
        return sorted(row[0] for row in cursor.fetchall())


def _concrete(name: str) -> Field[Any, Any]:
    field = Run._meta.get_field(name)
    if not isinstance(field, Field):
        raise ValueError(f"{name} is not a column of Run")
    return field


def _narrowed(allowed: list[str], from_: tuple[str, ...] | None) -> list[str]:
    return allowed if from_ is None else [s for s in allowed if s in from_]
