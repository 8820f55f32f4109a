"""Reads, with the access rules in one place.

``request_get_for_user`` and ``request_list_for_user`` are the only doors to
requests for people. Who may see which request is decided by
approvals.permissions (role permissions plus guardian grants to the team's
group); these functions add the pipeline's filters and loading.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Max, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from approvals import permissions
from approvals.permissions import Action, access_request, requests_for_user
from hybridreview.accounts.models import Team
from hybridreview.accounts.selectors import member_teams, teams_where
from jobs.models import Campaign, Candidate, OptimizationRequest, Run, WorkerHeartbeat
from jobs.optimum import request_optimum, run_ratio
from quantum.metrics import approximation_ratio


def signed_in(user: Any) -> User:
    """The user behind a request that authentication already let through."""
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    return user


def user_may(user: Any, action: Action) -> bool:
    """Whether the user's roles allow ``action`` on requests at all (no object check)."""
    return permissions.user_may(user, action)


def request_access_check(user: Any, action: Action) -> None:
    """PermissionDenied (403) unless the user's roles allow ``action`` on requests."""
    if not user_may(user, action):
        raise PermissionDenied(f"Your role does not allow you to {action} requests.")


def user_teams(user: Any, action: Action | None = None) -> QuerySet[Team]:
    """The user's teams; with ``action``, only those in which their role allows it."""
    if action is None:
        return member_teams(user)
    return teams_where(user, permissions.ACTION_PERMISSIONS[action])


def request_list_for_user(
    user: Any,
    *,
    action: Action = "view",
    status: Iterable[str] = (),
    team: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> QuerySet[OptimizationRequest]:
    """The user's teams' requests, newest first, filtered."""
    request_access_check(user, action)
    qs = requests_for_user(user, action)
    statuses = list(status)
    if statuses:
        qs = qs.filter(status__in=statuses)
    if team:
        qs = qs.filter(team__slug=team)
    if created_after:
        qs = qs.filter(created_at__gte=created_after)
    if created_before:
        qs = qs.filter(created_at__lt=created_before)
    runs = Prefetch("runs", queryset=Run.objects.order_by("id"))
    return (
        qs.select_related("team", "requester").prefetch_related(runs).order_by("-created_at", "-id")
    )


def request_get_for_user(
    user: Any, request_id: int, *, action: Action = "view"
) -> OptimizationRequest:
    """One request the user may ``action``, or Http404 / PermissionDenied.

    A role that may never ``action`` gets 403 before the request is looked
    up, as every acting endpoint answers; 404 stays the answer for a
    request that is missing or another team's.
    """
    if action != "view":
        request_access_check(user, action)
    found = access_request(user, request_id, action)
    return (
        OptimizationRequest.objects.select_related("team", "requester", "campaign", "rerun_of")
        .filter(pk=found.pk)
        .get()
    )


def request_detail(request: OptimizationRequest) -> OptimizationRequest:
    """The request with its runs and ranked candidates loaded for display."""
    runs = Run.objects.order_by("id").select_related("cache_source")
    candidates = Candidate.objects.select_related("run").order_by(
        F("rank").asc(nulls_last=True), "run_id", "run_rank"
    )
    return (
        OptimizationRequest.objects.select_related("team", "requester", "campaign", "rerun_of")
        .prefetch_related(
            Prefetch("runs", queryset=runs), Prefetch("candidates", queryset=candidates)
        )
        .get(id=request.id)
    )


def campaign_list_for_user(user: Any, action: Action = "view") -> QuerySet[Campaign]:
    """Campaigns of the teams in which the user's role allows ``action``."""
    request_access_check(user, action)
    return Campaign.objects.filter(team__in=user_teams(user, action)).select_related("team")


def campaign_get_for_user(user: Any, campaign_id: int, *, action: Action = "view") -> Campaign:
    """The campaign, or Http404 when it is missing or not your team's; 403 when
    you may see it but your role in its team does not allow ``action``."""
    request_access_check(user, action)
    found = (
        Campaign.objects.filter(id=campaign_id, team__in=user_teams(user, "view"))
        .select_related("team", "created_by")
        .first()
    )
    if found is None:
        raise Http404("No such campaign.")
    if action != "view" and not user_teams(user, action).filter(pk=found.team_id).exists():
        raise PermissionDenied(
            f"Your role in team {found.team.slug} does not allow you to {action} here."
        )
    return found


def campaign_requests(campaign: Campaign) -> QuerySet[OptimizationRequest]:
    runs = Prefetch("runs", queryset=Run.objects.order_by("id"))
    return campaign.requests.order_by("id").prefetch_related(runs)


def campaign_comparison(campaign: Campaign) -> list[dict[str, Any]]:
    """One row per run of the campaign: its variant (solver, backend, options) and results.

    ``ratio`` is each run's best objective against its request's optimum, the
    same number the request page and the API show (``jobs.optimum``). Where no
    optimum is known (a problem too large for exact search, say) it is against
    the best any run of the request found instead, so variants still line up;
    ``ratio_against`` says which: "proven", "given" or "best_found".
    """
    rows = []
    for req in campaign_requests(campaign):
        runs = list(req.runs.all())
        optimum = request_optimum(runs)
        best_found = _best_known(req, runs)
        for run in runs:
            best = run.metrics.get("best_objective")
            circuit = run.circuit or {}
            rows.append(
                {
                    "request": req.id,
                    "title": req.title,
                    "request_status": req.status,
                    "run": run.id,
                    "solver": run.solver,
                    "backend": run.backend or None,
                    "variant": ", ".join(f"{k}={v}" for k, v in sorted(run.options.items())),
                    "status": run.status,
                    "tier": run.tier,
                    "kind": run.kind,
                    "best_objective": best,
                    "ratio": (
                        run_ratio(run, optimum, req.sense)["value"]
                        if optimum is not None
                        else _ratio(best, best_found, req.sense)
                    ),
                    "ratio_against": optimum.source if optimum is not None else BEST_FOUND,
                    "probability_of_best": run.metrics.get("probability_of_best"),
                    "feasible_probability": run.metrics.get("feasible_probability"),
                    "depth": circuit.get("depth"),
                    "two_qubit_gates": circuit.get("two_qubit_gates"),
                    "seconds": run.timings.get("total"),
                }
            )
    return rows


# A campaign row's ratio when its request knows no optimum: against the best found.
BEST_FOUND = "best_found"


def _best_known(req: OptimizationRequest, runs: list[Run]) -> float | None:
    found = [r.metrics.get("best_objective") for r in runs if r.status == "succeeded"]
    values = [float(v) for v in found if v is not None]
    if not values:
        return None
    return max(values) if req.sense == "maximize" else min(values)


def _ratio(value: Any, reference: float | None, sense: str) -> float | None:
    if value is None or reference is None:
        return None
    return approximation_ratio(
        float(value), reference, "maximize" if sense == "maximize" else "minimize"
    )


def worker_queues_liveness() -> dict[str, Any]:
    """Per queue workers must consume: when a worker last took its heartbeat,
    and how many hosts did within JOBS_WORKER_STALE_SECONDS. ``ok`` is False
    while any queue has none: its runs wait (until their deadline falls back
    to the classical results)."""
    since = timezone.now() - timedelta(seconds=settings.JOBS_WORKER_STALE_SECONDS)
    seen = {
        row["queue"]: row
        for row in WorkerHeartbeat.objects.values("queue").annotate(
            last=Max("seen_at"), live=Count("id", filter=Q(seen_at__gte=since))
        )
    }
    queues = {
        queue: {
            "last_seen": seen[queue]["last"].isoformat() if queue in seen else None,
            "live_workers": seen[queue]["live"] if queue in seen else 0,
        }
        for queue in settings.WORKER_QUEUES
    }
    return {"ok": all(q["live_workers"] for q in queues.values()), "queues": queues}
