"""Spend: estimate at submit, reserve under the budget's row lock, settle or release at the end.

The life of a quantum run's credits, all in the ledger (jobs.models.LedgerEntry):

1. ``spend_plan`` (jobs.services.spend_plan) estimates every run of a checked submission (before any
   transaction: estimating may take a moment, and no lock should wait on it).
2. ``budget_hold`` (``budget_hold_many`` for a batch), first thing in the
   submit transaction, locks the team's budget row for the month, checks the
   team's quotas and the limit, and decides: accept, refuse (402), or send
   the quantum runs to a simulator when the caller asked for that
   (``on_budget_exceeded="simulate"``). A batch counts as a whole.
3. ``budget_reserve_runs_many``, once the runs exist, writes one reserve entry
   per quantum run and adds the total to ``reserved_credits``.
4. When a run reaches a terminal state, ``run_spend_close`` (called by
   ``run_transition``) settles its actual cost if it succeeded, or releases
   the reservation if it did not; at most once, which the ledger's unique
   constraints guarantee.

Lock order, everywhere: the request row, then the budget row, then the audit
append lock. The budget is therefore locked before the first audit event of
any transaction that touches it (an audit append takes a global lock).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from approvals.audit import audit_record
from hybridreview.accounts.models import Team
from jobs import solving
from jobs.errors import FieldProblem, InvalidInput
from jobs.models import (
    Budget,
    Campaign,
    LedgerEntry,
    LedgerKind,
    OptimizationRequest,
    Run,
    RunStatus,
    TeamQuota,
    Tier,
)
from jobs.models.run import RUN_ACTIVE
from jobs.services.spend_plan import (
    ZERO,
    RunCost,
    SpendPlan,
    credits,
    fmt,
    plan_on_simulators,
    spend_plan,
)

if TYPE_CHECKING:
    from jobs.services.submission import Submission

logger = logging.getLogger(__name__)

SIMULATE = "simulate"
REFUSE = "refuse"
ON_BUDGET_EXCEEDED = (REFUSE, SIMULATE)
BUDGET_ALERT = "budget.alert"
REQUEST_DOWNGRADED = "request.downgraded"
# Always alerted, besides the budget's own thresholds: the limit itself.
LIMIT_REACHED = 1.0


class BudgetExceeded(InvalidInput):
    """A hard budget cannot cover the estimate (HTTP 402)."""

    def __init__(self, message: str, *, estimate: Decimal, budget: Budget) -> None:
        self.message = message
        self.estimate = estimate
        self.budget = budget
        super().__init__([FieldProblem(None, message)])


class QuotaExceeded(InvalidInput):
    """The team has as many runs in flight as its quota allows (HTTP 429, Retry-After)."""

    retry_after_seconds = 30

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__([FieldProblem(None, message)])


@dataclass(frozen=True)
class Estimate:
    """What a submission would cost and what would happen to it, without saving anything."""

    plan: SpendPlan  # the runs as they would be saved (on a simulator, if downgraded)
    budget: Budget
    outcome: str  # "accepted", "over_soft_limit", "downgraded" or "refused"
    message: str


def request_estimate(
    *,
    requester: Any,
    problem: Any,
    schema_version: str = "1",
    team: str | None = None,
    title: str = "",
    solvers: Any = None,
    shots: int | None = None,
    seed: int | None = None,
    deadline_seconds: int | None = None,
    cache: str | None = None,
    on_budget_exceeded: str = REFUSE,
    campaign: Campaign | None = None,
) -> Estimate:
    """The same checks as a submission, then each run's estimate and the budget's answer.

    Reads only: no lock, no row written, so the answer can change before a
    real submission (which decides under the budget's lock). What a submission
    refuses as input (a closed campaign, shots over the team's quota) raises
    here too; runs over the team's concurrent-run quota give ``over_quota``,
    since they would be accepted once some finish.
    """
    from jobs.services.campaigns import campaign_check_open
    from jobs.services.submission import _team_for, submission_check

    team_row = _team_for(requester, team, campaign)
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
    plan = spend_plan(submission=submission)
    budget = budget_for(plan.team, current_period(), lock=False)
    quota = TeamQuota.objects.filter(team=plan.team).first()
    active = Run.objects.filter(request__team=plan.team, status__in=RUN_ACTIVE).count()
    try:
        quota_check(plan, quota, active=active)
    except QuotaExceeded as exc:
        return Estimate(plan, budget, "over_quota", exc.message)
    if plan.total <= budget.remaining:
        return Estimate(plan, budget, "accepted", "Within the budget.")
    if not budget.hard:
        return Estimate(
            plan, budget, "over_soft_limit", "Over the soft budget: accepted, with an alert."
        )
    simulate = on_budget_exceeded == SIMULATE
    cheaper = plan_on_simulators(plan) if simulate else None
    if cheaper is not None and cheaper.total <= budget.remaining:
        return Estimate(
            cheaper, budget, "downgraded", "Over the hard budget: paid runs go to a simulator."
        )
    return Estimate(
        plan, budget, "refused", exceeded_message(plan.total, budget, simulate=simulate)
    )


# -- the budget row ------------------------------------------------------------


def current_period(now: date | None = None) -> date:
    return (now or timezone.now().date()).replace(day=1)


def budget_for(team: Team, period: date, *, lock: bool) -> Budget:
    """The team's budget for ``period``, created on first use.

    A new month starts from the team's latest earlier budget (limit, hard,
    thresholds) or, for a team that never had one, from the settings. With
    ``lock`` the row is locked for the rest of the transaction.
    """
    found = Budget.objects.filter(team=team, period=period)
    budget = (found.select_for_update() if lock else found).first()
    if budget is not None:
        return budget
    template = Budget.objects.filter(team=team, period__lt=period).order_by("-period").first()
    defaults: dict[str, Any] = {
        "limit_credits": template.limit_credits
        if template
        else settings.BUDGET_DEFAULT_LIMIT_CREDITS,
        "hard": template.hard if template else settings.BUDGET_DEFAULT_HARD,
        "alert_thresholds": template.alert_thresholds if template else [0.8],
    }
    if not lock:
        return Budget(team=team, period=period, **defaults)  # unsaved: a read creates nothing
    # get_or_create: of two first submissions of the month, one creates, one reads.
    Budget.objects.get_or_create(team=team, period=period, defaults=defaults)
    return Budget.objects.select_for_update().get(team=team, period=period)


# -- submit: hold, then reserve ------------------------------------------------


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


def exceeded_message(total: Decimal, budget: Budget, *, simulate: bool, requests: int = 1) -> str:
    """Why a hard budget refused ``requests`` requests (a batch's, when more than one)
    estimated at ``total`` together."""
    which = f" for the batch's {requests} requests" if requests > 1 else ""
    message = (
        f"Estimated {fmt(total)} credits{which} exceeds the {fmt(budget.remaining)} credits left "
        f"in {budget.team.slug}'s budget for {budget.period:%Y-%m} "
        f"(hard limit {fmt(budget.limit_credits)}; {fmt(budget.reserved_credits)} reserved, "
        f"{fmt(budget.spent_credits)} spent)."
    )
    if simulate:
        return message + " No simulator can take these runs within what is left."
    return message + ' Send "on_budget_exceeded": "simulate" to run on a simulator instead.'


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
                _entry(hold.budget, run, LedgerKind.RESERVE, cost.credits, _detail(cost))
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


def _entry(
    budget: Budget, run: Run, kind: str, amount: Decimal, detail: dict[str, Any]
) -> LedgerEntry:
    return LedgerEntry(
        budget=budget, run=run, kind=kind, credits=amount, backend=run.backend, detail=detail
    )


# -- quotas ----------------------------------------------------------------------


def quota_check(plan: SpendPlan, quota: TeamQuota | None, *, active: int) -> None:
    """The team's quotas, given ``active`` runs queued or running (saved or held in this
    transaction); under the budget lock, so concurrent submits count each other."""
    if quota is None:
        return
    team = plan.team.slug
    shots = plan.submission.run.shots * plan.quantum_runs
    if quota.max_shots_per_request is not None and shots > quota.max_shots_per_request:
        asked = f"{plan.quantum_runs} quantum runs x {plan.submission.run.shots} = {shots}"
        raise InvalidInput(
            [
                FieldProblem(
                    "shots",
                    f"team {team} allows at most {quota.max_shots_per_request} shots per "
                    f"request; this request asks for {asked}",
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


# -- the end of a run: settle or release ------------------------------------------


def run_spend_close(*, run_id: int) -> LedgerEntry | None:
    """Settle a finished run's actual cost, or release its reservation; once.

    Succeeded: the actual cost (at the prices of its reservation) is charged
    and the reservation closed, so what was held but not used is free again.
    Failed, timed out or cancelled: the reservation is released.
    Called inside the transaction that made the run terminal.
    """
    return runs_spend_close(run_ids=[run_id]).get(run_id)


def runs_spend_close(*, run_ids: Iterable[int]) -> dict[int, LedgerEntry]:
    """``run_spend_close`` for many runs in a fixed number of queries: the entries
    written, by run id. Runs without a reservation (classical runs, cache copies,
    runs from before budgets) and runs already closed are left alone."""
    ids = list(run_ids)
    # Budgets first (in id order, as everywhere): under their locks, "already
    # closed" cannot change before our entries are in.
    reserving = LedgerEntry.objects.filter(run_id__in=ids, kind=LedgerKind.RESERVE)
    locked = Budget.objects.select_for_update().filter(pk__in=reserving.values("budget_id"))
    budgets = {b.pk: b for b in locked.order_by("pk")}
    if not budgets:
        return {}
    reserves: dict[int, LedgerEntry] = {}
    closed: set[int] = set()
    for entry in LedgerEntry.objects.filter(run_id__in=ids):
        if entry.kind == LedgerKind.RESERVE:
            reserves[entry.run_id] = entry
        elif entry.kind in (LedgerKind.SETTLE, LedgerKind.RELEASE):
            closed.add(entry.run_id)
    todo = sorted(set(reserves) - closed)
    runs = Run.objects.filter(id__in=todo).select_related("request").order_by("id")
    written = {
        run.id: _closing_entry(budgets[reserves[run.id].budget_id], run, reserves[run.id])
        for run in runs
    }
    LedgerEntry.objects.bulk_create(written.values())
    _budgets_apply(budgets, [(reserves[run_id], entry) for run_id, entry in written.items()])
    return written


def _closing_entry(budget: Budget, run: Run, reserve: LedgerEntry) -> LedgerEntry:
    if run.status == RunStatus.SUCCEEDED:
        amount, detail = actual_cost(run, reserve)
        return _entry(budget, run, LedgerKind.SETTLE, amount, detail)
    return _entry(budget, run, LedgerKind.RELEASE, reserve.credits, {"status": run.status})


def _budgets_apply(
    budgets: dict[int, Budget], closing: list[tuple[LedgerEntry, LedgerEntry]]
) -> None:
    """Free each reservation and add what was settled, one UPDATE per budget; then alerts."""
    freed: dict[int, Decimal] = {}
    spent: dict[int, Decimal] = {}
    for reserve, entry in closing:
        freed[entry.budget_id] = freed.get(entry.budget_id, ZERO) + reserve.credits
        charged = entry.credits if entry.kind == LedgerKind.SETTLE else ZERO
        spent[entry.budget_id] = spent.get(entry.budget_id, ZERO) + charged
    for budget_id in sorted(freed):
        Budget.objects.filter(pk=budget_id).update(
            reserved_credits=F("reserved_credits") - freed[budget_id],
            spent_credits=F("spent_credits") + spent[budget_id],
            updated_at=timezone.now(),
        )
        if spent[budget_id]:
            budget_alerts_check(budget=Budget.objects.get(pk=budget_id), system="jobs.budget")


def actual_cost(run: Run, reserve: LedgerEntry) -> tuple[Decimal, dict[str, Any]]:
    """What a succeeded run cost, from what its backend reported, at the reserved prices.

    ``usage`` (from the solve) counts the provider jobs and billed quantum
    seconds of the attempt that succeeded; ``failed_usage`` the same for every
    attempt that failed after reaching the provider. Shots are the usage's when
    it has them, else the final shots plus the optimiser's shots per extra job,
    as estimated. An earlier attempt that left no usage is charged one task.
    """
    prices = reserve.detail.get("cost_model", {})
    estimate = reserve.detail.get("estimate", {})
    usage = run.usage or {}
    jobs = int(usage.get("jobs") or estimate.get("jobs") or 1)
    shots = int(usage.get("shots") or _shots_from_estimate(run, estimate, jobs))
    seconds = Decimal(str(usage.get("quantum_seconds") or 0))
    failed = {int(u["attempt"]): u for u in run.failed_usage or []}
    for attempt in range(1, run.attempt):
        spent = failed.get(attempt, {})
        failed_jobs = int(spent.get("jobs") or 0)
        jobs += max(failed_jobs, 1)
        shots += failed_jobs * _shots_per_optimiser_job(run, estimate)
        seconds += Decimal(str(spent.get("quantum_seconds") or 0))
    amount = (
        Decimal(prices.get("per_task", "0")) * jobs
        + Decimal(prices.get("per_shot", "0")) * shots
        + Decimal(prices.get("per_second", "0")) * seconds
    )
    detail = {
        "tasks": jobs,
        "shots": shots,
        "quantum_seconds": float(seconds),
        "attempts": run.attempt,
        "estimated": str(reserve.credits),
    }
    return credits(amount), detail


def _shots_from_estimate(run: Run, estimate: dict[str, Any], jobs: int) -> int:
    final = int(run.request.settings.get("shots") or 0)
    return final + max(0, jobs - 1) * _shots_per_optimiser_job(run, estimate)


def _shots_per_optimiser_job(run: Run, estimate: dict[str, Any]) -> int:
    final = int(run.request.settings.get("shots") or 0)
    est_jobs, est_shots = int(estimate.get("jobs") or 1), int(estimate.get("shots") or final)
    return (est_shots - final) // (est_jobs - 1) if est_jobs > 1 else 0


# -- alerts ----------------------------------------------------------------------


def budget_alerts_check(*, budget: Budget, system: str = "", actor: Any = None) -> list[float]:
    """Raise each threshold the committed credits passed, once per budget (team and month).

    Logged at warning, audited, and remembered on the row for the budgets page.
    The caller holds the budget's row lock.
    """
    committed = budget.committed
    if committed <= 0:
        return []
    thresholds = sorted({float(t) for t in budget.alert_thresholds or []} | {LIMIT_REACHED})
    raised = {float(t) for t in budget.alerts_raised or []}
    limit = budget.limit_credits
    new = [t for t in thresholds if t not in raised and committed >= Decimal(str(t)) * limit]
    if not new:
        return []
    Budget.objects.filter(pk=budget.pk).update(alerts_raised=sorted(raised | set(new)))
    share = f"{committed / limit:.0%}" if limit else "everything"
    message = (
        f"team {budget.team.slug} has committed {fmt(committed)} of its "
        f"{'hard' if budget.hard else 'soft'} {fmt(limit)} credits "
        f"for {budget.period:%Y-%m} ({share})"
    )
    logger.warning("budget alert: %s", message)
    audit_record(
        action=BUDGET_ALERT,
        obj=budget,
        team=budget.team,
        actor=actor,
        system=system if actor is None else "",
        after={
            "thresholds": new,
            "committed": fmt(committed),
            "limit": fmt(limit),
            "hard": budget.hard,
        },
        reason=message,
    )
    return new
