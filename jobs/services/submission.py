"""Submitting a request: validate, fingerprint, save it with its runs, enqueue.

One transaction holds the request, its runs, any cache copies and the audit
event; the broker messages go out only after it commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from approvals.audit import AuditAction, audit_append, audit_event
from approvals.permissions import requests_grant_team_permissions
from hybridreview.accounts.models import Team
from hybridreview.correlation import get_correlation_id
from jobs import solving
from jobs.errors import FieldProblem, IdempotencyMismatch, InvalidInput
from jobs.models import Campaign, CampaignStatus, OptimizationRequest, Run, RunStatus
from jobs.services.budget import (
    REFUSE,
    BudgetExceeded,
    Hold,
    QuotaExceeded,
    budget_hold,
    budget_hold_many,
    budget_reserve_runs_many,
)
from jobs.services.cache import cache_source, cached_run_fields, run_copy_results
from jobs.services.campaigns import campaign_check_open
from jobs.services.checks import Submission, submission_check, team_for
from jobs.services.dispatch import runs_send_on_commit
from jobs.services.ranking import requests_finalise_if_done
from jobs.services.specs import SolverSpec
from jobs.services.spend_plan import spend_plan

IDEMPOTENCY_KEY_MAX = 255


@dataclass(frozen=True)
class Submitted:
    request: OptimizationRequest
    created: bool  # False when an Idempotency-Key replay returned an earlier request


@dataclass(frozen=True)
class BatchSubmitted:
    requests: list[OptimizationRequest]
    created: bool  # False when an Idempotency-Key replay returned an earlier batch


def request_submit(
    *,
    requester: User,
    problem: Any,
    schema_version: str = "1",
    team: str | None = None,
    title: str = "",
    solvers: Sequence[Mapping[str, Any]] | None = None,
    shots: int | None = None,
    seed: int | None = None,
    deadline_seconds: int | None = None,
    cache: str | None = None,
    idempotency_key: str = "",
    body_sha256: str = "",
    campaign: Campaign | None = None,
    rerun_of: OptimizationRequest | None = None,
    http_request: HttpRequest | None = None,
    enqueue: bool = True,
    on_budget_exceeded: str = REFUSE,
) -> Submitted:
    """Save a request and one run per (solver, backend), or raise ``InvalidInput``.

    With an ``idempotency_key``, a second call with the same key and body
    returns the first request (``created=False``); a different body raises
    ``IdempotencyMismatch``. The unique constraint decides races.
    ``enqueue=False`` sends no broker messages: the caller runs the runs
    itself (the demo data does, in-process).
    Over a hard budget it raises ``BudgetExceeded``, unless
    ``on_budget_exceeded="simulate"`` lets paid quantum runs go to a simulator.
    """
    team_row = team_for(requester, team, campaign)
    if idempotency_key:
        # Before any other check: a retry of an accepted request gets it back,
        # even once its campaign was sent or a backend it names was disabled.
        replay = _replay(team_row, requester, idempotency_key, body_sha256)
        if replay is not None:
            return replay
    if campaign is not None:
        campaign_check_open(campaign)
    submission = submission_check(
        team=team_row,
        problem=problem,
        schema_version=schema_version,
        title=title,
        solvers=solvers,
        shots=shots,
        seed=seed,
        deadline_seconds=deadline_seconds,
        cache=cache,
    )
    plan = spend_plan(submission=submission)  # estimates: before any lock is taken
    try:
        with transaction.atomic():
            # The budget row is locked first, before any audit event (lock order).
            hold = budget_hold(plan=plan, on_budget_exceeded=on_budget_exceeded)
            [request] = _save_many(
                [_Pending(hold, idempotency_key, body_sha256)],
                requester,
                campaign=campaign,
                rerun_of=rerun_of,
                http_request=http_request,
                enqueue=enqueue,
            )
    except IntegrityError:
        replay = (
            _replay(team_row, requester, idempotency_key, body_sha256) if idempotency_key else None
        )
        if replay is None:
            raise
        return replay
    return Submitted(request=request, created=True)


def requests_submit_batch(
    *,
    requester: User,
    items: Sequence[Mapping[str, Any]],
    idempotency_key: str = "",
    body_sha256: str = "",
    http_request: HttpRequest | None = None,
    on_budget_exceeded: str = REFUSE,
) -> BatchSubmitted:
    """Save many requests in one transaction: all of them, or none and ``InvalidInput``.

    Each item takes ``request_submit``'s keyword arguments (problem, title,
    schema_version, team, solvers, shots, seed, deadline_seconds, cache);
    field paths in errors start with ``requests[i].``. Budgets and quotas
    count the whole batch. With an ``idempotency_key`` the batch replays as
    a whole: item i is stored under the key ``<key>#<i>``.
    """
    if not items:
        raise InvalidInput([FieldProblem("requests", "must hold at least one request")])
    if len(items) > settings.JOBS_BATCH_MAX:
        message = f"at most {settings.JOBS_BATCH_MAX} requests per batch; got {len(items)}"
        raise InvalidInput([FieldProblem("requests", message)])
    keys = [f"{idempotency_key}#{i}" if idempotency_key else "" for i in range(len(items))]
    if idempotency_key and len(keys[-1]) > IDEMPOTENCY_KEY_MAX:
        # Item i is stored under "<key>#<i>", which must fit the column too.
        room = IDEMPOTENCY_KEY_MAX - len(keys[-1]) + len(idempotency_key)
        message = f"must be at most {room} characters for a batch of {len(items)}"
        raise InvalidInput([FieldProblem("Idempotency-Key", message)])
    item_teams = _item_teams(requester, items)
    if idempotency_key and all(item_teams):
        # Before the items' checks, as for one request: a retry of an accepted
        # batch gets it back even if a backend it names was disabled since.
        replay = _replay_batch({t for t in item_teams if t}, requester, keys, body_sha256)
        if replay is not None:
            return replay
    submissions: list[Submission] = []
    errors: list[FieldProblem] = []
    for i, (item, team_row) in enumerate(zip(items, item_teams, strict=True)):
        fields = {k: v for k, v in item.items() if k != "team"}
        try:
            if team_row is None:
                team_for(requester, item.get("team"), None)  # raises, naming the field
            else:
                submissions.append(submission_check(team=team_row, **_with_defaults(fields)))
        except InvalidInput as exc:
            errors.extend(FieldProblem(_item_path(i, p.field), p.message) for p in exc.errors)
    if errors:
        raise InvalidInput(errors)
    plans = [spend_plan(submission=s) for s in submissions]
    try:
        with transaction.atomic():
            # One budget row per team, locked once; the batch counts as a whole.
            try:
                holds = budget_hold_many(plans=plans, on_budget_exceeded=on_budget_exceeded)
            except (BudgetExceeded, QuotaExceeded):
                raise  # about the whole batch: 402 / 429
            except InvalidInput as exc:  # a per-request quota, e.g. shots
                i = exc.item_index or 0
                problems = [FieldProblem(_item_path(i, p.field), p.message) for p in exc.errors]
                raise InvalidInput(problems) from exc
            requests = _save_many(
                [_Pending(h, k, body_sha256) for h, k in zip(holds, keys, strict=True)],
                requester,
                http_request=http_request,
            )
    except IntegrityError:
        replay = (
            _replay_batch({s.team for s in submissions}, requester, keys, body_sha256)
            if idempotency_key
            else None
        )
        if replay is None:
            raise
        return replay
    return BatchSubmitted(requests=requests, created=True)


def _with_defaults(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema_version": "1",
        "title": "",
        "solvers": None,
        "shots": None,
        "seed": None,
        "deadline_seconds": None,
        "cache": None,
        **fields,
    }


def _item_path(index: int, field: str | None) -> str:
    if not field:
        return f"requests[{index}]"
    return f"requests[{index}]{field}" if field.startswith("[") else f"requests[{index}].{field}"


def _item_teams(requester: User, items: Sequence[Mapping[str, Any]]) -> list[Team | None]:
    """Each item's team (``team_for``), or None where the requester may not use it."""
    teams: dict[Any, Team | None] = {}
    for item in items:
        slug = item.get("team")
        if slug not in teams:
            try:
                teams[slug] = team_for(requester, slug, None)
            except InvalidInput:
                teams[slug] = None
    return [teams[item.get("team")] for item in items]


def _replay_batch(
    teams: set[Team], requester: User, keys: list[str], body_sha256: str
) -> BatchSubmitted | None:
    """The batch saved earlier under these keys, or None; a different body is a mismatch."""
    found = list(
        OptimizationRequest.objects.filter(
            team__in=teams, requester=requester, idempotency_key__in=keys
        )
    )
    if not found:
        return None
    by_key = {r.idempotency_key: r for r in found}
    if len(by_key) != len(keys) or any(r.body_sha256 != body_sha256 for r in found):
        first = keys[0].rsplit("#", 1)[0]
        raise IdempotencyMismatch(
            f"Idempotency-Key {first!r} was already used with a different body; "
            "use a new key for a new batch."
        )
    return BatchSubmitted(requests=[by_key[k] for k in keys], created=False)


def _replay(team: Team, requester: User, key: str, body_sha256: str) -> Submitted | None:
    if len(key) > IDEMPOTENCY_KEY_MAX:
        message = f"must be at most {IDEMPOTENCY_KEY_MAX} characters"
        raise InvalidInput([FieldProblem("Idempotency-Key", message)])
    earlier = OptimizationRequest.objects.filter(
        team=team, requester=requester, idempotency_key=key
    ).first()
    if earlier is None:
        return None
    if earlier.body_sha256 != body_sha256:
        raise IdempotencyMismatch(
            f"Idempotency-Key {key!r} was already used with a different body "
            f"(request {earlier.pk}); use a new key for a new request."
        )
    return Submitted(request=earlier, created=False)


@dataclass(frozen=True)
class _Pending:
    """A request cleared by the budget, not yet saved."""

    hold: Hold
    idempotency_key: str
    body_sha256: str


def _save_many(
    pending: Sequence[_Pending],
    requester: User,
    *,
    campaign: Campaign | None = None,
    rerun_of: OptimizationRequest | None = None,
    http_request: HttpRequest | None = None,
    enqueue: bool = True,
) -> list[OptimizationRequest]:
    """Insert requests, their grants, runs, reservations and audit events, in bulk.

    One insert per table, however many requests: a batch of 200 costs about
    what one request did. Runs in the caller's transaction, after its holds.
    """
    now, correlation_id = timezone.now(), get_correlation_id()
    requests = OptimizationRequest.objects.bulk_create(
        [_request_row(p, requester, campaign, rerun_of, now, correlation_id) for p in pending]
    )
    events = [
        audit_event(
            action=AuditAction.REQUEST_SUBMITTED,
            obj=request,
            actor=requester,
            after=_audit_view(request),
            request=http_request,
        )
        for request in requests
    ]
    events += requests_grant_team_permissions(requests, actor=requester)
    if rerun_of is not None:
        events += [
            audit_event(
                action=AuditAction.REQUEST_RERUN,
                obj=rerun_of,
                actor=requester,
                after={"rerun": request.id, "settings": request.settings},
                request=http_request,
            )
            for request in requests
        ]
    audit_append(*events)
    solvers = [p.hold.submission.run.solvers for p in pending]
    runs = runs_create(requests=requests, solvers=solvers, enqueue=enqueue)
    budget_reserve_runs_many(holds=[p.hold for p in pending], requests=requests, runs=runs)
    return requests


def _request_row(
    p: _Pending,
    requester: User,
    campaign: Campaign | None,
    rerun_of: OptimizationRequest | None,
    now: datetime,
    correlation_id: str,
) -> OptimizationRequest:
    submission = p.hold.submission
    problem, run = submission.problem, submission.run
    return OptimizationRequest(
        team=submission.team,
        requester=requester,
        campaign=campaign,
        rerun_of=rerun_of,
        title=submission.title,
        schema_version=submission.schema_version,
        problem=problem.data,
        problem_kind=problem.kind,
        num_variables=problem.num_variables,
        sense=problem.sense,
        settings=run.as_dict(),
        fingerprint=submission.fingerprint,
        cache_policy=run.cache,
        idempotency_key=p.idempotency_key,
        body_sha256=p.body_sha256,
        deadline=now + timedelta(seconds=run.deadline_seconds),
        correlation_id=correlation_id,
    )


def runs_create(
    *,
    requests: Sequence[OptimizationRequest],
    solvers: Sequence[Sequence[SolverSpec]],
    enqueue: bool = True,
) -> list[Run]:
    """One run per solver spec of each request: copied from the cache when allowed, else queued.

    Runs of a request in a campaign that is still collecting stay queued
    without a message; the campaign's dispatch sends them in one burst.
    """
    planned = [
        (request, spec, cache_source(request=request, solver=spec.name, backend=spec.backend or ""))
        for request, specs in zip(requests, solvers, strict=True)
        for spec in specs
    ]
    held = _collecting_campaigns(requests)
    now = timezone.now()
    runs = Run.objects.bulk_create(
        Run(
            request=request,
            solver=spec.name,
            kind=solving.solver_kind(spec.name) or solving.CLASSICAL,
            backend=spec.backend or "",
            options=spec.options,
            max_attempts=settings.JOBS_MAX_ATTEMPTS,
            # Marked as sent in the insert itself; the messages go after commit.
            enqueued_at=now if enqueue and not source and request.campaign_id not in held else None,
            **(cached_run_fields(source) if source else {}),
        )
        for request, spec, source in planned
    )
    for run, (_, _, source) in zip(runs, planned, strict=True):
        if source is not None:
            run_copy_results(run=run, source=source)
    runs_send_on_commit(runs=[run for run in runs if run.enqueued_at is not None])
    active = {run.request_id for run in runs if run.status == RunStatus.QUEUED}
    cached = [request for request in requests if request.id not in active]
    if cached:  # every run came from the cache: rank them now
        requests_finalise_if_done(requests=cached)
    return runs


def _collecting_campaigns(requests: Sequence[OptimizationRequest]) -> set[int]:
    """Campaigns of ``requests`` still collecting: their runs wait for its dispatch.

    Read now, not from the caller's objects: the campaign may have dispatched
    meanwhile (if this still races, the reaper sends the runs later).
    """
    campaign_ids = {r.campaign_id for r in requests if r.campaign_id is not None}
    if not campaign_ids:
        return set()
    collecting = Campaign.objects.filter(id__in=campaign_ids, status=CampaignStatus.COLLECTING)
    return set(collecting.values_list("id", flat=True))


def _audit_view(request: OptimizationRequest) -> dict[str, Any]:
    """The facts an auditor needs about a request, without the (large) problem."""
    return {
        "status": request.status,
        "title": request.title,
        "problem_kind": request.problem_kind,
        "num_variables": request.num_variables,
        "fingerprint": request.fingerprint,
        "settings": request.settings,
        "deadline": request.deadline,
    }
