"""Which teams a user may do what in: the one place that reads per-team roles.

A role is held per team (Membership.roles). A user who approves in team A
and analyses in team B may approve A's requests and not B's, and reads B's
requests as an analyst. Every team-scoped check asks ``teams_where`` with the
permission it needs; the model permission alone (``user.has_perm``) says only
whether the user holds that role in some team.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from .models import Invitation, Membership, Team
from .roles import roles_granting


def teams_where(user: Any, permission: str) -> QuerySet[Team]:
    """The teams in which ``user`` holds a role that grants ``permission``.

    None for an anonymous or inactive user. Superusers get no shortcut here:
    a caller that lets them read every team says so itself.
    """
    if not (user.is_authenticated and user.is_active):
        return Team.objects.none()
    held = Membership.objects.filter(user=user, roles__name__in=roles_granting(permission))
    return Team.objects.filter(pk__in=held.values("team_id"))


def member_teams(user: Any) -> QuerySet[Team]:
    """The teams ``user`` is a member of, whatever their roles there."""
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(memberships__user=user)


def team_roles(user: Any) -> dict[str, list[str]]:
    """Each of the user's teams (by slug) and the roles held in it, sorted."""
    if not user.is_authenticated:
        return {}
    found: dict[str, list[str]] = {}
    for slug, role in Membership.objects.filter(user=user).values_list("team__slug", "roles__name"):
        found.setdefault(slug, [])
        if role:
            found[slug].append(role)
    return {slug: sorted(roles) for slug, roles in sorted(found.items())}


def held_groups(user: Any, among: tuple[str, ...]) -> set[str]:
    """Which of the role groups ``among`` the user is in (their global groups)."""
    return set(user.groups.filter(name__in=among).values_list("name", flat=True))


MEMBERS_PERMISSION = "accounts.change_membership"


def may_manage_members(user: Any, team: Team) -> bool:
    """Admins of the team add and remove its members and set their roles there;
    superusers do it for every team (as in Django's admin)."""
    if not (user.is_authenticated and user.is_active):
        return False
    return bool(
        user.is_superuser or teams_where(user, MEMBERS_PERMISSION).filter(pk=team.pk).exists()
    )


def managed_teams(user: Any) -> QuerySet[Team]:
    """The teams whose members ``user`` manages."""
    if not (user.is_authenticated and user.is_active):
        return Team.objects.none()
    if user.is_superuser:
        return Team.objects.all()
    return teams_where(user, MEMBERS_PERMISSION)


def managed_team_get(user: Any, slug: str) -> Team:
    """The team whose members page or API ``user`` opens: 404 when they are not
    in it (a team one is not in is not shown to exist), 403 when they are but
    may not manage its members."""
    team = Team.objects.filter(slug=slug).first()
    if team is None or not (
        user.is_superuser or Membership.objects.filter(team=team, user=user).exists()
    ):
        raise Http404("No such team.")
    if not may_manage_members(user, team):
        raise PermissionDenied(
            f"Your role in team {team.slug} does not allow managing its members."
        )
    return team


def team_memberships(team: Team) -> QuerySet[Membership]:
    """The team's memberships with their users and roles, by username: the
    members page's rows and the members API's list."""
    return (
        Membership.objects.filter(team=team)
        .select_related("user")
        .prefetch_related("roles")
        .order_by("user__username")
    )


def team_invitations_open(team: Team) -> QuerySet[Invitation]:
    """The team's invitations neither accepted nor withdrawn, newest first; an
    expired one stays listed (marked) until someone invites that address again."""
    return (
        Invitation.objects.filter(team=team, accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("created_by")
        .order_by("-created_at")
    )
