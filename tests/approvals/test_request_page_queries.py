"""The request page reads a request's settled credits once.

The page shows them three times: the cost line, the approver's "n of m
approvals" (m depends on the cost) and the review panels' cost and required
count. Each used to read the ledger on its own; the view now reads it once and
hands the figure down.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.models import ApprovalPolicy
from jobs.models import LedgerEntry, Run
from tests.approvals.review_support import charge, ranked_request
from tests.approvals.test_ux_review_sign_off import browser, recommend, text


@pytest.fixture
def people(make_user, team):
    class People:
        ana = make_user("ana", "analyst", team=team)
        apo = make_user("apo", "approver", team=team)

    return People


@pytest.fixture
def req(people, team):
    # Two approvals above 10 credits: what the page requires depends on the cost.
    ApprovalPolicy.objects.create(
        team=team, approvals_required=1, approvals_required_above_cost=2, cost_threshold_credits=10
    )
    found = ranked_request(people.ana, team=team)
    charge(found, "15")
    recommend(found, people.ana)
    return found


def request_ledger_reads(queries: CaptureQueriesContext) -> list[str]:
    """The page's reads of the request's ledger entries (through its runs); one
    run's own entry, for its cost cell, is another read."""
    ledger, run = LedgerEntry._meta.db_table, Run._meta.db_table
    return [
        q["sql"]
        for q in queries.captured_queries
        if ledger in q["sql"] and f'"{run}"."request_id"' in q["sql"]
    ]


@pytest.mark.parametrize("who", ["apo", "ana"])  # with the sign-off line, and without
def test_the_request_page_reads_the_settled_credits_once(people, req, who):
    client = browser(getattr(people, who))
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/requests/{req.pk}/")
    assert page.status_code == 200
    reads = request_ledger_reads(queries)
    assert len(reads) == 1, "\n\n".join(reads)
    # The one read still gives every figure: the cost, and two approvals above 10 credits.
    assert page.context["cost"]["credits"] == 15
    assert "Cost: 15 credits settled" in text(page.content.decode())
    assert page.context["required"] == 2
    if who == "apo":
        assert page.context["sign_off"].required == 2
