"""Writes for teams and memberships, each with its audit event."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest

from approvals.audit import AuditAction, audit_record

from ..models import Membership, Team
from ..roles import ADMIN, PLATFORM_ROLES, ROLES, TEAM_ROLES
from ..selectors import held_groups, may_manage_members


@transaction.atomic
def team_create(*, slug: str, name: str) -> Team:
    group, _ = Group.objects.get_or_create(name=f"team:{slug}")
    team, _ = Team.objects.get_or_create(slug=slug, defaults={"name": name, "group": group})
    return team


@transaction.atomic
def membership_add(
    *,
    team: Team,
    user: User,
    roles: tuple[str, ...] = (),
    actor: User | None = None,
    http_request: HttpRequest | None = None,
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
    platform = held_groups(user, PLATFORM_ROLES)
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
            request=http_request,
        )
    return membership


class MembershipRefused(Exception):
    """A member change the team's rules refuse; ``field`` names the input at fault."""

    def __init__(self, message: str, field: str | None = None, *, conflict: bool = False) -> None:
        super().__init__(message)
        # conflict: the input is fine but the team's state refuses it (its last admin).
        self.message, self.field, self.conflict = message, field, conflict


@dataclass(frozen=True)
class RoleChange:
    """What a member change did: the team roles added and removed, sorted."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    left_team: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.left_team)


def member_join(
    *,
    team: Team,
    username: str,
    roles: Iterable[str],
    actor: User,
    http_request: HttpRequest | None = None,
) -> Membership:
    """A team admin adds an existing account to the team with ``roles`` in it."""
    wanted = _team_roles(roles)
    with transaction.atomic():
        _lock_for(team, actor)
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise MembershipRefused(f"There is no account {username!r}.", field="username")
        if not user.is_active:
            raise MembershipRefused(f"The account {username!r} is deactivated.", field="username")
        if Membership.objects.filter(team=team, user=user).exists():
            raise MembershipRefused(
                f"{username} is already a member of team {team.slug}; change their roles "
                "in the table.",
                field="username",
            )
        return membership_add(
            team=team,
            user=user,
            roles=tuple(sorted(wanted)),
            actor=actor,
            http_request=http_request,
        )


def member_roles_set(
    *,
    team: Team,
    user: User,
    roles: Iterable[str],
    actor: User,
    http_request: HttpRequest | None = None,
) -> RoleChange:
    """Make ``user``'s roles in ``team`` exactly ``roles``; each grant and each
    withdrawal is audited (``permission.granted``, ``permission.revoked``).

    The team's last active admin keeps the admin role: without one, nobody in
    the team could manage its members, budgets or policy.
    """
    wanted = _team_roles(roles)
    with transaction.atomic():
        _lock_for(team, actor)
        membership = _membership(team, user)
        before = set(membership.roles.values_list("name", flat=True))
        change = RoleChange(added=sorted(wanted - before), removed=sorted(before - wanted))
        if ADMIN in change.removed:
            _keep_an_admin(team, user, "take the admin role from")
        if change.changed:
            membership.roles.set(Group.objects.filter(name__in=wanted))  # mirrored by signals
            _record(team, user, before, change, actor, http_request)
    return change


def member_remove(
    *, team: Team, user: User, actor: User, http_request: HttpRequest | None = None
) -> RoleChange:
    """Take ``user`` out of ``team``, with every role they held there (audited)."""
    with transaction.atomic():
        _lock_for(team, actor)
        membership = _membership(team, user)
        before = set(membership.roles.values_list("name", flat=True))
        if ADMIN in before:
            _keep_an_admin(team, user, "remove")
        membership.delete()  # the team group and the role groups follow (signals)
        change = RoleChange(removed=sorted(before), left_team=True)
        _record(team, user, before, change, actor, http_request)
    return change


def member_changes_record(
    *,
    team: Team,
    before: dict[int, set[str]],
    actor: User,
    http_request: HttpRequest | None = None,
) -> None:
    """Audit what changed in ``team``'s memberships since ``before`` (user id to
    team roles), for writers that change the rows themselves (Django's admin)."""
    after = member_roles_snapshot(team)
    users = get_user_model().objects.in_bulk(set(before) | set(after))
    for user_id in sorted(set(before) | set(after)):
        old, new = before.get(user_id, set()), after.get(user_id, set())
        change = RoleChange(
            added=sorted(new - old), removed=sorted(old - new), left_team=user_id not in after
        )
        joined = user_id not in before
        if (change.changed or joined) and user_id in users:
            _record(team, users[user_id], old, change, actor, http_request, joined=joined)


def member_roles_snapshot(team: Team) -> dict[int, set[str]]:
    """Each member's user id and team roles: the ``before`` of member_changes_record."""
    found: dict[int, set[str]] = {}
    for user_id, role in Membership.objects.filter(team=team).values_list("user_id", "roles__name"):
        found.setdefault(user_id, set())
        if role:
            found[user_id].add(role)
    return found


def _team_roles(roles: Iterable[str]) -> set[str]:
    wanted = set(roles)
    unknown = sorted(wanted - set(TEAM_ROLES))
    if unknown:
        raise MembershipRefused(
            f"{unknown[0]!r} is not a team role; team roles are {', '.join(TEAM_ROLES)}.",
            field="roles",
        )
    return wanted


def _lock_for(team: Team, actor: User) -> None:
    """Refuse an actor who may not manage the team; then hold the team row, so
    two changes of one team's members (two admins stepping down at once) queue
    instead of each seeing the other still there."""
    if not may_manage_members(actor, team):
        raise PermissionDenied(
            f"Your role in team {team.slug} does not allow managing its members."
        )
    Team.objects.select_for_update().get(pk=team.pk)


def _membership(team: Team, user: User) -> Membership:
    membership = Membership.objects.filter(team=team, user=user).first()
    if membership is None:
        raise MembershipRefused(f"{user.get_username()} is not a member of team {team.slug}.")
    return membership


def _keep_an_admin(team: Team, user: User, what: str) -> None:
    others = (
        Membership.objects.filter(team=team, roles__name=ADMIN, user__is_active=True)
        .exclude(user=user)
        .exists()
    )
    if not others:
        raise MembershipRefused(
            f"Cannot {what} {user.get_username()}: they are the only admin of team "
            f"{team.slug}. Make another member an admin first.",
            field="roles",
            conflict=True,
        )


def _record(
    team: Team,
    user: User,
    before: set[str],
    change: RoleChange,
    actor: User,
    http_request: HttpRequest | None,
    *,
    joined: bool = False,
) -> None:
    common = {"user": user.get_username(), "team": team.slug}
    if change.added or joined:
        audit_record(
            action=AuditAction.PERMISSION_GRANTED,
            obj=user,
            team=team,
            actor=actor,
            before={"roles": sorted(before)},
            after=common | {"roles_added": change.added},
            request=http_request,
        )
    if change.removed or change.left_team:
        audit_record(
            action=AuditAction.PERMISSION_REVOKED,
            obj=user,
            team=team,
            actor=actor,
            before={"roles": sorted(before)},
            after=common | {"roles_removed": change.removed, "left_team": change.left_team},
            request=http_request,
        )


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
    role_groups_set(user, wanted, among=TEAM_ROLES)


def role_groups_set(user: User, wanted: set[str], *, among: tuple[str, ...]) -> None:
    """Make the user's groups of the roles ``among`` exactly ``wanted``,
    adding and removing only what differs (the m2m signals see real changes)."""
    held = held_groups(user, among)
    if wanted - held:
        user.groups.add(*Group.objects.filter(name__in=wanted - held))
    if held - wanted:
        user.groups.remove(*Group.objects.filter(name__in=held - wanted))
