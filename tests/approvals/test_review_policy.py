"""Approval policies: admins of the team change them, every change is audited."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from approvals import services
from approvals.models import ApprovalPolicy, AuditEvent
from approvals.review_selectors import policy_for_team
from jobs.errors import InvalidInput


@pytest.fixture
def admin(make_user, team):
    make_user("apo", "approver", team=team)
    make_user("apo2", "approver", team=team)
    return make_user("adm", "admin", team=team)


def test_a_team_without_a_policy_needs_one_approval(team):
    policy = policy_for_team(team)
    assert policy.pk is None
    assert (policy.approvals_required, policy.cost_threshold_credits) == (1, None)
    assert policy.recommender_may_not_approve is False


def test_an_admin_of_the_team_changes_the_policy_and_the_change_is_audited(team, admin):
    policy = services.policy_update(
        team=team,
        actor=admin,
        approvals_required=1,
        approvals_required_above_cost=2,
        cost_threshold_credits=Decimal("50"),
        recommender_may_not_approve=True,
    )
    assert policy.updated_by == admin
    event = AuditEvent.objects.get(action="policy.changed")
    assert event.team == team and event.actor == admin
    assert event.before["cost_threshold_credits"] is None
    assert event.after == {
        "approvals_required": 1,
        "approvals_required_above_cost": 2,
        "cost_threshold_credits": "50",
        "recommender_may_not_approve": True,
    }


def test_setting_the_same_values_again_changes_nothing_and_audits_nothing(team, admin):
    services.policy_update(team=team, actor=admin, approvals_required=2)
    services.policy_update(team=team, actor=admin, approvals_required=2)
    assert AuditEvent.objects.filter(action="policy.changed").count() == 1


def test_an_empty_change_to_a_team_on_the_defaults_writes_and_audits_nothing(
    team, admin, client_as
):
    response = client_as(admin).patch(f"/api/v1/teams/{team.slug}/policy/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["approvals_required"] == 1  # the defaults, as a GET reads them
    assert not ApprovalPolicy.objects.filter(team=team).exists()
    assert not AuditEvent.objects.filter(action="policy.changed").exists()


@pytest.mark.parametrize("role", ["analyst", "approver", "consumer", "auditor"])
def test_only_admins_change_policies(make_user, team, admin, role):
    user = make_user("someone", role, team=team)
    with pytest.raises(PermissionDenied):
        services.policy_update(team=team, actor=user, approvals_required=2)
    assert not ApprovalPolicy.objects.exists()


def test_an_admin_of_another_team_cannot_change_this_one(make_user, make_team, team, admin):
    other_admin = make_user("adm2", "admin", team=make_team("other"))
    with pytest.raises(PermissionDenied):
        services.policy_update(team=team, actor=other_admin, approvals_required=2)


def test_more_approvals_than_the_team_has_approvers_is_refused(team, admin):
    with pytest.raises(InvalidInput) as exc:
        services.policy_update(team=team, actor=admin, approvals_required=3)
    assert exc.value.errors[0].field == "approvals_required"
    assert "has 2 approver(s)" in exc.value.errors[0].message


def test_the_number_above_the_threshold_cannot_be_below_the_base_number(team, admin):
    with pytest.raises(InvalidInput) as exc:
        services.policy_update(
            team=team, actor=admin, approvals_required=2, approvals_required_above_cost=1
        )
    assert exc.value.errors[0].field == "approvals_required_above_cost"
    # In words an admin reads, with the number it must reach (not a field name).
    assert exc.value.errors[0].message == (
        "must be a whole number, at least the approvals required below the threshold (2)"
    )


def test_a_negative_threshold_is_refused(team, admin):
    with pytest.raises(InvalidInput):
        services.policy_update(team=team, actor=admin, cost_threshold_credits=Decimal("-1"))


def test_raising_the_base_number_alone_raises_the_number_above_the_threshold_with_it(
    make_user, team, admin
):
    make_user("apo3", "approver", team=team)
    policy = services.policy_update(team=team, actor=admin, approvals_required=3)
    assert (policy.approvals_required, policy.approvals_required_above_cost) == (3, 3)
