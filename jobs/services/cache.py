"""cache "prefer": serve a run from an identical run that already succeeded.

Identical means the same fingerprint (canonical problem, schema version,
solvers with their options, shots and seed) within the same team, and the
same solver and backend. The copy is a new run with tier ``cache`` that
points at its source, so a reviewer can tell a replayed answer from a fresh one.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from approvals.audit import AuditAction, audit_record
from jobs.models import (
    CachePolicy,
    Candidate,
    Distribution,
    OptimizationRequest,
    Run,
    RunStatus,
    Tier,
)


def cache_source(*, request: OptimizationRequest, solver: str, backend: str) -> Run | None:
    """The succeeded run that can stand in for (solver, backend) of ``request``, if any."""
    if request.cache_policy != CachePolicy.PREFER:
        return None
    found = (
        Run.objects.filter(
            request__team_id=request.team_id,
            request__fingerprint=request.fingerprint,
            status=RunStatus.SUCCEEDED,
            solver=solver,
            backend=backend,
        )
        .exclude(request_id=request.id)
        .order_by("-finished_at", "-id")
        .first()
    )
    if found is None:
        return None
    # Point at the original, never at another copy, so provenance is one hop.
    return found.cache_source if found.cache_source_id else found


def cached_run_fields(source: Run) -> dict[str, Any]:
    """A new run's fields when it is born finished, as a copy of ``source``.

    Born ``succeeded`` rather than moved there: the run never waited for a
    worker, so there is no transition to make.
    """
    now = timezone.now()
    return {
        "status": RunStatus.SUCCEEDED,
        "tier": Tier.CACHE,
        "cache_source": source,
        "metrics": source.metrics,
        "circuit": source.circuit,
        "trace": source.trace,
        "timings": {"total": 0.0, "source_total": source.timings.get("total")},
        "provider_job_id": source.provider_job_id,
        "started_at": now,
        "finished_at": now,
    }


def run_copy_results(*, run: Run, source: Run) -> None:
    """Copy the source's distribution and candidates onto the new run, and audit it."""
    _copy_distribution(run, source)
    Candidate.objects.bulk_create(
        Candidate(
            request_id=run.request_id,
            run_id=run.id,
            assignment=c.assignment,
            bitstring=c.bitstring,
            objective=c.objective,
            feasible=c.feasible,
            probability=c.probability,
            count=c.count,
            run_rank=c.run_rank,
        )
        for c in source.candidates.order_by("run_rank")
    )
    audit_record(
        action=AuditAction.RUN_SUCCEEDED,
        obj=run,
        team=run.request.team,
        system="jobs.cache",
        after={"status": run.status, "tier": run.tier, "cache_source": source.id},
        reason=f"served from the cache: run {source.id} of request {source.request_id}",
    )


def _copy_distribution(run: Run, source: Run) -> None:
    original = Distribution.objects.filter(run=source).first()
    if original is None:
        return
    Distribution.objects.create(
        run=run,
        encoding=original.encoding,
        data=original.data,
        sha256=original.sha256,
        shots=original.shots,
        outcomes=original.outcomes,
        size_bytes=original.size_bytes,
    )
