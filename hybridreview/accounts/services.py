"""Writes for teams, memberships, logins and API tokens, each with its audit event."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, User
from django.db import transaction
from django.http import HttpRequest
from knox.models import AuthToken
from rest_framework.request import Request

from approvals.audit import AuditAction, audit_record

from .models import Membership, Team
from .roles import PLATFORM_ROLES, ROLES, TEAM_ROLES

USERNAME_MAX = 150


@transaction.atomic
def team_create(*, slug: str, name: str) -> Team:
    group, _ = Group.objects.get_or_create(name=f"team:{slug}")
    team, _ = Team.objects.get_or_create(slug=slug, defaults={"name": name, "group": group})
    return team


@transaction.atomic
def membership_add(
    *, team: Team, user: User, roles: tuple[str, ...] = (), actor: User | None = None
) -> Membership:
    """Add ``user`` to ``team`` with ``roles`` in it; a grant that changes anything is audited.

    Team roles (analyst, approver, admin, consumer, auditor) are held in this
    team only. The operator role is the platform's: it is held for every team.
    """
    unknown = [role for role in roles if role not in ROLES]
    if unknown:
        raise ValueError(f"unknown role {unknown[0]!r}; roles are {', '.join(ROLES)}")
    membership, joined = Membership.objects.get_or_create(team=team, user=user)
    in_team = set(membership.roles.values_list("name", flat=True))
    team_added = sorted({r for r in roles if r in TEAM_ROLES} - in_team)
    membership.roles.add(*Group.objects.filter(name__in=team_added))  # mirrored by signals
    platform = set(user.groups.filter(name__in=PLATFORM_ROLES).values_list("name", flat=True))
    platform_added = sorted({r for r in roles if r in PLATFORM_ROLES} - platform)
    user.groups.add(*Group.objects.filter(name__in=platform_added))
    added = sorted(team_added + platform_added)
    if joined or added:
        audit_record(
            action=AuditAction.PERMISSION_GRANTED,
            obj=user,
            team=team,
            actor=actor,
            system="" if actor is not None else "accounts.membership_add",
            after={"user": user.get_username(), "team": team.slug, "roles_added": added},
        )
    return membership


def role_groups_sync(user: User) -> None:
    """Make the user's global team-role groups the union of the roles held in their teams.

    The global groups answer "may this user approve at all?" (one has_perm,
    the navigation, Django's admin); which teams' rows is always asked of
    Membership.roles. Called whenever a membership's roles change or a
    membership goes, so a role taken away in every team is gone everywhere.
    """
    wanted = {
        name
        for name in Membership.objects.filter(user=user).values_list("roles__name", flat=True)
        if name
    }
    current = set(user.groups.filter(name__in=TEAM_ROLES).values_list("name", flat=True))
    if wanted - current:
        user.groups.add(*Group.objects.filter(name__in=wanted - current))
    if current - wanted:
        user.groups.remove(*Group.objects.filter(name__in=current - wanted))


@transaction.atomic
def login_record(*, user: AbstractBaseUser, request: HttpRequest | None) -> None:
    audit_record(action=AuditAction.LOGIN, obj=user, actor=user, request=request)


@transaction.atomic
def login_failed_record(*, username: str, request: HttpRequest | None) -> None:
    """A failed login; names the account when it exists so its team's auditors see it."""
    user = get_user_model().objects.filter(username=username).first()
    audit_record(
        action=AuditAction.LOGIN_FAILED,
        obj=user,
        actor=None,
        request=request,
        after={"username": username[:USERNAME_MAX]},
    )


@transaction.atomic
def token_create(
    *, user: AbstractBaseUser, request: HttpRequest | Request
) -> tuple[AuthToken, str]:
    """Issue an API token; the event names its key prefix, never the token."""
    instance, token = AuthToken.objects.create(user=user)
    audit_record(
        action=AuditAction.TOKEN_CREATED,
        obj=user,
        actor=user,
        request=request,
        after={"token_key": instance.token_key, "expiry": instance.expiry},
    )
    return instance, token


@transaction.atomic
def token_revoke(
    *, user: AbstractBaseUser, request: HttpRequest | Request, token: AuthToken | None
) -> int:
    """Revoke ``token``, or every token of ``user`` when it is None. Returns how many."""
    tokens = AuthToken.objects.filter(user=user)
    if token is not None:
        tokens = tokens.filter(pk=token.pk)
    keys = sorted(tokens.values_list("token_key", flat=True))
    tokens.delete()
    audit_record(
        action=AuditAction.TOKEN_REVOKED,
        obj=user,
        actor=user,
        request=request,
        after={"token_keys": keys, "all": token is None},
    )
    return len(keys)


def username_from(credentials: dict[str, Any]) -> str:
    field = get_user_model().USERNAME_FIELD
    return str(credentials.get(field) or credentials.get("username") or "")
