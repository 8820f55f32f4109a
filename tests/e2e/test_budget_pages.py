"""Budgets, backends and the submit page's estimate in a real browser (under the strict CSP)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from jobs import services
from jobs.models import Budget, RunStatus
from jobs.services.budget import current_period
from quantum.models import BackendConfig

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SQUARE = {"type": "maxcut", "graph": {"nodes": 4, "edges": [[0, 1], [1, 2], [2, 3], [3, 0]]}}
QAOA = {"name": "qaoa", "backend": "aer_statevector", "options": {"reps": 1, "maxiter": 4}}


@pytest.fixture
def priced_team(make_team: Any) -> Any:
    team = make_team("demo")
    BackendConfig.objects.filter(name="aer_statevector").update(
        cost_per_task=Decimal(1), cost_per_shot=Decimal("0.001")
    )
    Budget.objects.create(team=team, period=current_period(), limit_credits=Decimal(10))
    return team


def test_an_analyst_sees_the_cost_before_submitting(
    open_page, login, live_server, make_user, password, priced_team
):
    make_user("ana", "analyst", team=priced_team)
    probe = open_page()
    login(probe, "ana", password)
    page = probe.page
    page.goto(f"{live_server.url}/requests/new/")
    page.get_by_label("Problem", exact=False).first.fill(__import__("json").dumps(SQUARE))
    page.get_by_label("qaoa (quantum)").check()
    page.get_by_label("Shots").fill("1000")
    page.get_by_role("button", name="Estimate cost").click()
    result = page.locator("#estimate-result")
    result.locator("table").wait_for(timeout=15_000)
    assert "aer_statevector" in result.inner_text()
    assert "Total: 2.00 credits" in result.inner_text()
    assert "10.00 of 10.00 credits left" in result.inner_text()
    probe.screenshot("estimate")
    assert probe.console_errors == [] and probe.failed_requests == []


def test_the_estimate_warns_before_submitting_a_run_that_would_outlast_its_deadline(
    open_page, login, live_server, make_user, password, make_team
):
    make_user("ana", "analyst", team=make_team("demo"))
    probe = open_page()
    login(probe, "ana", password)
    page = probe.page
    page.goto(f"{live_server.url}/requests/new/")
    twelve = {
        "type": "maxcut",
        "graph": {"nodes": 12, "edges": [[i, (i + 1) % 12] for i in range(12)]},
    }
    page.get_by_label("Problem", exact=False).first.fill(__import__("json").dumps(twelve))
    page.get_by_label("qaoa (quantum)").check()
    page.get_by_label("Quantum backend").fill("aer_noisy:fake_torino")
    page.get_by_label("Solve deadline (seconds)").fill("1")
    page.get_by_role("button", name="Estimate cost").click()
    result = page.locator("#estimate-result")
    result.locator("table").wait_for(timeout=15_000)
    text = result.inner_text()
    assert "Warning: qaoa on aer_noisy:fake_torino is estimated at about" in text
    assert "longer than the 1 s deadline" in text
    assert probe.console_errors == [] and probe.failed_requests == []


def test_an_admin_sees_spend_drawn_and_an_operator_tests_a_backend(
    open_page, login, live_server, make_user, password, priced_team
):
    analyst = make_user("ana", "analyst", team=priced_team)
    make_user("adm", "admin", team=priced_team)
    make_user("ops", "operator", team=priced_team)
    req = services.request_submit(
        requester=analyst, problem=SQUARE, solvers=[QAOA], shots=1000, enqueue=False
    ).request
    for run in req.runs.all():
        services.run_execute(run_id=run.id, worker="e2e")
    assert req.runs.get().status == RunStatus.SUCCEEDED
    probe = open_page()
    login(probe, "adm", password)
    page = probe.page
    page.goto(f"{live_server.url}/budgets/")
    for figure in ("team-figure", "backend-figure"):
        page.locator(f'[data-figure="{figure}"] .main-svg').first.wait_for(timeout=30_000)
    probe.screenshot("budgets")
    assert probe.console_errors == [] and probe.failed_requests == []
    probe = open_page()
    login(probe, "ops", password)
    page = probe.page
    page.goto(f"{live_server.url}/backends/")
    row = page.locator('tr[data-backend="aer_mps"]')
    row.get_by_role("button", name="Test connection").click()
    page.wait_for_load_state("networkidle")
    assert "aer_mps: ran a 16-shot 1-qubit job" in page.locator(".messages").inner_text()
    assert "ok" in page.locator('tr[data-backend="aer_mps"] [data-field="health"]').inner_text()
    probe.screenshot("backends")
    assert probe.console_errors == [] and probe.failed_requests == []
