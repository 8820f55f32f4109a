"""Admins changing a team's budget or quotas: locked, audited with before and after."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction

from approvals.audit import AuditAction, audit_record
from hybridreview.accounts.models import Team
from jobs.errors import FieldProblem, InvalidInput
from jobs.models import Budget, TeamQuota
from jobs.services.budget import budget_alerts_check
from jobs.services.spend_plan import fmt

BUDGET_FIELDS = ("limit_credits", "hard", "alert_thresholds")


def budget_view_for_audit(budget: Budget) -> dict[str, Any]:
    return {
        "limit_credits": fmt(budget.limit_credits),
        "hard": budget.hard,
        "alert_thresholds": list(budget.alert_thresholds or []),
    }


def budget_update(
    *,
    budget: Budget,
    actor: Any,
    changes: dict[str, Any],
    http_request: Any = None,
    reason: str = "",
) -> Budget:
    """Change a budget's limit, kind or thresholds; audited with before and after.

    Thresholds the new limit puts back out of reach are re-armed, so raising
    a limit lets its alerts fire again; thresholds still passed stay raised.
    """
    unknown = sorted(set(changes) - set(BUDGET_FIELDS))
    if unknown:
        raise InvalidInput([FieldProblem(f, "cannot be changed") for f in unknown])
    with transaction.atomic():
        locked = Budget.objects.select_for_update().select_related("team").get(pk=budget.pk)
        before = budget_view_for_audit(locked)
        for name, value in changes.items():
            setattr(locked, name, value)
        if "alert_thresholds" in changes:
            locked.alert_thresholds = sorted({float(t) for t in locked.alert_thresholds})
        after = budget_view_for_audit(locked)
        if after == before:
            return locked
        committed, limit = locked.committed, locked.limit_credits
        locked.alerts_raised = [
            t for t in locked.alerts_raised or [] if limit and committed >= Decimal(str(t)) * limit
        ]
        locked.save()
        audit_record(
            action=AuditAction.BUDGET_CHANGED,
            obj=locked,
            team=locked.team,
            actor=actor,
            before=before,
            after=after,
            reason=reason,
            request=http_request,
        )
        budget_alerts_check(budget=locked, actor=actor)
    return locked


QUOTA_CHANGED = "quota.changed"
QUOTA_FIELDS = ("max_concurrent_runs", "max_shots_per_request")


def team_quota_set(
    *, team: Team, actor: Any, changes: dict[str, int | None], http_request: Any = None
) -> TeamQuota:
    """Set a team's quotas (None: no limit); audited with before and after."""
    unknown = sorted(set(changes) - set(QUOTA_FIELDS))
    if unknown:
        raise InvalidInput([FieldProblem(f, "cannot be changed") for f in unknown])
    with transaction.atomic():
        quota, _ = TeamQuota.objects.select_for_update().get_or_create(team=team)
        before = {f: getattr(quota, f) for f in QUOTA_FIELDS}
        for name, value in changes.items():
            setattr(quota, name, value)
        after = {f: getattr(quota, f) for f in QUOTA_FIELDS}
        if after == before:
            return quota
        quota.save()
        audit_record(
            action=QUOTA_CHANGED,
            obj=quota,
            team=team,
            actor=actor,
            before=before,
            after=after,
            request=http_request,
        )
    return quota
