"""The read-only estimate: what a submission would cost and what would happen to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobs.models import Budget, Campaign, Run, TeamQuota
from jobs.models.run import RUN_ACTIVE
from jobs.services.budget.errors import REFUSE, SIMULATE, QuotaExceeded, exceeded_message
from jobs.services.budget.hold import quota_check
from jobs.services.budget.row import budget_for, current_period
from jobs.services.spend_plan import SpendPlan, plan_on_simulators, spend_plan


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
    from jobs.services.checks import submission_check, team_for

    team_row = team_for(requester, team, campaign)
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
