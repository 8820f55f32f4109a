"""The REST API: status codes, error shape, role matrix, filters, idempotency, solve-and-wait."""

from __future__ import annotations

import json
import time

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from approvals.models import AuditEvent
from jobs.models import OptimizationRequest, Run
from tests.jobs.conftest import FAST_SOLVERS, maxcut, work

pytestmark = pytest.mark.django_db
URL = "/api/v1/requests/"


def body(**changes):
    data = {"problem": maxcut(), "solvers": FAST_SOLVERS}
    data.update(changes)
    return data


@pytest.fixture
def ana(client_as, analyst):
    return client_as(analyst)


def _fields(response) -> set[str]:
    return {e["field"] for e in response.json()["errors"]}


def _no_rows() -> bool:
    return OptimizationRequest.objects.count() == Run.objects.count() == 0


def test_posting_a_problem_creates_a_request_and_returns_it(ana):
    response = ana.post(URL, body(title="Ring"), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "submitted" and data["title"] == "Ring"
    assert [r["solver"] for r in data["runs"]] == ["exact", "local_search"]
    assert data["runs"][0]["backend"] is None and data["candidates"] == []
    assert OptimizationRequest.objects.get().id == data["id"]


def test_only_the_problem_is_required(ana):
    response = ana.post(URL, {"problem": maxcut()}, format="json")
    assert response.status_code == 201
    assert [(r["solver"], r["backend"]) for r in response.json()["runs"]] == [
        ("qaoa", "aer_statevector"),
        ("exact", None),
    ]


def test_the_detail_shows_runs_and_candidates_sorted_by_rank(ana):
    created = ana.post(URL, body(), format="json").json()
    work(OptimizationRequest.objects.get(id=created["id"]))
    data = ana.get(f"{URL}{created['id']}/").json()
    assert data["status"] == "ready_for_review" and data["fallback"] is False
    run = data["runs"][0]
    for key in (
        "id",
        "solver",
        "backend",
        "status",
        "attempt",
        "tier",
        "timings",
        "metrics",
        "circuit",
        "error",
    ):
        assert key in run
    ranks = [c["rank"] for c in data["candidates"]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    first = data["candidates"][0]
    assert set(first) >= {
        "id",
        "rank",
        "assignment",
        "bitstring",
        "objective",
        "feasible",
        "probability",
        "solver",
        "backend",
        "run",
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "problem"),
        (
            body(problem={"type": "maxcut", "graph": {"nodes": 3, "edges": [[0, 1], [1, 7]]}}),
            "problem.graph.edges[1][1]",
        ),
        (body(problem={"type": "teleport"}), "problem.type"),
        (body(problem=[1, 2]), "problem"),
        (body(schema_version="2"), "schema_version"),
        (body(solvers=[{"backend": "aer_mps"}]), "solvers[0].name"),
        (body(solvers=[{"name": "exact"}, {"name": "warp"}]), "solvers[1].name"),
        (body(solvers=[{"name": "qaoa", "options": {"reps": 0}}]), "solvers[0].options"),
        (body(solvers=[{"name": "annealing", "options": {"sweeps": -1}}]), "solvers[0].options"),
        # JSON integers have no bound; one past any float is refused, not a 500.
        (body(solvers=[{"name": "qaoa", "options": {"optimum": 10**400}}]), "solvers[0].options"),
        (
            body(solvers=[{"name": "qaoa", "options": {"cvar_alpha": 10**400}}]),
            "solvers[0].options",
        ),
        (
            body(solvers=[{"name": "annealing", "options": {"initial_temperature": 10**400}}]),
            "solvers[0].options",
        ),
        (body(solvers=[{"name": "qaoa", "colour": "red"}]), "solvers[0].colour"),
        (body(solvers=[]), "solvers"),
        (body(shots="many"), "shots"),
        (body(shots=0), "shots"),
        (body(seed=-3), "seed"),
        (body(deadline_seconds=10**9), "deadline_seconds"),
        (body(cache="maybe"), "cache"),
        (body(team="nope"), "team"),
        (body(shot=100), "shot"),
    ],
)
def test_every_bad_input_gets_a_400_naming_the_field_and_leaves_no_rows(ana, data, field):
    response = ana.post(URL, data, format="json")
    assert response.status_code == 400, response.json()
    assert field in _fields(response), response.json()
    assert response.json()["detail"]
    assert _no_rows()


def test_malformed_json_is_a_400_and_leaves_no_rows(ana):
    response = ana.generic("POST", URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert _no_rows()


def test_a_number_too_large_for_a_float_is_a_400_at_its_path(ana):
    raw = (
        '{"problem": {"type": "maxcut", "graph": {"nodes": 3, "edges": [[0, 1, 1e400]]}},'
        ' "solvers": [{"name": "exact"}]}'
    )
    response = ana.generic("POST", URL, raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "problem.graph.edges[0][2]", "message": "is a number too large for a float"}
    ]
    assert _no_rows()


def test_an_oversized_body_gets_413_and_leaves_no_rows(ana, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = body(problem=maxcut(200))
    response = ana.post(URL, big, format="json")
    assert response.status_code == 413 and "limit is 1000 bytes" in response.json()["detail"]
    assert _no_rows()


def test_the_same_idempotency_key_and_body_return_the_original_request(ana):
    first = ana.post(URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="abc")
    # Same JSON, keys in another order: still the same body.
    reordered = json.dumps(dict(reversed(list(body().items()))))
    again = ana.generic(
        "POST", URL, reordered, content_type="application/json", HTTP_IDEMPOTENCY_KEY="abc"
    )
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert OptimizationRequest.objects.count() == 1


def test_the_same_idempotency_key_with_another_body_is_a_422(ana):
    ana.post(URL, body(), format="json", HTTP_IDEMPOTENCY_KEY="abc")
    response = ana.post(URL, body(seed=9), format="json", HTTP_IDEMPOTENCY_KEY="abc")
    assert response.status_code == 422
    assert "already used with a different body" in response.json()["detail"]
    assert OptimizationRequest.objects.count() == 1


def test_the_list_is_paginated_and_filtered(ana, analyst, make_team):
    for i in range(3):
        ana.post(URL, body(title=f"r{i}"), format="json")
    cancelled = OptimizationRequest.objects.order_by("id").first()
    OptimizationRequest.objects.filter(id=cancelled.id).update(status="cancelled")
    data = ana.get(URL, {"page_size": 2}).json()
    assert set(data) == {"count", "next", "previous", "results"}
    assert data["count"] == 3 and len(data["results"]) == 2 and data["next"]
    assert [r["title"] for r in data["results"]] == ["r2", "r1"]  # newest first
    only = ana.get(URL, {"status": "cancelled"}).json()
    assert [r["id"] for r in only["results"]] == [cancelled.id]
    both = ana.get(URL, {"status": "cancelled,submitted"}).json()
    assert both["count"] == 3
    assert ana.get(URL, {"team": "demo"}).json()["count"] == 3
    future = (timezone.now() + timezone.timedelta(hours=1)).isoformat()
    assert ana.get(URL, {"created_after": future}).json()["count"] == 0
    assert ana.get(URL, {"created_before": future}).json()["count"] == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(ana, params, field):
    response = ana.get(URL, params)
    assert response.status_code == 400 and field in _fields(response)


def test_requests_of_other_teams_are_invisible_and_not_found(ana, client_as, make_user, make_team):
    mine = ana.post(URL, body(), format="json").json()["id"]
    outsider = client_as(make_user("zed", "analyst", team=make_team("other")))
    assert outsider.get(URL).json()["count"] == 0
    assert outsider.get(f"{URL}{mine}/").status_code == 404
    assert outsider.get(f"{URL}999999/").status_code == 404
    assert outsider.post(f"{URL}{mine}/cancel/").status_code == 404


@pytest.mark.parametrize("role", ["consumer", "auditor"])
def test_consumers_and_auditors_may_not_read_requests(ana, client_as, make_user, team, role):
    mine = ana.post(URL, body(), format="json").json()["id"]
    other = client_as(make_user(role, role, team=team))
    assert other.get(URL).status_code == 403
    assert other.get(f"{URL}{mine}/").status_code == 404
    assert other.post(URL, body(), format="json").status_code == 403
    # Acting: refused for the role (403), as recommend and approve answer.
    assert other.post(f"{URL}{mine}/cancel/").status_code == 403
    assert other.post(f"{URL}{mine}/rerun/", {}, format="json").status_code == 403
    assert OptimizationRequest.objects.count() == 1


def test_approvers_read_but_do_not_submit_or_cancel(ana, client_as, approver):
    mine = ana.post(URL, body(), format="json").json()["id"]
    apo = client_as(approver)
    assert apo.get(f"{URL}{mine}/").status_code == 200
    assert apo.get(URL).json()["count"] == 1
    assert apo.post(URL, body(), format="json").status_code == 403
    assert apo.post(f"{URL}{mine}/cancel/").status_code == 403
    assert OptimizationRequest.objects.count() == 1


def test_anonymous_callers_are_refused(api_client):
    assert api_client.get(URL).status_code in (401, 403)
    assert api_client.post(URL, body(), format="json").status_code in (401, 403)


def test_cancelling_cancels_the_runs_and_a_second_cancel_is_a_409(ana):
    rid = ana.post(URL, body(), format="json").json()["id"]
    response = ana.post(f"{URL}{rid}/cancel/", {"reason": "wrong graph"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert {r["status"] for r in response.json()["runs"]} == {"cancelled"}
    event = AuditEvent.objects.get(action="request.cancelled")
    assert event.reason == "wrong graph"
    again = ana.post(f"{URL}{rid}/cancel/")
    assert again.status_code == 409
    assert "cannot move from 'cancelled' to 'cancelled'" in again.json()["detail"]


def test_a_rerun_is_a_new_request_with_changed_settings(ana):
    rid = ana.post(URL, body(seed=1), format="json").json()["id"]
    response = ana.post(
        f"{URL}{rid}/rerun/", {"seed": 2, "solvers": [{"name": "exact"}]}, format="json"
    )
    assert response.status_code == 201
    data = response.json()
    assert data["id"] != rid and data["rerun_of"] == rid
    assert data["settings"]["seed"] == 2 and [r["solver"] for r in data["runs"]] == ["exact"]
    assert AuditEvent.objects.filter(action="request.rerun", object_id=str(rid)).exists()


def test_a_rerun_with_a_bad_setting_is_a_400(ana):
    rid = ana.post(URL, body(), format="json").json()["id"]
    response = ana.post(f"{URL}{rid}/rerun/", {"shots": -1}, format="json")
    assert response.status_code == 400 and _fields(response) == {"shots"}
    assert OptimizationRequest.objects.count() == 1


def test_a_rerun_refuses_a_deadline_a_submission_refuses_rather_than_ignoring_it(ana):
    rid = ana.post(URL, body(), format="json").json()["id"]
    response = ana.post(f"{URL}{rid}/rerun/", {"deadline_seconds": 0}, format="json")
    assert response.status_code == 400 and _fields(response) == {"deadline_seconds"}
    assert OptimizationRequest.objects.count() == 1


def test_solve_returns_202_with_the_id_when_the_wait_runs_out(ana):
    started = time.monotonic()
    response = ana.post("/api/v1/solve/?wait=0.3", body(), format="json")
    assert response.status_code == 202
    assert time.monotonic() - started < 5
    rid = response.json()["id"]
    assert response.json() == {"id": rid, "status": "submitted", "url": f"{URL}{rid}/"}


def test_solve_never_waits_beyond_the_bound(ana, settings):
    settings.JOBS_SOLVE_WAIT_MAX_SECONDS = 0.5
    started = time.monotonic()
    response = ana.post("/api/v1/solve/?wait=600", body(), format="json")
    assert response.status_code == 202
    assert time.monotonic() - started < 3


def test_solve_returns_the_finished_request_inline(ana):
    work(OptimizationRequest.objects.get(id=ana.post(URL, body(), format="json").json()["id"]))
    response = ana.post("/api/v1/solve/?wait=5", body(cache="prefer"), format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "ready_for_review" and response.json()["candidates"]


def test_a_solve_replayed_by_its_idempotency_key_says_so(ana):
    first = ana.post("/api/v1/solve/?wait=0", body(), format="json", HTTP_IDEMPOTENCY_KEY="s-1")
    again = ana.post("/api/v1/solve/?wait=0", body(), format="json", HTTP_IDEMPOTENCY_KEY="s-1")
    assert first.json()["id"] == again.json()["id"]
    assert "Idempotent-Replayed" not in first and again["Idempotent-Replayed"] == "true"
    assert OptimizationRequest.objects.count() == 1


def test_solve_refuses_bad_input_like_submit(ana):
    response = ana.post("/api/v1/solve/?wait=1", body(shots=0), format="json")
    assert response.status_code == 400 and _fields(response) == {"shots"}
    bad_wait = ana.post("/api/v1/solve/?wait=-1", body(), format="json")
    assert bad_wait.status_code == 400 and _fields(bad_wait) == {"wait"}
    assert _no_rows()


def test_the_schemas_endpoint_lists_json_schemas(ana):
    data = ana.get("/api/v1/schemas/").json()
    assert data["supported_versions"] == ["1"]
    kinds = {s["type"] for s in data["schemas"]}
    assert kinds == {"maxcut", "qubo", "portfolio"}
    assert all(s["schema"]["$schema"].endswith("2020-12/schema") for s in data["schemas"])


def test_the_openapi_schema_documents_the_endpoints(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in (
        "/api/v1/requests/",
        "/api/v1/requests/{request_id}/",
        "/api/v1/requests/{request_id}/cancel/",
        "/api/v1/requests/{request_id}/rerun/",
        "/api/v1/solve/",
        "/api/v1/schemas/",
    ):
        assert path in schema["paths"], path
    post = schema["paths"]["/api/v1/requests/"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])


def test_json_nested_a_thousand_deep_gets_400_naming_the_limit_not_a_500(ana):
    deep = '{"problem": ' + "[" * 1000 + "]" * 1000 + "}"
    response = ana.generic("POST", URL, deep, content_type="application/json")
    assert response.status_code == 400
    assert "nested deeper than" in response.json()["detail"]
    assert _no_rows()


def test_json_a_little_too_deep_for_any_schema_is_refused_before_validation(ana):
    from hybridreview.parsers import MAX_JSON_DEPTH

    nested: object = 1
    for _ in range(MAX_JSON_DEPTH):
        nested = [nested]
    response = ana.post(URL, {"problem": nested}, format="json")
    assert response.status_code == 400 and "nested deeper" in response.json()["detail"]


def test_a_post_without_the_trailing_slash_gets_a_json_404_naming_the_right_path(ana):
    response = ana.post(URL.rstrip("/"), body(), format="json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert f"Did you mean {URL}" in response.json()["detail"]
    assert _no_rows()


@pytest.mark.parametrize("debug", [False, True])
def test_api_paths_answer_json_404s_under_debug_too(ana, analyst, token_for, settings, debug):
    # Under DEBUG (make run) Django answers an unresolved path with its HTML
    # debug page, never calling handler404; API clients must get JSON anyway.
    settings.DEBUG = debug
    for method, path in (("post", URL.rstrip("/")), ("get", "/api/v1/nothing-here/")):
        response = getattr(ana, method)(path, body(), format="json")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
    assert "Did you mean" not in ana.get("/api/v1/nothing-here").json()["detail"]
    assert _no_rows()
    # A token client sends no CSRF cookie: its POST must reach the JSON 404 too.
    strict = APIClient(enforce_csrf_checks=True)
    strict.credentials(HTTP_AUTHORIZATION=f"Token {token_for(analyst)}")
    for path in (URL.rstrip("/"), "/api/v1/nothing-here/"):
        response = strict.post(path, body(), format="json")
        assert response.status_code == 404 and response["Content-Type"] == "application/json"


def test_an_unknown_api_path_gets_json_and_a_page_path_gets_the_page(ana):
    api = ana.get("/api/v1/nothing-here/")
    assert api.status_code == 404 and api.json()["errors"] == []
    page = ana.get("/nothing-here/")
    assert page.status_code == 404 and b"<h1>Not found</h1>" in page.content


@pytest.mark.urls("tests.support.failing_urls")
def test_an_unexpected_error_under_the_api_is_json_with_the_request_id_to_find_it(client):
    client.raise_request_exception = False
    response = client.get("/api/v1/boom/", HTTP_X_REQUEST_ID="find-me-42")
    assert response.status_code == 500
    assert "find-me-42" in response.json()["detail"]
    page = client.get("/boom/")
    assert page.status_code == 500 and b"Something went wrong" in page.content


def test_a_problem_over_the_published_size_limit_is_a_400_naming_problem(ana, settings):
    from quantum.problems import MAX_PAYLOAD_BYTES

    # A body limit above the problem's, so the problem's own limit is what refuses it.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 3 * MAX_PAYLOAD_BYTES
    problem = {"type": "qubo", "linear": [0.123456789] * (MAX_PAYLOAD_BYTES // 10)}
    response = ana.post(URL, body(problem=problem), format="json")
    assert response.status_code == 400, response.content[:300]
    [error] = response.json()["errors"]
    assert error["field"] == "problem" and f"the limit is {MAX_PAYLOAD_BYTES}" in error["message"]
    assert _no_rows()


def test_a_created_range_that_ends_before_it_starts_is_a_400(ana):
    response = ana.get(
        URL, {"created_after": "2026-11-02T00:00Z", "created_before": "2026-11-01T00:00Z"}
    )
    assert response.status_code == 400 and _fields(response) == {"created_before"}


@pytest.mark.parametrize(
    "path", ["/api/v1/backends/{long}/", "/api/v1/{long}/", "/api/v1/requests/1/{long}"]
)
def test_a_not_found_quoting_a_huge_path_is_cut_too(client_as, make_user, team, path):
    operator = client_as(make_user("op", "operator", team=team))  # one who may read backends
    response = operator.get(path.format(long="x" * 3000))
    assert response.status_code == 404
    assert len(response.json()["detail"]) < 600, response.json()["detail"][:100]


def test_an_error_quoting_a_huge_value_is_cut_to_the_reason(ana):
    solvers = [{"name": "annealing", "options": {"sweeps": "x" * 100_000}}]
    response = ana.post(URL, body(solvers=solvers), format="json")
    assert response.status_code == 400
    assert len(response.content) < 5_000
    [error] = response.json()["errors"]
    assert error["field"] == "solvers[0].options"
    assert error["message"].startswith("option sweeps must be an integer")
    assert error["message"].endswith("more characters)")
