"""The budget row: a team's month, created on first use; its ledger entries and alerts."""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from approvals.audit import audit_record
from hybridreview.accounts.models import Team
from jobs.models import Budget, LedgerEntry, Run
from jobs.services.spend_plan import fmt

# The package's name, as before it was split: log settings and tests key on it.
logger = logging.getLogger("jobs.services.budget")

BUDGET_ALERT = "budget.alert"
# Always alerted, besides the budget's own thresholds: the limit itself.
LIMIT_REACHED = 1.0


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


def ledger_entry(
    budget: Budget, run: Run, kind: str, amount: Decimal, detail: dict[str, Any]
) -> LedgerEntry:
    """An unsaved ledger row for ``run``: the callers insert theirs together."""
    return LedgerEntry(
        budget=budget, run=run, kind=kind, credits=amount, backend=run.backend, detail=detail
    )


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
