"""A decided request keeps the number of approvals it was decided under."""

from __future__ import annotations

import pytest

from approvals.models import ApprovalPolicy
from approvals.review_selectors import approvals_required_of, request_sign_off
from tests.approvals.review_support import ranked_request
from tests.approvals.test_ux_review_sign_off import approve, recommend
from tests.support.html import page_as, text_of

pytestmark = pytest.mark.django_db


def test_a_later_policy_change_does_not_rewrite_what_an_approved_request_needed(
    client, make_user, team
):
    ana = make_user("ana", "analyst", team=team)
    apo = make_user("apo", "approver", team=team)
    make_user("apo2", "approver", team=team)
    req = ranked_request(ana, team=team)
    recommend(req, ana)
    approve(req, apo)  # the default policy: one approval decides
    req.refresh_from_db()
    assert req.status == "approved" and req.decision.approvals_required == 1

    ApprovalPolicy.objects.update_or_create(team=team, defaults={"approvals_required": 2})

    assert approvals_required_of([req]) == {req.pk: 1}
    assert request_sign_off(apo, req).required == 1
    page = text_of(page_as(client, apo, f"/requests/{req.pk}/sign/"))
    assert "1 of 1 approvals" in page and "1 of 2" not in page
    # A request still awaiting signatures follows the policy as it is now.
    waiting = ranked_request(ana, team=team)
    recommend(waiting, ana)
    assert approvals_required_of([waiting]) == {waiting.pk: 2}
