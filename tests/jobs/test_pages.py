"""The request pages: list with filters and live-status hooks, submit form, one request."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jobs.examples import EXAMPLES
from jobs.models import OptimizationRequest, Run
from tests.jobs.conftest import maxcut, work

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client, analyst, password):
    assert client.login(username=analyst.username, password=password)
    return client


def form(**changes):
    data = {
        "title": "",
        "team": "demo",
        "problem": json.dumps(maxcut()),
        "solvers": ["exact", "local_search"],
        "quantum_backend": "aer_statevector",
        "options": "{}",
        "cache": "bypass",
        "on_budget_exceeded": "refuse",
    }
    data.update(changes)
    return data


def test_pages_need_a_login(client):
    for url in ("/requests/", "/requests/new/", "/requests/1/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_nav_links_to_requests_for_analysts(browser):
    html = browser.get("/").content.decode()
    assert 'href="/requests/"' in html and 'href="/requests/new/"' in html


def test_the_form_offers_examples_and_fills_one_in(browser):
    html = browser.get("/requests/new/").content.decode()
    assert 'value="maxcut-6"' in html and 'value="portfolio-6"' in html
    filled = browser.post("/requests/new/", {"example": "maxcut-6"}).content.decode()
    assert "&quot;maxcut&quot;" in filled
    assert '<label for="id_problem">' in filled
    linked = browser.get("/requests/new/?example=maxcut-6").content.decode()
    assert "&quot;maxcut&quot;" in linked


@pytest.mark.parametrize("slug", sorted(EXAMPLES))
def test_an_example_reads_an_edge_or_a_matrix_row_per_line(browser, slug):
    import html as html_lib

    page = browser.get(f"/requests/new/?example={slug}").content.decode()
    text = html_lib.unescape(
        re.search(r'<textarea name="problem"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    )
    assert json.loads(text) == EXAMPLES[slug].problem
    lines = [line.strip().rstrip(",") for line in text.strip().splitlines()]
    # Not one number per line, as json.dumps(indent=2) printed it.
    assert not [line for line in lines if re.fullmatch(r"-?[\d.]+", line)]
    assert len(lines) <= 16


def test_submitting_the_form_creates_a_request_and_shows_it(browser):
    response = browser.post("/requests/new/", form(title="From the form"), follow=True)
    assert response.status_code == 200
    req = OptimizationRequest.objects.get()
    assert req.title == "From the form"
    assert list(req.runs.values_list("solver", flat=True)) == ["exact", "local_search"]
    html = response.content.decode()
    assert f"#{req.id} From the form" in html and "Request #" in html


def _key(html: str) -> str:
    return re.search(r'name="submission_key" value="([0-9a-f]{32})"', html).group(1)


def test_the_same_form_sent_twice_is_one_request(browser):
    page = browser.get("/requests/new/").content.decode()
    key = _key(page)
    assert key != _key(browser.get("/requests/new/").content.decode())  # one per form drawn
    first = browser.post("/requests/new/", form(title="once", submission_key=key))
    again = browser.post("/requests/new/", form(title="once", submission_key=key), follow=True)
    assert OptimizationRequest.objects.count() == 1
    req = OptimizationRequest.objects.get()
    assert first["Location"] == f"/requests/{req.pk}/"
    assert again.redirect_chain[-1][0] == f"/requests/{req.pk}/"
    assert f"This form was already sent: it is request #{req.pk}." in again.content.decode()
    assert req.runs.count() == 2  # and its runs were not doubled either


def test_the_same_form_changed_and_sent_again_is_a_new_request(browser):
    key = _key(browser.get("/requests/new/").content.decode())
    browser.post("/requests/new/", form(title="first", submission_key=key))
    browser.post("/requests/new/", form(title="second", submission_key=key))
    assert sorted(OptimizationRequest.objects.values_list("title", flat=True)) == [
        "first",
        "second",
    ]


def test_a_refused_form_keeps_its_key_and_the_corrected_one_goes_through(browser):
    key = _key(browser.get("/requests/new/").content.decode())
    refused = browser.post("/requests/new/", form(problem="{", submission_key=key))
    assert refused.status_code == 400 and _key(refused.content.decode()) == key
    assert browser.post("/requests/new/", form(submission_key=key)).status_code == 302
    assert OptimizationRequest.objects.count() == 1


def test_an_uploaded_file_replaces_the_text(browser):
    upload = SimpleUploadedFile("p.json", json.dumps(maxcut(5)).encode(), "application/json")
    browser.post("/requests/new/", form(problem="", problem_file=upload))
    assert OptimizationRequest.objects.get().num_variables == 5


def test_bad_json_is_shown_inline_tied_to_the_field(browser):
    response = browser.post("/requests/new/", form(problem="{nope"))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_problem_error"' in html and "is not valid JSON" in html
    assert 'aria-describedby="id_problem_helptext id_problem_error"' in html
    assert 'aria-invalid="true"' in html
    assert OptimizationRequest.objects.count() == 0


def test_the_services_errors_land_on_the_right_fields(browser):
    bad = maxcut()
    bad["graph"]["edges"][2][0] = 40
    response = browser.post(
        "/requests/new/",
        form(problem=json.dumps(bad), shots="0", solvers=["qaoa"], quantum_backend="warp"),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "problem.graph.edges[2][0]" in html
    assert OptimizationRequest.objects.count() == Run.objects.count() == 0
    # The problem is checked first; fix it and the other fields' errors show.
    response = browser.post(
        "/requests/new/", form(shots="0", solvers=["qaoa"], quantum_backend="warp")
    )
    html = response.content.decode()
    assert 'id="id_shots_error"' in html and "must be between 1 and" in html
    assert 'id="id_quantum_backend_error"' in html and "qaoa: " in html and "warp" in html


def test_the_list_shows_requests_with_hooks_for_live_status(browser, submit):
    req = submit(title="Listed")
    html = browser.get("/requests/").content.decode()
    assert f'data-request-id="{req.id}"' in html and 'data-status="submitted"' in html
    assert 'id="request-table"' in html and "js/requests.js" in html
    assert "<script>" not in html  # the CSP forbids inline scripts
    filtered = browser.get("/requests/?status=cancelled").content.decode()
    assert "Listed" not in filtered


def test_a_request_page_shows_runs_timings_candidates_and_fallback(browser, submit):
    req = work(submit(title="Shown"))
    OptimizationRequest.objects.filter(id=req.id).update(
        fallback=True, fallback_reason="qaoa timed out at the deadline."
    )
    html = browser.get(f"/requests/{req.id}/").content.decode()
    assert "Ranked candidates" in html and "exact" in html and "local_search" in html
    assert f'data-run-id="{req.runs.first().id}"' in html
    assert "qaoa timed out at the deadline." in html
    assert 'data-active="false"' in html


def test_every_on_this_page_link_lands_on_a_panel_of_the_page(browser, submit):
    import re

    html = browser.get(f"/requests/{work(submit()).id}/").content.decode()
    nav = re.search(r'<nav class="page-nav" aria-label="On this page">(.*?)</nav>', html).group(1)
    targets = re.findall(r'href="#([\w-]+)"', nav)
    assert targets[:2] == ["runs", "candidates"]
    assert {"review", "recommend", "figures", "comments", "timeline"} <= set(targets)
    for target in targets:
        assert f'id="{target}"' in html, f"#{target} lands nowhere"


def test_a_waiting_request_links_only_to_the_panels_it_has(browser, submit):
    import re

    html = browser.get(f"/requests/{submit().id}/").content.decode()
    nav = re.search(r'<nav class="page-nav" aria-label="On this page">(.*?)</nav>', html).group(1)
    assert re.findall(r'href="#([\w-]+)"', nav) == ["runs", "candidates", "comments", "timeline"]


def test_solver_options_read_as_the_api_takes_them(browser, submit):
    req = submit(solvers=[{"name": "annealing", "options": {"sweeps": 50}}])
    html = browser.get(f"/requests/{req.id}/").content.decode()
    assert "{&quot;sweeps&quot;: 50}" in html


def test_short_solve_times_read_in_milliseconds():
    from jobs.templatetags.jobs_tags import seconds

    assert [seconds(v) for v in (0.000682, 0.0123, 0.449, 3.14159, 125)] == [
        "0.68 ms",
        "12 ms",
        "449 ms",
        "3.14 s",
        "2 min 5 s",
    ]


def test_cancel_and_rerun_buttons_work(browser, submit):
    req = submit()
    response = browser.post(f"/requests/{req.id}/cancel/", follow=True)
    assert "cancelled" in response.content.decode()
    req.refresh_from_db()
    assert req.status == "cancelled"
    response = browser.post(f"/requests/{req.id}/rerun/", follow=True)
    rerun = OptimizationRequest.objects.exclude(id=req.id).get()
    assert rerun.rerun_of_id == req.id and "Rerun of" in response.content.decode()


def test_another_teams_request_page_is_not_found(client, make_user, make_team, submit, password):
    req = submit()
    make_user("zed", "analyst", team=make_team("other"))
    client.login(username="zed", password=password)
    assert client.get(f"/requests/{req.id}/").status_code == 404


def test_approvers_do_not_see_the_submit_form(client, approver, password):
    client.login(username=approver.username, password=password)
    assert client.get("/requests/new/").status_code == 403
    assert client.get("/requests/").status_code == 200


def test_an_upload_with_an_error_comes_back_in_the_text_box(browser):
    bad = maxcut(5)
    bad["graph"]["edges"][0][0] = 40
    upload = SimpleUploadedFile("p.json", json.dumps(bad).encode(), "application/json")
    response = browser.post("/requests/new/", form(problem="", problem_file=upload))
    assert response.status_code == 400
    # The browser drops the file input: the file's text is now the box's, so
    # fixing it there and submitting sends the fixed file, not the old text.
    assert response.context["form"]["problem"].value() == json.dumps(bad)
    html = response.content.decode()
    assert 'id="id_problem_error"' in html and "problem.graph.edges[0][0]" in html
    assert "was read into the text box above" in html
    assert OptimizationRequest.objects.count() == 0


def test_an_upload_that_is_not_json_comes_back_in_the_text_box(browser):
    upload = SimpleUploadedFile("p.json", b'{"type": "maxcut",', "application/json")
    response = browser.post("/requests/new/", form(problem="old text", problem_file=upload))
    assert response.status_code == 400
    assert response.context["form"]["problem"].value() == '{"type": "maxcut",'
    assert "is not valid JSON" in response.content.decode()


@pytest.mark.parametrize(
    ("ticked", "options", "message"),
    [
        (
            ["exact"],
            {"qaoa": {"reps": 3}},
            "has options for qaoa, not ticked above: tick it or remove the options",
        ),
        # None ticked runs the defaults, which would drop these options too.
        (
            [],
            {"qaoa": {"reps": 3}, "annealing": {"sweeps": 9}},
            "has options for annealing, qaoa, not ticked above: tick them or remove the options",
        ),
    ],
)
def test_options_for_a_solver_not_ticked_are_an_error_not_dropped(
    browser, ticked, options, message
):
    response = browser.post("/requests/new/", form(solvers=ticked, options=json.dumps(options)))
    assert response.status_code == 400
    assert response.context["form"].errors["options"] == [message]
    assert OptimizationRequest.objects.count() == 0
