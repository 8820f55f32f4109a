"""What awaits an approver's signature: the queue, the request page and the sign page.

From a usability review: an approver could not tell from the queue which
requests waited for *their* signature, and the request page kept offering
the sign forms after they had signed.
"""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.test import Client

from approvals import services
from approvals.models import ApprovalPolicy
from approvals.review_selectors import request_sign_off
from jobs.errors import Conflict
from tests.approvals.review_support import best, ranked_request
from tests.conftest import PASSWORD


@pytest.fixture
def people(make_user, team):
    class People:
        ana = make_user("ana", "analyst", team=team)
        apo = make_user("apo", "approver", team=team)
        apo2 = make_user("apo2", "approver", team=team)

    return People


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html_for(user, url: str) -> str:
    return browser(user).get(url).content.decode()


def recommend(req, user):
    services.request_recommend(request=req, actor=user, candidate_id=best(req).pk, comment="best")
    req.refresh_from_db()


def approve(req, user):
    services.request_approve(
        request=req,
        actor=user,
        candidate_id=best(req).pk,
        meaning="approved for execution",
        password=PASSWORD,
    )


def text(html: str) -> str:
    """What a person reads: the page without its tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def queue_rows(html: str) -> dict[str, str]:
    """The queue's rows as read, keyed by the request's link text ("#12 square")."""
    if 'id="review-queue"' not in html:
        return {}
    body = html.split('id="review-queue"', 1)[1].split("</tbody>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr data-request-id.*?</tr>", body, re.S):
        name = text(re.search(r"<a [^>]*>(.*?)</a>", row, re.S).group(1))
        rows[name] = row
    return rows


def head_of_request_page(html: str) -> str:
    """The top of the request page: everything before the runs table."""
    return html.split('<section class="card" aria-labelledby="runs-heading"', 1)[0]


@pytest.fixture
def queue(people, team):
    """Three requests in review: one awaits apo, one awaits a recommendation,
    one apo already approved (the policy wants two approvals)."""
    ApprovalPolicy.objects.create(team=team, approvals_required=2, approvals_required_above_cost=2)
    waiting = ranked_request(people.ana, team=team, title="waits for apo")
    unrecommended = ranked_request(people.ana, team=team, title="not recommended")
    signed = ranked_request(people.ana, team=team, title="signed by apo")
    recommend(waiting, people.ana)
    recommend(signed, people.ana)
    approve(signed, people.apo)
    return waiting, unrecommended, signed


# The queue ------------------------------------------------------------------------


def test_an_approvers_queue_shows_what_awaits_their_signature_by_default(people, queue):
    waiting, _, _ = queue
    html = browser(people.apo).get("/review/").content.decode()
    assert list(queue_rows(html)) == [f"#{waiting.pk} waits for apo"]
    assert '<option value="mine" selected>awaiting my signature</option>' in html
    row_html = queue_rows(html)[f"#{waiting.pk} waits for apo"]
    assert "0 of 2" in text(row_html) and f"Sign request #{waiting.pk}" in text(row_html)
    assert f'href="/requests/{waiting.pk}/sign/"' in row_html


def test_an_approver_can_show_everything_and_reads_what_they_signed(people, queue):
    waiting, unrecommended, signed = queue
    html = browser(people.apo).get("/review/?show=all").content.decode()
    rows = {name: text(row) for name, row in queue_rows(html).items()}
    assert len(rows) == 3
    assert "Sign request" in rows[f"#{waiting.pk} waits for apo"]
    assert "awaiting a recommendation" in rows[f"#{unrecommended.pk} not recommended"]
    mine = rows[f"#{signed.pk} signed by apo"]
    assert "1 of 2" in mine and re.search(r"You approved this on \d{4}-\d\d-\d\d \d\d:\d\d", mine)
    assert "Sign request" not in mine


def test_another_approver_still_sees_the_half_signed_request_awaiting_them(people, queue):
    waiting, _, signed = queue
    rows = queue_rows(browser(people.apo2).get("/review/").content.decode())
    assert set(rows) == {f"#{waiting.pk} waits for apo", f"#{signed.pk} signed by apo"}


def test_nothing_awaiting_says_so_and_links_to_everything(people, team):
    html = browser(people.apo).get("/review/").content.decode()
    assert "Nothing awaits your signature" in text(html)
    assert 'href="?show=all"' in html


def test_an_analysts_queue_keeps_its_default_and_offers_to_recommend(people, queue):
    waiting, unrecommended, _ = queue
    html = browser(people.ana).get("/review/").content.decode()
    rows = {name: text(row) for name, row in queue_rows(html).items()}
    assert len(rows) == 3  # everything awaiting review, as before
    assert 'name="show"' not in html  # no "awaiting my signature" for a role that never signs
    assert "Recommend a candidate" in rows[f"#{unrecommended.pk} not recommended"]
    assert "awaiting approvers" in rows[f"#{waiting.pk} waits for apo"]
    assert "/sign/" not in html


def test_the_queue_calls_it_a_solve_deadline_and_shows_its_date(people, queue):
    waiting, _, _ = queue
    html = browser(people.ana).get("/review/").content.decode()
    assert "Solve deadline before (UTC)" in html
    header = html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert "Solve deadline" in text(header) and "Deadline<" not in header
    row = text(queue_rows(html)[f"#{waiting.pk} waits for apo"])
    assert waiting.deadline.strftime("%Y-%m-%d %H:%M UTC") in row


# The request page and the sign page --------------------------------------------------


def test_the_request_page_offers_sign_near_the_status_and_in_on_this_page(people, queue):
    waiting, _, _ = queue
    html = browser(people.apo).get(f"/requests/{waiting.pk}/").content.decode()
    head = head_of_request_page(html)
    assert f'<a class="button primary" href="/requests/{waiting.pk}/sign/">' in head
    assert "0 of 2 approvals so far" in text(head)
    nav = re.search(r'<nav class="page-nav" aria-label="On this page">(.*?)</nav>', html).group(1)
    assert f'<a href="/requests/{waiting.pk}/sign/">Sign</a>' in nav


def test_once_signed_the_request_page_says_when_instead_of_offering_to_sign(people, queue):
    _, _, signed = queue
    html = browser(people.apo).get(f"/requests/{signed.pk}/").content.decode()
    assert f"/requests/{signed.pk}/sign/" not in html
    assert "Sign: approve or reject" not in html
    assert re.search(r"You approved this on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", text(html))
    assert "1 of 2 approvals so far" in text(head_of_request_page(html))


def test_once_signed_the_sign_page_shows_no_forms(people, queue):
    _, _, signed = queue
    page = browser(people.apo).get(f"/requests/{signed.pk}/sign/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="approve-form"' not in html and 'id="reject-form"' not in html
    assert re.search(r"You approved this on \d{4}-\d\d-\d\d", text(html))
    # The other approver still signs there.
    assert 'id="approve-form"' in html_for(people.apo2, f"/requests/{signed.pk}/sign/")


def test_an_analyst_gets_no_sign_link(people, queue):
    waiting, _, _ = queue
    html = browser(people.ana).get(f"/requests/{waiting.pk}/").content.decode()
    assert f"/requests/{waiting.pk}/sign/" not in html


def test_the_policy_that_bars_the_recommender_keeps_sign_away_from_them(make_user, team, people):
    ApprovalPolicy.objects.create(team=team, recommender_may_not_approve=True)
    both = make_user("both", "analyst", "approver", team=team)
    req = ranked_request(people.ana, team=team, title="recommended by both")
    recommend(req, both)
    html = browser(both).get(f"/requests/{req.pk}/").content.decode()
    assert f"/requests/{req.pk}/sign/" not in html
    assert queue_rows(browser(both).get("/review/").content.decode()) == {}
    assert f"/requests/{req.pk}/sign/" in html_for(people.apo, f"/requests/{req.pk}/")


def test_the_requester_is_never_offered_to_sign(make_user, team, people):
    both = make_user("both", "analyst", "approver", team=team)
    req = ranked_request(both, team=team, title="mine")
    recommend(req, people.ana)
    assert f"/requests/{req.pk}/sign/" not in html_for(both, f"/requests/{req.pk}/")
    assert f"/requests/{req.pk}/sign/" in html_for(people.apo, f"/requests/{req.pk}/")


class _Undo(Exception):
    pass


def approving_succeeds(req, user) -> bool:
    """Whether the signing service would take this user's approval (then undone)."""
    try:
        with transaction.atomic():
            approve(req, user)
            raise _Undo
    except _Undo:
        return True
    except (PermissionDenied, Conflict, Http404):
        return False


def test_sign_is_offered_exactly_where_the_signing_service_accepts_it(
    make_user, make_team, team, people
):
    # The pages ask approvals.review_selectors; the service decides. They must agree.
    ApprovalPolicy.objects.create(
        team=team,
        approvals_required=2,
        approvals_required_above_cost=2,
        recommender_may_not_approve=True,
    )
    both = make_user("both", "analyst", "approver", team=team)
    outsider = make_user("out", "approver", team=make_team("other"))
    by_both = ranked_request(both, team=team, title="requested by both")
    recommended_by_both = ranked_request(people.ana, team=team, title="recommended by both")
    half_signed = ranked_request(people.ana, team=team, title="approved by apo")
    not_yet = ranked_request(people.ana, team=team, title="not recommended")
    recommend(by_both, people.ana)
    recommend(recommended_by_both, both)
    recommend(half_signed, people.ana)
    approve(half_signed, people.apo)
    for req in (by_both, recommended_by_both, half_signed, not_yet):
        req.refresh_from_db()
        for user in (people.ana, people.apo, people.apo2, both, outsider):
            offered = request_sign_off(user, req).awaiting_me
            assert offered == approving_succeeds(req, user), (req.title, user.username)
