"""A run on a worker: claim, solve, store; transient retries, permanent failures, fencing."""

from __future__ import annotations

import pytest

from approvals.models import AuditEvent
from jobs import services
from jobs.models import Candidate, Distribution, Run, RunStatus
from quantum.errors import BackendError
from tests.jobs.conftest import work
from tests.support.backends import ScriptedBackend, WrappedBackend, swapped

pytestmark = pytest.mark.django_db

TINY_QAOA = {"name": "qaoa", "backend": "aer_statevector", "options": {"reps": 1, "maxiter": 5}}


def test_a_classical_request_goes_to_review_with_ranked_candidates(submit):
    req = work(submit())
    assert req.status == "ready_for_review" and not req.fallback
    runs = list(req.runs.all())
    assert {(r.status, r.attempt, r.tier) for r in runs} == {("succeeded", 1, "classical")}
    assert all(r.timings["total"] >= 0 and r.worker == "test-worker" for r in runs)
    ranks = list(req.candidates.order_by("rank").values_list("rank", flat=True))
    assert ranks == list(range(1, len(ranks) + 1))
    best = req.candidates.get(rank=1)
    assert best.feasible and best.objective == 8.0  # all 6 ring edges and the chord (2)
    assert best.run.solver == "exact"  # ties go to the proven optimum


def test_a_qaoa_run_stores_its_whole_distribution_and_circuit_facts(submit, settings):
    settings.JOBS_DISTRIBUTION_COMPRESS_ABOVE = 10  # force compression on a small one
    req = work(submit(solvers=[TINY_QAOA, {"name": "exact"}], shots=256))
    assert req.status == "ready_for_review"
    run = req.runs.get(solver="qaoa")
    assert (run.status, run.tier) == ("succeeded", "simulator")
    assert run.provider_job_id and run.circuit["depth"] > 0
    dist = Distribution.objects.get(run=run)
    assert dist.encoding == "zlib+json" and dist.shots == 256
    assert sum(dist.counts().values()) == 256 and len(dist.sha256) == 64
    assert Candidate.objects.filter(run=run).count() == min(dist.outcomes, 100)


def test_a_duplicate_message_does_nothing_once_the_run_is_claimed(submit):
    run = submit().runs.first()
    assert services.run_claim(run_id=run.id, worker="a") is not None
    assert services.run_execute(run_id=run.id, worker="b").startswith("not claimed")
    run.refresh_from_db()
    assert (run.status, run.attempt, run.worker) == ("running", 1, "a")


def test_a_message_for_a_finished_run_is_treated_as_done(submit):
    req = work(submit())
    run = req.runs.first()
    assert services.run_execute(run_id=run.id).startswith("not claimed")
    assert Run.objects.get(id=run.id).attempt == 1


def test_a_stale_attempt_cannot_record_its_result(submit):
    from jobs.errors import StaleAttempt
    from quantum import parse_problem
    from quantum.solvers import exact

    req = submit(solvers=[{"name": "exact"}])
    run = services.run_claim(run_id=req.runs.get().id, worker="old")
    # The reaper gave the run to a second worker meanwhile.
    Run.objects.filter(id=run.id).update(status=RunStatus.QUEUED)
    services.run_claim(run_id=run.id, worker="new")
    result = exact.solve(parse_problem(req.problem), {}, seed=1)
    with pytest.raises(StaleAttempt):
        services.run_complete(run_id=run.id, attempt=1, result=result)
    with pytest.raises(StaleAttempt):
        services.run_record_provider_job("job-x", run_id=run.id, attempt=1)
    services.run_complete(run_id=run.id, attempt=2, result=result)
    run.refresh_from_db()
    assert (run.status, run.attempt, run.worker) == ("succeeded", 2, "new")
    assert Candidate.objects.filter(run=run).count() == len(result.candidates)


def test_a_transient_backend_error_is_retried_with_backoff_then_succeeds(submit, settings):
    settings.JOBS_RETRY_BACKOFF_SECONDS = 3
    calls: list[str] = []
    script = [BackendError("queue full, try later", permanent=False)]
    req = submit(solvers=[TINY_QAOA], shots=128)
    run = req.runs.get()
    with swapped("aer_statevector", lambda inner: ScriptedBackend(inner, script, calls)):
        assert services.run_execute(run_id=run.id) == "retrying"
        run.refresh_from_db()
        assert (run.status, run.attempt) == ("queued", 1)
        assert run.error_message == "queue full, try later" and run.error_permanent is False
        assert 2.5 < (run.not_before - run.updated_at).total_seconds() < 3.5
        assert services.run_execute(run_id=run.id) == "succeeded"
    run.refresh_from_db()
    assert (run.status, run.attempt, run.error_message) == ("succeeded", 2, "")
    assert calls == ["run", "run"]
    assert AuditEvent.objects.filter(action="run.retried", object_id=str(run.id)).count() == 1


def test_backoff_doubles_per_attempt_up_to_the_cap(settings):
    from jobs.services.execution import backoff_seconds

    settings.JOBS_RETRY_BACKOFF_SECONDS = 2
    settings.JOBS_RETRY_BACKOFF_MAX_SECONDS = 10
    assert [backoff_seconds(a) for a in (1, 2, 3, 4, 5)] == [2, 4, 8, 10, 10]


def test_transient_errors_fail_the_run_once_the_attempt_cap_is_reached(submit):
    calls: list[str] = []
    script = [BackendError("flaky", permanent=False) for _ in range(5)]
    req = submit(solvers=[TINY_QAOA, {"name": "exact"}], shots=128)
    with swapped("aer_statevector", lambda inner: ScriptedBackend(inner, script, calls)):
        work(req)
    run = req.runs.get(solver="qaoa")
    assert (run.status, run.attempt, run.max_attempts) == ("failed", 3, 3)
    assert run.error_message == "flaky (gave up after 3 attempts)"
    req.refresh_from_db()
    assert req.status == "ready_for_review" and req.fallback
    assert "qaoa on aer_statevector failed: flaky" in req.fallback_reason


def test_a_permanent_backend_error_fails_the_run_at_once_with_the_providers_message(submit):
    calls: list[str] = []
    script = [BackendError("backend ibm_x is retired", permanent=True)]
    req = submit(solvers=[TINY_QAOA, {"name": "exact"}], shots=128)
    with swapped("aer_statevector", lambda inner: ScriptedBackend(inner, script, calls)):
        work(req)
    run = req.runs.get(solver="qaoa")
    assert (run.status, run.attempt, run.error_permanent) == ("failed", 1, True)
    assert run.error_message == "backend ibm_x is retired"
    assert calls == ["run"]
    event = AuditEvent.objects.get(action="run.failed", object_id=str(run.id))
    assert event.reason == "backend ibm_x is retired"


def test_when_every_run_fails_the_request_fails_with_the_reasons(submit):
    calls: list[str] = []
    script = [BackendError("no such device", permanent=True)]
    req = submit(solvers=[TINY_QAOA], shots=128)
    with swapped("aer_statevector", lambda inner: ScriptedBackend(inner, script, calls)):
        req = work(req)
    assert req.status == "failed"
    assert req.failure_reason == "qaoa on aer_statevector: no such device"
    assert AuditEvent.objects.filter(action="request.failed", object_id=str(req.id)).exists()


def test_the_provider_job_id_is_saved_before_waiting_so_a_retry_resumes(submit):
    req = submit(solvers=[TINY_QAOA], shots=128)
    run = req.runs.get()
    seen: list[str | None] = []

    class Recording(ScriptedBackend):
        def poll(self, job_id: str):  # the id is already in the row while we wait
            seen.append(Run.objects.get(id=run.id).provider_job_id)
            return super().poll(job_id)

    with swapped("aer_statevector", lambda inner: Recording(inner, [], [])):
        work(req)
    run.refresh_from_db()
    assert run.provider_job_id and seen and seen[-1] == run.provider_job_id


def test_claiming_audits_and_moves_the_request_to_running(submit):
    req = submit()
    run = services.run_claim(run_id=req.runs.first().id, worker="w1")
    req.refresh_from_db()
    assert req.status == "running"
    assert run.lease_expires_at is not None
    event = AuditEvent.objects.get(action="run.claimed")
    assert event.system == "worker:w1" and event.after["attempt"] == 1


def test_provider_jobs_are_tagged_with_our_run_and_request_ids(submit):
    req = submit(solvers=[TINY_QAOA], shots=128)
    run = req.runs.get()
    tags_seen: list[tuple[str, ...]] = []

    class Recording(ScriptedBackend):
        def run(self, circuits, *, shots, seed=None, tags=()):
            tags_seen.append(tuple(tags))
            return super().run(circuits, shots=shots, seed=seed, tags=tags)

    with swapped("aer_statevector", lambda inner: Recording(inner, [], [])):
        work(req)
    assert tags_seen
    assert tags_seen[-1] == (f"hybridreview-run-{run.id}", f"hybridreview-request-{req.id}")


def test_a_retry_after_a_paid_optimisation_samples_with_its_angles_instead_of_paying_again(
    submit,
):
    """A sampled (CVaR) optimisation is one provider job per evaluation: on
    hardware, paid. When the final job fails after it, the retry must resume
    from the saved angles, not run the optimiser's jobs again."""
    cvar = {
        "name": "qaoa",
        "backend": "aer_statevector",
        "options": {"objective": "cvar", "reps": 1, "maxiter": 6},
    }
    req = submit(solvers=[cvar], shots=256)
    run = req.runs.get()
    jobs: list[int] = []

    class FinalJobFailsOnce(WrappedBackend):
        def run(self, circuits, *, shots, seed=None, tags=()):
            jobs.append(shots)
            if len(jobs) == 7:  # six optimiser evaluations, then the final job
                raise BackendError("provider connection reset", permanent=False)
            return super().run(circuits, shots=shots, seed=seed, tags=tags)

    with swapped("aer_statevector", FinalJobFailsOnce):
        assert services.run_execute(run_id=run.id) == "retrying"
        run.refresh_from_db()
        saved = run.checkpoint
        assert len(saved["x"]) == 2 and len(saved["trace"]) == 6
        assert services.run_execute(run_id=run.id) == "succeeded"
    run.refresh_from_db()
    assert (run.status, run.attempt) == ("succeeded", 2)
    assert len(jobs) == 8  # attempt 2 sent the final job only
    assert run.metrics["parameters"] == saved["x"]
    assert run.trace == saved["trace"]
