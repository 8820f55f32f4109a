"""The team members page: a team's admins add and remove members and set
their roles in the team, every change audited, the team never left without
an admin."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from approvals.audit import AuditAction
from approvals.models import ApprovalPolicy, AuditEvent
from hybridreview.accounts.models import Membership
from hybridreview.accounts.selectors import teams_where
from hybridreview.accounts.services import (
    MembershipRefused,
    member_remove,
    member_roles_set,
    membership_add,
)
from tests.approvals.review_support import ranked_request
from tests.conftest import PASSWORD
from tests.support.concurrency import at_once

APPROVE = "jobs.approve_optimizationrequest"


@pytest.fixture
def team(make_team, make_user):
    alpha = make_team("alpha")

    class World:
        pass

    w = World()
    w.team = alpha
    w.boss = make_user("boss", "admin", team=alpha)
    w.ana = make_user("ana", "analyst", team=alpha)
    w.apo = make_user("apo", "approver", team=alpha)
    return w


def page_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def post(client, **data):
    return client.post("/teams/alpha/members/", data)


def roles_of(team, user) -> set[str]:
    return set(Membership.objects.get(team=team, user=user).roles.values_list("name", flat=True))


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def test_an_admin_sees_each_member_with_the_roles_held_in_the_team(team):
    body = page_for(team.boss).get("/teams/alpha/members/").content.decode()
    row = re.search(r'<tr data-member="apo".*?</tr>', body, re.S).group(0)
    checked = re.findall(r'value="(\w+)" form="member-\d+" aria-label="[^"]+" checked', row)
    assert checked == ["approver"]
    assert 'aria-label="admin (apo)"' in row
    assert "Members of Alpha" in body


def test_an_admin_adds_an_existing_account_with_roles_and_it_is_audited(team, make_user, make_team):
    newcomer = make_user("neo", "analyst", team=make_team("other"))
    boss = page_for(team.boss)  # signing in is an event of its own
    before = AuditEvent.objects.count()
    response = post(
        boss,
        op="add",
        **{"add-username": "neo", "add-roles": ["consumer", "auditor"]},
    )
    assert response.status_code == 302
    assert roles_of(team.team, newcomer) == {"consumer", "auditor"}
    assert newcomer.groups.filter(name="team:alpha").exists()
    granted = AuditEvent.objects.filter(seq__gt=0).order_by("-seq").first()
    assert AuditEvent.objects.count() == before + 1
    assert granted.action == AuditAction.PERMISSION_GRANTED
    assert granted.actor_id == team.boss.pk and granted.team_id == team.team.pk
    assert granted.after == {"user": "neo", "team": "alpha", "roles_added": ["auditor", "consumer"]}
    assert "neo joined team alpha: auditor, consumer." in boss.get(response.url).content.decode()


@pytest.mark.parametrize(
    ("username", "said"),
    [
        ("nobody", "There is no account &#x27;nobody&#x27;."),
        ("ana", "ana is already a member of team alpha"),
    ],
)
def test_adding_an_unknown_account_or_a_member_again_is_refused_at_the_field(team, username, said):
    boss = page_for(team.boss)
    before = (AuditEvent.objects.count(), Membership.objects.count())
    response = post(boss, op="add", **{"add-username": username, "add-roles": ["admin"]})
    assert response.status_code == 400
    body = response.content.decode()
    assert said in body
    assert 'id="id_add-username_error"' in body and 'aria-invalid="true"' in body
    assert f'value="{username}"' in body  # the input is kept
    assert (AuditEvent.objects.count(), Membership.objects.count()) == before
    assert "admin" not in roles_of(team.team, team.ana)


def test_adding_a_deactivated_account_is_refused(team, make_user, make_team):
    gone = make_user("gone", "analyst", team=make_team("other"))
    gone.is_active = False
    gone.save()
    response = post(page_for(team.boss), op="add", **{"add-username": "gone"})
    assert response.status_code == 400
    assert "The account &#x27;gone&#x27; is deactivated." in response.content.decode()
    assert not Membership.objects.filter(team=team.team, user=gone).exists()


def test_changing_roles_grants_and_revokes_and_takes_effect_at_once(team):
    req = ranked_request(team.ana, team=team.team, title="T")
    assert teams_where(team.apo, APPROVE).filter(pk=team.team.pk).exists()
    response = post(page_for(team.boss), op="roles", user=team.apo.pk, roles=["analyst"])
    assert response.status_code == 302
    assert roles_of(team.team, team.apo) == {"analyst"}
    granted, revoked = (
        events(AuditAction.PERMISSION_GRANTED)[-1],
        events(AuditAction.PERMISSION_REVOKED)[-1],
    )
    assert granted.after["roles_added"] == ["analyst"] and granted.actor_id == team.boss.pk
    assert revoked.before == {"roles": ["approver"]}
    assert revoked.after == {
        "user": "apo",
        "team": "alpha",
        "roles_removed": ["approver"],
        "left_team": False,
    }
    # They may no longer approve in alpha: the sign page refuses them.
    apo = page_for(team.apo)
    assert apo.get(f"/requests/{req.pk}/sign/").status_code == 403
    assert not team.apo.groups.filter(name="approver").exists()


def test_saving_unchanged_roles_records_nothing(team):
    boss = page_for(team.boss)
    before = AuditEvent.objects.count()
    response = post(boss, op="roles", user=team.ana.pk, roles=["analyst"])
    assert response.status_code == 302
    assert AuditEvent.objects.count() == before
    assert (
        "ana&#x27;s roles in team alpha are unchanged." in boss.get(response.url).content.decode()
    )


def test_removing_a_member_takes_every_role_and_the_teams_rows_away(team):
    req = ranked_request(team.ana, team=team.team, title="T")
    apo = page_for(team.apo)
    assert apo.get(f"/requests/{req.pk}/").status_code == 200
    response = post(page_for(team.boss), op="remove", user=team.apo.pk)
    assert response.status_code == 302
    assert not Membership.objects.filter(team=team.team, user=team.apo).exists()
    assert not team.apo.groups.filter(name__in=["approver", "team:alpha"]).exists()
    revoked = events(AuditAction.PERMISSION_REVOKED)[-1]
    assert revoked.after == {
        "user": "apo",
        "team": "alpha",
        "roles_removed": ["approver"],
        "left_team": True,
    }
    assert apo.get(f"/requests/{req.pk}/").status_code == 404


@pytest.mark.parametrize("op", ["roles", "remove"])
def test_the_last_admin_cannot_step_down_or_be_removed(team, op):
    boss = page_for(team.boss)
    before = AuditEvent.objects.count()
    response = post(boss, op=op, user=team.boss.pk, roles=["analyst"])
    assert response.status_code == 400
    body = response.content.decode()
    assert "they are the only admin of team alpha. Make another member an admin first." in body
    assert 'role="alert"' in body and "Nothing was changed." in body
    assert roles_of(team.team, team.boss) == {"admin"}
    assert AuditEvent.objects.count() == before


def test_an_admin_who_steps_down_beside_another_admin_goes_home(team):
    post(page_for(team.boss), op="roles", user=team.ana.pk, roles=["analyst", "admin"])
    boss = page_for(team.boss)
    response = post(boss, op="roles", user=team.boss.pk, roles=["analyst"])
    assert response.status_code == 302 and response.url == "/"
    assert "You no longer manage team alpha" in boss.get("/").content.decode()
    assert boss.get("/teams/alpha/members/").status_code == 403


def test_losing_approvers_below_the_policy_warns_but_stands(team, make_user):
    make_user("apo2", "approver", team=team.team)
    ApprovalPolicy.objects.create(
        team=team.team, approvals_required=2, approvals_required_above_cost=2
    )
    boss = page_for(team.boss)
    response = post(boss, op="remove", user=team.apo.pk)
    assert response.status_code == 302
    body = boss.get(response.url).content.decode()
    assert "Team alpha has 1 approver, but its policy needs 2 approvals on every request" in body
    assert 'id="approver-shortfall"' in body  # still shown on the page until mended
    assert not Membership.objects.filter(team=team.team, user=team.apo).exists()


def test_only_the_teams_admins_manage_its_members(team, make_user, make_team):
    other = make_team("beta")
    outsider = make_user("out", "admin", team=other)
    assert page_for(outsider).get("/teams/alpha/members/").status_code == 404
    refused = page_for(team.ana).get("/teams/alpha/members/")
    assert refused.status_code == 403
    assert "team alpha does not allow managing its members" in refused.content.decode()
    # An admin elsewhere who is only an analyst here may not change anything here.
    membership_add(team=team.team, user=outsider, roles=("analyst",))
    assert post(page_for(outsider), op="remove", user=team.apo.pk).status_code == 403
    assert Membership.objects.filter(team=team.team, user=team.apo).exists()
    assert page_for(team.ana).get("/teams/").status_code == 403


def test_the_teams_page_lists_the_teams_one_manages(team, make_team):
    beta = make_team("beta")
    membership_add(team=beta, user=team.boss, roles=("analyst",))
    body = page_for(team.boss).get("/teams/").content.decode()
    assert 'href="/teams/alpha/members/"' in body and "/teams/beta/members/" not in body
    assert 'href="/teams/"' in body  # in the navigation


@pytest.mark.parametrize(("user", "status"), [("abc", 400), ("", 400), ("-1", 404)])
def test_a_tampered_member_id_is_refused_not_an_error_page(team, user, status):
    response = post(page_for(team.boss), op="remove", user=user)
    assert response.status_code == status
    if status == 400:
        assert "That change could not be read" in response.content.decode()
    assert Membership.objects.filter(team=team.team).count() == 3


@pytest.mark.parametrize("roles", [["operator"], ["root"]])
def test_a_role_that_is_not_a_team_role_is_refused(team, roles):
    response = post(page_for(team.boss), op="roles", user=team.ana.pk, roles=roles)
    assert response.status_code == 400
    assert roles_of(team.team, team.ana) == {"analyst"}
    assert not team.ana.groups.filter(name="operator").exists()


def test_the_services_refuse_an_actor_who_is_not_the_teams_admin(team):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        member_roles_set(team=team.team, user=team.ana, roles=["admin"], actor=team.ana)
    assert roles_of(team.team, team.ana) == {"analyst"}


@pytest.mark.django_db(transaction=True)
def test_two_admins_stepping_down_at_once_leave_one_admin(make_team, make_user):
    alpha = make_team("alpha")
    first = make_user("first", "admin", team=alpha)
    second = make_user("second", "admin", team=alpha)
    outcomes = at_once(
        [
            lambda: member_remove(team=alpha, user=first, actor=first),
            lambda: member_remove(team=alpha, user=second, actor=second),
        ]
    )
    refused = [o for o in outcomes if isinstance(o, MembershipRefused)]
    assert len(refused) == 1, outcomes
    assert Membership.objects.filter(team=alpha, roles__name="admin").count() == 1


def test_the_django_admin_records_role_changes_it_makes(team, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    page = page_for(root)
    body = page.get(f"/admin/accounts/team/{team.team.pk}/change/").content.decode()
    data = {"slug": "alpha", "name": "Alpha", "group": team.team.group_id}
    forms = re.findall(r'name="(memberships-\d+)-id" value="(\d+)"', body)
    data |= {
        "memberships-TOTAL_FORMS": str(len(forms)),
        "memberships-INITIAL_FORMS": str(len(forms)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    approver = Group.objects.get(name="approver").pk
    consumer = Group.objects.get(name="consumer").pk
    for prefix, pk in forms:
        member = Membership.objects.get(pk=pk)
        data[f"{prefix}-id"] = pk
        data[f"{prefix}-team"] = team.team.pk
        data[f"{prefix}-user"] = member.user_id
        wanted = [g.pk for g in member.roles.all()]
        if member.user == team.apo:
            wanted = [consumer]  # approver -> consumer
        data[f"{prefix}-roles"] = wanted
    response = page.post(f"/admin/accounts/team/{team.team.pk}/change/", data)
    assert response.status_code == 302, re.findall(r"errorlist.{0,300}", response.content.decode())
    assert roles_of(team.team, team.apo) == {"consumer"}
    revoked = events(AuditAction.PERMISSION_REVOKED)[-1]
    assert revoked.actor_id == root.pk
    assert revoked.after["roles_removed"] == ["approver"] and revoked.after["user"] == "apo"
    granted = events(AuditAction.PERMISSION_GRANTED)[-1]
    assert granted.after["roles_added"] == ["consumer"] and granted.actor_id == root.pk
    assert approver not in {
        g.pk for g in Membership.objects.get(team=team.team, user=team.apo).roles.all()
    }


# -- the API -------------------------------------------------------------------


def test_the_api_lists_adds_changes_and_removes_members(team, client_as, make_user, make_team):
    make_user("neo", "analyst", team=make_team("other"))
    api = client_as(team.boss)
    listed = api.get("/api/v1/teams/alpha/members/").json()
    assert listed["count"] == 3
    assert [(m["username"], m["roles"]) for m in listed["results"]] == [
        ("ana", ["analyst"]),
        ("apo", ["approver"]),
        ("boss", ["admin"]),
    ]
    added = api.post(
        "/api/v1/teams/alpha/members/", {"username": "neo", "roles": ["consumer"]}, format="json"
    )
    assert added.status_code == 201 and added.json()["roles"] == ["consumer"]
    changed = api.put(
        "/api/v1/teams/alpha/members/neo/", {"roles": ["auditor", "consumer"]}, format="json"
    )
    assert changed.status_code == 200 and changed.json()["roles"] == ["auditor", "consumer"]
    assert api.delete("/api/v1/teams/alpha/members/neo/").status_code == 204
    assert api.get("/api/v1/teams/alpha/members/neo/").status_code == 404
    actions = [e.action for e in AuditEvent.objects.filter(actor=team.boss).order_by("seq")]
    assert actions[-3:] == [
        AuditAction.PERMISSION_GRANTED,
        AuditAction.PERMISSION_GRANTED,
        AuditAction.PERMISSION_REVOKED,
    ]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("post", "", {"username": "nobody", "roles": []}, 400, "username"),
        ("post", "", {"username": "ana", "roles": ["admin"]}, 400, "username"),
        ("post", "", {"username": "apo", "roles": ["operator"]}, 400, "roles[0]"),
        ("put", "ana/", {"roles": ["root"]}, 400, "roles[0]"),
        ("put", "ana/", {}, 400, "roles"),
        ("put", "ana/", {"roles": ["analyst"], "extra": 1}, 400, "extra"),
        ("put", "boss/", {"roles": []}, 409, None),
        ("delete", "boss/", None, 409, None),
        ("put", "nobody/", {"roles": []}, 404, None),
    ],
)
def test_the_api_refuses_bad_input_naming_the_field_and_changes_nothing(
    team, client_as, method, path, body, status, field
):
    api = client_as(team.boss)
    before = (AuditEvent.objects.count(), sorted(Membership.objects.values_list("pk", flat=True)))
    kwargs = {"format": "json"} if body is not None else {}
    response = getattr(api, method)(f"/api/v1/teams/alpha/members/{path}", body, **kwargs)
    assert response.status_code == status, response.json()
    payload = response.json()
    if field:
        assert field in [e["field"] for e in payload["errors"]], payload
    if status == 409:
        assert "only admin of team alpha" in payload["detail"]
    after = (AuditEvent.objects.count(), sorted(Membership.objects.values_list("pk", flat=True)))
    assert after == before
    assert roles_of(team.team, team.boss) == {"admin"}


def test_the_api_is_for_the_teams_admins_only(team, client_as, make_user, make_team):
    assert client_as(team.ana).get("/api/v1/teams/alpha/members/").status_code == 403
    refused = client_as(team.ana).delete("/api/v1/teams/alpha/members/apo/")
    assert refused.status_code == 403
    assert "team alpha does not allow managing its members" in refused.json()["detail"]
    outsider = make_user("out", "admin", team=make_team("beta"))
    assert client_as(outsider).get("/api/v1/teams/alpha/members/").status_code == 404
    assert Membership.objects.filter(team=team.team, user=team.apo).exists()
