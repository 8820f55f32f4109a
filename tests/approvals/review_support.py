"""Requests ready for review, for the review and sign-off tests.

``ranked_request`` writes the rows a finished pipeline leaves (runs, a stored
distribution, decoded candidates, jobs' own ranking) in milliseconds, so the
role and policy matrix does not wait on QAOA. ``pipeline_request`` runs the
real pipeline in-process for the tests that are about real data.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from approvals.audit import AuditAction, audit_record
from approvals.permissions import request_grant_team_permissions
from jobs.models import (
    Budget,
    Candidate,
    Distribution,
    LedgerEntry,
    LedgerKind,
    OptimizationRequest,
    RequestStatus,
    Run,
    RunStatus,
    Tier,
)
from jobs.services.ranking import candidates_rank
from jobs.services.recording import candidate_rows
from quantum import decode_counts, parse_problem

SQUARE = {"type": "maxcut", "graph": {"nodes": 4, "edges": [[0, 1], [1, 2], [2, 3], [3, 0]]}}
# Little-endian bitstrings; 0101 and 1010 cut all four edges.
SQUARE_COUNTS = {"0101": 300, "1010": 250, "0011": 200, "0110": 150, "1111": 100, "0000": 24}


def ranked_request(
    requester: Any,
    *,
    team: Any,
    title: str = "square",
    problem: dict[str, Any] | None = None,
    counts: dict[str, int] | None = None,
    noisy_counts: dict[str, int] | None = None,
    classical: bool = True,
    status: str = RequestStatus.READY_FOR_REVIEW,
) -> OptimizationRequest:
    """A ranked request: a QAOA run (with its distribution), optionally a noisy
    QAOA run compared with its ideal, and an exact baseline."""
    payload = problem or SQUARE
    parsed = parse_problem(payload, "1")
    counts = counts or SQUARE_COUNTS
    now = timezone.now()
    with transaction.atomic():
        req = OptimizationRequest.objects.create(
            team=team,
            requester=requester,
            title=title,
            schema_version="1",
            problem=parsed.data,
            problem_kind=parsed.kind,
            num_variables=parsed.num_variables,
            sense=parsed.sense,
            settings={
                "solvers": [{"name": "exact", "backend": None, "options": {}}],
                "shots": sum(counts.values()),
                "seed": 7,
                "deadline_seconds": 300,
                "cache": "bypass",
            },
            fingerprint="f" * 64,
            status=status,
            deadline=now + timedelta(minutes=5),
            ready_at=now,
        )
        audit_record(action=AuditAction.REQUEST_SUBMITTED, obj=req, actor=requester)
        request_grant_team_permissions(req, actor=requester)
        runs = [_quantum_run(req, parsed, counts, "aer_statevector", Tier.SIMULATOR, {})]
        if noisy_counts is not None:
            metrics = {"ideal_counts": counts, "tvd_to_ideal": 0.25}
            runs.append(
                _quantum_run(
                    req,
                    parsed,
                    noisy_counts,
                    "aer_noisy:fake_torino",
                    Tier.NOISY_SIMULATOR,
                    metrics,
                )
            )
        if classical:
            runs.append(_exact_run(req, parsed))
        candidates_rank(request=req, runs=runs)
    return req


def _quantum_run(
    req: OptimizationRequest,
    parsed: Any,
    counts: dict[str, int],
    backend: str,
    tier: str,
    metrics: dict[str, Any],
) -> Run:
    run = Run.objects.create(
        request=req,
        solver="qaoa",
        kind="quantum",
        backend=backend,
        status=RunStatus.SUCCEEDED,
        tier=tier,
        attempt=1,
        trace=[1.0, 2.0, 2.5, 3.1, 3.3],
        circuit={"depth": 8, "two_qubit_gates": 4, "width": parsed.num_variables, "shots": 1024},
        timings={"total": 0.5},
        metrics=metrics,
        finished_at=timezone.now(),
    )
    fields = Distribution.encode(counts, compress_above=16_384)
    Distribution.objects.create(run=run, **fields)
    Candidate.objects.bulk_create(candidate_rows(run, decode_counts(parsed, counts)[:100]))
    return run


def _exact_run(req: OptimizationRequest, parsed: Any) -> Run:
    from quantum.solvers import exact

    result = exact.solve(parsed, {}, seed=0)
    run = Run.objects.create(
        request=req,
        solver="exact",
        kind="classical",
        status=RunStatus.SUCCEEDED,
        tier=Tier.CLASSICAL,
        attempt=1,
        metrics=dict(result.metrics),
        finished_at=timezone.now(),
    )
    Candidate.objects.bulk_create(candidate_rows(run, result.candidates[:5]))
    return run


def huge_request(requester: Any, *, team: Any, n: int = 20) -> OptimizationRequest:
    """A ranked MaxCut ring of n nodes whose QAOA run stored all 2^n outcomes.

    The counts are synthetic (a test input, not a measurement); the
    candidates come from its 200 most frequent outcomes, the stored
    distribution is the whole of it.
    """
    rng = np.random.default_rng(1)
    counts = {format(i, f"0{n}b"): int(c) for i, c in enumerate(rng.integers(1, 40, size=2**n))}
    top = dict(sorted(counts.items(), key=lambda kv: -kv[1])[:200])
    ring = {"type": "maxcut", "graph": {"nodes": n, "edges": [[i, (i + 1) % n] for i in range(n)]}}
    req = ranked_request(requester, team=team, problem=ring, counts=top)
    run = req.runs.get(solver="qaoa")
    whole = Distribution.encode(counts, compress_above=16_384)
    Distribution.objects.filter(run=run).update(**whole)
    return req


def best(req: OptimizationRequest) -> Candidate:
    return Candidate.objects.filter(request=req, rank=1).get()


def candidate_ranked(req: OptimizationRequest, rank: int) -> Candidate:
    return Candidate.objects.filter(request=req, rank=rank).get()


def charge(req: OptimizationRequest, credits: str) -> None:
    """Record that the request's first run was charged ``credits`` (a settled ledger entry)."""
    run = req.runs.order_by("id").first()
    assert run is not None
    period = timezone.now().date().replace(day=1)
    budget, _ = Budget.objects.get_or_create(
        team=req.team, period=period, defaults={"limit_credits": Decimal(1000)}
    )
    LedgerEntry.objects.create(
        budget=budget, run=run, kind=LedgerKind.SETTLE, credits=Decimal(credits)
    )


def pipeline_request(
    requester: Any, *, problem: dict[str, Any], solvers: list[Any], **kw: Any
) -> Any:
    """Submit through jobs' service and do the workers' part in-process."""
    from jobs import services

    req = services.request_submit(
        requester=requester, problem=problem, solvers=solvers, **kw
    ).request
    for _ in range(5):
        queued = list(req.runs.filter(status=RunStatus.QUEUED).values_list("id", flat=True))
        if not queued:
            break
        for run_id in queued:
            services.run_execute(run_id=run_id, worker="test-worker")
    req.refresh_from_db()
    return req
