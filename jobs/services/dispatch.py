"""Nudging workers: a broker message per run, sent only after the rows commit.

The run row is the truth and the message only a nudge: a message sent before
commit could reach a worker that cannot see the run yet, and a message that
is lost is re-sent by the reaper (``runs_reap``), so sending is best effort.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from jobs.models import Run
from jobs.solving import QUANTUM

logger = logging.getLogger(__name__)

# Below this a run cannot do useful work; above the global limits Celery's own apply.
MIN_SOFT_TIME_LIMIT = 30
HARD_LIMIT_MARGIN = 60


def runs_enqueue(*, run_ids: Iterable[int], countdown: float = 0.0) -> None:
    """Mark runs as nudged now and send their messages once the transaction commits."""
    ids = list(run_ids)
    if not ids:
        return
    Run.objects.filter(id__in=ids).update(enqueued_at=timezone.now())
    # robust: a broker outage must not turn a committed submission into a
    # 500; the reaper re-sends what was not delivered.
    transaction.on_commit(lambda: _send(ids, countdown), robust=True)


def runs_send_on_commit(*, runs: Sequence[Run]) -> None:
    """``runs_enqueue`` for runs just inserted with ``enqueued_at`` already set (no
    UPDATE after the insert): their messages are built from the rows in hand after
    commit, with no read-back before the first message goes out."""
    plan = [(r.id, r.kind, r.request.deadline, r.request.num_variables) for r in runs]
    if plan:
        transaction.on_commit(lambda: _dispatch(plan, 0.0), robust=True)


def _send(run_ids: list[int], countdown: float) -> None:
    rows = (
        Run.objects.filter(id__in=run_ids)
        .order_by("id")
        .values_list("id", "kind", "request__deadline", "request__num_variables")
    )
    _dispatch(list(rows), countdown)


Planned = tuple[int, str, datetime, int]  # run id, kind, its request's deadline and size


def _dispatch(rows: list[Planned], countdown: float) -> None:
    from jobs import tasks  # tasks import the services; import here, not at module load

    small: list[tuple[int, datetime]] = []
    for run_id, kind, deadline, variables in rows:
        if kind != QUANTUM and variables <= settings.JOBS_GROUP_MAX_VARIABLES:
            small.append((run_id, deadline))
            continue
        task = tasks.execute_quantum_run if kind == QUANTUM else tasks.execute_classical_run
        _apply(task, {"run_id": run_id}, deadline, countdown)
    for group in run_groups(small):
        if len(group) == 1:
            _apply(tasks.execute_classical_run, {"run_id": group[0][0]}, group[0][1], countdown)
        else:
            ids = [run_id for run_id, _ in group]
            _apply(
                tasks.execute_classical_runs, {"run_ids": ids}, min(d for _, d in group), countdown
            )


def run_groups(runs: list[tuple[int, datetime]]) -> list[list[tuple[int, datetime]]]:
    """Consecutive runs (a request's runs sit together) in groups of at most
    JOBS_GROUP_SIZE, and into at least four groups when there are four runs or
    more, so a small burst still spreads over the worker's processes."""
    if not runs:
        return []
    size = max(1, min(settings.JOBS_GROUP_SIZE, math.ceil(len(runs) / 4)))
    return [runs[i : i + size] for i in range(0, len(runs), size)]


def _apply(task: Any, kwargs: dict[str, Any], deadline: datetime, countdown: float) -> None:
    soft, hard = time_limits(deadline, countdown)
    task.apply_async(
        kwargs=kwargs, countdown=countdown or None, soft_time_limit=soft, time_limit=hard
    )


def time_limits(deadline: datetime, countdown: float = 0.0) -> tuple[int, int]:
    """(soft, hard) seconds for one run: a little past its request's deadline.

    Past the deadline the sweeper has already moved on without the run, so a
    solve that keeps going only burns a worker; the soft limit stops it.
    """
    remaining = (deadline - timezone.now()).total_seconds() - countdown
    soft = max(MIN_SOFT_TIME_LIMIT, int(remaining) + 10)
    soft = min(soft, settings.CELERY_TASK_SOFT_TIME_LIMIT)
    hard = min(soft + HARD_LIMIT_MARGIN, settings.CELERY_TASK_TIME_LIMIT)
    return soft, max(hard, soft + 1)


def campaign_batch_enqueue(*, campaign_id: int, backend: str) -> None:
    """After commit, send the one task that runs a campaign's runs on ``backend`` as a batch."""

    def send() -> None:
        from jobs import tasks

        tasks.execute_campaign_batch.apply_async(
            kwargs={"campaign_id": campaign_id, "backend": backend}
        )

    transaction.on_commit(send, robust=True)
