"""A solve's result as rows: the run's fields, its distribution and its candidates.

No transaction of its own: ``execution.runs_complete`` calls these for a
group of runs inside the one transaction that records them, with their
audit events, so a result is stored whole or not at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings

from jobs.models import Candidate, Distribution, Run
from quantum import CandidateResult, SolveResult


def success_fields(run: Run, result: SolveResult, now: datetime) -> dict[str, Any]:
    """The run's columns once it succeeded, for the one UPDATE that fences them."""
    return {
        "tier": result.tier,
        "metrics": jsonable(result.metrics),
        "timings": jsonable(_timings(run, result, now)),
        "circuit": jsonable(result.circuit),
        "usage": jsonable(result.usage),
        "trace": jsonable(list(result.trace)),
        "provider_job_id": (result.provider_job_id or run.provider_job_id)[:255],
        "finished_at": now,
        "lease_expires_at": None,
        "error_message": "",
        "error_permanent": None,
    }


def store_distributions(done: Sequence[tuple[Run, SolveResult]]) -> None:
    """The whole measured distribution of each sampled run, in one insert. A run
    succeeds once (its fence), so there is never an earlier row to replace."""
    Distribution.objects.bulk_create(
        Distribution(
            run_id=run.id,
            **Distribution.encode(
                result.counts, compress_above=settings.JOBS_DISTRIBUTION_COMPRESS_ABOVE
            ),
        )
        for run, result in done
        if result.counts
    )


def result_candidate_rows(done: Sequence[tuple[Run, SolveResult]]) -> dict[int, list[Candidate]]:
    """Unsaved candidate rows of finished runs, by request: each run's best
    JOBS_CANDIDATES_PER_RUN."""
    rows: dict[int, list[Candidate]] = {}
    for run, result in done:
        keep = result.candidates[: settings.JOBS_CANDIDATES_PER_RUN]
        rows.setdefault(run.request_id, []).extend(candidate_rows(run, keep))
    return rows


def candidate_rows(run: Run, results: Sequence[CandidateResult]) -> list[Candidate]:
    """Unsaved rows for a run's candidates, in the solver's order (``run_rank`` 1, 2, ...)."""
    return [
        Candidate(
            request_id=run.request_id,
            run_id=run.id,
            assignment=list(c.assignment),
            bitstring=c.bitstring,
            objective=c.objective,
            feasible=c.feasible,
            probability=c.probability,
            count=c.count,
            run_rank=position,
        )
        for position, c in enumerate(results, start=1)
    ]


def _timings(run: Run, result: SolveResult, now: datetime) -> dict[str, Any]:
    timings: dict[str, Any] = dict(result.timings)
    if run.started_at is not None:
        timings["wall"] = (now - run.started_at).total_seconds()
        if run.enqueued_at is not None:
            timings["queued"] = max(0.0, (run.started_at - run.enqueued_at).total_seconds())
    return timings


def jsonable(value: Any) -> Any:
    """Plain JSON: numpy scalars become Python numbers; NaN and infinities become None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
