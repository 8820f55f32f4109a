"""Changing a team's approval policy: admins of the team only, always audited."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest

from approvals.audit import AuditAction, audit_record
from approvals.models import ApprovalPolicy
from hybridreview.accounts.models import Membership, Team
from hybridreview.accounts.selectors import teams_where
from jobs.errors import FieldProblem, InvalidInput

POLICY_PERMISSION = "approvals.change_approvalpolicy"
APPROVER_ROLE = "approver"
POLICY_FIELDS = (
    "approvals_required",
    "approvals_required_above_cost",
    "cost_threshold_credits",
    "recommender_may_not_approve",
)
UNSET: Any = object()


def policy_update(
    *,
    team: Team,
    actor: User,
    approvals_required: int = UNSET,
    approvals_required_above_cost: int = UNSET,
    cost_threshold_credits: Decimal | None = UNSET,
    recommender_may_not_approve: bool = UNSET,
    http_request: HttpRequest | None = None,
) -> ApprovalPolicy:
    """Set the fields given; unchanged values are a no-op with no audit event."""
    if not may_change_policy(actor, team):
        raise PermissionDenied("Only an admin of the team changes its approval policy.")
    given = {
        "approvals_required": approvals_required,
        "approvals_required_above_cost": approvals_required_above_cost,
        "cost_threshold_credits": cost_threshold_credits,
        "recommender_may_not_approve": recommender_may_not_approve,
    }
    with transaction.atomic():
        # The team row, not the policy: it exists even before the first policy,
        # so two first-time edits queue here instead of racing to insert.
        Team.objects.select_for_update().get(pk=team.pk)
        policy = ApprovalPolicy.objects.filter(team=team).first() or ApprovalPolicy(team=team)
        before = policy_view(policy)
        for name, value in given.items():
            if value is not UNSET:
                setattr(policy, name, value)
        if approvals_required_above_cost is UNSET and isinstance(policy.approvals_required, int):
            # Raising N alone keeps "at least N above the threshold" true.
            policy.approvals_required_above_cost = max(
                policy.approvals_required_above_cost, policy.approvals_required
            )
        _check(policy, team)
        after = policy_view(policy)
        if after == before:
            # Nothing changes, not even for a team still on the defaults: no row
            # is written (an unsaved policy is what policy_for_team reads then),
            # so there is no change to audit.
            return policy
        policy.updated_by = actor
        policy.save()
        audit_record(
            action=AuditAction.POLICY_CHANGED,
            obj=policy,
            actor=actor,
            team=team,
            before=before,
            after=after,
            request=http_request,
        )
    return policy


def may_change_policy(user: Any, team: Team) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.has_perm(POLICY_PERMISSION)
        and teams_where(user, POLICY_PERMISSION).filter(pk=team.pk).exists()
    )


def policy_view(policy: ApprovalPolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


def team_approver_count(team: Team) -> int:
    """Active members who hold the approver role in this team (not elsewhere)."""
    return (
        Membership.objects.filter(team=team, user__is_active=True, roles__name=APPROVER_ROLE)
        .values("user")
        .distinct()
        .count()
    )


def _check(policy: ApprovalPolicy, team: Team) -> None:
    errors: list[FieldProblem] = []
    n, above = policy.approvals_required, policy.approvals_required_above_cost
    threshold = policy.cost_threshold_credits
    if not isinstance(n, int) or n < 1:
        errors.append(FieldProblem("approvals_required", "must be a whole number of at least 1"))
    if not isinstance(above, int) or (isinstance(n, int) and above < n):
        errors.append(
            FieldProblem(
                "approvals_required_above_cost",
                "must be a whole number, at least the approvals required below the "
                f"threshold ({n})",
            )
        )
    if threshold is not None:
        try:
            policy.cost_threshold_credits = threshold = Decimal(str(threshold))
        except InvalidOperation:
            threshold = Decimal(-1)
        if not (threshold.is_finite() and threshold >= 0):
            errors.append(FieldProblem("cost_threshold_credits", "must be empty or a number >= 0"))
    if not isinstance(policy.recommender_may_not_approve, bool):
        errors.append(FieldProblem("recommender_may_not_approve", "must be true or false"))
    if errors:
        raise InvalidInput(errors)
    # N of the team's M approvers: more than M could never be met.
    approvers = team_approver_count(team)
    highest = above if threshold is not None else n
    if highest > approvers:
        field = "approvals_required_above_cost" if threshold is not None else "approvals_required"
        raise InvalidInput(
            [FieldProblem(field, f"is {highest}, but team {team.slug} has {approvers} approver(s)")]
        )


def approver_shortfall(team: Team) -> str:
    """What the team's policy needs that its approvers cannot give, or "".

    Shown after a member change takes approvers away: the change stands (an
    approver who left must lose the role), but requests then wait for a
    signature nobody can give until an approver is added or the policy lowered.
    """
    from approvals.review_selectors import policy_for_team

    policy = policy_for_team(team)
    approvers = team_approver_count(team)
    have = f"Team {team.slug} has {_count(approvers, 'approver')}"
    if approvers < policy.approvals_required:
        return (
            f"{have}, but its policy needs {_count(policy.approvals_required, 'approval')} on "
            "every request: none can be approved until an approver is added or the policy is "
            "lowered."
        )
    above = policy.approvals_required_above_cost
    if policy.cost_threshold_credits is not None and approvers < above:
        return (
            f"{have}, but its policy needs {_count(above, 'approval')} above "
            f"{policy.cost_threshold_credits.normalize():f} credits: such requests cannot be "
            "approved until an approver is added or the policy is lowered."
        )
    return ""


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
