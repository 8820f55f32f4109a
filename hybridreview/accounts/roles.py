"""Roles are auth groups. Model permissions say what a role may do at all;
the roles a member holds in a team (Membership.roles) and object permissions
(guardian) say on which rows."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

ANALYST = "analyst"
APPROVER = "approver"
ADMIN = "admin"
CONSUMER = "consumer"
AUDITOR = "auditor"
# Backends are shared by every team: a price, a limit or a credential changed
# for one team changes it for all, so changing them is a platform role of its
# own, not any team admin's. Admins read them (and configure their teams'
# budgets, quotas and policies).
OPERATOR = "operator"
ROLES = (ANALYST, APPROVER, ADMIN, CONSUMER, AUDITOR, OPERATOR)
# Held per team (Membership.roles): what a member may do in that team.
TEAM_ROLES = (ANALYST, APPROVER, ADMIN, CONSUMER, AUDITOR)
# Held by the user, for every team at once.
PLATFORM_ROLES = (OPERATOR,)

# What each team role lets a member do in that team, as the members page says it.
ROLE_SUMMARIES: dict[str, str] = {
    ANALYST: "submits requests, compares candidates and recommends one",
    APPROVER: "signs off or rejects recommended candidates",
    ADMIN: "manages the team's members, budgets, quotas and approval policy",
    CONSUMER: "reads approved decisions only",
    AUDITOR: "reads the team's audit trail and decisions",
}

# "app_label.codename"; a permission of an app that is not migrated yet is
# skipped and picked up on the next post_migrate.
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    ANALYST: (
        "jobs.add_optimizationrequest",
        "jobs.view_optimizationrequest",
        "jobs.review_optimizationrequest",
    ),
    APPROVER: (
        "jobs.view_optimizationrequest",
        "jobs.approve_optimizationrequest",
    ),
    ADMIN: (
        "quantum.view_backendconfig",
        "jobs.view_budget",
        "jobs.change_budget",
        "jobs.view_teamquota",
        "jobs.add_teamquota",
        "jobs.change_teamquota",
        "jobs.view_ledgerentry",
        "approvals.change_approvalpolicy",
        "approvals.view_approvalpolicy",
        # The audit page: admins read their teams' trail, as auditors do.
        "approvals.view_auditevent",
        # The team's members page: who is in the team, with which roles.
        "accounts.view_membership",
        "accounts.change_membership",
    ),
    CONSUMER: ("approvals.view_decision",),
    AUDITOR: ("approvals.view_auditevent", "approvals.view_decision"),
    OPERATOR: (
        "quantum.view_backendconfig",
        "quantum.add_backendconfig",
        "quantum.change_backendconfig",
    ),
}


def ensure_roles(**_: Any) -> None:
    """Each role's group holds exactly its permissions: one a role no longer has
    (admins changed backends before the operator role) is taken away."""
    for role in ROLES:
        group, _created = Group.objects.get_or_create(name=role)
        wanted = ROLE_PERMISSIONS[role]
        perms = [
            p
            for p in Permission.objects.filter(
                codename__in=[w.split(".", 1)[1] for w in wanted]
            ).select_related("content_type")
            if f"{p.content_type.app_label}.{p.codename}" in wanted
        ]
        group.permissions.set(perms)


def roles_granting(permission: str) -> tuple[str, ...]:
    """The team roles whose group holds ``permission`` ("app_label.codename")."""
    return tuple(role for role in TEAM_ROLES if permission in ROLE_PERMISSIONS[role])


def user_roles(user: Any) -> set[str]:
    if not user.is_authenticated:
        return set()
    return set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
