"""The budgets and backends pages, and the submit page's estimate."""

from __future__ import annotations

import json
import re

import pytest

from jobs.models import LedgerEntry
from quantum.models import BackendConfig
from tests.budgets.conftest import TINY_QAOA, maxcut
from tests.jobs.conftest import work


@pytest.fixture
def browser(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def _figure(html: str, element_id: str) -> dict:
    found = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S
    )
    assert found, f"no json_script {element_id}"
    return json.loads(found.group(1))


def test_the_budgets_page_shows_each_budget_and_draws_spend(browser, admin, submit, priced, budget):
    priced("aer_statevector", per_task="1", per_shot="0.001")
    budget(limit="10")
    work(submit(shots=1000))
    html = browser(admin).get("/budgets/").content.decode()
    assert 'id="budget-table"' in html and ">demo<" in html
    team = _figure(html, "team-figure")
    assert team["data"][0]["name"] == "demo" and team["data"][0]["y"] == [2.0]
    backend = _figure(html, "backend-figure")
    assert backend["data"][0]["name"] == "aer_statevector"
    assert "vendor/plotly/plotly.min.js" in html and "js/budgets.js" in html
    # The CSP allows no inline script: every <script> either loads a file or is JSON data.
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag


def test_the_budgets_page_flags_raised_alerts(browser, admin, budget):
    row = budget(limit="10")
    row.alerts_raised = [0.8]
    row.save()
    html = browser(admin).get("/budgets/").content.decode()
    assert "80% passed" in html


def test_the_backends_page_shows_health_queue_and_usage(browser, operator, submit, priced, budget):
    priced("aer_statevector", per_task="1", per_shot="0.001")
    budget(limit="10")
    work(submit(shots=1000))
    submit(seed=8)  # queued
    client = browser(operator)
    response = client.post("/backends/aer_statevector/test/")
    assert response.status_code == 302
    html = client.get("/backends/").content.decode()
    row = re.search(r'<tr data-backend="aer_statevector">(.*?)</tr>', html, re.S).group(1)
    cells = [
        " ".join(re.sub(r"<[^>]+>", " ", c).split())
        for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]
    assert "ok" in cells[3]  # health: the test just run
    assert cells[4] == "1 queued 0 running"  # the queue now
    assert cells[5] == "2 runs 1,000 shots 2 credits"  # this month
    assert "Test connection" in html


@pytest.mark.parametrize("url", ["/budgets/", "/backends/"])
def test_the_admin_pages_are_403_for_other_roles(browser, analyst, url):
    assert browser(analyst).get(url).status_code == 403


def test_only_operators_may_test_a_connection(browser, analyst, admin):
    for user in (analyst, admin):
        assert browser(user).post("/backends/aer_statevector/test/").status_code == 403
    assert not BackendConfig.objects.get(name="aer_statevector").last_test_at


def test_admins_read_backends_and_are_told_who_changes_them(browser, admin, operator):
    html = browser(admin).get("/backends/").content.decode()
    assert '<tr data-backend="aer_statevector">' in html
    assert "Test connection" not in html and "/change/" not in html
    assert "operators change and test them" in html
    html = browser(operator).get("/backends/").content.decode()
    assert "Test connection" in html and "operators change and test them" not in html


def test_the_admin_nav_links_to_budgets_and_backends(browser, admin, analyst):
    assert 'href="/budgets/"' in browser(admin).get("/").content.decode()
    assert 'href="/budgets/"' not in browser(analyst).get("/").content.decode()


def test_the_submit_page_offers_an_estimate_from_a_script_file(browser, analyst):
    html = browser(analyst).get("/requests/new/").content.decode()
    assert 'id="estimate-button"' in html and "js/estimate.js" in html
    assert 'name="on_budget_exceeded"' in html


def test_the_submit_pages_estimate_answers_from_the_form_fields(browser, analyst, priced, budget):
    priced("aer_statevector", per_task="1", per_shot="0.001")
    budget(limit="10")
    form = {
        "team": "demo",
        "problem": json.dumps(maxcut()),
        "solvers": ["qaoa", "local_search"],
        "quantum_backend": "aer_statevector",
        "options": json.dumps({"qaoa": TINY_QAOA["options"]}),
        "shots": "1000",
        "cache": "bypass",
        "on_budget_exceeded": "refuse",
    }
    response = browser(analyst).post("/requests/new/estimate/", form)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total_credits"] == "2.0" and body["budget"]["remaining"] == "10.0"
    assert {r["solver"] for r in body["runs"]} == {"qaoa", "local_search"}
    assert LedgerEntry.objects.count() == 0


def test_the_submit_pages_estimate_reports_form_errors(browser, analyst):
    form = {"team": "demo", "problem": "{", "cache": "bypass", "on_budget_exceeded": "refuse"}
    response = browser(analyst).post("/requests/new/estimate/", form)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["problem"]


def test_the_estimates_refusals_name_the_forms_fields_as_the_submit_does(browser, analyst):
    form = {
        "team": "demo",
        "problem": json.dumps(maxcut()),
        "solvers": ["qaoa"],
        "quantum_backend": "warp_drive",
        "cache": "bypass",
        "on_budget_exceeded": "refuse",
    }
    response = browser(analyst).post("/requests/new/estimate/", form)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    # Not the API's "solvers[0].backend": the field and label the page shows.
    assert (error["field"], error["label"]) == ("quantum_backend", "Quantum backend")
    assert error["message"].startswith("qaoa: ")


def test_submitting_over_budget_from_the_page_shows_the_reason(browser, analyst, priced, budget):
    priced("aer_statevector", per_task="50")
    budget(limit="3")
    form = {
        "team": "demo",
        "problem": json.dumps(maxcut()),
        "solvers": ["qaoa"],
        "quantum_backend": "aer_statevector",
        "options": "{}",
        "cache": "bypass",
        "on_budget_exceeded": "refuse",
    }
    response = browser(analyst).post("/requests/new/", form)
    assert response.status_code == 400
    assert "Estimated 50.0 credits exceeds the 3.0 credits left" in response.content.decode()


def test_a_request_page_shows_its_cost_and_a_downgrade(browser, analyst, submit, priced, budget):
    priced("aer_noisy:fake_torino", per_task="50")
    priced("aer_statevector", per_task="1", per_shot="0.001")
    budget(limit="10")
    noisy = {"name": "qaoa", "backend": "aer_noisy:fake_torino", "options": {"reps": 1}}
    req = work(submit(solvers=[noisy], shots=1000, on_budget_exceeded="simulate"))
    html = browser(analyst).get(f"/requests/{req.id}/").content.decode()
    assert "instead of aer_noisy:fake_torino" in html
    cost = re.search(r'<p id="request-cost">(.*?)</p>', html, re.S).group(1)
    assert "2 credits settled" in re.sub(r"<[^>]+>", "", cost)
