"""Reads for backends, budgets and spend, each with its access rule.

Budgets belong to teams: an admin reads and changes the budgets of their own
teams (a superuser, every team's); another team's budget is a 404, the same
answer as one that does not exist. Backends are deployment-wide, shared by
every team: admins and operators read all of them, and only operators change
them (a price or a limit changed for one team is changed for all).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404

from hybridreview.accounts.models import Team
from hybridreview.accounts.selectors import teams_where
from jobs.models import Budget, LedgerEntry, LedgerKind, OptimizationRequest, Run, TeamQuota
from jobs.models.run import RUN_ACTIVE
from jobs.services.budget import budget_for, current_period
from quantum.models import BackendConfig

VIEW_BACKENDS = "quantum.view_backendconfig"
CHANGE_BACKENDS = "quantum.change_backendconfig"
VIEW_BUDGETS = "jobs.view_budget"
CHANGE_BUDGETS = "jobs.change_budget"
ZERO = Decimal(0)


def access_check(user: Any, permission: str, what: str) -> None:
    if not (user.is_authenticated and user.is_active and user.has_perm(permission)):
        raise PermissionDenied(f"{what} are for admins.")


# -- backends ------------------------------------------------------------------


def backend_list_for_user(user: Any) -> QuerySet[BackendConfig]:
    access_check(user, VIEW_BACKENDS, "Backends")
    return BackendConfig.objects.order_by("name")


def backend_get_for_user(user: Any, name: str, *, change: bool = False) -> BackendConfig:
    access_check(user, VIEW_BACKENDS, "Backends")
    if change and not user.has_perm(CHANGE_BACKENDS):
        raise PermissionDenied(
            "Backends are shared by every team: changing or testing one is for operators."
        )
    found = BackendConfig.objects.filter(name=name).first()
    if found is None:
        raise Http404(f"No backend named {name!r}.")
    return found


@dataclass(frozen=True)
class BackendUsage:
    """One backend on the backends page: its row, its queue, this month's use."""

    config: BackendConfig
    queued: int
    running: int
    runs: int
    shots: int
    credits: Decimal


def backends_overview(period: date | None = None) -> list[BackendUsage]:
    """Queue (runs queued or running now) and this month's runs, shots and settled credits."""
    period = period or current_period()
    since = datetime(period.year, period.month, 1, tzinfo=UTC)
    queue: defaultdict[str, dict[str, int]] = defaultdict(lambda: {"queued": 0, "running": 0})
    for row in (
        Run.objects.filter(status__in=RUN_ACTIVE)
        .exclude(backend="")
        .values("backend", "status")
        .annotate(n=Count("id"))
    ):
        queue[row["backend"]][row["status"]] = row["n"]
    month_runs = Run.objects.filter(created_at__gte=since).exclude(backend="")
    runs = dict(
        month_runs.values_list("backend").annotate(n=Count("id")).values_list("backend", "n")
    )
    # Shots and credits from settlements: the shots a run really used,
    # the optimiser's included, at the prices it was reserved at.
    shots: dict[str, int] = defaultdict(int)
    credits: dict[str, Decimal] = defaultdict(lambda: ZERO)
    settled = LedgerEntry.objects.filter(kind=LedgerKind.SETTLE, created_at__gte=since)
    for backend, amount, detail in settled.values_list("backend", "credits", "detail"):
        shots[backend] += int((detail or {}).get("shots") or 0)
        credits[backend] += amount
    return [
        BackendUsage(
            config=config,
            queued=queue[config.name]["queued"],
            running=queue[config.name]["running"],
            runs=runs.get(config.name, 0),
            shots=shots.get(config.name, 0),
            credits=credits.get(config.name) or ZERO,
        )
        for config in BackendConfig.objects.order_by("name")
    ]


# -- budgets -------------------------------------------------------------------


def admin_teams(user: Any, permission: str = VIEW_BUDGETS) -> QuerySet[Team]:
    """The teams whose budgets ``user`` manages: those where they are an admin,
    or all for a superuser."""
    if user.is_superuser:
        return Team.objects.all()
    return teams_where(user, permission)


def budget_list_for_user(
    user: Any, *, team: str | None = None, period: date | None = None
) -> QuerySet[Budget]:
    """Budgets of the admin's teams, newest month first.

    This month's row of each of those teams is created (from the previous
    month, or the defaults) if it does not exist yet, so an admin can set a
    limit before the month's first submission.
    """
    access_check(user, VIEW_BUDGETS, "Budgets")
    teams = admin_teams(user)
    with transaction.atomic():
        for row in teams:
            budget_for(row, current_period(), lock=True)
    budgets = Budget.objects.filter(team__in=teams)
    if team:
        budgets = budgets.filter(team__slug=team)
    if period:
        budgets = budgets.filter(period=period)
    return budgets.select_related("team").order_by("-period", "team__slug")


def budget_get_for_user(user: Any, budget_id: int, *, change: bool = False) -> Budget:
    access_check(user, CHANGE_BUDGETS if change else VIEW_BUDGETS, "Budgets")
    found = (
        Budget.objects.filter(
            id=budget_id, team__in=admin_teams(user, CHANGE_BUDGETS if change else VIEW_BUDGETS)
        )
        .select_related("team")
        .first()
    )
    if found is None:
        raise Http404("No such budget.")
    return found


def budget_view(budget: Budget) -> dict[str, Any]:
    return {
        "team": budget.team.slug,
        "period": budget.period,
        "limit": budget.limit_credits,
        "reserved": budget.reserved_credits,
        "spent": budget.spent_credits,
        "remaining": budget.remaining,
        "hard": budget.hard,
    }


def team_quota(team: Team) -> TeamQuota | None:
    return TeamQuota.objects.filter(team=team).first()


# -- spend ---------------------------------------------------------------------


def request_cost(request: OptimizationRequest) -> dict[str, Any]:
    """A request's cost: credits settled over all its runs and attempts, and what is
    still reserved by runs that have not finished (``final`` once nothing is)."""
    totals: dict[str, Decimal] = {kind: ZERO for kind in LedgerKind.values}
    closed: set[int] = set()
    reserved: dict[int, Decimal] = {}
    for run_id, kind, amount in LedgerEntry.objects.filter(run__request=request).values_list(
        "run_id", "kind", "credits"
    ):
        totals[kind] += amount
        if kind == LedgerKind.RESERVE:
            reserved[run_id] = amount
        else:
            closed.add(run_id)
    still_reserved = sum((v for k, v in reserved.items() if k not in closed), ZERO)
    return {
        "credits": totals[LedgerKind.SETTLE],
        "reserved": still_reserved,
        "final": not (set(reserved) - closed),
    }


def requests_settled_credits(request_ids: Iterable[int]) -> dict[int, Decimal]:
    """``request_cost(...)["credits"]`` of many requests, by id, in one read: what
    their runs were charged (the settlements), summed as Decimals."""
    ids = list(request_ids)
    totals = dict.fromkeys(ids, ZERO)
    settled = LedgerEntry.objects.filter(run__request_id__in=ids, kind=LedgerKind.SETTLE)
    for request_id, credits in settled.values_list("run__request_id", "credits"):
        totals[request_id] += credits
    return totals


def spend_by_team_month(teams: QuerySet[Team], *, months: int = 12) -> list[dict[str, Any]]:
    """Settled credits per team per month (oldest first), for the budgets chart."""
    rows = (
        Budget.objects.filter(team__in=teams)
        .order_by("-period")
        .values("team__slug", "period")
        .annotate(spent=Sum("entries__credits", filter=Q(entries__kind=LedgerKind.SETTLE)))
    )
    newest = sorted({r["period"] for r in rows}, reverse=True)[:months]
    return sorted(
        (
            {"team": r["team__slug"], "period": r["period"], "spent": r["spent"] or ZERO}
            for r in rows
            if r["period"] in newest
        ),
        key=lambda r: (r["period"], r["team"]),
    )


def spend_by_backend(teams: QuerySet[Team], *, months: int = 12) -> list[dict[str, Any]]:
    """Settled credits per backend per month (oldest first), for the budgets chart."""
    rows = (
        LedgerEntry.objects.filter(kind=LedgerKind.SETTLE, budget__team__in=teams)
        .values("backend", "budget__period")
        .annotate(spent=Sum("credits"))
    )
    newest = sorted({r["budget__period"] for r in rows}, reverse=True)[:months]
    return sorted(
        (
            {"backend": r["backend"], "period": r["budget__period"], "spent": r["spent"]}
            for r in rows
            if r["budget__period"] in newest
        ),
        key=lambda r: (r["period"], r["backend"]),
    )
