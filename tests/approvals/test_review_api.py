"""The review and sign-off API: status codes, the role matrix, decisions for consumers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.digest import signing_digest
from approvals.models import ApprovalPolicy, AuditEvent, Decision, Signature
from jobs.models import RequestStatus
from tests.approvals.review_support import best, ranked_request
from tests.conftest import PASSWORD


@pytest.fixture
def people(make_user, team, make_team):
    other = make_team("other")

    class People:
        ana = make_user("ana", "analyst", team=team)
        apo = make_user("apo", "approver", team=team)
        apo2 = make_user("apo2", "approver", team=team)
        con = make_user("con", "consumer", team=team)
        aud = make_user("aud", "auditor", team=team)
        adm = make_user("adm", "admin", team=team)
        other_con = make_user("ocon", "consumer", team=other)
        other_apo = make_user("oapo", "approver", team=other)
        other_ana = make_user("oana", "analyst", team=other)

    return People


@pytest.fixture
def req(people, team):
    return ranked_request(people.ana, team=team)


def url(req, action):
    return f"/api/v1/requests/{req.pk}/{action}/"


def recommend(client_as, req, user):
    return client_as(user).post(
        url(req, "recommend"),
        {"candidate": best(req).pk, "comment": "cuts all four edges"},
        format="json",
    )


def approve_body(req, **kw):
    body = {"candidate": best(req).pk, "meaning": "approved for execution", "password": PASSWORD}
    body.update(kw)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def recommended(client_as, req, people):
    assert recommend(client_as, req, people.ana).status_code == 201
    return req


# Recommend, comment ---------------------------------------------------------


def test_an_analyst_recommends_through_the_api(client_as, req, people):
    response = recommend(client_as, req, people.ana)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["candidate"] == best(req).pk and body["request_status"] == "recommended"
    assert body["analyst"] == "ana"


@pytest.mark.parametrize("who", ["apo", "con", "aud", "adm"])
def test_other_roles_cannot_recommend(client_as, req, people, who):
    response = recommend(client_as, req, getattr(people, who))
    assert response.status_code == 403
    assert set(response.json()) == {"detail", "errors"}


def test_an_analyst_of_another_team_gets_404_on_recommend(client_as, req, people):
    assert recommend(client_as, req, people.other_ana).status_code == 404


def test_recommending_a_foreign_candidate_is_a_400_naming_the_field(client_as, req, people, team):
    other = ranked_request(people.ana, team=team, title="other")
    response = client_as(people.ana).post(
        url(req, "recommend"), {"candidate": best(other).pk, "comment": "x"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "candidate"


def test_recommending_twice_is_a_409(client_as, recommended, people):
    assert recommend(client_as, recommended, people.ana).status_code == 409


def test_recommending_a_request_still_solving_is_a_409_naming_its_state(client_as, people, team):
    solving = ranked_request(people.ana, team=team, status=RequestStatus.RUNNING)
    response = client_as(people.ana).post(
        url(solving, "recommend"), {"candidate": 1, "comment": "too early"}, format="json"
    )
    assert response.status_code == 409
    assert "is running; only a request ready for review" in response.json()["detail"]
    assert not AuditEvent.objects.filter(action="recommendation.made").exists()


def test_the_comment_thread_reads_and_grows(client_as, req, people):
    post = client_as(people.apo).post(url(req, "comments"), {"body": "looks fine"}, format="json")
    assert post.status_code == 201
    thread = client_as(people.ana).get(url(req, "comments")).json()["results"]
    assert [(c["author"], c["body"]) for c in thread] == [("apo", "looks fine")]
    assert client_as(people.con).get(url(req, "comments")).status_code == 404


# Approve, reject -------------------------------------------------------------


def test_an_approver_approves_with_the_password_and_a_decision_is_made(
    client_as, recommended, people
):
    response = client_as(people.apo).post(
        url(recommended, "approve"),
        approve_body(recommended, comment="go", digest=signing_digest(recommended)),
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["request_status"] == "approved"
    assert (body["approvals"], body["approvals_required"]) == (1, 1)
    assert body["decision"] == Decision.objects.get().pk
    assert body["signature"]["printed_name"] == "Apo Test"
    assert body["signature"]["digest"] == signing_digest(recommended, best(recommended))


@pytest.mark.parametrize("password", ["wrong", "", None])
def test_a_wrong_or_missing_password_is_403_and_nothing_is_signed(
    client_as, recommended, people, password
):
    response = client_as(people.apo).post(
        url(recommended, "approve"), approve_body(recommended, password=password), format="json"
    )
    assert response.status_code == 403
    assert "password" in response.json()["detail"]
    recommended.refresh_from_db()
    assert recommended.status == RequestStatus.RECOMMENDED
    assert not Signature.objects.exists()


def test_self_approval_is_403(client_as, make_user, team, people):
    dual = make_user("dual", "analyst", "approver", team=team)
    own = ranked_request(dual, team=team)
    assert recommend(client_as, own, people.ana).status_code == 201
    response = client_as(dual).post(url(own, "approve"), approve_body(own), format="json")
    assert response.status_code == 403
    assert not Signature.objects.exists()


@pytest.mark.parametrize("who", ["ana", "con", "aud", "adm"])
def test_analysts_consumers_auditors_and_admins_cannot_approve_or_reject(
    client_as, recommended, people, who
):
    client = client_as(getattr(people, who))
    approve = client.post(url(recommended, "approve"), approve_body(recommended), format="json")
    reject = client.post(
        url(recommended, "reject"), {"reason": "no", "password": PASSWORD}, format="json"
    )
    assert (approve.status_code, reject.status_code) == (403, 403)
    assert not Signature.objects.exists()


def test_an_approver_of_another_team_gets_404(client_as, recommended, people):
    response = client_as(people.other_apo).post(
        url(recommended, "approve"), approve_body(recommended), format="json"
    )
    assert response.status_code == 404


def test_approving_before_a_recommendation_is_409(client_as, req, people):
    response = client_as(people.apo).post(url(req, "approve"), approve_body(req), format="json")
    assert response.status_code == 409


def test_a_stale_digest_is_409(client_as, recommended, people):
    response = client_as(people.apo).post(
        url(recommended, "approve"), approve_body(recommended, digest="b" * 64), format="json"
    )
    assert response.status_code == 409
    assert "changed since you opened it" in response.json()["detail"]


def test_an_unknown_meaning_is_400(client_as, recommended, people):
    response = client_as(people.apo).post(
        url(recommended, "approve"), approve_body(recommended, meaning="vibes"), format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "meaning"


def test_a_rejection_needs_a_reason(client_as, recommended, people):
    response = client_as(people.apo).post(
        url(recommended, "reject"), {"password": PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "reason"


def test_a_rejection_rejects_and_a_later_approval_is_409(client_as, recommended, people):
    reject = client_as(people.apo).post(
        url(recommended, "reject"), {"reason": "unbalanced", "password": PASSWORD}, format="json"
    )
    assert reject.status_code == 201
    assert reject.json()["request_status"] == "rejected"
    late = client_as(people.apo2).post(
        url(recommended, "approve"), approve_body(recommended), format="json"
    )
    assert late.status_code == 409


def test_two_approvals_when_the_policy_asks_for_two(client_as, recommended, people, team):
    ApprovalPolicy.objects.create(team=team, approvals_required=2, approvals_required_above_cost=2)
    first = client_as(people.apo).post(
        url(recommended, "approve"), approve_body(recommended), format="json"
    )
    assert first.json()["request_status"] == "recommended"
    again = client_as(people.apo).post(
        url(recommended, "approve"), approve_body(recommended), format="json"
    )
    assert again.status_code == 409
    second = client_as(people.apo2).post(
        url(recommended, "approve"), approve_body(recommended), format="json"
    )
    assert second.json()["request_status"] == "approved"


def test_a_rerun_through_the_jobs_api_voids_the_pending_approvals(
    client_as, recommended, people, team
):
    ApprovalPolicy.objects.create(team=team, approvals_required=2, approvals_required_above_cost=2)
    client_as(people.apo).post(
        url(recommended, "approve"), approve_body(recommended), format="json"
    )
    response = client_as(people.ana).post(
        f"/api/v1/requests/{recommended.pk}/rerun/",
        {"solvers": [{"name": "exact"}]},
        format="json",
    )
    assert response.status_code == 201, response.content
    signature = Signature.objects.get(request=recommended)
    assert signature.void_reason == f"re-run requested as request #{response.json()['id']}"


# Decisions ------------------------------------------------------------------


@pytest.fixture
def decided(client_as, recommended, people):
    response = client_as(people.apo).post(
        url(recommended, "approve"), approve_body(recommended), format="json"
    )
    assert response.status_code == 201
    return Decision.objects.get()


def test_a_consumer_fetches_the_decision_with_its_provenance(client_as, decided, people):
    listing = client_as(people.con).get("/api/v1/decisions/")
    assert listing.status_code == 200
    assert [d["id"] for d in listing.json()["results"]] == [decided.pk]
    detail = client_as(people.con).get(f"/api/v1/decisions/{decided.pk}/").json()
    assert detail["request"] == {"id": decided.request_id, "title": "square"}
    assert detail["chosen"]["assignment"] == decided.assignment
    assert detail["chosen"]["objective"] == 4.0
    assert detail["digest"] == decided.digest
    assert detail["provenance"]["solver"] == decided.provenance["solver"]
    assert detail["provenance"]["fallback"] is False
    assert detail["cost_credits"] == 0.0  # a number, like every credit amount
    [approval] = detail["approvals"]
    assert approval["name"] == "Apo Test" and approval["meaning"] == "approved for execution"
    assert approval["time"]


def test_decisions_are_scoped_to_the_consumers_teams(client_as, decided, people):
    assert client_as(people.other_con).get("/api/v1/decisions/").json()["results"] == []
    assert client_as(people.other_con).get(f"/api/v1/decisions/{decided.pk}/").status_code == 404


def test_decisions_filter_by_team_and_since(client_as, decided, people):
    client = client_as(people.con)
    assert client.get("/api/v1/decisions/?team=other").json()["results"] == []
    assert len(client.get("/api/v1/decisions/?team=demo").json()["results"]) == 1
    future = (timezone.now() + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert client.get("/api/v1/decisions/", {"since": future}).json()["results"] == []
    assert client.get("/api/v1/decisions/?since=yesterday").status_code == 400


@pytest.mark.parametrize("who,code", [("ana", 200), ("apo", 200), ("aud", 200), ("adm", 403)])
def test_team_staff_read_decisions_admins_do_not(client_as, decided, people, who, code):
    assert client_as(getattr(people, who)).get("/api/v1/decisions/").status_code == code


def test_a_consumer_cannot_read_requests_candidates_or_figures(
    client_as, decided, req, people, team
):
    pending = ranked_request(people.ana, team=team, title="pending")
    client = client_as(people.con)
    for target in (decided.request, pending):
        assert client.get(f"/api/v1/requests/{target.pk}/").status_code == 404
        assert client.get(url(target, "figures")).status_code == 404
        assert client.get(url(target, "comments")).status_code == 404
    assert client.get("/api/v1/requests/").status_code == 403


# Figures ----------------------------------------------------------------------


def test_the_figures_endpoint_returns_the_page_figures_and_the_digest(client_as, req, people):
    response = client_as(people.ana).get(url(req, "figures"))
    assert response.status_code == 200
    body = response.json()
    assert body["digest"] == signing_digest(req)
    kinds = [f["kind"] for f in body["figures"]]
    assert kinds == ["measurement", "objective", "convergence", "problem"]
    for figure in body["figures"]:
        assert figure["figure"]["data"] and figure["title"] and figure["caption"]


# Policy -------------------------------------------------------------------------


def test_team_members_read_the_policy_and_admins_change_it(client_as, people):
    assert client_as(people.ana).get("/api/v1/teams/demo/policy/").json()["approvals_required"] == 1
    denied = client_as(people.apo).patch(
        "/api/v1/teams/demo/policy/", {"approvals_required": 2}, format="json"
    )
    assert denied.status_code == 403
    changed = client_as(people.adm).patch(
        "/api/v1/teams/demo/policy/",
        {"approvals_required": 2, "cost_threshold_credits": "12.5"},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert changed.json()["approvals_required"] == 2
    assert changed.json()["updated_by"] == "adm"
    assert AuditEvent.objects.filter(action="policy.changed").count() == 1
    assert client_as(people.other_con).get("/api/v1/teams/demo/policy/").status_code == 404


def test_an_account_that_keeps_typing_wrong_passwords_is_held_back_from_signing(
    client_as, recommended, people, settings
):
    settings.REST_FRAMEWORK = settings.REST_FRAMEWORK | {
        "DEFAULT_THROTTLE_RATES": {"login": "2/min", "password_reset": "5/hour"}
    }
    api = client_as(people.apo)
    for guess in ("wrong-1", "wrong-2"):
        response = api.post(
            url(recommended, "approve"), approve_body(recommended, password=guess), format="json"
        )
        assert response.status_code == 403
    # Even the right password now waits: a guesser learns nothing from it.
    held = api.post(url(recommended, "approve"), approve_body(recommended), format="json")
    assert held.status_code == 429
    assert int(held["Retry-After"]) > 0
    assert "Too many wrong passwords: signing is held back for" in held.json()["detail"]
    assert not Signature.objects.exists()
    refusal = AuditEvent.objects.filter(action="signature.refused").order_by("seq").last()
    assert refusal.reason == "held back after repeated wrong passwords"
    # Another approver is not held back by apo's mistakes.
    other = client_as(people.apo2).post(
        url(recommended, "approve"), approve_body(recommended), format="json"
    )
    assert other.status_code == 201
