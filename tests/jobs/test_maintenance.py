"""The reaper (lost workers, lost messages) and the deadline sweeper (fallback)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.models import AuditEvent
from jobs import services
from jobs.models import OptimizationRequest, Run, RunStatus
from tests.jobs.conftest import work

pytestmark = pytest.mark.django_db


def _lease_expired(run: Run) -> timezone.datetime:
    run.refresh_from_db()
    return run.lease_expires_at + timedelta(seconds=1)


def test_a_run_whose_worker_vanished_is_requeued_after_its_lease(
    submit, django_capture_on_commit_callbacks
):
    req = submit(solvers=[{"name": "exact"}])
    run = services.run_claim(run_id=req.runs.get().id, worker="gone")
    assert services.runs_reap().requeued == []  # the lease still holds
    with django_capture_on_commit_callbacks() as sent:
        report = services.runs_reap(now=_lease_expired(run))
    assert report.requeued == [run.id] and len(sent) == 1
    run.refresh_from_db()
    assert (run.status, run.attempt, run.lease_expires_at) == ("queued", 1, None)
    assert "attempt 1 lost its worker gone" in run.error_message
    event = AuditEvent.objects.get(action="run.reaped")
    assert event.system == "jobs.reaper" and event.after == {"status": "queued"}
    # The next worker finishes it as attempt 2.
    req = work(req)
    run.refresh_from_db()
    assert (run.status, run.attempt) == ("succeeded", 2)
    assert req.status == "ready_for_review"


def test_the_reaper_fails_a_run_at_the_attempt_cap_with_the_reason(submit):
    req = submit(solvers=[{"name": "exact"}])
    run_id = req.runs.get().id
    Run.objects.filter(id=run_id).update(max_attempts=2)
    for _ in range(2):
        run = services.run_claim(run_id=run_id, worker="dies")
        services.runs_reap(now=_lease_expired(run))
    run.refresh_from_db()
    assert (run.status, run.attempt) == ("failed", 2)
    assert run.error_message.endswith("gave up after 2 of 2 attempts")
    req.refresh_from_db()
    assert req.status == "failed" and "gave up after 2 of 2 attempts" in req.failure_reason


def test_the_reaper_leaves_a_run_that_finished_meanwhile(submit):
    req = work(submit(solvers=[{"name": "exact"}]))
    run = req.runs.get()
    report = services.runs_reap(now=timezone.now() + timedelta(days=1))
    assert report.requeued == report.failed == []
    run.refresh_from_db()
    assert run.status == "succeeded"


def test_a_queued_run_nobody_claimed_gets_its_message_again(
    submit, settings, django_capture_on_commit_callbacks
):
    req = submit(solvers=[{"name": "exact"}])
    run = req.runs.get()
    assert services.runs_reap().renudged == []
    later = timezone.now() + timedelta(seconds=settings.JOBS_RENUDGE_AFTER_SECONDS + 1)
    with django_capture_on_commit_callbacks() as sent:
        assert services.runs_reap(now=later).renudged == [run.id]
    assert len(sent) == 1


def test_a_run_waiting_out_its_backoff_is_not_nudged_early(submit, settings):
    req = submit(solvers=[{"name": "exact"}])
    later = timezone.now() + timedelta(seconds=settings.JOBS_RENUDGE_AFTER_SECONDS + 1)
    Run.objects.filter(request=req).update(not_before=later + timedelta(minutes=5))
    assert services.runs_reap(now=later).renudged == []


def test_at_the_deadline_quantum_runs_time_out_and_review_falls_back_on_classical(submit):
    req = submit(
        solvers=[{"name": "qaoa", "options": {"reps": 1}}, {"name": "exact"}], deadline_seconds=60
    )
    qaoa = req.runs.get(solver="qaoa")
    services.run_claim(run_id=qaoa.id, worker="slow")  # still solving at the deadline
    services.run_execute(run_id=req.runs.get(solver="exact").id)
    assert services.requests_sweep_deadlines() == []  # before the deadline: nothing
    closed = services.requests_sweep_deadlines(now=req.deadline + timedelta(seconds=1))
    assert closed == [req.id]
    req.refresh_from_db()
    qaoa.refresh_from_db()
    assert qaoa.status == "timed_out" and "deadline" in qaoa.error_message
    assert req.status == "ready_for_review" and req.fallback
    assert req.fallback_reason == (
        "qaoa on aer_statevector timed out at the deadline. Ranking uses exact."
    )
    assert set(req.candidates.values_list("run__solver", flat=True)) == {"exact"}
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"run.timed_out", "request.fallback", "request.ranked"} <= actions


def test_the_late_worker_cannot_write_after_the_deadline_took_its_run(submit):
    from jobs.errors import StaleAttempt
    from quantum import parse_problem
    from quantum.solvers import exact

    req = submit(solvers=[{"name": "exact"}], deadline_seconds=1)
    run = services.run_claim(run_id=req.runs.get().id, worker="late")
    services.requests_sweep_deadlines(now=req.deadline + timedelta(seconds=1))
    result = exact.solve(parse_problem(req.problem), {}, seed=1)
    with pytest.raises(StaleAttempt):
        services.run_complete(run_id=run.id, attempt=1, result=result)
    req.refresh_from_db()
    assert req.status == "failed" and req.candidates.count() == 0


def test_a_request_whose_runs_all_ended_unnoticed_is_closed_by_the_sweep(submit):
    req = submit(solvers=[{"name": "exact"}])
    Run.objects.filter(request=req).update(status=RunStatus.CANCELLED)
    assert services.requests_sweep_deadlines() == [req.id]
    assert OptimizationRequest.objects.get(id=req.id).status == "failed"
