"""Executing a run on a worker: claim, solve, then record success, retry or failure.

Every write a worker makes after its claim carries the attempt number it
claimed (the fencing token). If the run was reaped, cancelled or timed out
meanwhile, the write matches no row and raises ``StaleAttempt``: the worker
drops its result, because the run is no longer its to finish.

Lock order, everywhere a run and its request change together: the request
row first (``select_for_update``), then the run, then the audit append. One
order means two transactions can never each hold what the other waits for.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from approvals.audit import AuditAction, audit_append, audit_event, audit_record
from jobs import solving
from jobs.errors import StaleAttempt
from jobs.models import Candidate, OptimizationRequest, RequestStatus, Run, RunStatus
from jobs.models.run import RUN_ACTIVE
from jobs.services.budget import runs_spend_close
from jobs.services.dispatch import runs_enqueue
from jobs.services.ranking import request_finalise_if_done, requests_finalise_if_done
from jobs.services.recording import (
    jsonable,
    result_candidate_rows,
    store_distributions,
    success_fields,
)
from jobs.services.transitions import run_transition, runs_succeed, runs_transition
from quantum import BackendError, Problem, SolveResult, parse_problem

logger = logging.getLogger(__name__)


def run_execute(*, run_id: int, worker: str = "", backend: Any = None) -> str:
    """Claim and solve one run; returns what happened, for the task's log line.

    Treats "already done" as success: a duplicate or late broker message
    finds the run no longer queued and does nothing. ``backend`` is a Backend
    object shared by a campaign's provider batch; by default the run's own.
    """
    run = run_claim(run_id=run_id, worker=worker)
    if run is None:
        return NOT_CLAIMED
    outcome = _attempt(run, backend)
    if isinstance(outcome, str):
        return outcome
    return runs_complete([(run, outcome)])[run.id]


def runs_execute_group(*, run_ids: Sequence[int], worker: str = "") -> list[str]:
    """Claim, solve and finish a group of small runs: one transaction to claim
    them all, one to record them all; per-run outcomes, in ``run_ids`` order.

    Each run keeps its own fencing token, errors, retries and audit events;
    only the transactions and inserts are shared. Past the task's soft time
    limit the runs not yet solved go back to the queue (a transient error).
    """
    outcomes = dict.fromkeys(run_ids, NOT_CLAIMED)
    runs = runs_claim(run_ids=run_ids, worker=worker)
    solved: list[tuple[Run, SolveResult]] = []
    parsed: dict[int, Problem] = {}  # a request's runs travel together: parse it once
    for position, run in enumerate(runs):
        outcome = _attempt(run, None, parsed)
        if not isinstance(outcome, str):
            solved.append((run, outcome))
            continue
        outcomes[run.id] = outcome
        if outcome == TIMED_OUT:
            for rest in runs[position + 1 :]:
                message = "its group of runs reached the time limit before it started"
                outcomes[rest.id] = run_error(
                    run_id=rest.id, attempt=rest.attempt, message=message, permanent=False
                )
            break
    outcomes.update(runs_complete(solved))
    return [outcomes[run_id] for run_id in run_ids]


NOT_CLAIMED = "not claimed: the run is not queued"
TIMED_OUT = "timed out"


def _attempt(run: Run, backend: Any, parsed: dict[int, Problem] | None = None) -> SolveResult | str:
    """The solve's result, or (after recording the failure) what happened instead."""
    try:
        return _solve(run, backend, parsed)
    except StaleAttempt as exc:
        logger.info("run %s: dropping a stale attempt: %s", run.id, exc)
        return "stale"
    except BackendError as exc:
        return run_error(
            run_id=run.id,
            attempt=run.attempt,
            message=str(exc),
            permanent=exc.permanent,
            usage=exc.usage,
        )
    except SoftTimeLimitExceeded:
        run_time_out(run_id=run.id, attempt=run.attempt, reason="the run reached its time limit")
        return TIMED_OUT
    except ValueError as exc:
        # The solver refused its input or options: a retry would be refused too.
        return run_error(run_id=run.id, attempt=run.attempt, message=str(exc), permanent=True)
    except Exception as exc:
        logger.exception("run %s: unexpected error while solving", run.id)
        message = f"unexpected {type(exc).__name__}: {exc}"
        return run_error(run_id=run.id, attempt=run.attempt, message=message, permanent=False)


def _solve(run: Run, backend: Any, parsed: dict[int, Problem] | None = None) -> SolveResult:
    request = run.request
    parsed = {} if parsed is None else parsed
    if request.id not in parsed:
        parsed[request.id] = parse_problem(request.problem, request.schema_version)
    problem = parsed[request.id]
    return solving.solve_run(
        problem,
        solver=run.solver,
        backend=backend or run.backend or None,
        options=run.options,
        seed=int(request.settings["seed"]),
        shots=int(request.settings["shots"]),
        on_job_submitted=partial(run_record_provider_job, run_id=run.id, attempt=run.attempt),
        resume_job_id=run.provider_job_id or None,
        on_optimised=partial(run_record_checkpoint, run_id=run.id, attempt=run.attempt),
        resume_optimised=run.checkpoint or None,
        # Provider-side tags let an operator find our run from IBM's job list.
        tags=(f"hybridreview-run-{run.id}", f"hybridreview-request-{request.id}"),
    )


def run_claim(*, run_id: int, worker: str = "") -> Run | None:
    """Start a queued run as its next attempt; None if it is not queued (or gone)."""
    claimed = runs_claim(run_ids=[run_id], worker=worker)
    return claimed[0] if claimed else None


def runs_claim(*, run_ids: Sequence[int], worker: str = "") -> list[Run]:
    """Start those of ``run_ids`` still queued (and under their attempt cap) as their
    next attempt, in one transaction; the claimed runs, by id."""
    now = timezone.now()
    with transaction.atomic():
        requests = _lock_requests_of(run_ids, with_problem=True)
        if not requests:
            return []
        claimed = runs_transition(
            run_ids=run_ids,
            to=RunStatus.RUNNING,
            from_=(RunStatus.QUEUED,),
            where=Q(attempt__lt=F("max_attempts")),
            attempt=F("attempt") + 1,
            lease_expires_at=now + timedelta(seconds=settings.JOBS_LEASE_SECONDS),
            started_at=now,
            worker=worker[:255],
            not_before=None,
        )
        if not claimed:
            return []
        OptimizationRequest.objects.filter(id__in=requests, status=RequestStatus.SUBMITTED).update(
            status=RequestStatus.RUNNING, updated_at=now
        )
        runs = list(Run.objects.filter(id__in=claimed).order_by("id"))
        for run in runs:
            run.request = requests[run.request_id]
        audit_append(
            *(
                audit_event(
                    action=AuditAction.RUN_CLAIMED,
                    obj=run,
                    team=run.request.team,
                    system=_system(worker),
                    before={"status": RunStatus.QUEUED},
                    after={"status": run.status, "attempt": run.attempt, "worker": run.worker},
                )
                for run in runs
            )
        )
    return runs


def run_record_provider_job(job_id: str, *, run_id: int, attempt: int) -> None:
    """Save the provider's job id before waiting on it, so a retry resumes it.

    Committed at once (autocommit): the point is that it survives this
    worker dying while it waits.
    """
    updated = Run.objects.filter(id=run_id, attempt=attempt, status=RunStatus.RUNNING).update(
        provider_job_id=job_id[:255], updated_at=timezone.now()
    )
    if not updated:
        raise StaleAttempt(
            f"Run {run_id} is no longer on attempt {attempt}; not waiting on {job_id}."
        )


def run_record_checkpoint(state: dict[str, Any], *, run_id: int, attempt: int) -> None:
    """Save a finished paid optimisation (QAOA's angles) before the final job is sent,
    so a retry after a crash samples with them instead of paying for it again.
    Committed at once, like the provider job id."""
    updated = Run.objects.filter(id=run_id, attempt=attempt, status=RunStatus.RUNNING).update(
        checkpoint=jsonable(state), updated_at=timezone.now()
    )
    if not updated:
        raise StaleAttempt(f"Run {run_id} is no longer on attempt {attempt}; not sampling.")


def run_complete(*, run_id: int, attempt: int, result: SolveResult) -> Run:
    """Record a successful solve: run fields, distribution, candidates; then maybe rank.

    Raises ``StaleAttempt`` when ``attempt`` is no longer the run's.
    """
    run = Run.objects.get(id=run_id)
    run.attempt = attempt  # the fence: the attempt that solved, not whatever is current
    runs_complete([(run, result)], raise_stale=True)
    run.refresh_from_db()
    return run


def runs_complete(
    solved: Sequence[tuple[Run, SolveResult]], *, raise_stale: bool = False
) -> dict[int, str]:
    """Record successful solves in one transaction: each run's fields (fenced by the
    attempt it was claimed with), distributions, candidates and audit events;
    then rank every request left with no active run. Outcome per run id:
    "succeeded", or "stale" when the run was reaped, cancelled or timed out
    meanwhile (its result is dropped)."""
    if not solved:
        return {}
    now = timezone.now()
    outcomes: dict[int, str] = {}
    with transaction.atomic():
        requests = _lock_requests_of([run.id for run, _ in solved])
        moved = set(
            runs_succeed(
                outcomes=[(run.id, run.attempt, success_fields(run, r, now)) for run, r in solved]
            )
        )
        done = [(run, result) for run, result in solved if run.id in moved]
        for run, _ in solved:
            if run.id in moved:
                outcomes[run.id] = "succeeded"
                continue
            message = f"Run {run.id} is no longer on attempt {run.attempt}; its result is dropped."
            if raise_stale:
                raise StaleAttempt(message)
            logger.info("run %s: %s", run.id, message)
            outcomes[run.id] = "stale"
        runs_spend_close(run_ids=[run.id for run, _ in done])
        store_distributions(done)
        fresh = result_candidate_rows(done)
        events = [
            audit_event(
                action=AuditAction.RUN_SUCCEEDED,
                obj=run,
                team=requests[run.request_id].team if run.request_id in requests else None,
                system=_system(run.worker),
                before={"status": RunStatus.RUNNING},
                after={
                    "status": RunStatus.SUCCEEDED,
                    "attempt": run.attempt,
                    "tier": result.tier,
                },
            )
            for run, result in done
        ]
        finished = sorted({run.request_id for run, _ in done} & requests.keys())
        # Ranked before they are inserted: no reading back, no rank UPDATE.
        requests_finalise_if_done(
            requests=[requests[i] for i in finished], fresh=fresh, events=events, locked=True
        )
        Candidate.objects.bulk_create([c for rows in fresh.values() for c in rows], batch_size=1000)
        audit_append(*events)  # the runs' and the requests' events: one append
    return outcomes


def run_error(
    *,
    run_id: int,
    attempt: int,
    message: str,
    permanent: bool,
    usage: Mapping[str, float] | None = None,
) -> str:
    """A solve failed: retry with backoff if transient and under the cap, else fail the run.

    ``usage`` (what the attempt consumed at the provider) is kept on the run so
    the settlement charges failed attempts too.
    """
    now = timezone.now()
    with transaction.atomic():
        request = _lock_request_of(run_id)
        run = Run.objects.get(id=run_id)
        if usage and run.attempt == attempt:
            run.failed_usage = [*run.failed_usage, {"attempt": attempt, **usage}]
            run.save(update_fields=["failed_usage"])
        if permanent or attempt >= run.max_attempts:
            reason = message if permanent else f"{message} (gave up after {attempt} attempts)"
            _fail(run, attempt, reason, permanent, now)
            if request is not None:
                request_finalise_if_done(request=request)
            return "failed"
        delay = backoff_seconds(attempt)
        run_transition(
            run_id=run_id,
            to=RunStatus.QUEUED,
            from_=(RunStatus.RUNNING,),
            fence=attempt,
            error_message=message,
            error_permanent=False,
            lease_expires_at=None,
            not_before=now + timedelta(seconds=delay),
        )
        audit_record(
            action=AuditAction.RUN_RETRIED,
            obj=run,
            team=run.request.team,
            system=_system(run.worker),
            before={"status": RunStatus.RUNNING, "attempt": attempt},
            after={"status": RunStatus.QUEUED, "retry_in_seconds": delay},
            reason=message,
        )
        runs_enqueue(run_ids=[run_id], countdown=delay)
    return "retrying"


def _fail(run: Run, attempt: int, reason: str, permanent: bool, now: datetime) -> None:
    run_transition(
        run_id=run.id,
        to=RunStatus.FAILED,
        from_=(RunStatus.RUNNING,),
        fence=attempt,
        error_message=reason,
        error_permanent=permanent,
        finished_at=now,
        lease_expires_at=None,
    )
    audit_record(
        action=AuditAction.RUN_FAILED,
        obj=run,
        team=run.request.team,
        system=_system(run.worker),
        before={"status": RunStatus.RUNNING, "attempt": attempt},
        after={"status": RunStatus.FAILED, "permanent": permanent},
        reason=reason,
    )


def run_time_out(*, run_id: int, reason: str, attempt: int | None = None, system: str = "") -> bool:
    """Mark an active run timed out (a worker's own limit, or the deadline); then maybe rank.

    ``attempt`` fences a worker reporting its own time limit; the deadline
    sweeper passes none because it is the authority over a late run.
    """
    now = timezone.now()
    with transaction.atomic():
        request = _lock_request_of(run_id)
        run = Run.objects.get(id=run_id)
        try:
            run_transition(
                run_id=run_id,
                to=RunStatus.TIMED_OUT,
                from_=RUN_ACTIVE,
                fence=attempt,
                error_message=reason,
                error_permanent=False,
                finished_at=now,
                lease_expires_at=None,
            )
        except StaleAttempt:
            return False
        audit_record(
            action=AuditAction.RUN_TIMED_OUT,
            obj=run,
            team=run.request.team,
            system=system or _system(run.worker),
            before={"status": run.status, "attempt": run.attempt},
            after={"status": RunStatus.TIMED_OUT},
            reason=reason,
        )
        provider_cancel_on_commit(run)
        if request is not None and attempt is not None:
            request_finalise_if_done(request=request)
    return True


def provider_cancel_on_commit(run: Run) -> None:
    """A provider job we stopped waiting for still costs money: ask it to stop."""
    if run.provider_job_id and run.backend:
        backend, job_id = run.backend, run.provider_job_id
        transaction.on_commit(lambda: solving.cancel_provider_job(backend, job_id), robust=True)


def backoff_seconds(attempt: int) -> float:
    base = settings.JOBS_RETRY_BACKOFF_SECONDS * (2 ** max(0, attempt - 1))
    return float(min(base, settings.JOBS_RETRY_BACKOFF_MAX_SECONDS))


def _lock_request_of(run_id: int) -> OptimizationRequest | None:
    return next(iter(_lock_requests_of([run_id]).values()), None)


def _lock_requests_of(
    run_ids: Sequence[int], *, with_problem: bool = False
) -> dict[int, OptimizationRequest]:
    """Lock the requests of ``run_ids``, in id order (so two groups never wait on each
    other in a cycle); by id. One query: the run ids select the requests in a subquery.

    Only a claim reads the problem (to solve it): recording a result, a retry or
    a failure does not, and a problem may be up to 2 MB of JSON to decode."""
    locked = (
        OptimizationRequest.objects.select_for_update(of=("self",))
        .select_related("team")
        .filter(id__in=Run.objects.filter(id__in=list(run_ids)).values("request_id"))
        .order_by("id")
    )
    if not with_problem:
        locked = locked.defer("problem")
    return {request.id: request for request in locked}


def _system(worker: str) -> str:
    return f"worker:{worker}" if worker else "jobs.worker"
