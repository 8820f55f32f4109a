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

The package, by what each part does: ``errors`` (what a refusal says),
``row`` (the budget row, its month and alerts), ``hold`` (submit: hold, then
reserve; quotas), ``settle`` (the end of a run) and ``estimate`` (read-only).
"""

from jobs.services.budget.errors import (
    ON_BUDGET_EXCEEDED,
    REFUSE,
    SIMULATE,
    BudgetExceeded,
    QuotaExceeded,
    exceeded_message,
)
from jobs.services.budget.estimate import Estimate, request_estimate
from jobs.services.budget.hold import (
    REQUEST_DOWNGRADED,
    Hold,
    budget_hold,
    budget_hold_many,
    budget_reserve_runs_many,
    quota_check,
)
from jobs.services.budget.row import (
    BUDGET_ALERT,
    LIMIT_REACHED,
    budget_alerts_check,
    budget_for,
    current_period,
)
from jobs.services.budget.settle import actual_cost, run_spend_close, runs_spend_close

__all__ = [
    "BUDGET_ALERT",
    "LIMIT_REACHED",
    "ON_BUDGET_EXCEEDED",
    "REFUSE",
    "REQUEST_DOWNGRADED",
    "SIMULATE",
    "BudgetExceeded",
    "Estimate",
    "Hold",
    "QuotaExceeded",
    "actual_cost",
    "budget_alerts_check",
    "budget_for",
    "budget_hold",
    "budget_hold_many",
    "budget_reserve_runs_many",
    "current_period",
    "exceeded_message",
    "quota_check",
    "request_estimate",
    "run_spend_close",
    "runs_spend_close",
]
