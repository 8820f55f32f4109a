"""Submit: lock the budget, check quotas and the limit (hold), then reserve the runs' credits."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import F
from django.utils import timezone

from approvals.audit import audit_record
from hybridreview.accounts.models import Team
from jobs import solving
from jobs.errors import FieldProblem, InvalidInput
from jobs.models import (
    Budget,
    LedgerEntry,
    LedgerKind,
    OptimizationRequest,
    Run,
    TeamQuota,
    Tier,
)
from jobs.models.run import RUN_ACTIVE
from jobs.services.budget.errors import (
    REFUSE,
    SIMULATE,
    BudgetExceeded,
    QuotaExceeded,
    exceeded_message,
)
from jobs.services.budget.row import budget_alerts_check, budget_for, current_period, ledger_entry
from jobs.services.spend_plan import ZERO, RunCost, SpendPlan, fmt, plan_on_simulators

if TYPE_CHECKING:
    from jobs.services.checks import Submission

# The package's name, as before it was split: log settings and tests key on it.
logger = logging.getLogger("jobs.services.budget")

REQUEST_DOWNGRADED = "request.downgraded"


@dataclass(frozen=True)
class Hold:
    """A locked budget and the plan it accepted (perhaps sent to a simulator)."""

    budget: Budget
    plan: SpendPlan
    downgraded: bool = False
    over_soft_limit: bool = False

    @property
    def submission(self) -> Submission:
        return self.plan.submission


def budget_hold(*, plan: SpendPlan, on_budget_exceeded: str = REFUSE) -> Hold:
    """Lock the budget, check quotas and the limit; return what may be saved or raise.

    Must run inside the submit transaction and before its first audit event.
    """
    return budget_hold_many(plans=[plan], on_budget_exceeded=on_budget_exceeded)[0]


def budget_hold_many(*, plans: Sequence[SpendPlan], on_budget_exceeded: str = REFUSE) -> list[Hold]:
    """``budget_hold`` for the requests of one batch: each team's budget row is locked
    and its quota read once, and every plan counts the ones before it as reserved.

    An ``InvalidInput`` about one plan (a per-request quota) carries that plan's
    position as ``item_index``.
    """
    holds: list[Hold] = []
    teams: dict[int, _TeamState] = {}
    for index, plan in enumerate(plans):
        state = teams.get(plan.team.pk)
        if state is None:
            state = teams[plan.team.pk] = _TeamState.locked(plan.team)
        try:
            hold = _hold(plan, state, on_budget_exceeded)
        except BudgetExceeded:
            together = [p for p in plans if p.team.pk == plan.team.pk]
            if len(together) == 1:
                raise
            # About the batch, not the request the budget ran out on: its own
            # estimate may well fit in what the budget has left.
            total = sum((p.total for p in together), ZERO)
            simulate = on_budget_exceeded == SIMULATE
            raise BudgetExceeded(
                exceeded_message(total, state.budget, simulate=simulate, requests=len(together)),
                estimate=total,
                budget=state.budget,
            ) from None
        except QuotaExceeded:
            raise
        except InvalidInput as exc:
            exc.item_index = index
            raise
        state.held_credits += hold.plan.total
        state.held_runs += len(hold.plan.runs)
        holds.append(hold)
    return holds


@dataclass
class _TeamState:
    """A team's locked budget and quota during one submit transaction."""

    budget: Budget
    quota: TeamQuota | None
    active_runs: int
    held_credits: Decimal = ZERO
    held_runs: int = 0

    @classmethod
    def locked(cls, team: Team) -> _TeamState:
        budget = budget_for(team, current_period(), lock=True)
        quota = TeamQuota.objects.filter(team=team).first()
        active = 0
        if quota is not None and quota.max_concurrent_runs is not None:
            active = Run.objects.filter(request__team=team, status__in=RUN_ACTIVE).count()
        return cls(budget, quota, active)


def _hold(plan: SpendPlan, state: _TeamState, on_budget_exceeded: str) -> Hold:
    budget = state.budget
    quota_check(plan, state.quota, active=state.active_runs + state.held_runs)
    remaining = max(ZERO, budget.remaining - state.held_credits)
    if plan.total <= remaining:
        return Hold(budget, plan)
    if not budget.hard:
        return Hold(budget, plan, over_soft_limit=True)
    if on_budget_exceeded == SIMULATE:
        cheaper = plan_on_simulators(plan)
        if cheaper is not None and cheaper.total <= remaining:
            return Hold(budget, cheaper, downgraded=True)
    raise BudgetExceeded(
        exceeded_message(plan.total, budget, simulate=on_budget_exceeded == SIMULATE),
        estimate=plan.total,
        budget=budget,
    )


def budget_reserve_runs_many(
    *,
    holds: Sequence[Hold],
    requests: Sequence[OptimizationRequest],
    runs: Sequence[Run],
) -> list[LedgerEntry]:
    """Reserve entries for the quantum runs of ``requests`` (``runs``: theirs, in id order).

    Runs served from the cache cost nothing and reserve nothing. The budget
    rows are still locked by ``budget_hold_many`` in this transaction.
    """
    runs_of: dict[int, list[Run]] = {r.id: [] for r in requests}
    for run in runs:
        runs_of[run.request_id].append(run)
    entries: list[LedgerEntry] = []
    downgraded: list[Run] = []
    for hold, request in zip(holds, requests, strict=True):
        for run, cost in zip(runs_of[request.id], hold.plan.runs, strict=True):
            if cost.downgraded_from:
                run.downgraded_from = cost.downgraded_from
                downgraded.append(run)
            if cost.kind != solving.QUANTUM or run.tier == Tier.CACHE:
                continue
            entries.append(
                ledger_entry(hold.budget, run, LedgerKind.RESERVE, cost.credits, _detail(cost))
            )
    if downgraded:
        Run.objects.bulk_update(downgraded, ["downgraded_from"])
    LedgerEntry.objects.bulk_create(entries)
    budgets = {h.budget.pk: h.budget for h in holds}
    for pk in budgets:
        total = sum((e.credits for e in entries if e.budget_id == pk), ZERO)
        if total:
            Budget.objects.filter(pk=pk).update(
                reserved_credits=F("reserved_credits") + total, updated_at=timezone.now()
            )
    fresh = {b.pk: b for b in Budget.objects.filter(pk__in=budgets).select_related("team")}
    for hold, request in zip(holds, requests, strict=True):
        if hold.downgraded:
            _audit_downgrade(request, hold)
        if hold.over_soft_limit:
            budget = fresh[hold.budget.pk]
            logger.warning(
                "team %s passed its soft budget for %s: %s of %s credits committed (request %s)",
                budget.team.slug,
                f"{budget.period:%Y-%m}",
                fmt(budget.committed),
                fmt(budget.limit_credits),
                request.id,
            )
    for budget in fresh.values():
        budget_alerts_check(budget=budget, system="jobs.budget")
    return entries


def _detail(cost: RunCost) -> dict[str, Any]:
    # The prices agreed at submit: the run is settled at these, whatever an
    # admin changes meanwhile.
    return {
        "estimate": {"jobs": cost.jobs, "shots": cost.shots, "seconds": round(cost.seconds, 3)},
        "cost_model": cost.cost_model,
    }


# -- quotas ----------------------------------------------------------------------


def quota_check(plan: SpendPlan, quota: TeamQuota | None, *, active: int) -> None:
    """The team's quotas, given ``active`` runs queued or running (saved or held in this
    transaction); under the budget lock, so concurrent submits count each other."""
    if quota is None:
        return
    team = plan.team.slug
    # Every shot the quantum runs will take: each run's final sampling and, for
    # a sampled (CVaR) optimisation, each evaluation's optimise_shots too; the
    # estimate counts both. The optimiser's are most of a noisy run's shots.
    shots = sum(r.shots for r in plan.runs if r.kind == solving.QUANTUM)
    if quota.max_shots_per_request is not None and shots > quota.max_shots_per_request:
        raise InvalidInput(
            [
                FieldProblem(
                    "shots",
                    f"team {team} allows at most {quota.max_shots_per_request} shots per "
                    f"request; this request asks for {_shots_asked(plan, shots)}",
                )
            ]
        )
    if quota.max_concurrent_runs is not None:
        adding = len(plan.runs)
        if active + adding > quota.max_concurrent_runs:
            raise QuotaExceeded(
                f"Team {team} may have at most {quota.max_concurrent_runs} runs queued or "
                f"running; it has {active} and this request adds {adding}. "
                "Try again when some have finished."
            )


def _shots_asked(plan: SpendPlan, shots: int) -> str:
    sampling = plan.submission.run.shots * plan.quantum_runs
    asked = f"{plan.quantum_runs} quantum runs x {plan.submission.run.shots} = {sampling}"
    if shots == sampling:
        return asked
    return (
        f"{shots}: {asked} to sample the answers, and {shots - sampling} for the "
        "optimiser's sampled evaluations (fewer with a lower maxiter or optimise_shots)"
    )


def _audit_downgrade(request: OptimizationRequest, hold: Hold) -> None:
    moved = [
        {"solver": r.solver, "from": r.downgraded_from, "to": r.backend}
        for r in hold.plan.runs
        if r.downgraded_from
    ]
    audit_record(
        action=REQUEST_DOWNGRADED,
        obj=request,
        actor=request.requester,
        after={"runs": moved, "tier": Tier.SIMULATOR},
        reason=(
            f"over the hard budget of {hold.budget.team.slug} for {hold.budget.period:%Y-%m}; "
            'sent to a simulator as the request asked ("on_budget_exceeded": "simulate")'
        ),
    )
