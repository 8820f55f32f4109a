"""What layout and scripts decide, in a real browser: wide tables fit a 1024 px laptop,
live status updates use the server's words, the estimate reads as an estimate, and only
code-like text boxes look like code."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from approvals import services as review
from approvals.audit import audit_record
from jobs import services
from jobs.models import Budget, RequestStatus
from jobs.services.budget import current_period
from quantum.models import BackendConfig
from tests.approvals.review_support import best, ranked_request

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PENTAGON = {"type": "maxcut", "graph": {"nodes": 5, "edges": [[i, (i + 1) % 5] for i in range(5)]}}
NARROW = {"width": 1024, "height": 768}
# Reads every .table-wrap: [table id, scrollWidth, clientWidth].
WIDTHS = (
    "() => [...document.querySelectorAll('.table-wrap')]"
    ".map(w => [w.querySelector('table').id, w.scrollWidth, w.clientWidth])"
)


@pytest.fixture
def world(make_team: Any, make_user: Any, password: str) -> dict[str, Any]:
    """A decided request, and audit events with long JSON, long reasons and long names."""
    team = make_team("demo")
    ana = make_user("ana", "analyst", team=team)
    apo = make_user("apo", "approver", team=team)
    for name, role in (("aud", "auditor"), ("adm", "admin"), ("ops", "operator")):
        make_user(name, role, team=team)
    req = ranked_request(ana, team=team, title="a request with a fairly long title for a table")
    review.request_recommend(request=req, actor=ana, candidate_id=best(req).pk, comment="ok")
    review.request_approve(
        request=req,
        actor=apo,
        candidate_id=best(req).pk,
        meaning="approved for execution",
        password=password,
    )
    with transaction.atomic():
        audit_record(
            action="budget.changed",
            team=team,
            system="accounts.membership_add_with_a_long_name",
            before={"digest": "f" * 64, "thresholds": [0.5, 0.8]},
            after={"digest": "e" * 64, "note": "x" * 300},
            reason="A long reason, written by a person who had a lot to say about it. " * 3,
        )
    req.refresh_from_db()
    return {"decision": req.decision}


def _signed_in(open_page: Any, login: Any, username: str, password: str) -> Any:
    probe = open_page()
    probe.page.set_viewport_size(NARROW)
    login(probe, username, password)
    return probe


@pytest.mark.parametrize(
    ("username", "path", "tables"),
    [
        ("aud", "/audit/", {"audit-table"}),
        ("aud", "/decisions/{decision}/evidence/", {"evidence-runs", "evidence-audit"}),
        ("adm", "/backends/", {"backend-table"}),
        ("ops", "/backends/", {"backend-table"}),  # with the Actions column
    ],
)
def test_wide_tables_fit_a_1024_pixel_screen(
    open_page, login, live_server, password, world, username, path, tables
):
    probe = _signed_in(open_page, login, username, password)
    page = probe.page
    page.goto(live_server.url + path.format(decision=world["decision"].pk))
    page.wait_for_load_state("networkidle")
    widths = {name: (scroll, client) for name, scroll, client in page.evaluate(WIDTHS)}
    assert tables <= set(widths)
    for name in tables:
        scroll, client = widths[name]
        assert scroll <= client + 1, f"{name} is {scroll} px wide in a {client} px card"
    # And the page itself does not scroll sideways.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= NARROW["width"]
    name = re.sub(r"\W+", "-", path.format(decision="d")).strip("-")
    probe.screenshot(f"ux-1024-{name}")
    assert probe.console_errors == []


def test_the_backends_actions_are_on_screen_at_1024(open_page, login, live_server, password, world):
    from django.utils import timezone

    from quantum.models import BackendConfig

    # Tested backends: the health cell holds the result, its time and message.
    BackendConfig.objects.update(
        last_test_at=timezone.now(),
        last_test_ok=True,
        last_test_latency_ms=885,
        last_test_message="ran a 16-shot 1-qubit job",
    )
    probe = _signed_in(open_page, login, "ops", password)
    page = probe.page
    page.goto(f"{live_server.url}/backends/")
    row = page.locator('tr[data-backend="aer_mps"]')
    box = row.get_by_role("button", name="Test connection").bounding_box()
    assert box is not None and box["x"] + box["width"] <= NARROW["width"]
    # The health cell reads in a few lines, not a word per line (it was 9 lines).
    health = row.locator('[data-field="health"]')
    lines = page.evaluate(
        "el => Math.round(el.getBoundingClientRect().height"
        " / parseFloat(getComputedStyle(el).lineHeight))",
        health.element_handle(),
    )
    assert lines <= 6, lines


def test_live_status_updates_use_the_same_words_as_the_server(
    open_page, login, live_server, password, make_team, make_user
):
    team = make_team("demo")
    ana = make_user("ana", "analyst", team=team)
    solvers = [{"name": "exact"}, {"name": "local_search"}]
    req = services.request_submit(
        requester=ana, problem=PENTAGON, solvers=solvers, title="live", enqueue=False
    ).request
    probe = open_page()
    login(probe, "ana", password)
    page = probe.page
    page.goto(f"{live_server.url}/requests/")
    status = page.locator(f'tr[data-request-id="{req.pk}"] [data-field="status"]')
    assert status.inner_text() == "Submitted"
    for run in req.runs.all():
        services.run_execute(run_id=run.id, worker="e2e")
    req.refresh_from_db()
    assert req.status == RequestStatus.READY_FOR_REVIEW
    page.wait_for_function(
        "el => el.textContent === 'Ready for review'", arg=status.element_handle(), timeout=15_000
    )
    runs = page.locator(f'tr[data-request-id="{req.pk}"] [data-field="runs"]')
    live = (status.inner_text(), runs.inner_text(), status.get_attribute("class"))
    page.reload()
    assert (status.inner_text(), runs.inner_text(), status.get_attribute("class")) == live
    assert "exact: Succeeded" in live[1]
    assert probe.console_errors == []


def test_live_status_updates_a_row_on_the_second_page_of_the_list(
    open_page, login, live_server, password, make_team, make_user
):
    # The page shows 25 rows and the API 50 by default: the poll must ask for
    # the rows on screen, not the API's own page 2 (which did not exist).
    team = make_team("demo")
    ana = make_user("ana", "analyst", team=team)
    solvers = [{"name": "local_search"}]
    submit = services.request_submit
    oldest = submit(requester=ana, problem=PENTAGON, solvers=solvers, enqueue=False).request
    for i in range(25):  # newer ones push the oldest onto page 2
        submit(requester=ana, problem=PENTAGON, solvers=solvers, title=f"n{i}", enqueue=False)
    probe = open_page()
    login(probe, "ana", password)
    page = probe.page
    page.goto(f"{live_server.url}/requests/?page=2")
    status = page.locator(f'tr[data-request-id="{oldest.pk}"] [data-field="status"]')
    assert status.inner_text() == "Submitted"
    for run in oldest.runs.all():
        services.run_execute(run_id=run.id, worker="e2e")
    page.wait_for_function(
        "el => el.textContent === 'Ready for review'", arg=status.element_handle(), timeout=15_000
    )
    assert "paused" not in page.locator("#poll-status").inner_text()
    older = page.get_by_role("link", name="Newer").get_attribute("href")
    assert older is not None and older.count("page=") == 1


def test_a_long_unbroken_title_wraps_instead_of_widening_the_pages(
    open_page, login, live_server, password, make_team, make_user
):
    team = make_team("demo")
    ana = make_user("ana", "analyst", team=team)
    title = "X" * 200
    req = ranked_request(ana, team=team, title=title)
    review.request_recommend(request=req, actor=ana, candidate_id=best(req).pk, comment="ok")
    probe = open_page()
    probe.page.set_viewport_size(NARROW)
    login(probe, "ana", password)
    page = probe.page
    for path in (f"/requests/{req.pk}/", "/requests/", "/review/"):
        page.goto(f"{live_server.url}{path}")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= NARROW["width"], (path, width)


def test_the_estimate_shows_rounded_credits_and_rough_seconds(
    open_page, login, live_server, password, make_team, make_user
):
    team = make_team("demo")
    make_user("ana", "analyst", team=team)
    BackendConfig.objects.filter(name="aer_statevector").update(
        cost_per_task=Decimal(1), cost_per_shot=Decimal("0.001")
    )
    Budget.objects.create(team=team, period=current_period(), limit_credits=Decimal(10))
    probe = open_page()
    login(probe, "ana", password)
    page = probe.page
    page.goto(f"{live_server.url}/requests/new/")
    page.get_by_label("Problem", exact=False).first.fill(json.dumps(PENTAGON))
    page.get_by_label("qaoa (quantum)").check()
    page.get_by_label("local_search (classical)").check()
    page.get_by_label("Shots").fill("1000")
    page.get_by_role("button", name="Estimate cost").click()
    result = page.locator("#estimate-result")
    result.locator("table").wait_for(timeout=15_000)
    rows = {
        cells[0]: cells
        for cells in result.locator("tbody tr").evaluate_all(
            "rows => rows.map(r => [...r.cells].map(c => c.textContent))"
        )
    }
    assert rows["qaoa"][4] == "2.00" and rows["local_search"][4] == "free"
    for cells in rows.values():
        assert re.fullmatch(r"< 0\.1 s|about \d+(\.\d)? (s|min)", cells[5]), cells[5]
    assert re.search(r"Total: 2\.00 credits, (< 0\.1 s|about \d)", result.inner_text())
    assert probe.console_errors == []


def test_only_code_like_text_boxes_are_monospace(
    open_page, login, live_server, password, make_team, make_user
):
    team = make_team("demo")
    ana = make_user("ana", "analyst", team=team)
    req = ranked_request(ana, team=team)
    probe = open_page()
    login(probe, "ana", password)
    page = probe.page
    font = "el => getComputedStyle(el).fontFamily"
    page.goto(f"{live_server.url}/requests/new/")
    assert "mono" in page.locator('textarea[name="problem"]').evaluate(font)
    page.goto(f"{live_server.url}/requests/{req.pk}/")
    comment = page.get_by_label("Add a comment")
    assert "mono" not in comment.evaluate(font)
    height = comment.evaluate("el => el.getBoundingClientRect().height")
    assert height < 150  # three rows of prose, not a 12rem code box


# Every text of every chart (tick labels, axis titles, legend) against its chart's frame,
# as [chart id, text, overflow in px]; only those that stick out.
CLIPPED_TEXTS = """() => [...document.querySelectorAll('[data-review-figure]')].flatMap(fig => {
  const frame = fig.querySelector('.main-svg').getBoundingClientRect();
  return [...fig.querySelectorAll('svg text')].map(t => {
    const box = t.getBoundingClientRect();
    const out = Math.max(frame.left - box.left, box.right - frame.right);
    return [fig.id, t.textContent, Math.round(out)];
  }).filter(([, text, out]) => text && out > 1);
})"""
PORTFOLIO_4 = {
    "type": "portfolio",
    "expected_returns": [0.12, 0.1, 0.07, 0.03],
    "covariance": [
        [0.04, 0.006, 0.004, 0.0],
        [0.006, 0.03, 0.005, 0.001],
        [0.004, 0.005, 0.02, 0.001],
        [0.0, 0.001, 0.001, 0.005],
    ],
    "budget": 2,
    "risk_factor": 0.5,
}


def test_the_charts_keep_their_labels_inside_their_frames_at_1024(
    open_page, login, live_server, password, make_team, make_user
):
    # The portfolio chart's right axis had its tick labels cut and its title drawn
    # over them, worst in the compare page's half-width charts.
    team = make_team("demo")
    ana = make_user("ana", "analyst", team=team)
    req = ranked_request(ana, team=team, problem=PORTFOLIO_4, title="four assets")
    first, second = req.candidates.order_by("rank")[:2]
    probe = _signed_in(open_page, login, "ana", password)
    page = probe.page
    for path in (
        f"/requests/{req.pk}/",
        f"/requests/{req.pk}/compare/?a={first.pk}&b={second.pk}",
    ):
        page.goto(live_server.url + path)
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-review-figure]')]"
            ".every(f => f.dataset.drawn === 'true')",
            timeout=30_000,
        )
        assert page.locator("[data-review-figure]").count() >= 1
        assert page.evaluate(CLIPPED_TEXTS) == [], path
    probe.screenshot("ux-1024-compare-portfolio")
    assert probe.console_errors == []


@pytest.mark.parametrize("path", ["/requests/", "/review/"])
def test_a_status_checkbox_stays_beside_its_word_at_1024(
    open_page, login, live_server, password, world, path
):
    probe = _signed_in(open_page, login, "ana", password)
    page = probe.page
    page.goto(f"{live_server.url}{path}")
    split = page.evaluate(
        """() => [...document.querySelectorAll('input[type=checkbox][name=status]')]
            .map(box => [box.parentElement.textContent.trim(),
                         box.getBoundingClientRect().top,
                         box.parentElement.getClientRects().length])
            .filter(([, , parts]) => parts > 1)"""
    )
    assert split == [], f"labels broken across lines: {split}"
    assert page.locator("input[type=checkbox][name=status]").count() == 8
