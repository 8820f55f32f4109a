"""The pipeline with a real `celery worker` process, over the configured broker and database.

The SIGKILL test needs a run that is still going when the worker dies. It
starts the worker with HR_TEST_BACKENDS_MODULE=tests.support.backends (read
only by settings/test.py), which makes that worker's aer_statevector backend
report its jobs as running for HR_TEST_SLOW_SECONDS before handing back the
real counts: the QAOA run really executes, it just cannot finish before the
kill. The reaper is then called with the clock at the lease's expiry (the
clock is the one thing mocked), as beat would call it by then.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from approvals.models import AuditEvent
from jobs import services
from jobs.models import Distribution, OptimizationRequest, Run
from tests.jobs.conftest import maxcut
from tests.support.worker import purge_broker, running_worker

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
TINY_QAOA = {"name": "qaoa", "backend": "aer_statevector", "options": {"reps": 1, "maxiter": 5}}


def _wait_for(predicate: Callable[[], Any], timeout: float, what: str, worker: Any) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; worker log:\n{worker.log()[-4000:]}")


@pytest.fixture
def fresh_broker() -> Iterator[None]:
    # Messages from earlier tests name run ids this database may reuse.
    purge_broker()
    yield


def test_a_request_submitted_through_the_api_is_solved_by_a_real_worker_and_ranked(
    fresh_broker, client_as, analyst
):
    with running_worker() as worker:
        api = client_as(analyst)
        body = {"problem": maxcut(6), "solvers": [TINY_QAOA, {"name": "exact"}], "shots": 256}
        created = api.post("/api/v1/requests/", body, format="json", HTTP_X_REQUEST_ID="e2e-1")
        assert created.status_code == 201
        rid = created.json()["id"]
        _wait_for(
            lambda: OptimizationRequest.objects.get(id=rid).status == "ready_for_review",
            120,
            "ready_for_review",
            worker,
        )
        assert '"correlation_id": "e2e-1"' in worker.log()
    data = api.get(f"/api/v1/requests/{rid}/").json()
    tiers = {r["solver"]: (r["status"], r["tier"], r["attempt"]) for r in data["runs"]}
    assert tiers == {"qaoa": ("succeeded", "simulator", 1), "exact": ("succeeded", "classical", 1)}
    assert data["candidates"][0]["rank"] == 1 and data["candidates"][0]["objective"] == 8.0
    assert {c["solver"] for c in data["candidates"]} == {"qaoa", "exact"}


def test_a_batch_of_small_requests_travels_in_groups_and_every_request_is_ranked(
    fresh_broker, client_as, analyst
):
    items = [
        {"problem": maxcut(5 + i % 3), "solvers": [{"name": "exact"}, {"name": "local_search"}]}
        for i in range(12)
    ]
    with running_worker() as worker:
        created = client_as(analyst).post(
            "/api/v1/requests/batch/", {"requests": items}, format="json"
        )
        assert created.status_code == 201, created.content
        ids = [r["id"] for r in created.json()["results"]]
        _wait_for(
            lambda: (
                OptimizationRequest.objects.filter(id__in=ids, status="ready_for_review").count()
                == len(ids)
            ),
            120,
            "every request of the batch in ready_for_review",
            worker,
        )
        # 24 small runs: four messages of six, not 24 of one.
        assert worker.log().count("jobs.execute_classical_runs[") >= 4
    assert set(Run.objects.filter(request_id__in=ids).values_list("status", "attempt")) == {
        ("succeeded", 1)
    }


def test_a_worker_killed_mid_run_is_reaped_and_the_run_finishes_exactly_once(
    fresh_broker, client_as, analyst, monkeypatch
):
    monkeypatch.setenv("HR_TEST_BACKENDS_MODULE", "tests.support.backends")
    monkeypatch.setenv("HR_TEST_SLOW_SECONDS", "60")
    api = client_as(analyst)
    body = {"problem": maxcut(6), "solvers": [TINY_QAOA, {"name": "exact"}], "shots": 256}
    with running_worker() as first:
        rid = api.post("/api/v1/requests/", body, format="json").json()["id"]
        qaoa = Run.objects.get(request_id=rid, solver="qaoa")
        # Running, and already waiting on its provider job (the id is saved).
        _wait_for(
            lambda: (
                Run.objects.filter(id=qaoa.id, status="running")
                .exclude(provider_job_id="")
                .exists()
            ),
            120,
            "the QAOA run to be waiting on its job",
            first,
        )
        first.kill(signal.SIGKILL)
    qaoa.refresh_from_db()
    assert (qaoa.status, qaoa.attempt) == ("running", 1)

    monkeypatch.setenv("HR_TEST_SLOW_SECONDS", "1")
    with running_worker() as second:
        report = services.runs_reap(now=qaoa.lease_expires_at + timedelta(seconds=1))
        assert qaoa.id in report.requeued
        _wait_for(
            lambda: OptimizationRequest.objects.get(id=rid).status == "ready_for_review",
            120,
            "ready_for_review after the restart",
            second,
        )
    qaoa.refresh_from_db()
    assert (qaoa.status, qaoa.attempt) == ("succeeded", 2)
    assert Distribution.objects.filter(run=qaoa).count() == 1
    bitstrings = list(qaoa.candidates.values_list("bitstring", flat=True))
    assert len(bitstrings) == len(set(bitstrings))  # recorded once, not twice
    events = AuditEvent.objects.filter(object_type="jobs.run", object_id=str(qaoa.id))
    actions = list(events.order_by("seq").values_list("action", flat=True))
    assert actions == ["run.claimed", "run.reaped", "run.claimed", "run.succeeded"]
    req = OptimizationRequest.objects.get(id=rid)
    assert req.candidates.filter(rank=1).exists() and not req.fallback
