"""Accounts themselves: created, changed, deactivated, deleted, each audited.

Team roles live on memberships (members.py). This module is about what an
account is across teams: whether it may sign in, its platform role, whether
it is a superuser or may open Django's admin, its name and password. Django's
admin writes those rows itself; it snapshots the account before a change and
hands the before and after to ``account_changes_record``, so the trail says
who made a superuser or an operator, who deactivated whom, and who reset a
password (never the password or its hash).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest

from approvals.audit import AuditAction, audit_record

from ..models import Membership
from ..roles import PLATFORM_ROLES
from ..selectors import held_groups
from .members import role_groups_set

# The account's own details an audit reader needs to follow a change of identity.
PROFILE_FIELDS = ("username", "email", "first_name", "last_name")
# Flags that widen or narrow what the account may do anywhere.
PRIVILEGES = ("is_staff", "is_superuser")


@dataclass(frozen=True)
class AccountState:
    """What the trail compares: everything an admin can change about an account."""

    username: str
    email: str
    first_name: str
    last_name: str
    is_active: bool
    is_staff: bool
    is_superuser: bool
    platform_roles: frozenset[str]
    # Compared, never recorded: a change means the password was set or reset.
    password: str

    def public(self) -> dict[str, object]:
        """The state as the trail records it (no password)."""
        return {
            **{name: getattr(self, name) for name in PROFILE_FIELDS},
            "is_active": self.is_active,
            **{name: getattr(self, name) for name in PRIVILEGES},
            "platform_roles": sorted(self.platform_roles),
        }


def account_state(user_id: int) -> AccountState | None:
    """The account as the database holds it now (None if there is none)."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return None
    return AccountState(
        username=user.username,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        is_active=user.is_active,
        is_staff=user.is_staff,
        is_superuser=user.is_superuser,
        platform_roles=frozenset(held_groups(user, PLATFORM_ROLES)),
        password=user.password,
    )


def account_platform_roles_set(*, user: User, roles: set[str]) -> None:
    """Make ``user``'s platform roles exactly ``roles``; the caller audits
    (through ``account_changes_record``) with the change it is part of."""
    unknown = sorted(roles - set(PLATFORM_ROLES))
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a platform role")
    role_groups_set(user, roles, among=PLATFORM_ROLES)


def account_changes_record(
    *,
    user: User,
    before: AccountState | None,
    actor: User,
    http_request: HttpRequest | None = None,
) -> None:
    """Audit what changed in ``user``'s account since ``before`` (None: it was just created).

    Privileges (superuser, staff, platform roles) are ``permission.granted``
    and ``permission.revoked``, so one filter finds every widening of access,
    team roles and platform roles alike. Signing in allowed or not is
    ``account.deactivated`` / ``account.reactivated``; the rest (name, email,
    password) is ``account.changed``.
    """
    after = account_state(user.pk)
    if after is None:
        return
    with transaction.atomic():
        if before is None:
            audit_record(
                action=AuditAction.ACCOUNT_CREATED,
                obj=user,
                actor=actor,
                after=after.public(),
                request=http_request,
            )
            # Created with privileges: they are granted as well, for the filter.
            before = replace(after, is_staff=False, is_superuser=False, platform_roles=frozenset())
        _privileges_record(user, before, after, actor, http_request)
        if before.is_active != after.is_active:
            audit_record(
                action=AuditAction.ACCOUNT_REACTIVATED
                if after.is_active
                else AuditAction.ACCOUNT_DEACTIVATED,
                obj=user,
                actor=actor,
                before={"is_active": before.is_active},
                after={"user": after.username, "is_active": after.is_active},
                request=http_request,
            )
        changed = [f for f in PROFILE_FIELDS if getattr(before, f) != getattr(after, f)]
        password_changed = before.password != after.password
        if changed or password_changed:
            audit_record(
                action=AuditAction.ACCOUNT_CHANGED,
                obj=user,
                actor=actor,
                before={f: getattr(before, f) for f in changed},
                after={f: getattr(after, f) for f in changed}
                | {"user": after.username, "password_changed": password_changed},
                request=http_request,
            )


def account_delete_record(
    *, user: User, actor: User, http_request: HttpRequest | None = None
) -> None:
    """Audit an account about to be deleted, in the deletion's transaction.

    Its memberships go with it (a cascade nobody else sees), so each team it
    was in gets a ``permission.revoked`` of its own: that team's auditors read
    it, while the account itself, and with it the team-less events about it,
    leave their view.
    """
    state = account_state(user.pk)
    if state is None:
        return
    with transaction.atomic():
        for membership in Membership.objects.filter(user=user).select_related("team"):
            roles = sorted(membership.roles.values_list("name", flat=True))
            audit_record(
                action=AuditAction.PERMISSION_REVOKED,
                obj=user,
                team=membership.team,
                actor=actor,
                before={"roles": roles},
                after={
                    "user": state.username,
                    "team": membership.team.slug,
                    "roles_removed": roles,
                    "left_team": True,
                    "account_deleted": True,
                },
                request=http_request,
            )
        audit_record(
            action=AuditAction.ACCOUNT_DELETED,
            obj=user,
            actor=actor,
            before=state.public(),
            request=http_request,
        )


def _privileges_record(
    user: User,
    before: AccountState,
    after: AccountState,
    actor: User,
    http_request: HttpRequest | None,
) -> None:
    added = [p for p in PRIVILEGES if getattr(after, p) and not getattr(before, p)]
    removed = [p for p in PRIVILEGES if getattr(before, p) and not getattr(after, p)]
    roles_added = sorted(after.platform_roles - before.platform_roles)
    roles_removed = sorted(before.platform_roles - after.platform_roles)
    common = {"user": after.username}
    if added or roles_added:
        audit_record(
            action=AuditAction.PERMISSION_GRANTED,
            obj=user,
            actor=actor,
            before={"privileges": _held(before), "roles": sorted(before.platform_roles)},
            after=common | {"privileges_added": added, "roles_added": roles_added},
            request=http_request,
        )
    if removed or roles_removed:
        audit_record(
            action=AuditAction.PERMISSION_REVOKED,
            obj=user,
            actor=actor,
            before={"privileges": _held(before), "roles": sorted(before.platform_roles)},
            after=common | {"privileges_removed": removed, "roles_removed": roles_removed},
            request=http_request,
        )


def _held(state: AccountState) -> list[str]:
    return [p for p in PRIVILEGES if getattr(state, p)]
