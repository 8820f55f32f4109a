"""A campaign's page follows its runs without a reload (static/js/refresh.js)."""

from __future__ import annotations

import pytest

from jobs import services
from jobs.models import Run

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PENTAGON = {"type": "maxcut", "graph": {"nodes": 5, "edges": [[i, (i + 1) % 5] for i in range(5)]}}


def test_the_campaign_page_shows_it_sent_and_its_runs_finish_without_a_reload(
    open_page, login, live_server, password, make_team, make_user
):
    team = make_team("demo")
    ana = make_user("ana", "analyst", team=team)
    campaign = services.campaign_create(actor=ana, team=team, title="sweep", window_seconds=600)
    services.request_submit(
        requester=ana, problem=PENTAGON, solvers=[{"name": "exact"}], campaign=campaign
    )
    probe = open_page()
    login(probe, "ana", password)
    page = probe.page
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    status = page.locator("#campaign-status")
    table = page.locator("#campaign-variants")
    assert "Collecting" in status.inner_text() and "Queued" in table.inner_text()

    # Elsewhere: the window closes (as beat would) and a worker runs the run.
    services.campaign_dispatch(campaign=campaign)
    for run in Run.objects.filter(request__campaign=campaign):
        services.run_execute(run_id=run.id, worker="e2e")

    page.wait_for_function(
        "() => document.querySelector('#campaign-variants').textContent.includes('Succeeded')",
        timeout=20_000,
    )
    assert "Collecting" not in page.locator("#campaign-status").inner_text()
    # Settled: the server renders the parts without the refresh attribute, so polling stops.
    assert page.locator("[data-refresh-seconds]").count() == 0
    assert probe.console_errors == [] and probe.failed_requests == []
