"""Signing races through the real API against PostgreSQL: threads on their own
connections, committing for real."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from approvals.models import ApprovalPolicy, Decision, Signature
from jobs.models import RequestStatus
from tests.approvals.review_support import best, ranked_request
from tests.conftest import PASSWORD
from tests.support.concurrency import at_once, token_client

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _together(calls: list[tuple[str, Callable[[APIClient], Any]]]) -> list[Any]:
    return at_once([lambda t=t, c=c: c(token_client(t)) for t, c in calls], timeout=60)


@pytest.fixture
def setup(make_team, make_user, client_as, token_for):
    team = make_team("demo")
    ana = make_user("ana", "analyst", team=team)
    apo = make_user("apo", "approver", team=team)
    apo2 = make_user("apo2", "approver", team=team)
    req = ranked_request(ana, team=team)
    response = client_as(ana).post(
        f"/api/v1/requests/{req.pk}/recommend/",
        {"candidate": best(req).pk, "comment": "best cut"},
        format="json",
    )
    assert response.status_code == 201
    return team, req, token_for(apo), token_for(apo2)


def approve(req: Any) -> Callable[[APIClient], Any]:
    body = {"candidate": best(req).pk, "meaning": "approved for execution", "password": PASSWORD}
    return lambda c: c.post(f"/api/v1/requests/{req.pk}/approve/", body, format="json")


def reject(req: Any) -> Callable[[APIClient], Any]:
    body = {"reason": "not balanced", "password": PASSWORD}
    return lambda c: c.post(f"/api/v1/requests/{req.pk}/reject/", body, format="json")


@pytest.mark.parametrize("attempt", range(3))
def test_an_approval_racing_a_rejection_has_one_winner_and_the_other_gets_409(setup, attempt):
    _, req, apo, apo2 = setup
    responses = _together([(apo, approve(req)), (apo2, reject(req))])
    assert all(not isinstance(r, Exception) for r in responses), responses
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 409], [(r.status_code, r.content) for r in responses]
    req.refresh_from_db()
    winner = "approve" if responses[0].status_code == 201 else "reject"
    assert req.status == (RequestStatus.APPROVED if winner == "approve" else RequestStatus.REJECTED)
    assert Signature.objects.count() == 1
    assert Decision.objects.count() == (1 if winner == "approve" else 0)


def test_two_approvals_racing_under_a_two_approver_policy_make_exactly_one_decision(setup):
    team, req, apo, apo2 = setup
    ApprovalPolicy.objects.create(team=team, approvals_required=2, approvals_required_above_cost=2)
    responses = _together([(apo, approve(req)), (apo2, approve(req))])
    assert sorted(r.status_code for r in responses) == [201, 201]
    statuses = sorted(r.json()["request_status"] for r in responses)
    assert statuses == ["approved", "recommended"]
    assert Decision.objects.count() == 1 and Signature.objects.count() == 2


def test_one_approver_approving_twice_at_once_signs_once(setup):
    _, req, apo, _ = setup
    responses = _together([(apo, approve(req)), (apo, approve(req))])
    assert sorted(r.status_code for r in responses) == [201, 409]
    assert Signature.objects.count() == 1
