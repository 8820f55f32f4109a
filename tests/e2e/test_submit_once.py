"""A double-click on a form's button sends it once (static/js/submit-once.js)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from approvals.models import Comment
from jobs.models import OptimizationRequest
from tests.approvals.review_support import ranked_request
from tests.e2e.conftest import PageProbe

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SQUARE = {"type": "maxcut", "graph": {"nodes": 4, "edges": [[0, 1], [1, 2], [2, 3], [3, 0]]}}


@pytest.fixture
def new_request_form(open_page, login, live_server, make_user, make_team, password):
    """An analyst's submit page with the problem filled in (and ``title``)."""

    def open_form(title: str = "") -> PageProbe:
        make_user("ana", "analyst", team=make_team("demo"))
        probe = open_page()
        login(probe, "ana", password)
        page = probe.page
        page.goto(f"{live_server.url}/requests/new/")
        page.get_by_label("Problem", exact=False).first.fill(json.dumps(SQUARE))
        if title:
            page.get_by_label("Title").fill(title)
        return probe

    return open_form


def test_a_double_clicked_submit_makes_one_request(new_request_form):
    page = new_request_form("clicked twice").page
    # A person's double-click: two clicks 80 ms apart, each a real submit.
    page.get_by_role("button", name="Submit", exact=True).last.dblclick(delay=80)
    # The request's own page (digits): "/requests/*/" would match /requests/new/.
    page.wait_for_url(re.compile(r"/requests/\d+/$"), timeout=15_000)
    page.wait_for_load_state("networkidle")
    assert OptimizationRequest.objects.filter(title="clicked twice").count() == 1


def test_a_double_clicked_comment_is_posted_once(
    open_page, login, live_server, make_user, make_team, password
):
    team = make_team("demo")
    ana = make_user("ana", "analyst", team=team)
    req = ranked_request(ana, team=team)
    probe = open_page()
    login(probe, "ana", password)
    page = probe.page
    page.goto(f"{live_server.url}/requests/{req.pk}/")
    page.get_by_label("Add a comment").fill("once, please")
    page.locator("#comments").get_by_role("button", name="Comment").dblclick(delay=80)
    page.wait_for_load_state("networkidle")
    page.get_by_text("once, please").first.wait_for(timeout=15_000)
    assert Comment.objects.filter(body="once, please").count() == 1


def _sign_out_in_another_tab(probe: PageProbe, live_server: Any) -> PageProbe:
    """Another tab of the same browser (the same cookies), signed out there."""
    other = PageProbe(probe.page.context.new_page())
    other.page.goto(f"{live_server.url}/")
    other.page.get_by_role("button", name="Log out").click()
    other.page.wait_for_load_state("networkidle")
    return other


def test_a_form_opened_before_signing_in_again_still_submits(
    new_request_form, login, live_server, password
):
    probe = new_request_form("typed before a new sign-in")
    # Meanwhile, in another tab: sign out and in again, which rotates the CSRF token.
    login(_sign_out_in_another_tab(probe, live_server), "ana", password)
    page = probe.page
    # Before csrf-fresh.js this was Django's 403 "CSRF verification failed" page.
    page.get_by_role("button", name="Submit", exact=True).last.click()
    page.wait_for_url(re.compile(r"/requests/\d+/$"), timeout=15_000)
    assert OptimizationRequest.objects.filter(title="typed before a new sign-in").count() == 1


def test_an_estimate_after_signing_out_says_so_and_keeps_the_form(new_request_form, live_server):
    probe = new_request_form()
    _sign_out_in_another_tab(probe, live_server)
    page = probe.page
    page.get_by_role("button", name="Estimate cost").click()
    page.get_by_text("You are signed out.").wait_for(timeout=15_000)
    assert json.loads(page.get_by_label("Problem", exact=False).first.input_value()) == SQUARE
