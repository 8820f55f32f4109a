"""The request page and the submit form, as a usability review found them wanting.

Cancelling took one click on the first, red button; picking an example threw
away what was typed; a refused re-run lost its input; "deadline" read as a
sign-off date; the runs table hid its cost and errors at 1024 px.
"""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client

from jobs.models import OptimizationRequest
from jobs.services.campaigns import campaign_create
from tests.approvals.review_support import ranked_request
from tests.jobs.conftest import work

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(analyst) -> Client:
    client = Client()
    client.force_login(analyst)
    return client


def text(html: str) -> str:
    """What a person reads: the page without its tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def between(html: str, start: str, end: str) -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


def new_request_form(**changes):
    data = {
        "title": "",
        "team": "demo",
        "problem": "",
        "quantum_backend": "aer_statevector",
        "options": "{}",
        "shots": "",
        "seed": "",
        "deadline_seconds": "",
        "cache": "bypass",
        "campaign": "",
        "on_budget_exceeded": "refuse",
    }
    data.update(changes)
    return data


# 2. Cancel: after the constructive actions, and confirmed -------------------------------


def test_cancel_comes_after_run_again_and_needs_a_second_deliberate_click(browser, submit):
    req = submit(title="Still solving")
    html = browser.get(f"/requests/{req.id}/").content.decode()
    actions = between(html, 'id="request-actions"', "</nav>")
    assert actions.index("Run again") < actions.index("Cancel request")
    disclosure = between(actions, '<details id="cancel-request">', "</details>")
    assert "<summary>Cancel request…</summary>" in disclosure
    assert "Cancelling is final" in text(disclosure)
    assert f"Yes, cancel request #{req.id}" in text(disclosure)
    assert f'action="/requests/{req.id}/cancel/"' in disclosure
    # The only red button is the confirmation inside the disclosure.
    assert html.count('class="danger"') == 1 and 'class="danger"' in disclosure


def test_the_confirmation_still_cancels(browser, submit):
    req = submit()
    response = browser.post(f"/requests/{req.id}/cancel/", follow=True)
    assert f"Request #{req.id} cancelled." in text(response.content.decode())


# 3a. An example keeps what was typed, and the campaign ----------------------------------


def test_the_examples_are_buttons_of_the_form_so_they_carry_what_was_typed(browser):
    html = browser.get("/requests/new/").content.decode()
    assert "{#" not in html and "comment %}" not in html  # template comments stay unseen
    form = between(html, '<form method="post" enctype="multipart/form-data"', "</form>")
    assert '<button type="submit" name="example" value="maxcut-6"' in form
    # Enter in a field still submits: the first submit button of the form is a plain one.
    default = form.index('<button type="submit" hidden>Submit</button>')
    assert default < form.index('name="example"')


def test_picking_an_example_keeps_the_typed_title_and_the_campaign(browser, analyst, team):
    campaign = campaign_create(actor=analyst, team=team, title="sweep", window_seconds=600)
    typed = new_request_form(
        title="My cut", campaign=str(campaign.id), shots="512", example="maxcut-6"
    )
    response = browser.post("/requests/new/", typed)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="My cut"' in html
    assert f'<option value="{campaign.id}" selected>' in html
    assert 'value="512"' in html
    assert "&quot;maxcut&quot;" in between(html, 'name="problem"', "</textarea>")
    assert "field-error" not in html  # a pick is not a submission: nothing is refused
    assert OptimizationRequest.objects.count() == 0


def test_an_example_names_an_untitled_request(browser):
    html = browser.post("/requests/new/", new_request_form(example="portfolio-6")).content.decode()
    assert 'value="Portfolio: choose 3 of 6 assets"' in html


def test_a_campaigns_add_a_request_link_keeps_the_campaign_with_an_example(browser, analyst, team):
    campaign = campaign_create(actor=analyst, team=team, title="sweep", window_seconds=600)
    html = browser.get(f"/requests/new/?campaign={campaign.id}&example=maxcut-6").content.decode()
    assert f'<option value="{campaign.id}" selected>' in html
    assert "&quot;maxcut&quot;" in html


# 3b. A refused re-run keeps its input and says what is wrong where ---------------------


@pytest.fixture
def reviewed(analyst, team):
    return ranked_request(analyst, team=team, title="reviewed")


def rerun_panel(html: str) -> str:
    return between(html, 'id="rerun"', "</section>")


def test_a_refused_rerun_shows_its_errors_at_the_fields_and_keeps_the_input(browser, reviewed):
    response = browser.post(
        f"/requests/{reviewed.pk}/rerun-with-changes/",
        {"shots": "0", "seed": "11", "solvers": "", "comment": "more shots please"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    panel = rerun_panel(html)
    assert "<details open>" in panel
    assert 'id="id_rerun_shots_error"' in panel and "greater than or equal to 1" in panel
    assert 'aria-invalid="true"' in panel
    assert 'value="0"' in panel and 'value="11"' in panel and "more shots please" in panel
    assert '<ul class="messages"' not in html  # not a banner at the top
    assert f'action="/requests/{reviewed.pk}/rerun-with-changes/#rerun"' in panel
    assert OptimizationRequest.objects.count() == 1


def test_the_services_objection_lands_on_the_solvers_field(browser, reviewed):
    solvers = json.dumps([{"name": "qaoa", "backend": "warp-drive"}])
    response = browser.post(
        f"/requests/{reviewed.pk}/rerun-with-changes/", {"solvers": solvers, "comment": ""}
    )
    assert response.status_code == 400
    panel = rerun_panel(response.content.decode())
    error = between(panel, 'id="id_rerun_solvers_error"', "</div>")
    assert "solvers[0].backend" in error and "warp-drive" in error
    assert "warp-drive" in between(panel, 'name="solvers"', "</textarea>")


def test_an_accepted_rerun_still_goes_to_the_new_request(browser, reviewed):
    response = browser.post(
        f"/requests/{reviewed.pk}/rerun-with-changes/", {"seed": "11", "comment": "again"}
    )
    rerun = OptimizationRequest.objects.exclude(pk=reviewed.pk).get()
    assert response.status_code == 302 and response["Location"] == f"/requests/{rerun.pk}/"


def test_the_rerun_panel_is_closed_until_used(browser, reviewed):
    panel = rerun_panel(browser.get(f"/requests/{reviewed.pk}/").content.decode())
    assert "<details>" in panel and "field-error" not in panel


# 4. The solve deadline is the solvers' time, not a sign-off date -------------------------


def solve_line(html: str) -> str:
    return text(between(html, 'id="solve-deadline">', "</p>"))


def test_an_active_request_shows_its_solve_deadline_with_the_date(browser, submit):
    req = submit()
    line = solve_line(browser.get(f"/requests/{req.id}/").content.decode())
    assert f"Solve deadline: {req.deadline:%Y-%m-%d %H:%M:%S} UTC" in line


def test_a_solved_request_does_not_present_its_deadline_as_pending(browser, submit):
    req = work(submit())
    line = solve_line(browser.get(f"/requests/{req.id}/").content.decode())
    assert line.startswith(f"Solving finished: {req.ready_at:%Y-%m-%d %H:%M:%S} UTC")
    assert "no longer applies" in line and "Solve deadline:" not in line


def test_a_request_held_in_a_collecting_campaign_says_so_instead_of_a_deadline(
    browser, submit, analyst, team
):
    campaign = campaign_create(actor=analyst, team=team, title="sweep", window_seconds=600)
    req = submit(campaign=campaign)
    line = solve_line(browser.get(f"/requests/{req.id}/").content.decode())
    assert line == f"Held until campaign #{campaign.id} is sent; its solve deadline starts then."


def test_the_forms_call_it_a_solve_deadline(browser, reviewed):
    assert "Solve deadline (seconds)" in browser.get("/requests/new/").content.decode()
    panel = rerun_panel(browser.get(f"/requests/{reviewed.pk}/").content.decode())
    assert "Solve deadline (seconds)" in panel


# 5. The runs table: fewer columns, the rest in the row's details -----------------------


def test_the_runs_table_shows_cost_and_errors_and_folds_the_rest(browser, submit):
    req = work(submit())
    run = req.runs.order_by("id").first()
    type(run).objects.filter(pk=run.pk).update(error_message="backend went away")
    html = browser.get(f"/requests/{req.id}/").content.decode()
    table = between(html, 'id="run-table"', "</table>")
    headers = [text(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", table, re.S)]
    assert headers == [
        "Run",
        "Solver and backend",
        "Status",
        "Tier",
        "Best objective",
        "Solve time",
        "Cost (credits)",
        "Attempts, queue, circuit",
    ]
    row = between(table, f'<tr data-run-id="{run.id}">', "</tr>")
    status_cell = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[2]
    assert "backend went away" in status_cell
    details = between(row, "<details>", "</details>")
    assert f"Attempt {run.attempt} / {run.max_attempts}" in text(details)
    assert "Queued" in details and "Circuit" in details and "Shots" in details
    # The live updates (static/js/requests.js) find every field they write.
    for field in ("status", "attempt", "tier", "total", "queued", "error"):
        assert f'data-field="{field}"' in row


def test_the_runs_table_reads_each_runs_best_against_the_requests_one_optimum(browser, submit):
    # local_search stores no ratio of its own (a heuristic knows no optimum); the
    # page measures it against the exact run's proven optimum, as the compare page does.
    req = work(submit())
    html = browser.get(f"/requests/{req.id}/").content.decode()
    table = between(html, 'id="run-table"', "</table>")
    for run in req.runs.all():
        cells = re.findall(
            r"<td[^>]*>(.*?)</td>", between(table, f'data-run-id="{run.id}">', "</tr>"), re.S
        )
        assert text(cells[4]) == "8 ratio 1.000", run.solver
    note = text(between(html, 'id="ratio-note"', "</p>"))
    assert "against this request's optimum, 8, proven by exhaustive search" in note


def test_without_an_optimum_the_runs_table_claims_no_ratio(browser, submit):
    req = work(submit(solvers=[{"name": "local_search"}]))
    html = browser.get(f"/requests/{req.id}/").content.decode()
    table = between(html, 'id="run-table"', "</table>")
    assert "ratio" not in text(table) and 'id="ratio-note"' not in html
    assert "8" in text(table)  # the best objective is still shown


def test_the_rerun_forms_labels_name_its_own_fields(browser, reviewed):
    # The recommend form sits on the same page; a shared id_comment made the
    # re-run's "Why" label fill the recommendation's box instead.
    html = browser.get(f"/requests/{reviewed.pk}/").content.decode()
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    panel = rerun_panel(html)
    assert '<label for="id_rerun_comment">' in panel and 'id="id_rerun_comment"' in panel
