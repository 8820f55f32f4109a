"""The rules of who may approve are written once (review_selectors' sign rules)
and asked by both the pages and the signing service: they agree on every case,
including the ones the usability test does not draw (voided, decided, rejected,
above the cost threshold, a deactivated approver)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from approvals import services
from approvals.models import ApprovalPolicy
from approvals.review_selectors import (
    APPROVE_RULES,
    QueueFilters,
    requests_awaiting_signature,
    review_queue_for_user,
    sign_rule_refusal,
)
from approvals.services.common import lock_request
from jobs.errors import Conflict
from jobs.models import RequestStatus
from tests.approvals.review_support import charge, ranked_request
from tests.approvals.test_ux_review_sign_off import approve, approving_succeeds, recommend
from tests.conftest import PASSWORD

EVERY_STATUS = tuple(RequestStatus.values)


@pytest.fixture
def users(make_user, make_team, team):
    ApprovalPolicy.objects.create(
        team=team,
        approvals_required=2,
        approvals_required_above_cost=3,
        cost_threshold_credits=10,
        recommender_may_not_approve=True,
    )

    class Users:
        ana = make_user("ana", "analyst", team=team)
        apo = make_user("apo", "approver", team=team)
        apo2 = make_user("apo2", "approver", team=team)
        both = make_user("both", "analyst", "approver", team=team)
        gone = make_user("gone", "approver", team=team)
        outsider = make_user("out", "approver", team=make_team("other"))

    Users.gone.is_active = False
    Users.gone.save()
    return Users


def requests_in_every_state(users, team) -> list:
    made = {}

    def make(title, requester=users.ana, recommender=users.ana, charged="0"):
        req = ranked_request(requester, team=team, title=title)
        charge(req, charged)
        if recommender is not None:
            recommend(req, recommender)
        made[title] = req
        return req

    make("not recommended", recommender=None)
    make("requested by both", requester=users.both)
    make("recommended by both", recommender=users.both)
    approve(make("approved by apo"), users.apo)
    voided = make("approval voided")
    approve(voided, users.apo)
    with transaction.atomic():
        lock_request(voided.pk)
        services.signatures_void_for_request(request=voided, reason="re-ranked", system="test")
    above = make("two of three above the threshold", charged="15")
    approve(above, users.apo)
    approve(above, users.apo2)
    decided = make("decided")
    approve(decided, users.apo)
    approve(decided, users.apo2)
    services.request_reject(
        request=make("rejected"), actor=users.apo, reason="unbalanced", password=PASSWORD
    )
    for req in made.values():
        req.refresh_from_db()
    assert {r.status for r in made.values()} == {
        RequestStatus.READY_FOR_REVIEW,
        RequestStatus.RECOMMENDED,
        RequestStatus.APPROVED,
        RequestStatus.REJECTED,
    }
    return list(made.values())


def test_the_pages_and_the_signing_service_agree_on_who_may_approve_what(users, team):
    requests = requests_in_every_state(users, team)
    everyone = (users.ana, users.apo, users.apo2, users.both, users.gone, users.outsider)
    offered_anywhere = set()
    for user in everyone:
        awaiting = set(requests_awaiting_signature(user).values_list("pk", flat=True))
        queue = review_queue_for_user(user, QueueFilters(statuses=EVERY_STATUS))
        in_queue = {r.pk for r in queue if r.awaiting_me}
        for req in requests:
            accepted = approving_succeeds(req, user)
            case = (req.title, user.username)
            assert (req.pk in awaiting) == accepted, case
            assert (req.pk in in_queue) == accepted, case
            if accepted:
                offered_anywhere.add(case)
    # The matrix is not vacuous: these, and only these, may approve.
    assert offered_anywhere == {
        ("requested by both", "apo"),
        ("requested by both", "apo2"),
        ("recommended by both", "apo"),
        ("recommended by both", "apo2"),
        ("approved by apo", "apo2"),
        ("approved by apo", "both"),
        ("approval voided", "apo"),
        ("approval voided", "apo2"),
        ("approval voided", "both"),
        ("two of three above the threshold", "both"),
    }


def test_a_rule_that_fails_is_refused_in_the_services_words(users, team):
    req = ranked_request(users.both, team=team)
    recommend(req, users.ana)
    refusal = sign_rule_refusal(users.both, req, APPROVE_RULES)
    assert isinstance(refusal, PermissionDenied) and "You requested this" in str(refusal)
    assert sign_rule_refusal(users.apo, req, APPROVE_RULES) is None
    approve(req, users.apo)
    refusal = sign_rule_refusal(users.apo, req, APPROVE_RULES)
    assert isinstance(refusal, Conflict) and "already approved" in str(refusal)
