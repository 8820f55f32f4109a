"""accounts 0002: roles became per team without anybody losing what they could do."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("accounts", "0001_initial")]
AFTER = [("accounts", "0002_membership_roles")]


def _migrate(target: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.fixture
def back_to_latest():
    """Leave the schema as every other test expects it: all migrations applied,
    including those after the one under test."""
    yield
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_each_membership_gets_the_team_roles_its_user_held(back_to_latest):
    old = _migrate(BEFORE)
    Group, User = old.get_model("auth", "Group"), old.get_model("auth", "User")
    Team, Membership = old.get_model("accounts", "Team"), old.get_model("accounts", "Membership")
    approver, operator = (Group.objects.get_or_create(name=n)[0] for n in ("approver", "operator"))
    user = User.objects.create(username="long-standing")
    user.groups.add(approver, operator)
    for slug in ("alpha", "zeta"):
        team = Team.objects.create(
            slug=slug, name=slug, group=Group.objects.create(name=f"team:{slug}")
        )
        Membership.objects.create(team=team, user=user)

    new = _migrate(AFTER)
    memberships = new.get_model("accounts", "Membership").objects.filter(user_id=user.pk)
    held = {m.team.slug: sorted(m.roles.values_list("name", flat=True)) for m in memberships}
    # The approver role in both teams, as before; the operator role is the
    # platform's and stays a global group only.
    assert held == {"alpha": ["approver"], "zeta": ["approver"]}
