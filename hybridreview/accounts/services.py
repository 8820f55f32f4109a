"""Writes for teams and memberships."""

from __future__ import annotations

from django.contrib.auth.models import Group, User
from django.db import transaction

from .models import Membership, Team
from .roles import ROLES


@transaction.atomic
def team_create(*, slug: str, name: str) -> Team:
    group, _ = Group.objects.get_or_create(name=f"team:{slug}")
    team, _ = Team.objects.get_or_create(slug=slug, defaults={"name": name, "group": group})
    return team


@transaction.atomic
def membership_add(*, team: Team, user: User, roles: tuple[str, ...] = ()) -> Membership:
    membership, _ = Membership.objects.get_or_create(team=team, user=user)
    for role in roles:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        user.groups.add(Group.objects.get(name=role))
    return membership
