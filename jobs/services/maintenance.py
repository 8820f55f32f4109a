"""The periodic safety nets (Celery beat): lost workers, lost messages, deadlines.

Each item is handled in its own short transaction, request row locked first,
so one stuck request cannot hold up the sweep of the others.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from approvals.audit import AuditAction, audit_record
from jobs import solving
from jobs.models import CampaignStatus, OptimizationRequest, Run, RunStatus
from jobs.models.request import REQUEST_ACTIVE
from jobs.models.run import RUN_ACTIVE
from jobs.services.dispatch import campaign_batch_enqueue, runs_enqueue
from jobs.services.execution import run_time_out
from jobs.services.ranking import request_finalise, request_finalise_if_done
from jobs.services.transitions import run_transition

logger = logging.getLogger(__name__)
REAPER = "jobs.reaper"
SWEEPER = "jobs.deadline_sweeper"


@dataclass(frozen=True)
class ReapReport:
    requeued: list[int]
    failed: list[int]
    renudged: list[int]


def runs_reap(*, now: datetime | None = None) -> ReapReport:
    """Requeue runs whose worker vanished (lease expired), failing them at the attempt
    cap; re-send the message of queued runs nobody claimed (a lost nudge)."""
    now = now or timezone.now()
    requeued: list[int] = []
    failed: list[int] = []
    expired = Run.objects.filter(status=RunStatus.RUNNING, lease_expires_at__lt=now)
    for run_id in expired.values_list("id", flat=True):
        outcome = _reap_expired(run_id, now)
        (requeued if outcome == "requeued" else failed if outcome == "failed" else []).append(
            run_id
        )
    renudged = _renudge_unclaimed(now, skip=set(requeued))
    if requeued or failed or renudged:
        logger.info("reaper: requeued %s, failed %s, re-sent %s", requeued, failed, renudged)
    return ReapReport(requeued=requeued, failed=failed, renudged=renudged)


def _reap_expired(run_id: int, now: datetime) -> str:
    with transaction.atomic():
        request = _lock_request(run_id)
        run = Run.objects.get(id=run_id)
        # Re-checked under the lock: the worker may have finished meanwhile.
        if (
            run.status != RunStatus.RUNNING
            or not run.lease_expires_at
            or run.lease_expires_at >= now
        ):
            return "skipped"
        lost = f"attempt {run.attempt} lost its worker {run.worker or '(unknown)'} (lease expired)"
        if run.attempt >= run.max_attempts:
            reason = f"{lost}; gave up after {run.attempt} of {run.max_attempts} attempts"
            run_transition(
                run_id=run_id,
                to=RunStatus.FAILED,
                fence=run.attempt,
                error_message=reason,
                error_permanent=False,
                finished_at=now,
                lease_expires_at=None,
            )
            _audit_reaped(run, RunStatus.FAILED, reason)
            request_finalise_if_done(request=request)
            return "failed"
        run_transition(
            run_id=run_id,
            to=RunStatus.QUEUED,
            fence=run.attempt,
            error_message=lost,
            lease_expires_at=None,
            not_before=None,
        )
        _audit_reaped(run, RunStatus.QUEUED, lost)
        runs_enqueue(run_ids=[run_id])
    return "requeued"


def _audit_reaped(run: Run, to: str, reason: str) -> None:
    audit_record(
        action=AuditAction.RUN_REAPED,
        obj=run,
        team=run.request.team,
        system=REAPER,
        before={"status": RunStatus.RUNNING, "attempt": run.attempt},
        after={"status": to},
        reason=reason,
    )


def _renudge_unclaimed(now: datetime, skip: set[int]) -> list[int]:
    cutoff = now - timedelta(seconds=settings.JOBS_RENUDGE_AFTER_SECONDS)
    stale = (
        Run.objects.filter(status=RunStatus.QUEUED)
        .filter(Q(enqueued_at__lt=cutoff) | Q(enqueued_at__isnull=True))
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        # Runs held for a campaign's burst are waiting on purpose.
        .exclude(request__campaign__status=CampaignStatus.COLLECTING)
    )
    rows = list(
        stale.exclude(id__in=skip).values_list("id", "backend", "request__campaign_id")[:500]
    )
    # A campaign's IBM runs belong to one provider batch: re-send the batch
    # task, which picks up every queued run of that campaign and backend.
    batches = {(c, b) for _, b, c in rows if c is not None and solving.is_ibm_backend(b)}
    singles = [i for i, b, c in rows if (c, b) not in batches]
    with transaction.atomic():
        runs_enqueue(run_ids=singles)
        for campaign_id, backend in batches:
            campaign_batch_enqueue(campaign_id=campaign_id, backend=backend)
    return [i for i, _, _ in rows]


def requests_sweep_deadlines(*, now: datetime | None = None) -> list[int]:
    """Close every active request past its deadline, and any whose runs all ended
    without closing it; returns the ids closed."""
    now = now or timezone.now()
    active = OptimizationRequest.objects.filter(status__in=REQUEST_ACTIVE).exclude(
        campaign__status=CampaignStatus.COLLECTING
    )
    due = active.filter(deadline__lte=now)
    # A backstop: finalising is normally done by the last run to finish.
    orphaned = active.exclude(runs__status__in=RUN_ACTIVE)
    ids = sorted(set(due.values_list("id", flat=True)) | set(orphaned.values_list("id", flat=True)))
    return [
        request_id for request_id in ids if request_deadline_pass(request_id=request_id, now=now)
    ]


def request_deadline_pass(*, request_id: int, now: datetime | None = None) -> bool:
    """Time out a request's unfinished runs if its deadline passed, then rank or fail it."""
    now = now or timezone.now()
    request = OptimizationRequest.objects.filter(id=request_id).first()
    if request is None:
        return False
    if request.deadline <= now:
        reason = f"still unfinished at the request's deadline ({request.deadline:%H:%M:%S} UTC)"
        for run_id in request.runs.filter(status__in=RUN_ACTIVE).values_list("id", flat=True):
            run_time_out(run_id=run_id, reason=reason, system=SWEEPER)
    with transaction.atomic():
        locked = OptimizationRequest.objects.select_for_update().get(id=request_id)
        if locked.runs.filter(status__in=RUN_ACTIVE).exists():
            return False  # a run was requeued or claimed in between; next sweep
        return request_finalise(request=locked, system=SWEEPER)


def _lock_request(run_id: int) -> OptimizationRequest:
    request_id = Run.objects.values_list("request_id", flat=True).get(id=run_id)
    return OptimizationRequest.objects.select_for_update().select_related("team").get(id=request_id)
