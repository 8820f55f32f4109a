"""The API for backends, budgets, estimates and refusals on cost: status codes and roles."""

from __future__ import annotations

from decimal import Decimal

import pytest

from approvals.models import AuditEvent
from jobs.models import Budget, OptimizationRequest, TeamQuota
from jobs.services.budget import current_period
from quantum.models import BackendConfig
from tests.budgets.conftest import CLASSICAL, TINY_QAOA, maxcut

REQUESTS = "/api/v1/requests/"
ESTIMATE = "/api/v1/estimate/"


def _body(**changes):
    return {"problem": maxcut(), "solvers": [TINY_QAOA, CLASSICAL], "shots": 1000} | changes


# -- roles -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/backends/"),
        ("get", "/api/v1/backends/aer_statevector/"),
        ("patch", "/api/v1/backends/aer_statevector/"),
        ("post", "/api/v1/backends/aer_statevector/test/"),
        ("get", "/api/v1/budgets/"),
    ],
)
@pytest.mark.parametrize("role", ["analyst", "approver", "consumer", "auditor"])
def test_only_admins_reach_backends_and_budgets(make_user, client_as, team, role, method, url):
    user = make_user(f"u-{role}", role, team=team)
    response = getattr(client_as(user), method)(url, {}, format="json")
    assert response.status_code == 403, response.content
    assert response.json()["detail"]


def test_anonymous_callers_are_refused(api_client):
    for url in ("/api/v1/backends/", "/api/v1/budgets/", ESTIMATE):
        assert api_client.get(url).status_code in (401, 403)


def test_an_admin_of_another_team_gets_404_for_a_budget(make_user, make_team, client_as, budget):
    mine = budget(limit="10")
    outsider = make_user("other-admin", "admin", team=make_team("other"))
    client = client_as(outsider)
    assert client.get(f"/api/v1/budgets/{mine.id}/").status_code == 404
    assert (
        client.patch(f"/api/v1/budgets/{mine.id}/", {"hard": False}, format="json").status_code
        == 404
    )
    assert [b["team"] for b in client.get("/api/v1/budgets/").json()["results"]] == ["other"]


def test_an_unknown_backend_is_404(admin, client_as):
    assert client_as(admin).get("/api/v1/backends/warp_drive/").status_code == 404


# -- backends ----------------------------------------------------------------------


def test_admins_list_backends_with_prices_limits_and_health(admin, client_as):
    body = client_as(admin).get("/api/v1/backends/").json()
    by_name = {b["name"]: b for b in body["results"]}
    assert by_name["aer_statevector"]["max_qubits"] == 24
    assert by_name["aer_statevector"]["tier"] == "simulator"
    assert by_name["ibm_runtime:ibm_torino"]["cost_per_second"] == 1.6
    assert by_name["ibm_runtime:ibm_torino"]["has_credentials"] is False
    assert "credentials" not in by_name["aer_statevector"]


def test_a_team_admin_reads_backends_but_may_not_change_or_test_them(admin, client_as, priced):
    # Backends are shared by every team: a price one team's admin set would
    # move every other team's budget. Changing them is the operator's role.
    config = priced("aer_statevector", per_shot="0.001")
    client = client_as(admin)
    events = AuditEvent.objects.count()
    assert client.get("/api/v1/backends/aer_statevector/").status_code == 200
    changed = client.patch(
        "/api/v1/backends/aer_statevector/", {"cost_per_shot": "0"}, format="json"
    )
    tested = client.post("/api/v1/backends/aer_statevector/test/", format="json")
    for response in (changed, tested):
        assert response.status_code == 403
        assert "operators" in response.json()["detail"]
    config.refresh_from_db()
    assert config.cost_per_shot == Decimal("0.001") and config.last_test_at is None
    assert AuditEvent.objects.count() == events


def test_the_django_admin_shows_backends_read_only_to_a_team_admin(admin, client, priced):
    config = priced("aer_statevector", per_shot="0.001")
    client.force_login(admin)
    url = f"/admin/quantum/backendconfig/{config.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(url, {"cost_per_shot": "0"}).status_code == 403
    listing = client.get("/admin/quantum/backendconfig/").content.decode()
    assert "test_connection" not in listing  # the action is the operator's
    config.refresh_from_db()
    assert config.cost_per_shot == Decimal("0.001")


def test_patching_a_backend_changes_it_and_audits_before_and_after(operator, client_as):
    url = "/api/v1/backends/aer_noisy:fake_torino/"
    response = client_as(operator).patch(
        url, {"enabled": False, "cost_per_shot": "0.0002", "reason": "maintenance"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["enabled"] is False and response.json()["cost_per_shot"] == 0.0002
    event = AuditEvent.objects.get(action="backend.changed")
    assert event.before == {"enabled": True, "cost_per_shot": "0.000000"}
    assert event.after == {
        "enabled": False,
        "cost_per_shot": "0.000200",
        "name": "aer_noisy:fake_torino",
    }
    assert event.reason == "maintenance" and event.actor_id == operator.id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"max_qubits": 0}, "max_qubits"),
        ({"cost_per_task": "-1"}, "cost_per_task"),
        ({"name": "renamed"}, "name"),
        ({"device": ""}, "device"),  # an aer_noisy backend copies a device
        # What the backend would refuse at every run afterwards is refused now.
        ({"device": "fake_nonexistent"}, "device"),
        ({"options": {"optimization_level": "abc"}}, "options.optimization_level"),
        ({"options": {"optimization_level": 7}}, "options.optimization_level"),
        ({"options": {"noise": "cosmic"}}, "options.noise"),
        ({"options": {"trajectories": 0}}, "options.trajectories"),
        ({"options": {"optimisation_level": 1}}, "options.optimisation_level"),
        # Fields only IBM Runtime reads would be ignored here without a word.
        ({"instance": "crn:v1:bluemix:public:quantum-computing:us-east:a/x::"}, "instance"),
        ({"backend_name": "ibm_torino"}, "backend_name"),
        ({"channel": "ibm_cloud"}, "channel"),
    ],
)
def test_a_bad_backend_change_is_a_400_naming_the_field(operator, client_as, body, field):
    response = client_as(operator).patch(
        "/api/v1/backends/aer_noisy:fake_torino/", body, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in {e["field"] for e in response.json()["errors"]}
    assert not AuditEvent.objects.filter(action="backend.changed").exists()


def test_an_ideal_simulator_refuses_a_device_it_would_not_copy(operator, client_as):
    response = client_as(operator).patch(
        "/api/v1/backends/aer_statevector/", {"device": "fake_torino"}, format="json"
    )
    assert response.status_code == 400, response.content
    (error,) = response.json()["errors"]
    assert error["field"] == "device"
    assert (
        "not read by aer_statevector backends (only aer_noisy and ibm_runtime)" in error["message"]
    )


def test_valid_backend_options_are_saved(operator, client_as):
    body = {"options": {"optimization_level": 1, "noise": "depolarizing", "trajectories": 64}}
    response = client_as(operator).patch(
        "/api/v1/backends/aer_noisy:fake_torino/", body, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["options"] == body["options"]


def test_testing_a_backend_through_the_api(operator, client_as):
    response = client_as(operator).post("/api/v1/backends/aer_mps/test/", format="json")
    assert response.status_code == 200
    assert response.json()["ok"] is True and response.json()["latency_ms"] > 0


# -- budgets -----------------------------------------------------------------------


def test_the_budget_list_always_shows_this_month_for_each_of_your_teams(admin, client_as):
    body = client_as(admin).get("/api/v1/budgets/").json()["results"]
    assert [(b["team"], b["period"]) for b in body] == [("demo", f"{current_period():%Y-%m}")]
    assert body[0]["limit_credits"] == 100.0 and body[0]["hard"] is True
    assert body[0]["quota"] == {"max_concurrent_runs": None, "max_shots_per_request": None}


def test_patching_a_budget_is_audited_with_before_and_after(admin, client_as, budget):
    row = budget(limit="10")
    response = client_as(admin).patch(
        f"/api/v1/budgets/{row.id}/",
        {"limit_credits": "25.5", "hard": False, "alert_thresholds": [0.9, 0.5]},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["limit_credits"], body["hard"], body["alert_thresholds"]) == (
        25.5,
        False,
        [0.5, 0.9],
    )
    event = AuditEvent.objects.get(action="budget.changed")
    assert event.before == {"limit_credits": "10.0", "hard": True, "alert_thresholds": [0.8]}
    assert event.after == {"limit_credits": "25.5", "hard": False, "alert_thresholds": [0.5, 0.9]}
    assert event.team_id == row.team_id


def test_raising_a_limit_rearms_the_alerts_it_puts_out_of_reach(admin, client_as, budget):
    row = budget(limit="10")
    Budget.objects.filter(pk=row.pk).update(spent_credits=9, alerts_raised=[0.8])
    client_as(admin).patch(f"/api/v1/budgets/{row.id}/", {"limit_credits": 100}, format="json")
    assert Budget.objects.get(pk=row.pk).alerts_raised == []


@pytest.mark.parametrize(
    "body",
    [
        {"limit_credits": -1},
        {"alert_thresholds": [0]},
        {"reserved_credits": 0},
        {"period": "2026-01"},
    ],
)
def test_a_bad_budget_change_is_a_400(admin, client_as, budget, body):
    row = budget(limit="10")
    response = client_as(admin).patch(f"/api/v1/budgets/{row.id}/", body, format="json")
    assert response.status_code == 400, response.content


# -- refusals on cost --------------------------------------------------------------


def test_over_a_hard_budget_a_submission_is_a_402_saying_what_is_left(
    analyst, client_as, priced, budget
):
    priced("aer_statevector", per_task="12.5")
    budget(limit="3")
    response = client_as(analyst).post(REQUESTS, _body(), format="json")
    assert response.status_code == 402, response.content
    body = response.json()
    assert body["detail"].startswith(
        "Estimated 12.5 credits exceeds the 3.0 credits left in demo's budget "
        f"for {current_period():%Y-%m}"
    )
    assert body["errors"] == []
    assert body["budget"]["remaining"] == 3.0 and body["estimate"]["total_credits"] == 12.5
    assert OptimizationRequest.objects.count() == 0


def test_simulate_sends_the_request_to_a_simulator_and_the_request_shows_it(
    analyst, client_as, priced, budget
):
    priced("aer_noisy:fake_torino", per_task="50")
    budget(limit="3")
    noisy = {"name": "qaoa", "backend": "aer_noisy:fake_torino", "options": {"reps": 1}}
    body = _body(solvers=[noisy, CLASSICAL], on_budget_exceeded="simulate")
    response = client_as(analyst).post(REQUESTS, body, format="json")
    assert response.status_code == 201, response.content
    run = next(r for r in response.json()["runs"] if r["solver"] == "qaoa")
    assert (run["backend"], run["downgraded_from"]) == ("aer_statevector", "aer_noisy:fake_torino")
    assert response.json()["cost"] == {"credits": 0.0, "reserved": 0.0, "final": False}


BATCH = "/api/v1/requests/batch/"


def test_a_batch_over_the_hard_budget_is_one_402_and_saves_none_of_it(
    analyst, client_as, priced, budget
):
    # Each request alone fits the 20 credits left; the batch of three does not.
    priced("aer_statevector", per_task="8")
    budget(limit="20")
    items = [_body(title=f"scenario {i}") for i in range(3)]
    response = client_as(analyst).post(BATCH, {"requests": items}, format="json")
    assert response.status_code == 402, response.content
    body = response.json()
    assert body["detail"].startswith(
        "Estimated 24.0 credits for the batch's 3 requests exceeds the 20.0 credits left"
    )
    assert "on_budget_exceeded" in body["detail"]
    assert body["estimate"]["total_credits"] == 24.0 and body["budget"]["remaining"] == 20.0
    assert OptimizationRequest.objects.count() == 0


def test_a_batch_asking_to_simulate_sends_every_paid_run_to_a_simulator(
    analyst, client_as, priced, budget
):
    priced("aer_noisy:fake_torino", per_task="50")
    budget(limit="3")
    noisy = {"name": "qaoa", "backend": "aer_noisy:fake_torino", "options": {"reps": 1}}
    items = [_body(solvers=[noisy, CLASSICAL], title=f"scenario {i}") for i in range(2)]
    body = {"requests": items, "on_budget_exceeded": "simulate"}
    response = client_as(analyst).post(BATCH, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["count"] == 2
    runs = [
        (r.backend, r.downgraded_from)
        for req in OptimizationRequest.objects.order_by("id")
        for r in req.runs.filter(solver="qaoa")
    ]
    assert runs == [("aer_statevector", "aer_noisy:fake_torino")] * 2


def test_on_budget_exceeded_inside_a_batch_item_is_a_400_pointing_to_the_batch(analyst, client_as):
    items = [_body(on_budget_exceeded="simulate")]
    response = client_as(analyst).post(BATCH, {"requests": items}, format="json")
    assert response.status_code == 400, response.content
    assert [e["field"] for e in response.json()["errors"]] == ["requests[0].on_budget_exceeded"]
    assert OptimizationRequest.objects.count() == 0


def test_an_unknown_on_budget_exceeded_is_a_400(analyst, client_as):
    response = client_as(analyst).post(REQUESTS, _body(on_budget_exceeded="pray"), format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "on_budget_exceeded"


def test_a_full_run_quota_is_a_429_with_retry_after(analyst, client_as, team):
    TeamQuota.objects.create(team=team, max_concurrent_runs=3)
    client = client_as(analyst)
    assert client.post(REQUESTS, _body(), format="json").status_code == 201  # 2 runs queued
    response = client.post(REQUESTS, _body(seed=9), format="json")
    assert response.status_code == 429, response.content
    assert response["Retry-After"] == "30"
    assert response.json()["detail"] == (
        "Team demo may have at most 3 runs queued or running; it has 2 and this request adds 2. "
        "Try again when some have finished."
    )
    assert OptimizationRequest.objects.count() == 1


def test_too_many_shots_for_the_team_is_a_400_naming_shots(analyst, client_as, team):
    TeamQuota.objects.create(team=team, max_shots_per_request=1500)
    solvers = [TINY_QAOA, {"name": "qaoa", "backend": "aer_mps", "options": {"reps": 1}}]
    response = client_as(analyst).post(REQUESTS, _body(solvers=solvers), format="json")
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == [
        {
            "field": "shots",
            "message": "team demo allows at most 1500 shots per request; "
            "this request asks for 2 quantum runs x 1000 = 2000",
        }
    ]


def test_the_shot_quota_counts_the_shots_a_sampled_optimisation_takes(analyst, client_as, team):
    # On a noisy backend QAOA optimises on samples: each of its evaluations is
    # a job of optimise_shots, and those are shots the quota is there to bound.
    TeamQuota.objects.create(team=team, max_shots_per_request=1500)
    noisy = {
        "name": "qaoa",
        "backend": "aer_noisy:fake_torino",
        "options": {"reps": 1, "maxiter": 4, "optimise_shots": 200},
    }
    response = client_as(analyst).post(REQUESTS, _body(solvers=[noisy]), format="json")
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == [
        {
            "field": "shots",
            "message": "team demo allows at most 1500 shots per request; this request asks for "
            "1800: 1 quantum runs x 1000 = 1000 to sample the answers, and 800 for the "
            "optimiser's sampled evaluations (fewer with a lower maxiter or optimise_shots)",
        }
    ]
    noisy["options"]["maxiter"] = 2  # 1000 + 2 x 200
    fewer = client_as(analyst).post(REQUESTS, _body(solvers=[noisy]), format="json")
    assert fewer.status_code == 201


def test_optimise_shots_past_the_backends_limit_is_refused_on_the_options(analyst, client_as):
    from quantum.models import BackendConfig

    BackendConfig.objects.filter(name="aer_noisy:fake_torino").update(max_shots=5000)
    options = {"optimise_shots": 6000}
    noisy = {"name": "qaoa", "backend": "aer_noisy:fake_torino", "options": options}
    response = client_as(analyst).post(REQUESTS, _body(solvers=[noisy]), format="json")
    assert response.status_code == 400, response.content
    assert response.json()["errors"] == [
        {
            "field": "solvers[0].options",
            "message": "aer_noisy:fake_torino allows at most 5000 shots per run; "
            "optimise_shots asks for 6000 per optimiser evaluation",
        }
    ]
    assert OptimizationRequest.objects.count() == 0


def test_a_quota_change_is_audited(admin, team):
    from jobs.services.budget_admin import team_quota_set

    team_quota_set(team=team, actor=admin, changes={"max_concurrent_runs": 5})
    event = AuditEvent.objects.get(action="quota.changed")
    assert event.before["max_concurrent_runs"] is None and event.after["max_concurrent_runs"] == 5


# -- estimate ----------------------------------------------------------------------


def test_the_estimate_takes_a_request_body_and_answers_run_by_run(
    analyst, client_as, priced, budget
):
    priced("aer_statevector", per_task="1", per_shot="0.001")
    budget(limit="10")
    response = client_as(analyst).post(ESTIMATE, _body(), format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert [(r["solver"], r["backend"], r["credits"], r["qubits"]) for r in body["runs"]] == [
        ("qaoa", "aer_statevector", 2.0, 4),
        ("local_search", None, 0.0, 0),
    ]
    assert all(r["seconds"] >= 0 for r in body["runs"])
    assert body["total_credits"] == 2.0 and body["outcome"] == "accepted"
    assert body["budget"] == {
        "team": "demo",
        "period": f"{current_period():%Y-%m}",
        "limit": 10.0,
        "reserved": 0.0,
        "spent": 0.0,
        "remaining": 10.0,
        "hard": True,
    }
    assert OptimizationRequest.objects.count() == 0 and Budget.objects.count() == 1


def test_the_estimate_says_when_a_request_would_be_refused_or_downgraded(
    analyst, client_as, priced, budget
):
    priced("aer_statevector", per_task="5")
    budget(limit="3")
    client = client_as(analyst)
    refused = client.post(ESTIMATE, _body(), format="json").json()
    assert refused["outcome"] == "refused" and refused["message"].startswith(
        "Estimated 5.0 credits"
    )
    priced("aer_noisy:fake_torino", per_task="5")
    priced("aer_statevector")
    noisy = {"name": "qaoa", "backend": "aer_noisy:fake_torino", "options": {"reps": 1}}
    moved = client.post(
        ESTIMATE, _body(solvers=[noisy], on_budget_exceeded="simulate"), format="json"
    )
    body = moved.json()
    assert body["outcome"] == "downgraded"
    assert body["runs"][0]["backend"] == "aer_statevector"
    assert body["runs"][0]["downgraded_from"] == "aer_noisy:fake_torino"


def test_the_estimate_refuses_bad_input_like_a_submission(analyst, client_as):
    response = client_as(analyst).post(ESTIMATE, _body(shots=0), format="json")
    assert response.status_code == 400
    assert "shots" in {e["field"] for e in response.json()["errors"]}


def test_roles_that_cannot_submit_cannot_estimate(make_user, client_as, team):
    consumer = make_user("con", "consumer", team=team)
    assert client_as(consumer).post(ESTIMATE, _body(), format="json").status_code == 403


def test_a_request_shows_its_cost(analyst, client_as, priced, budget):
    from tests.jobs.conftest import work

    priced("aer_statevector", per_task="1", per_shot="0.001")
    budget(limit="10")
    client = client_as(analyst)
    created = client.post(REQUESTS, _body(), format="json").json()
    assert created["cost"] == {"credits": 0.0, "reserved": 2.0, "final": False}
    work(OptimizationRequest.objects.get(id=created["id"]))
    done = client.get(f"{REQUESTS}{created['id']}/").json()
    assert done["cost"] == {"credits": 2.0, "reserved": 0.0, "final": True}


def test_backends_keep_decimal_prices(db):
    config = BackendConfig.objects.get(name="ibm_runtime:ibm_torino")
    assert config.cost_per_second == Decimal("1.6")


def test_the_estimate_takes_a_campaign_like_a_submission(analyst, client_as):
    client = client_as(analyst)
    window = {"title": "reps", "window_seconds": 600}
    made = client.post("/api/v1/campaigns/", window, format="json")
    response = client.post(ESTIMATE, _body(campaign=made.json()["id"]), format="json")
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "accepted"
    unknown = client.post(ESTIMATE, _body(campaign=987654), format="json")
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "campaign"


def test_the_estimate_applies_the_teams_quotas_as_a_submission_would(analyst, client_as, team):
    client = client_as(analyst)
    TeamQuota.objects.create(team=team, max_concurrent_runs=3, max_shots_per_request=1500)
    assert client.post(REQUESTS, _body(), format="json").status_code == 201  # 2 runs queued

    full = client.post(ESTIMATE, _body(seed=9), format="json")
    assert full.status_code == 200
    assert full.json()["outcome"] == "over_quota"
    assert full.json()["message"].startswith("Team demo may have at most 3 runs queued")

    shots = client.post(ESTIMATE, _body(shots=2000), format="json")
    assert shots.status_code == 400 and shots.json()["errors"][0]["field"] == "shots"


def test_the_time_estimate_learns_from_similar_runs_that_finished_here(analyst, client_as):
    import statistics

    from jobs.models import Run
    from tests.jobs.conftest import work

    client = client_as(analyst)
    qaoa_only = _body(solvers=[TINY_QAOA])
    first = client.post(ESTIMATE, qaoa_only, format="json").json()["runs"][0]
    assert (first["seconds_from"], first["similar_runs"]) == ("model", 0)
    for seed in (1, 2, 3):
        rid = client.post(REQUESTS, qaoa_only | {"seed": seed}, format="json").json()["id"]
        work(OptimizationRequest.objects.get(pk=rid))
    walls = [r.timings["wall"] for r in Run.objects.filter(solver="qaoa")]

    learned = client.post(ESTIMATE, qaoa_only, format="json").json()["runs"][0]
    assert (learned["seconds_from"], learned["similar_runs"]) == ("history", 3)
    assert learned["seconds"] == round(statistics.median(walls), 3)
    # Other options are another workload: back to the model.
    other = _body(solvers=[{**TINY_QAOA, "options": {"reps": 2, "maxiter": 4}}])
    assert client.post(ESTIMATE, other, format="json").json()["runs"][0]["seconds_from"] == "model"


def test_the_estimate_warns_when_a_quantum_run_would_outlast_the_deadline(analyst, client_as):
    noisy = {"name": "qaoa", "backend": "aer_noisy:fake_torino", "options": {"reps": 2}}
    body = _body(problem=maxcut(12), solvers=[noisy, CLASSICAL])
    client = client_as(analyst)
    tight = client.post(ESTIMATE, body | {"deadline_seconds": 1}, format="json").json()
    assert tight["runs"][0]["seconds"] > 1
    [warning] = tight["warnings"]
    assert "qaoa on aer_noisy:fake_torino" in warning and "longer than the 1 s deadline" in warning
    roomy = client.post(ESTIMATE, body | {"deadline_seconds": 3600}, format="json").json()
    assert roomy["warnings"] == []
