"""Campaigns: collect requests over a window, then dispatch them in one burst.

While a campaign collects, its requests' runs are saved queued but not sent
(the reaper and the deadline sweeper leave them alone). Dispatch restarts
their deadlines from now and sends every run at once; the runs on one IBM
Runtime backend go to a single task that submits them inside one provider
Batch, so the provider schedules them together.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from approvals.audit import audit_record
from hybridreview.accounts.models import Team
from jobs import solving
from jobs.errors import Conflict, FieldProblem, InvalidInput
from jobs.models import Campaign, CampaignStatus, OptimizationRequest, Run, RunStatus
from jobs.models.request import REQUEST_ACTIVE
from jobs.services.dispatch import campaign_batch_enqueue, runs_enqueue
from jobs.services.execution import run_execute

CAMPAIGN_CREATED = "campaign.created"
CAMPAIGN_DISPATCHED = "campaign.dispatched"
MAX_WINDOW_SECONDS = 7 * 24 * 3600


def campaign_create(
    *,
    actor: User,
    team: Team,
    title: str,
    window_seconds: int,
    description: str = "",
    http_request: HttpRequest | None = None,
) -> Campaign:
    errors = []
    if not title.strip():
        errors.append(FieldProblem("title", "is required"))
    if not 0 <= window_seconds <= MAX_WINDOW_SECONDS:
        message = f"must be between 0 and {MAX_WINDOW_SECONDS}; got {window_seconds}"
        errors.append(FieldProblem("window_seconds", message))
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            team=team,
            created_by=actor,
            title=title.strip()[:200],
            description=description,
            window_closes_at=timezone.now() + timedelta(seconds=window_seconds),
        )
        audit_record(
            action=CAMPAIGN_CREATED,
            obj=campaign,
            actor=actor,
            after={"title": campaign.title, "window_closes_at": campaign.window_closes_at},
            request=http_request,
        )
    return campaign


def campaign_check_open(campaign: Campaign) -> None:
    """Refuse adding requests to a campaign that already dispatched."""
    if campaign.status != CampaignStatus.COLLECTING:
        message = f"campaign {campaign.id} is {campaign.status}; it takes no more requests"
        raise InvalidInput([FieldProblem("campaign", message)])


def campaign_dispatch(
    *,
    campaign: Campaign,
    actor: User | None = None,
    http_request: HttpRequest | None = None,
) -> list[int]:
    """Send every held run of the campaign now; ``Conflict`` if already dispatched."""
    now = timezone.now()
    with transaction.atomic():
        updated = Campaign.objects.filter(id=campaign.id, status=CampaignStatus.COLLECTING).update(
            status=CampaignStatus.DISPATCHED, dispatched_at=now
        )
        if not updated:
            raise Conflict(f"Campaign {campaign.id} is not collecting; it cannot dispatch again.")
        requests = list(
            OptimizationRequest.objects.select_for_update().filter(
                campaign=campaign, status__in=REQUEST_ACTIVE
            )
        )
        _restart_deadlines(requests, now)
        runs = list(Run.objects.filter(request__in=requests, status=RunStatus.QUEUED))
        batches = _send_burst(campaign, runs)
        campaign.refresh_from_db()
        audit_record(
            action=CAMPAIGN_DISPATCHED,
            obj=campaign,
            actor=actor,
            system="" if actor else "jobs.campaigns",
            after={"requests": [r.id for r in requests], "runs": [r.id for r in runs], **batches},
            request=http_request,
        )
    return [r.id for r in runs]


def _restart_deadlines(requests: list[OptimizationRequest], now: datetime) -> None:
    # A request's deadline is time to solve; waiting in the window is not solving.
    for req in requests:
        req.deadline = now + timedelta(seconds=int(req.settings["deadline_seconds"]))
    OptimizationRequest.objects.bulk_update(requests, ["deadline"])


def _send_burst(campaign: Campaign, runs: list[Run]) -> dict[str, Any]:
    by_ibm_backend: dict[str, list[int]] = defaultdict(list)
    single = []
    for run in runs:
        if solving.is_ibm_backend(run.backend):
            by_ibm_backend[run.backend].append(run.id)
        else:
            single.append(run.id)
    runs_enqueue(run_ids=single)
    for backend, run_ids in by_ibm_backend.items():
        Run.objects.filter(id__in=run_ids).update(enqueued_at=timezone.now())
        campaign_batch_enqueue(campaign_id=campaign.id, backend=backend)
    provider_batches = {b: {"runs": ids} for b, ids in by_ibm_backend.items()}
    Campaign.objects.filter(id=campaign.id).update(provider_batches=provider_batches)
    return {"provider_batches": provider_batches}


def campaign_run_batch(*, campaign_id: int, backend: str, worker: str = "") -> list[str]:
    """Run a campaign's queued runs on one IBM backend inside one provider Batch."""
    run_ids = list(
        Run.objects.filter(
            request__campaign_id=campaign_id, backend=backend, status=RunStatus.QUEUED
        ).values_list("id", flat=True)
    )
    if not run_ids:
        return []
    with solving.backend_batch(backend) as shared:
        return [run_execute(run_id=run_id, worker=worker, backend=shared) for run_id in run_ids]


def campaigns_dispatch_due(*, now: datetime | None = None) -> list[int]:
    """Dispatch every collecting campaign whose window has closed (Celery beat)."""
    now = now or timezone.now()
    due = Campaign.objects.filter(status=CampaignStatus.COLLECTING, window_closes_at__lte=now)
    dispatched = []
    for campaign in due:
        try:
            campaign_dispatch(campaign=campaign)
        except Conflict:
            continue  # dispatched by a person or another beat meanwhile
        dispatched.append(campaign.id)
    return dispatched
