"""What a submission over its budget or quota is told, and what the caller may ask for then."""

from __future__ import annotations

from decimal import Decimal

from jobs.errors import FieldProblem, InvalidInput
from jobs.models import Budget
from jobs.services.spend_plan import fmt

SIMULATE = "simulate"
REFUSE = "refuse"
ON_BUDGET_EXCEEDED = (REFUSE, SIMULATE)


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
