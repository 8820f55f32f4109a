"""Roles are held per team: what a member may do in one team says nothing of another.

"mix" approves in alpha and analyses in zeta. Before roles were per team, an
approver anywhere approved in every team of theirs and counted as one of
each team's approvers; a consumer in one team read another team's requests
because their analyst role elsewhere held the view permission.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from approvals.digest import signing_digest
from approvals.models import AuditEvent, Signature
from approvals.review_forms import SHOW_ALL, SHOW_MINE
from approvals.services.policy import team_approver_count
from hybridreview.accounts.models import Membership
from hybridreview.accounts.services import membership_add
from jobs.models import OptimizationRequest
from jobs.services.budget import budget_for, current_period
from tests.approvals.review_support import best, ranked_request
from tests.conftest import PASSWORD

TRIANGLE = {"type": "maxcut", "graph": {"nodes": 3, "edges": [[0, 1], [1, 2], [0, 2]]}}


@pytest.fixture
def world(make_team, make_user):
    alpha, zeta = make_team("alpha"), make_team("zeta")

    class World:
        pass

    w = World()
    w.alpha, w.zeta = alpha, zeta
    w.mix = make_user("mix", "approver", team=alpha)
    membership_add(team=zeta, user=w.mix, roles=("analyst",))
    w.alpha_ana = make_user("alpha-ana", "analyst", team=alpha)
    w.zeta_ana = make_user("zeta-ana", "analyst", team=zeta)
    w.alpha_req = ranked_request(w.alpha_ana, team=alpha, title="ALPHA-REQ")
    w.zeta_req = ranked_request(w.zeta_ana, team=zeta, title="ZETA-REQ")
    return w


def recommend(client, req):
    return client.post(
        f"/api/v1/requests/{req.pk}/recommend/",
        {"candidate": best(req).pk, "comment": "best cut"},
        format="json",
    )


def approve(client, req):
    body = {
        "candidate": best(req).pk,
        "meaning": "approved for execution",
        "password": PASSWORD,
        "digest": signing_digest(req),
    }
    return client.post(f"/api/v1/requests/{req.pk}/approve/", body, format="json")


def test_an_approver_in_one_team_cannot_approve_where_they_are_an_analyst(world, client_as):
    assert recommend(client_as(world.zeta_ana), world.zeta_req).status_code == 201
    response = approve(client_as(world.mix), world.zeta_req)
    assert response.status_code == 403, response.content
    assert "team zeta" in response.json()["detail"]
    assert not Signature.objects.filter(request=world.zeta_req).exists()
    world.zeta_req.refresh_from_db()
    assert world.zeta_req.status == "recommended"
    # And their own approval in alpha still works.
    assert recommend(client_as(world.alpha_ana), world.alpha_req).status_code == 201
    assert approve(client_as(world.mix), world.alpha_req).status_code == 201


def test_an_analyst_in_one_team_cannot_recommend_where_they_approve(world, client_as):
    mix = client_as(world.mix)
    assert recommend(mix, world.alpha_req).status_code == 403
    assert recommend(mix, world.zeta_req).status_code == 201


def test_the_approve_queue_lists_only_the_teams_where_one_approves(world, client_as):
    for who, req in ((world.alpha_ana, world.alpha_req), (world.zeta_ana, world.zeta_req)):
        assert recommend(client_as(who), req).status_code == 201
    page = Client()
    page.force_login(world.mix)
    mine = page.get("/review/", {"show": SHOW_MINE})
    assert [r.title for r in mine.context["page"].object_list] == ["ALPHA-REQ"]
    # They still read zeta's request, as its analyst.
    everything = page.get("/review/", {"show": SHOW_ALL})
    assert {r.title for r in everything.context["page"].object_list} == {"ALPHA-REQ", "ZETA-REQ"}


def test_submitting_goes_to_the_team_where_one_is_an_analyst(world, client_as):
    mix = client_as(world.mix)
    body = {"problem": TRIANGLE, "solvers": [{"name": "exact"}]}
    refused = mix.post("/api/v1/requests/", {**body, "team": "alpha"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {"field": "team", "message": "your role in team 'alpha' does not allow submitting requests"}
    ]
    assert not OptimizationRequest.objects.filter(team=world.alpha, requester=world.mix).exists()
    # Without a team the one team they may submit to is taken, not "name one".
    created = mix.post("/api/v1/requests/", body, format="json")
    assert created.status_code == 201, created.content
    assert OptimizationRequest.objects.get(pk=created.json()["id"]).team == world.zeta


def test_cancel_and_rerun_need_the_analyst_role_in_the_requests_team(world, client_as):
    mix = client_as(world.mix)
    assert (
        mix.post(f"/api/v1/requests/{world.alpha_req.pk}/rerun/", {}, format="json").status_code
        == 403
    )
    assert (
        mix.post(f"/api/v1/requests/{world.alpha_req.pk}/cancel/", {}, format="json").status_code
        == 403
    )
    assert OptimizationRequest.objects.filter(rerun_of=world.alpha_req).count() == 0


def test_a_consumer_in_one_team_does_not_read_its_requests_through_a_role_elsewhere(
    world, make_team, client_as
):
    gamma = make_team("gamma")
    membership_add(team=gamma, user=world.zeta_ana, roles=("consumer",))
    gamma_ana = world.alpha_ana
    membership_add(team=gamma, user=gamma_ana, roles=("analyst",))
    secret = ranked_request(gamma_ana, team=gamma, title="GAMMA-REQ")
    reader = client_as(world.zeta_ana)
    assert reader.get(f"/api/v1/requests/{secret.pk}/").status_code == 404
    titles = [r["title"] for r in reader.get("/api/v1/requests/").json()["results"]]
    assert titles == ["ZETA-REQ"]


def test_only_this_teams_approvers_count_towards_its_policy(world, client_as, make_user):
    assert team_approver_count(world.zeta) == 0
    assert team_approver_count(world.alpha) == 1
    zeta_admin = make_user("zeta-admin", "admin", team=world.zeta)
    response = client_as(zeta_admin).patch(
        "/api/v1/teams/zeta/policy/", {"approvals_required": 1}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "is 1, but team zeta has 0 approver(s)"


def test_an_admin_in_one_team_manages_only_that_teams_budget_and_policy(world, client_as):
    membership_add(team=world.alpha, user=world.zeta_ana, roles=("admin",))
    admin = client_as(world.zeta_ana)  # analyst in zeta, admin in alpha
    listed = [b["team"] for b in admin.get("/api/v1/budgets/").json()["results"]]
    assert listed == ["alpha"]
    zeta_budget = budget_for(world.zeta, current_period(), lock=False)
    assert admin.get(f"/api/v1/budgets/{zeta_budget.pk}/").status_code == 404
    refused = admin.patch("/api/v1/teams/zeta/policy/", {"approvals_required": 1}, format="json")
    assert refused.status_code == 403
    assert not AuditEvent.objects.filter(action="policy.changed").exists()


def test_an_auditor_in_one_team_reads_only_that_teams_trail(world, client_as):
    membership_add(team=world.alpha, user=world.zeta_ana, roles=("auditor",))
    events = client_as(world.zeta_ana).get("/api/v1/audit/?page_size=200").json()["results"]
    teams = {e["team_id"] for e in events}
    assert world.alpha.pk in teams and world.zeta.pk not in teams


def test_a_role_taken_away_in_the_last_team_is_gone_everywhere(world):
    membership = Membership.objects.get(team=world.alpha, user=world.mix)
    approver = Group.objects.get(name="approver")
    assert world.mix.groups.filter(name="approver").exists()
    membership.roles.remove(approver)
    assert not world.mix.groups.filter(name="approver").exists()
    assert world.mix.groups.filter(name="analyst").exists()  # still held in zeta
    Membership.objects.get(team=world.zeta, user=world.mix).delete()
    assert not world.mix.groups.filter(name__in=["analyst", "approver"]).exists()
    assert not world.mix.groups.filter(name="team:zeta").exists()


def test_the_home_page_names_the_roles_held_in_each_team(world):
    page = Client()
    page.force_login(world.mix)
    body = page.get("/").content.decode()
    assert "(alpha)</span>: approver" in body
    assert "(zeta)</span>: analyst" in body


def test_campaigns_are_opened_and_dispatched_only_where_one_is_an_analyst(world, client_as):
    mix = client_as(world.mix)
    refused = mix.post("/api/v1/campaigns/", {"title": "t", "team": "alpha"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "team"
    alpha_campaign = client_as(world.alpha_ana).post(
        "/api/v1/campaigns/", {"title": "alpha's"}, format="json"
    )
    campaign_id = alpha_campaign.json()["id"]
    # They read it (an approver reads alpha's requests) but may not dispatch it.
    assert mix.get(f"/api/v1/campaigns/{campaign_id}/").status_code == 200
    dispatch = mix.post(f"/api/v1/campaigns/{campaign_id}/dispatch/")
    assert dispatch.status_code == 403
    assert "team alpha" in dispatch.json()["detail"]
    assert mix.get(f"/api/v1/campaigns/{campaign_id}/").json()["status"] == "collecting"


def test_the_django_admin_edits_a_members_roles_in_the_team(world, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.org", PASSWORD)
    page = Client()
    page.force_login(root)
    body = page.get(f"/admin/accounts/team/{world.zeta.pk}/change/").content.decode()
    select = re.search(r'<select name="memberships-0-roles".*?</select>', body, re.S)
    assert select is not None
    offered = re.findall(r">([a-z:]+)</option>", select.group(0))
    # Only the team roles are offered: the operator role and the team groups
    # are not a membership's to give.
    assert sorted(offered) == ["admin", "analyst", "approver", "auditor", "consumer"]
