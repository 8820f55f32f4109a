"""Review and sign-off in a real browser, on results of the real pipeline.

A request is solved in-process by jobs' services (QAOA on the ideal Aer
simulator and on a noisy copy of a device, plus exact search), so every
figure is drawn from real data. Then an analyst recommends, an approver signs
with their password, and a consumer's API token fetches the decision.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from approvals.models import Decision
from jobs.models import RequestStatus
from tests.approvals.review_support import pipeline_request

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PENTAGON = {
    "type": "maxcut",
    "graph": {"nodes": 5, "edges": [[0, 1], [1, 2], [2, 3], [3, 4], [4, 0], [0, 2, 2.0]]},
}
SOLVERS = [
    {"name": "qaoa", "backend": "aer_statevector", "options": {"reps": 1, "maxiter": 15}},
    {"name": "qaoa", "backend": "aer_noisy:fake_torino", "options": {"reps": 1, "maxiter": 6}},
    {"name": "exact"},
]
FIGURE_TIMEOUT_MS = 30_000


def all_figures_drawn(probe: Any) -> int:
    """Wait until every figure on the page has its plotly SVG; return how many."""
    page = probe.page
    count = page.locator("[data-review-figure]").count()
    page.wait_for_function(
        "n => document.querySelectorAll('[data-review-figure][data-drawn=\"true\"]').length === n",
        arg=count,
        timeout=FIGURE_TIMEOUT_MS,
    )
    drawn = page.locator("[data-review-figure].js-plotly-plot .main-svg")
    assert drawn.count() >= count
    for i in range(count):
        assert page.locator("[data-review-figure]").nth(i).locator(".main-svg").count() >= 1
    return count


def api(url: str, *, token: str | None = None, body: dict[str, Any] | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers)) as r:
        return json.loads(r.read())


def test_an_analyst_recommends_an_approver_signs_and_a_consumer_fetches_the_decision(
    open_page, login, live_server, make_team, make_user, password
):
    team = make_team("demo")
    ana = make_user("ana", "analyst", team=team)
    make_user("apo", "approver", team=team)
    make_user("con", "consumer", team=team)
    req = pipeline_request(ana, problem=PENTAGON, solvers=SOLVERS, shots=512, title="pentagon")
    assert req.status == RequestStatus.READY_FOR_REVIEW, req.failure_reason
    base = live_server.url

    # The analyst: queue, request page with every figure, compare, recommend.
    analyst = open_page()
    login(analyst, "ana", password)
    analyst.page.goto(f"{base}/review/")
    analyst.page.get_by_role("link", name=f"#{req.pk} pentagon").click()
    analyst.page.wait_for_load_state("networkidle")
    kinds = analyst.page.locator("[data-review-figure]").evaluate_all("els => els.map(e => e.id)")
    assert all_figures_drawn(analyst) == len(kinds)
    assert any(k.startswith("figure-measurement-") for k in kinds)
    assert {"figure-objective", "figure-problem"} <= set(kinds)
    assert any(k.startswith("figure-convergence-") for k in kinds)
    assert any(k.startswith("figure-noise-") for k in kinds)
    analyst.screenshot("review-request-page")
    analyst.page.goto(f"{base}/review/")
    analyst.screenshot("review-queue")
    analyst.page.goto(f"{base}/requests/{req.pk}/compare/")
    all_figures_drawn(analyst)
    analyst.screenshot("review-compare-candidates")
    analyst.page.get_by_role("button", name="Compare runs").click()
    analyst.page.wait_for_load_state("networkidle")
    all_figures_drawn(analyst)
    analyst.screenshot("review-compare-runs")
    analyst.page.goto(f"{base}/requests/{req.pk}/")
    analyst.page.get_by_label("Why this candidate").fill("Best cut; exact search agrees.")
    analyst.page.get_by_role("button", name="Recommend").click()
    analyst.page.wait_for_load_state("networkidle")
    assert analyst.page.get_by_text("Recommendation recorded").is_visible()
    assert analyst.console_errors == [], analyst.console_errors
    assert analyst.failed_requests == [], analyst.failed_requests

    # The approver: signs with the password.
    approver = open_page()
    login(approver, "apo", password)
    approver.page.goto(f"{base}/requests/{req.pk}/")
    approver.page.get_by_role("link", name="Sign: approve or reject").click()
    approver.page.wait_for_load_state("networkidle")
    assert len(approver.page.locator("#signing-digest").inner_text().strip()) == 64
    approver.page.get_by_label("Meaning of your signature").select_option("approved for execution")
    approver.page.locator("#approve-form").get_by_label("Your password, to sign").fill(password)
    approver.screenshot("review-sign")
    approver.page.get_by_role("button", name="Sign approval").click()
    approver.page.wait_for_load_state("networkidle")
    assert approver.page.get_by_text("Approved: decision #").is_visible()
    all_figures_drawn(approver)
    approver.screenshot("review-approved")
    assert approver.console_errors == [], approver.console_errors

    # The consumer: a token, then the decision through the API; the page too.
    decision = Decision.objects.get(request=req)
    token = api(f"{base}/api/v1/auth/token/", body={"username": "con", "password": password})
    listing = api(f"{base}/api/v1/decisions/", token=token["token"])
    assert [d["id"] for d in listing["results"]] == [decision.pk]
    detail = api(f"{base}/api/v1/decisions/{decision.pk}/", token=token["token"])
    assert detail["request"] == {"id": req.pk, "title": "pentagon"}
    assert detail["digest"] == decision.digest and len(detail["approvals"]) == 1
    assert detail["provenance"]["solver"] in ("qaoa", "exact")
    consumer = open_page()
    login(consumer, "con", password)
    consumer.page.goto(f"{base}/decisions/{decision.pk}/")
    consumer.screenshot("review-decision")
    assert consumer.console_errors == []
