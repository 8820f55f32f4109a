"""The review pages with Django's test client: what each role sees and can do."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from approvals import services
from approvals.digest import signing_digest
from approvals.models import ApprovalPolicy, Decision, Signature
from jobs.models import RequestStatus
from tests.approvals.review_support import best, candidate_ranked, huge_request, ranked_request
from tests.conftest import PASSWORD


@pytest.fixture
def people(make_user, team, make_team):
    class People:
        ana = make_user("ana", "analyst", team=team)
        apo = make_user("apo", "approver", team=team)
        con = make_user("con", "consumer", team=team)
        adm = make_user("adm", "admin", team=team)
        out = make_user("out", "analyst", team=make_team("other"))

    return People


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def req(people, team):
    return ranked_request(people.ana, team=team)


def recommend(req, user):
    services.request_recommend(request=req, actor=user, candidate_id=best(req).pk, comment="best")
    req.refresh_from_db()


# The queue ----------------------------------------------------------------------


def test_the_queue_lists_my_teams_requests_awaiting_review_with_their_gap(people, team, req):
    ranked_request(people.out, team=people.out.teams.get(), title="not mine")
    ranked_request(people.ana, team=team, title="still running", status=RequestStatus.RUNNING)
    page = browser(people.ana).get("/review/")
    assert page.status_code == 200
    rows = page.context["page"].object_list
    assert [r.title for r in rows] == ["square"]
    assert (rows[0].quantum_best, rows[0].classical_best, rows[0].gap) == (4.0, 4.0, 0.0)
    assert b'id="review-queue"' in page.content


def test_the_queue_filters_by_fallback_and_gap_and_sorts_by_gap(people, team, req):
    behind = ranked_request(
        people.ana, team=team, title="quantum behind", counts={"0011": 10, "0110": 5}
    )
    type(behind).objects.filter(pk=behind.pk).update(fallback=True)
    client = browser(people.ana)
    by_gap = client.get("/review/?sort=gap").context["page"].object_list
    assert [r.title for r in by_gap] == ["quantum behind", "square"]
    assert by_gap[0].gap == 2.0 and by_gap[0].gap_relative == 0.5
    only_fallback = client.get("/review/?fallback=yes").context["page"].object_list
    assert [r.title for r in only_fallback] == ["quantum behind"]
    big_gap = client.get("/review/?min_gap_percent=10").context["page"].object_list
    assert [r.title for r in big_gap] == ["quantum behind"]


@pytest.mark.parametrize("who", ["con", "adm"])
def test_consumers_and_admins_have_no_review_queue(people, who):
    assert browser(getattr(people, who)).get("/review/").status_code == 403


# The request page ------------------------------------------------------------------


def test_the_request_page_embeds_the_figures_and_offers_the_analyst_a_recommendation(people, req):
    page = browser(people.ana).get(f"/requests/{req.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="review-figures"' in html and "vendor/plotly/plotly.min.js" in html
    assert html.count("data-review-figure=") == 4
    assert f'action="/requests/{req.pk}/recommend/#recommend"' in html
    assert "Gap to best" in html and "Cost (credits)" in html
    assert "Audit timeline" in html and "request.submitted" in html
    assert "<script>" not in html  # the CSP allows no inline script


def test_the_candidates_table_reads_a_classical_answer_as_an_answer_not_a_probability(people, req):
    page = browser(people.ana).get(f"/requests/{req.pk}/")
    table = page.content.decode().split('id="candidates"', 1)[1].split("</table>", 1)[0]
    cells = [
        re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in table.split("<tr>")[2:]
    ]  # rank, bitstring, objective, gap, feasible, probability, source
    shown = {(row[1], row[6].split()[0]): row[5] for row in cells}
    for c in req.candidates.select_related("run"):
        cell = shown[(c.bitstring, c.run.solver)]
        if c.run.solver == "qaoa":  # sampled: the share of the shots
            assert cell == f"{c.count / sum(c.run.distribution.counts().values()):.4f}"
        elif c.run_rank == 1:
            assert cell == "answer"
        else:
            assert cell == '<span class="muted">not sampled</span>'
    assert {"answer", '<span class="muted">not sampled</span>'} <= set(shown.values())


def test_an_analyst_recommends_through_the_form(people, req):
    response = browser(people.ana).post(
        f"/requests/{req.pk}/recommend/",
        {"candidate": candidate_ranked(req, 2).pk, "comment": "balanced"},
    )
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == RequestStatus.RECOMMENDED
    assert req.recommendations.get().candidate == candidate_ranked(req, 2)


def test_a_recommendation_without_a_reason_keeps_the_choice_and_says_so_at_the_field(people, req):
    second = candidate_ranked(req, 2).pk
    response = browser(people.ana).post(
        f"/requests/{req.pk}/recommend/", {"candidate": second, "comment": "   "}
    )
    assert response.status_code == 400
    html = response.content.decode()
    form = html.split('id="recommend"', 1)[1].split("</form>", 1)[0]
    assert 'role="alert" id="recommend-errors">Nothing was recorded' in form
    assert 'id="id_comment_error"' in form and "This field is required." in form
    assert 'aria-invalid="true"' in form and 'aria-describedby="id_comment_error"' in form
    assert f'<option value="{second}" selected>' in form  # the choice is kept
    assert f'action="/requests/{req.pk}/recommend/#recommend"' in form
    req.refresh_from_db()
    assert req.status == RequestStatus.READY_FOR_REVIEW and not req.recommendations.exists()


def test_a_refused_recommendation_keeps_the_reason_typed(people, req):
    response = browser(people.ana).post(
        f"/requests/{req.pk}/recommend/", {"candidate": 987654, "comment": "my careful reasons"}
    )
    assert response.status_code == 400
    form = response.content.decode().split('id="recommend"', 1)[1].split("</form>", 1)[0]
    assert "my careful reasons</textarea>" in form
    assert 'id="id_candidate_error"' in form


def test_reloading_the_address_of_a_refused_recommendation_opens_the_form(people, req):
    response = browser(people.ana).get(f"/requests/{req.pk}/recommend/")
    assert response.status_code == 302
    assert response["Location"] == f"/requests/{req.pk}/#recommend"


def test_an_approver_sees_the_sign_link_once_recommended(people, req):
    assert b"Sign: approve or reject" not in browser(people.apo).get(f"/requests/{req.pk}/").content
    recommend(req, people.ana)
    assert b"Sign: approve or reject" in browser(people.apo).get(f"/requests/{req.pk}/").content


def test_comments_are_posted_and_shown(people, req):
    client = browser(people.apo)
    assert client.post(f"/requests/{req.pk}/comments/", {"body": "why rank 2?"}).status_code == 302
    assert b"why rank 2?" in client.get(f"/requests/{req.pk}/").content


@pytest.mark.slow
def test_a_request_page_over_a_two_to_the_twenty_distribution_stays_under_500_kb(people, team):
    # Render time is a benchmark (bench/review_page.py), not a unit-test bound.
    req = huge_request(people.ana, team=team)
    client = browser(people.ana)
    first = client.get(f"/requests/{req.pk}/")  # builds and caches the figures
    page = client.get(f"/requests/{req.pk}/")
    assert first.status_code == page.status_code == 200
    assert len(first.content) < 500_000, len(first.content)


# Signing ---------------------------------------------------------------------------


def test_the_sign_page_shows_the_digest_and_signs_with_the_password(people, req):
    recommend(req, people.ana)
    client = browser(people.apo)
    page = client.get(f"/requests/{req.pk}/sign/")
    assert page.status_code == 200
    digest = signing_digest(req)
    assert digest.encode() in page.content
    form = {
        "action": "approve",
        "digest": digest,
        "candidate": best(req).pk,
        "meaning": "approved for execution",
        "comment": "ok",
        "password": "not it",
    }
    refused = client.post(f"/requests/{req.pk}/sign/", form)
    assert refused.status_code == 403 and b"nothing was signed" in refused.content
    # Said at the password field too, tied to it, where it is typed again.
    html = refused.content.decode()
    assert 'id="approve_password_error"' in html and "type your password again" in html
    assert 'aria-describedby="approve_password_error"' in html
    assert not Signature.objects.exists()
    signed = client.post(f"/requests/{req.pk}/sign/", {**form, "password": PASSWORD})
    assert signed.status_code == 302
    assert Decision.objects.get().digest == signing_digest(req, best(req))


def test_a_stale_sign_form_is_refused_with_409(people, req):
    recommend(req, people.ana)
    form = {"action": "reject", "digest": "c" * 64, "reason": "no", "password": PASSWORD}
    response = browser(people.apo).post(f"/requests/{req.pk}/sign/", form)
    assert response.status_code == 409 and b"changed since you opened it" in response.content


def test_a_rejection_through_the_sign_page(people, req):
    recommend(req, people.ana)
    form = {"action": "reject", "digest": signing_digest(req), "reason": "no", "password": PASSWORD}
    assert browser(people.apo).post(f"/requests/{req.pk}/sign/", form).status_code == 302
    req.refresh_from_db()
    assert req.status == RequestStatus.REJECTED


def test_the_sign_pages_two_forms_have_ids_of_their_own_and_name_their_errors(people, req):
    recommend(req, people.ana)
    client = browser(people.apo)
    html = client.get(f"/requests/{req.pk}/sign/").content.decode()
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert 'for="reject_password"' in html and 'id="reject_password"' in html
    form = {"action": "reject", "digest": signing_digest(req), "reason": "", "password": "x"}
    refused = client.post(f"/requests/{req.pk}/sign/", form).content.decode()
    # The error is there to be read with its field: aria-describedby points at it.
    assert 'aria-describedby="reject_reason_error"' in refused
    assert 'id="reject_reason_error"' in refused


def test_filter_errors_on_the_audit_and_review_pages_are_tied_to_their_fields(people):
    audit = browser(people.adm).get("/audit/", {"since": "not a date"}).content.decode()
    assert 'aria-describedby="id_since_error"' in audit and 'id="id_since_error"' in audit
    queue = browser(people.ana).get("/review/", {"older_than_hours": "-5"}).content.decode()
    assert 'id="id_older_than_hours_error"' in queue


def test_a_queue_filter_that_is_not_valid_lists_nothing(people, req):
    html = browser(people.ana).get("/review/", {"older_than_hours": "-5"}).content.decode()
    assert f"#{req.pk} " not in html and "a filter above is not valid" in html
    assert f"#{req.pk} " in browser(people.ana).get("/review/").content.decode()


def test_the_waiting_column_says_which_way_it_is_sorted(people, req):
    html = browser(people.ana).get("/review/", {"sort": "age"}).content.decode()
    # sort=age puts the longest-waiting first: the waiting times descend.
    assert re.search(r'aria-sort="descending"><a [^>]*>Waiting', html)


def test_opening_the_rerun_address_again_leads_back_to_the_requests_rerun_form(people, req):
    # After a refused re-run the address bar holds the form's POST address.
    response = browser(people.ana).get(f"/requests/{req.pk}/rerun-with-changes/")
    assert response.status_code == 302
    assert response["Location"] == f"/requests/{req.pk}/#rerun"


def test_analysts_cannot_open_the_sign_page(people, req):
    recommend(req, people.ana)
    assert browser(people.ana).get(f"/requests/{req.pk}/sign/").status_code == 403


# Compare -----------------------------------------------------------------------------


def test_the_compare_view_shows_two_candidates_and_the_variables_that_differ(people, req):
    a, b = candidate_ranked(req, 1), candidate_ranked(req, 3)
    page = browser(people.ana).get(f"/requests/{req.pk}/compare/?a={a.pk}&b={b.pk}")
    assert page.status_code == 200
    differ = page.context["differ"]
    pairs = zip(a.assignment, b.assignment, strict=True)
    assert [i for i, _, _ in differ] == [i for i, (x, y) in enumerate(pairs) if x != y]
    assert [f["id"] for f in page.context["payload"]["figures"]] == ["compare-a", "compare-b"]
    assert b'id="review-figures"' in page.content


def test_the_compare_view_says_when_an_id_is_not_this_requests(people, req, team):
    other = ranked_request(people.ana, team=team, title="other")
    foreign = candidate_ranked(other, 1)
    client = browser(people.ana)
    page = client.get(f"/requests/{req.pk}/compare/?a={foreign.pk}&b=zzz")
    assert page.status_code == 200
    assert page.context["a"].request_id == req.pk  # the default pick, not the foreign one
    html = page.content.decode()
    assert 'id="compare-replaced"' in html
    assert f"candidate &#x27;{foreign.pk}&#x27;, candidate &#x27;zzz&#x27;" in html
    runs = client.get(f"/requests/{req.pk}/compare/?run_a=999999").content.decode()
    assert "run &#x27;999999&#x27;" in runs
    # A pick of its own says nothing.
    own = candidate_ranked(req, 1)
    assert b"compare-replaced" not in client.get(f"/requests/{req.pk}/compare/?a={own.pk}").content


def test_the_compare_view_shows_two_runs_with_their_distance(people, team):
    noisy = {"0101": 200, "1010": 150, "0011": 200, "0110": 200, "1111": 150, "0000": 124}
    req = ranked_request(people.ana, team=team, noisy_counts=noisy)
    qaoa = list(req.runs.filter(solver="qaoa").order_by("id"))
    page = browser(people.ana).get(
        f"/requests/{req.pk}/compare/?run_a={qaoa[0].pk}&run_b={qaoa[1].pk}"
    )
    assert page.status_code == 200
    assert page.context["payload"]["tvd"] == pytest.approx(0.2, abs=0.01)
    assert b"Total variation distance" in page.content


# Decisions and policies ----------------------------------------------------------------


def test_a_consumer_reads_the_decision_pages_of_their_team_only(people, req, make_user, make_team):
    recommend(req, people.ana)
    services.request_approve(
        request=req,
        actor=people.apo,
        candidate_id=best(req).pk,
        meaning="approved for execution",
        password=PASSWORD,
    )
    decision = Decision.objects.get()
    client = browser(people.con)
    listing = client.get("/decisions/")
    assert listing.status_code == 200 and f"#{decision.pk}".encode() in listing.content
    assert client.get(f"/decisions/{decision.pk}/").status_code == 200
    assert client.get(f"/requests/{req.pk}/").status_code == 404
    stranger = make_user("ocon", "consumer", team=make_team("elsewhere"))
    assert browser(stranger).get(f"/decisions/{decision.pk}/").status_code == 404
    assert browser(people.adm).get("/decisions/").status_code == 403


def test_an_admin_changes_the_policy_on_its_page_and_others_only_read_it(people, make_user, team):
    make_user("apo2", "approver", team=team)
    assert browser(people.adm).get("/policies/").status_code == 200
    form = {"approvals_required": 2, "approvals_required_above_cost": 2}
    assert browser(people.adm).post("/teams/demo/policy/", form).status_code == 302
    assert ApprovalPolicy.objects.get(team=team).approvals_required == 2
    page = browser(people.apo).get("/teams/demo/policy/")
    assert page.status_code == 200 and b"policy-form" not in page.content
    assert browser(people.apo).post("/teams/demo/policy/", form).status_code == 403
    too_many = {**form, "approvals_required": 5, "approvals_required_above_cost": 5}
    assert browser(people.adm).post("/teams/demo/policy/", too_many).status_code == 400


def test_the_sign_page_holds_back_an_account_after_repeated_wrong_passwords(people, req, settings):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"login": "1/min", "password_reset": "5/hour"}
    }
    recommend(req, people.ana)
    client = browser(people.apo)
    form = {
        "action": "approve",
        "digest": signing_digest(req),
        "candidate": best(req).pk,
        "meaning": "approved for execution",
        "password": "not it",
    }
    assert client.post(f"/requests/{req.pk}/sign/", form).status_code == 403
    held = client.post(f"/requests/{req.pk}/sign/", {**form, "password": PASSWORD})
    assert held.status_code == 429
    assert "Too many wrong passwords: signing is held back for" in held.content.decode()
    assert not Signature.objects.exists()
