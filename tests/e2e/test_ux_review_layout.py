"""The fixes of the review pages' usability review, in a real browser at a laptop's 1024 px.

Layout (do the tables fit?), a disclosure that must work without JavaScript,
and what the Enter key does once the examples are buttons of the form.
"""

from __future__ import annotations

from typing import Any

import pytest

from approvals import services
from jobs.models import OptimizationRequest, RequestStatus
from tests.approvals.review_support import best, ranked_request

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LONG_TITLE = "Quarterly rebalancing of the pension fund's six-asset portfolio"


@pytest.fixture
def world(make_team: Any, make_user: Any) -> dict[str, Any]:
    team = make_team("demo")
    ana = make_user("ana", "analyst", team=team)
    make_user("apo", "approver", team=team)
    waiting = ranked_request(ana, team=team, title=LONG_TITLE)
    services.request_recommend(
        request=waiting, actor=ana, candidate_id=best(waiting).pk, comment="cuts every edge"
    )
    fresh = ranked_request(ana, team=team, title="fresh results")
    first_run = fresh.runs.order_by("id").first()
    type(first_run).objects.filter(pk=first_run.pk).update(
        error_message="BackendError: the provider refused the job (HTTP 503); retried 3 times"
    )
    return {"waiting": waiting, "fresh": fresh}


def overflow(page: Any, wrapper: str) -> int:
    """How many pixels the table's wrapper would have to scroll sideways."""
    script = "s => { const w = document.querySelector(s); return w.scrollWidth - w.clientWidth; }"
    return int(page.evaluate(script, wrapper))


def at_1024(open_page: Any) -> Any:
    probe = open_page()
    probe.page.set_viewport_size({"width": 1024, "height": 768})
    return probe


def test_the_queue_and_the_runs_table_fit_a_1024_px_laptop(
    open_page, live_server, login, password, world
):
    approver = at_1024(open_page)
    login(approver, "apo", password)
    page = approver.page
    page.goto(f"{live_server.url}/review/?show=all")
    assert overflow(page, ".table-wrap") <= 0
    title = page.get_by_role("link", name=f"#{world['waiting'].pk} {LONG_TITLE}")
    box = title.bounding_box()
    line = page.evaluate(
        "el => parseFloat(getComputedStyle(el).lineHeight)", title.element_handle()
    )
    assert box["height"] <= 3 * line, "the title is squeezed to a word per line"
    approver.screenshot("ux-review-queue-1024")

    page.goto(f"{live_server.url}/requests/{world['fresh'].pk}/")
    page.wait_for_load_state("networkidle")
    assert overflow(page, "#runs .table-wrap") <= 0
    for header in ("Cost (credits)", "Status"):
        assert page.locator("#run-table th", has_text=header).is_visible()
    assert page.get_by_text("the provider refused the job").first.is_visible()
    page.locator("#run-table summary").first.click()  # the row's details open in place
    assert page.locator("#run-table dt", has_text="Circuit").first.is_visible()
    approver.screenshot("ux-review-request-runs-1024")
    assert approver.console_errors == []


def test_an_approver_goes_from_the_queue_to_signing_and_then_reads_when_they_signed(
    open_page, live_server, login, password, world
):
    approver = at_1024(open_page)
    login(approver, "apo", password)
    page = approver.page
    page.goto(f"{live_server.url}/review/")
    page.get_by_role("link", name=f"Sign request #{world['waiting'].pk}").click()
    page.wait_for_load_state("networkidle")
    page.get_by_label("Meaning of your signature").select_option("approved for execution")
    page.locator("#approve-form").get_by_label("Your password, to sign").fill(password)
    page.get_by_role("button", name="Sign approval").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("You approved this on").is_visible()
    assert page.get_by_role("link", name="Sign: approve or reject").count() == 0
    assert approver.console_errors == []


def test_cancelling_takes_a_second_click_and_works_without_javascript(
    browser, live_server, password, world
):
    context = browser.new_context(
        viewport={"width": 1024, "height": 768}, java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Username").fill("ana")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        req = world["fresh"]
        page.goto(f"{live_server.url}/requests/{req.pk}/")
        confirm = page.get_by_role("button", name=f"Yes, cancel request #{req.pk}")
        assert not confirm.is_visible()
        page.get_by_text("Cancel request…").click()
        assert confirm.is_visible()
        confirm.click()
        page.wait_for_load_state()
        assert page.get_by_text(f"Request #{req.pk} cancelled.").is_visible()
    finally:
        context.close()
    req.refresh_from_db()
    assert req.status == RequestStatus.CANCELLED


def test_an_example_keeps_the_typed_title_and_enter_still_submits(
    open_page, live_server, login, password, world
):
    analyst = at_1024(open_page)
    login(analyst, "ana", password)
    page = analyst.page
    page.goto(f"{live_server.url}/requests/new/")
    page.get_by_label("Title").fill("My cut")
    page.get_by_role("button", name="MaxCut: 6-node ring with two chords").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_label("Title").input_value() == "My cut"
    assert '"maxcut"' in page.locator("#id_problem").input_value()
    assert OptimizationRequest.objects.filter(title="My cut").count() == 0
    page.get_by_label("Title").press("Enter")  # the form's default button is Submit
    page.wait_for_load_state("networkidle")
    assert page.get_by_text("submitted.").first.is_visible()
    assert OptimizationRequest.objects.filter(title="My cut").count() == 1
    assert analyst.console_errors == []
