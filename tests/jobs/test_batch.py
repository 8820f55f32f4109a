"""Batch submit (POST /api/v1/requests/batch/) and grouped execution of small classical runs."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from approvals.audit import AuditAction, audit_verify
from approvals.models import AuditEvent
from approvals.permissions import access_request
from jobs import services
from jobs.models import Candidate, OptimizationRequest, Run, RunStatus, TeamQuota
from jobs.services import execution
from jobs.services.dispatch import run_groups
from tests.jobs.conftest import FAST_SOLVERS, maxcut

pytestmark = pytest.mark.django_db
BATCH = "/api/v1/requests/batch/"


def _items(count: int, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"problem": maxcut(5 + i % 3), "solvers": FAST_SOLVERS, "title": f"scenario {i}", **extra}
        for i in range(count)
    ]


def test_a_batch_saves_every_request_with_runs_grants_and_audit_events(analyst, client_as):
    response = client_as(analyst).post(BATCH, {"requests": _items(5)}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["count"] == 5
    assert [r["title"] for r in body["results"]] == [f"scenario {i}" for i in range(5)]
    assert {r["status"] for r in body["results"]} == {"submitted"}
    ids = [r["id"] for r in body["results"]]
    for rid in ids:
        assert access_request(analyst, rid, "view").id == rid  # the team's grants exist
        assert sorted(Run.objects.filter(request_id=rid).values_list("solver", flat=True)) == [
            "exact",
            "local_search",
        ]
    submitted = AuditEvent.objects.filter(action=AuditAction.REQUEST_SUBMITTED)
    assert sorted(int(e.object_id) for e in submitted) == sorted(ids)
    assert all(e.actor_label == analyst.username for e in submitted)
    granted = AuditEvent.objects.filter(action=AuditAction.PERMISSION_GRANTED, request_ref__in=ids)
    assert granted.count() == 5
    assert audit_verify().ok


def test_one_bad_request_refuses_the_whole_batch_naming_its_path(analyst, client_as):
    items = _items(3)
    items[1]["problem"] = {"type": "maxcut", "graph": {"nodes": 3, "edges": [[0, 7]]}}
    items[2]["shots"] = 0
    client = client_as(analyst)
    events = AuditEvent.objects.count()

    response = client.post(BATCH, {"requests": items}, format="json")

    assert response.status_code == 400, response.content
    fields = {e["field"] for e in response.json()["errors"]}
    assert "requests[1].problem.graph.edges[0][1]" in fields
    assert "requests[2].shots" in fields
    assert OptimizationRequest.objects.count() == 0
    assert Run.objects.count() == 0
    assert AuditEvent.objects.count() == events


def test_an_empty_or_oversized_batch_is_a_400_on_requests(analyst, client_as):
    client = client_as(analyst)
    empty = client.post(BATCH, {"requests": []}, format="json")
    assert empty.status_code == 400
    assert empty.json()["errors"][0]["field"] == "requests"
    with override_settings(JOBS_BATCH_MAX=3):
        big = client.post(BATCH, {"requests": _items(4)}, format="json")
    assert big.status_code == 400
    assert big.json()["errors"] == [
        {"field": "requests", "message": "at most 3 requests per batch; got 4"}
    ]
    assert OptimizationRequest.objects.count() == 0


def test_a_batch_replays_under_its_idempotency_key_and_refuses_another_body(analyst, client_as):
    client = client_as(analyst)
    body = {"requests": _items(3)}
    first = client.post(BATCH, body, format="json", HTTP_IDEMPOTENCY_KEY="sweep-1")
    again = client.post(BATCH, body, format="json", HTTP_IDEMPOTENCY_KEY="sweep-1")

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert [r["id"] for r in again.json()["results"]] == [r["id"] for r in first.json()["results"]]
    assert OptimizationRequest.objects.count() == 3

    other = client.post(
        BATCH, {"requests": _items(2)}, format="json", HTTP_IDEMPOTENCY_KEY="sweep-1"
    )
    assert other.status_code == 422
    assert OptimizationRequest.objects.count() == 3


def test_a_retried_batch_gets_its_requests_back_after_a_backend_it_names_was_disabled(
    analyst, client_as
):
    # A client whose first answer was lost retries; the batch was accepted,
    # so the retry must return it, not refuse it under today's settings.
    from quantum.models import BackendConfig

    client = client_as(analyst)
    qaoa = {"name": "qaoa", "backend": "aer_mps", "options": {"reps": 1, "maxiter": 2}}
    body = {"requests": [{"problem": maxcut(), "solvers": [qaoa]}]}
    first = client.post(BATCH, body, format="json", HTTP_IDEMPOTENCY_KEY="night-run")
    assert first.status_code == 201, first.content
    BackendConfig.objects.filter(name="aer_mps").update(enabled=False)

    again = client.post(BATCH, body, format="json", HTTP_IDEMPOTENCY_KEY="night-run")

    assert again.status_code == 201, again.content
    assert again["Idempotent-Replayed"] == "true"
    assert [r["id"] for r in again.json()["results"]] == [r["id"] for r in first.json()["results"]]
    fresh = client.post(BATCH, body, format="json", HTTP_IDEMPOTENCY_KEY="another")
    assert fresh.status_code == 400  # a new batch is checked against today's settings
    assert fresh.json()["errors"][0]["field"] == "requests[0].solvers[0].backend"


def test_quotas_count_the_whole_batch(analyst, client_as, team):
    TeamQuota.objects.create(team=team, max_concurrent_runs=5)
    response = client_as(analyst).post(BATCH, {"requests": _items(3)}, format="json")  # 6 runs

    assert response.status_code == 429, response.content
    assert "it has 4 and this request adds 2" in response.json()["detail"]
    assert OptimizationRequest.objects.count() == 0


def test_a_member_cannot_batch_into_a_team_they_are_not_in(analyst, client_as, make_team):
    make_team("other")
    items = _items(2)
    items[1]["team"] = "other"
    response = client_as(analyst).post(BATCH, {"requests": items}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "requests[1].team"
    assert OptimizationRequest.objects.count() == 0


def _batch(analyst: Any, count: int) -> list[OptimizationRequest]:
    return services.requests_submit_batch(requester=analyst, items=_items(count)).requests


def test_a_group_of_runs_is_claimed_solved_and_ranked_like_single_runs(analyst):
    requests = _batch(analyst, 3)
    run_ids = list(Run.objects.order_by("id").values_list("id", flat=True))

    outcomes = services.runs_execute_group(run_ids=run_ids, worker="w1")

    assert outcomes == ["succeeded"] * 6
    for request in requests:
        request.refresh_from_db()
        assert request.status == "ready_for_review"
        ranks = list(Candidate.objects.filter(request=request).values_list("rank", flat=True))
        assert sorted(ranks) == list(range(1, len(ranks) + 1))
    assert set(Run.objects.values_list("status", "attempt", "worker")) == {
        (RunStatus.SUCCEEDED, 1, "w1")
    }
    for action in (AuditAction.RUN_CLAIMED, AuditAction.RUN_SUCCEEDED):
        audited = AuditEvent.objects.filter(action=action).values_list("object_id", flat=True)
        assert sorted(int(i) for i in audited) == run_ids
    assert AuditEvent.objects.filter(action=AuditAction.REQUEST_RANKED).count() == 3
    assert audit_verify().ok


def test_a_group_skips_runs_no_longer_queued_and_a_second_delivery_does_nothing(analyst):
    [request] = _batch(analyst, 1)
    exact, local = request.runs.order_by("id")
    services.request_cancel(request=request, actor=analyst, reason="changed my mind")

    assert (
        services.runs_execute_group(run_ids=[exact.id, local.id], worker="w")
        == ["not claimed: the run is not queued"] * 2
    )
    [other] = _batch(analyst, 1)
    ids = list(other.runs.values_list("id", flat=True))
    assert services.runs_execute_group(run_ids=ids, worker="w") == ["succeeded"] * 2
    assert (
        services.runs_execute_group(run_ids=ids, worker="w")
        == ["not claimed: the run is not queued"] * 2
    )
    assert Candidate.objects.filter(request=other).count() > 0


def test_a_run_reaped_while_its_group_solves_has_its_result_dropped(analyst):
    [request] = _batch(analyst, 1)
    exact, local = request.runs.order_by("id")
    claimed = execution.runs_claim(run_ids=[exact.id, local.id], worker="slow")
    # The reaper (or a cancel) moves one run on while the group still solves.
    Run.objects.filter(id=local.id).update(status=RunStatus.QUEUED, attempt=1)
    services.run_claim(run_id=local.id, worker="fresh")  # attempt 2 belongs to another worker

    solved = [(run, execution._solve(run, None)) for run in claimed]
    outcomes = execution.runs_complete(solved)

    assert outcomes == {exact.id: "succeeded", local.id: "stale"}
    assert Candidate.objects.filter(run_id=local.id).count() == 0
    assert Run.objects.get(id=local.id).status == RunStatus.RUNNING


def test_groups_spread_a_burst_and_cap_their_size():
    runs: list[Any] = [(i, None) for i in range(100)]
    with override_settings(JOBS_GROUP_SIZE=16):
        groups = run_groups(runs)
    assert [len(g) for g in groups] == [16] * 6 + [4]
    assert [r for g in groups for r in g] == runs
    assert [len(g) for g in run_groups(runs[:2])] == [1, 1]  # two runs: two workers
    assert [len(g) for g in run_groups(runs[:10])] == [3, 3, 3, 1]
    assert run_groups([]) == []


def test_a_batch_key_too_long_for_its_item_suffixes_is_a_400_naming_the_header(analyst, client_as):
    # Item i is stored under "<key>#<i>": for 12 items the key may be 252 long.
    client = client_as(analyst)
    body = {"requests": _items(12)}
    response = client.post(BATCH, body, format="json", HTTP_IDEMPOTENCY_KEY="k" * 253)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "Idempotency-Key", "message": "must be at most 252 characters for a batch of 12"}
    ]
    assert not OptimizationRequest.objects.exists()
    fits = client.post(BATCH, body, format="json", HTTP_IDEMPOTENCY_KEY="k" * 252)
    assert fits.status_code == 201


def test_a_group_reads_each_problem_once_to_solve_it_not_again_to_record(analyst, client_as):
    # A problem may be 2 MB of JSON: the claim reads it to solve; recording the
    # results, ranking and auditing do not read it again.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    response = client_as(analyst).post(BATCH, {"requests": _items(3)}, format="json")
    ids = [r["id"] for r in response.json()["results"]]
    run_ids = list(Run.objects.filter(request_id__in=ids).values_list("id", flat=True))
    with CaptureQueriesContext(connection) as queries:
        outcomes = services.runs_execute_group(run_ids=run_ids, worker="w")
    assert outcomes == ["succeeded"] * 6
    problem = '"jobs_optimizationrequest"."problem"'
    reads = [q["sql"] for q in queries.captured_queries if problem in q["sql"]]
    assert len(reads) == 1
    assert set(OptimizationRequest.objects.filter(id__in=ids).values_list("status", flat=True)) == {
        "ready_for_review"
    }
