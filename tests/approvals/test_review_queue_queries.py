"""The review queue reads the database a fixed number of times per page.

Each row shows its live approvals, what the team's policy requires of it
(more above the cost threshold) and the reader's action. Reading those per
row made a page of 50 requests 50+ small reads; they are read for the whole
page at once now, so the count must not move with the number of rows.
"""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.models import ApprovalPolicy
from approvals.review_selectors import (
    approvals_required,
    approvals_required_of,
    live_approvals,
    policy_for_team,
    request_cost_credits,
    requests_awaiting_signature,
)
from jobs.models import OptimizationRequest
from tests.approvals.review_support import charge, ranked_request
from tests.approvals.test_ux_review_sign_off import approve, browser, recommend


@pytest.fixture
def teams(make_team):
    alpha, beta = make_team("alpha"), make_team("beta")
    # alpha: two approvals above 10 credits; beta has no policy row (the defaults).
    ApprovalPolicy.objects.create(
        team=alpha, approvals_required=1, approvals_required_above_cost=2, cost_threshold_credits=10
    )
    return alpha, beta


@pytest.fixture
def people(make_user, teams):
    class People:
        ana = make_user("ana", "analyst", teams=teams)
        apo = make_user("apo", "approver", teams=teams)
        apo2 = make_user("apo2", "approver", teams=teams)

    return People


# One row of each kind the queue draws differently: (team, credits charged, state).
KINDS = (
    (0, "15", "ready"),  # alpha, above the threshold: 0 of 2, to recommend
    (1, "5", "recommended"),  # beta, the default policy: 0 of 1, apo may sign
    (0, "5", "recommended"),  # alpha, at or below the threshold: 0 of 1
    (0, "15", "approved by apo2"),  # 1 of 2, apo may sign
    (0, "15", "approved by apo"),  # 1 of 2, apo signed it
    (1, "15", "ready"),  # beta has no threshold: 0 of 1
)


def fill_queue(people, teams, n: int) -> None:
    start = OptimizationRequest.objects.count()
    for i in range(start, start + n):
        team, credits, state = KINDS[i % len(KINDS)]
        req = ranked_request(people.ana, team=teams[team], title=f"r{i}")
        charge(req, credits)
        if state == "ready":
            continue
        recommend(req, people.ana)
        if state == "approved by apo2":
            approve(req, people.apo2)
        elif state == "approved by apo":
            approve(req, people.apo)


def open_queue(user, url="/review/?show=all"):
    client = browser(user)  # logging in writes a session: not the page's reads
    client.get(url)  # the process's first page also fills Django's and guardian's caches
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url)
    assert page.status_code == 200
    return page, len(queries)


def cells(page) -> dict[str, tuple[str, str]]:
    """Each row's approvals and action cells as read, by request title."""
    html = page.content.decode()
    row_re = r'<tr data-request-id="\d+">\s*<td[^>]*><a [^>]*>#\d+ (\w+)</a>(.*?)</tr>'
    out = {}
    for title, row in re.findall(row_re, html, re.S):
        tds = [
            " ".join(re.sub(r"<[^>]+>", " ", td).split())
            for td in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        out[title] = (tds[-2], tds[-1])
    return out


def expected_cell(req: OptimizationRequest) -> str:
    """What the signing service counts and requires, asked of one request."""
    required = approvals_required(policy_for_team(req.team), request_cost_credits(req))
    return f"{live_approvals(req).count()} of {required}"


@pytest.mark.parametrize("url", ["/review/?show=all", "/review/"])  # all, awaiting me
def test_the_queue_page_reads_as_often_for_twelve_rows_as_for_three(people, teams, url):
    fill_queue(people, teams, 3)
    page, few = open_queue(people.apo, url)
    rows_few = len(page.context["page"].object_list)
    fill_queue(people, teams, 9)
    page, many = open_queue(people.apo, url)
    rows_many = len(page.context["page"].object_list)
    assert 0 < rows_few < rows_many
    assert many == few, f"{few} queries for {rows_few} rows, {many} for {rows_many}"


def test_each_row_shows_what_the_signing_service_counts_and_requires(people, teams):
    fill_queue(people, teams, 12)
    page = browser(people.apo).get("/review/?show=all")
    shown = cells(page)
    assert len(shown) == 12
    requests = OptimizationRequest.objects.select_related("team")
    assert {title: approvals for title, (approvals, _) in shown.items()} == {
        r.title: expected_cell(r) for r in requests
    }
    # The page holds both numbers above alpha's threshold and below it.
    assert {"0 of 2", "0 of 1", "1 of 2"} <= {approvals for approvals, _ in shown.values()}
    awaiting = set(requests_awaiting_signature(people.apo).values_list("title", flat=True))
    assert {title for title, (_, action) in shown.items() if action.startswith("Sign")} == awaiting
    assert len(awaiting) == 6  # the recommended rows but the one apo signed


def test_the_required_count_of_a_page_agrees_with_one_request_at_a_time(people, teams):
    fill_queue(people, teams, 8)
    rows = list(OptimizationRequest.objects.select_related("team"))
    one_at_a_time = {
        r.pk: approvals_required(policy_for_team(r.team), request_cost_credits(r)) for r in rows
    }
    assert approvals_required_of(rows) == one_at_a_time
    assert set(one_at_a_time.values()) == {1, 2}
