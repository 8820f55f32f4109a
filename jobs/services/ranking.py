"""Finishing a request: merge every run's candidates onto one scale and rank them.

Callers hold the request's row lock (``select_for_update``) or have just
inserted it, so two runs finishing at once cannot both decide the request
is done, nor both miss it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection
from django.utils import timezone

from approvals.audit import AuditAction, audit_append, audit_event
from approvals.figures import figures_warm_on_commit
from approvals.models import AuditEvent
from jobs import solving
from jobs.models import Candidate, OptimizationRequest, RequestStatus, Run, RunStatus, Tier
from jobs.models.request import REQUEST_ACTIVE
from jobs.models.run import RUN_ACTIVE
from jobs.services.transitions import request_transition, requests_transition

REQUEST_FAILED = "request.failed"
# Ties (same feasibility and objective) go to the better-evidenced source:
# a proven optimum, then classical heuristics, then real hardware, then simulators.
TIER_QUALITY = {
    Tier.CLASSICAL: 1,
    Tier.HARDWARE: 2,
    Tier.NOISY_SIMULATOR: 3,
    Tier.SIMULATOR: 4,
}
UNKNOWN_QUALITY = 9
RANKING_FIELDS = (
    "id",
    "request_id",
    "solver",
    "kind",
    "backend",
    "status",
    "tier",
    "error_message",
    "cache_source",
)
TIE_RTOL = 1e-9


def request_finalise_if_done(*, request: OptimizationRequest) -> bool:
    """Finalise when no run is still queued or running; say whether it did."""
    return request.id in requests_finalise_if_done(requests=[request])


def requests_finalise_if_done(
    *,
    requests: Sequence[OptimizationRequest],
    system: str = "jobs.ranking",
    fresh: Mapping[int, list[Candidate]] | None = None,
    events: list[AuditEvent] | None = None,
    locked: bool = False,
) -> set[int]:
    """Finalise those of ``requests`` with no run still queued or running; the ids finalised.

    One query per table for all of them, and their audit events appended together.
    ``fresh``, ``events`` and ``locked``: see ``requests_finalise``.
    """
    runs_of = _runs_of(requests)
    idle = [r for r in requests if not any(run.status in RUN_ACTIVE for run in runs_of[r.id])]
    if not idle:
        return set()
    return requests_finalise(
        requests=idle, system=system, fresh=fresh, events=events, locked=locked, runs_of=runs_of
    )


def _runs_of(requests: Sequence[OptimizationRequest]) -> dict[int, list[Run]]:
    """Every run of ``requests``, by request id, in id order: one query."""
    runs_of: dict[int, list[Run]] = {r.id: [] for r in requests}
    found = (
        Run.objects.filter(request__in=[r.id for r in requests])
        .select_related("cache_source")
        # What ranking and its labels read; not the metrics, timings and traces.
        .only(*RANKING_FIELDS, *(f"cache_source__{f}" for f in RANKING_FIELDS))
    )
    for run in found.order_by("id"):
        runs_of[run.request_id].append(run)
    return runs_of


def request_finalise(*, request: OptimizationRequest, system: str = "jobs.ranking") -> bool:
    """Move an active request to review (ranked) or to failed; False if no longer active."""
    return request.id in requests_finalise(requests=[request], system=system)


def requests_finalise(
    *,
    requests: Sequence[OptimizationRequest],
    system: str = "jobs.ranking",
    fresh: Mapping[int, list[Candidate]] | None = None,
    events: list[AuditEvent] | None = None,
    locked: bool = False,
    runs_of: Mapping[int, list[Run]] | None = None,
) -> set[int]:
    """Move each active request to review (ranked) or to failed; the ids moved.

    Callers hold the requests' row locks. Requests no longer active are left alone;
    ``locked=True`` says the objects were read under those locks, so their status
    is current and is not read again. ``fresh`` are candidates of just-finished
    runs that the caller has not saved yet: they are ranked with the saved ones
    and get their ``rank`` set here, so the caller inserts them ranked instead of
    inserting, reading back and updating. With ``events`` the audit events are
    added to that list for the caller to append with its own; without, they are
    appended here. ``runs_of``: the requests' runs, if the caller has just read them.
    """
    fresh = fresh or {}
    if locked:
        current = {r.id: r.status for r in requests}
    else:
        current = dict(
            OptimizationRequest.objects.filter(id__in=[r.id for r in requests]).values_list(
                "id", "status"
            )
        )
    active = [r for r in requests if current.get(r.id) in REQUEST_ACTIVE]
    if not active:
        return set()
    runs_of = runs_of if runs_of is not None else _runs_of(active)
    candidates_of: dict[int, list[Candidate]] = {r.id: [] for r in active}
    # Runs that finished in the caller's transaction have nothing saved yet:
    # their candidates are in ``fresh``.
    done_now = {c.run_id for rows in fresh.values() for c in rows}
    saved = _saved_candidates(
        [run for r in active for run in runs_of[r.id] if run.id not in done_now]
    )
    for candidate in saved:
        candidates_of[candidate.request_id].append(candidate)
    for request_id, unsaved in fresh.items():
        if request_id in candidates_of:
            candidates_of[request_id].extend(unsaved)
    now = timezone.now()
    ours: list[AuditEvent] = []
    sampled: list[int] = []
    ready: dict[str, list[int]] = {}  # by fallback reason: one UPDATE per distinct reason
    for request in active:
        runs, before = runs_of[request.id], current[request.id]
        if not any(r.status == RunStatus.SUCCEEDED for r in runs):
            ours.append(_fail(request, runs, before, system))
            continue
        ranked = _rank(request, runs, candidates_of[request.id])
        reason = fallback_reason(runs)
        ready.setdefault(reason, []).append(request.id)
        request.status, request.fallback, request.fallback_reason = (
            RequestStatus.READY_FOR_REVIEW,
            bool(reason),
            reason,
        )
        request.ready_at = now
        ours.append(
            audit_event(
                action=AuditAction.REQUEST_RANKED,
                obj=request,
                system=system,
                before={"status": before},
                after={"status": request.status, "candidates": len(ranked), "best": _best(ranked)},
            )
        )
        if reason:
            ours.append(
                audit_event(
                    action=AuditAction.REQUEST_FALLBACK,
                    obj=request,
                    system=system,
                    after={"fallback": True},
                    reason=reason,
                )
            )
        if any(r.tier != Tier.CLASSICAL for r in runs if r.status == RunStatus.SUCCEEDED):
            sampled.append(request.id)
    for reason, ids in ready.items():
        requests_transition(
            request_ids=ids,
            to=RequestStatus.READY_FOR_REVIEW,
            fallback=bool(reason),
            fallback_reason=reason,
            ready_at=now,
        )
    save_ranks(saved)
    if events is None:
        audit_append(*ours)
    else:
        events.extend(ours)
    # Measurement histograms are the costly figures; a classical-only request's
    # page builds its few small ones on first view.
    for request_id in sampled:
        figures_warm_on_commit(request_id)
    return {r.id for r in active}


def _fail(request: OptimizationRequest, runs: list[Run], current: str, system: str) -> AuditEvent:
    reason = "; ".join(f"{_label(r)}: {r.error_message or r.status}" for r in runs) or "no runs"
    request_transition(request_id=request.id, to=RequestStatus.FAILED, failure_reason=reason)
    return audit_event(
        action=REQUEST_FAILED,
        obj=request,
        system=system,
        before={"status": current},
        after={"status": RequestStatus.FAILED},
        reason=reason,
    )


def fallback_reason(runs: list[Run]) -> str:
    """Why the review rests on fewer quantum results than asked for, or ""."""
    missed = [r for r in runs if r.kind == solving.QUANTUM and r.status != RunStatus.SUCCEEDED]
    if not missed:
        return ""
    standing = ", ".join(_label(r) for r in runs if r.status == RunStatus.SUCCEEDED)
    parts = [f"{_label(r)} {_missed_how(r)}" for r in missed]
    return f"{'; '.join(parts)}. Ranking uses {standing}."


def _missed_how(run: Run) -> str:
    if run.status == RunStatus.TIMED_OUT:
        return "timed out at the deadline"
    if run.status == RunStatus.CANCELLED:
        return "was cancelled"
    return f"failed: {run.error_message}" if run.error_message else "failed"


def candidates_rank(*, request: OptimizationRequest, runs: list[Run]) -> list[Candidate]:
    """Give every candidate of every succeeded run one rank on the request's scale."""
    candidates = _saved_candidates(runs)
    ranked = _rank(request, runs, candidates)
    save_ranks(ranked)
    return ranked


def _saved_candidates(runs: Sequence[Run]) -> list[Candidate]:
    """The stored candidates of the succeeded ones of ``runs``, by id.

    Selected by run id (its index), not by joining on the run's status: with
    stale statistics PostgreSQL would walk every succeeded run ever stored
    (28 ms at 2,000 runs, growing with history) to find a few requests' rows.
    """
    succeeded = [run.id for run in runs if run.status == RunStatus.SUCCEEDED]
    if not succeeded:
        return []
    return list(Candidate.objects.filter(run_id__in=succeeded).order_by("id"))


def save_ranks(candidates: Sequence[Candidate]) -> None:
    """Write ``rank`` of ``candidates``: on PostgreSQL one UPDATE ... FROM (VALUES ...)
    per 5,000 rows, linear in their number (Django's bulk_update builds a CASE
    per row, quadratic: 1,600 candidates took ~35 ms that way)."""
    if connection.vendor != "postgresql":
        Candidate.objects.bulk_update(candidates, ["rank"], batch_size=500)
        return
    table = Candidate._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(candidates), 5000):
            chunk = candidates[start : start + 5000]
            values = ", ".join(["(%s, %s)"] * len(chunk))
            params = [v for c in chunk for v in (c.id, c.rank)]
            cursor.execute(
                f'UPDATE "{table}" AS c SET "rank" = v.rank '  # noqa: S608 (no user input)
                f"FROM (VALUES {values}) AS v(id, rank) WHERE c.id = v.id",
                params,
            )


def _rank(
    request: OptimizationRequest, runs: list[Run], candidates: list[Candidate]
) -> list[Candidate]:
    """Sort ``candidates`` onto the request's scale and number them (not saved)."""
    quality = {r.id: source_quality(r) for r in runs}
    sign = -1.0 if request.sense == "maximize" else 1.0
    candidates.sort(key=lambda c: (not c.feasible, sign * c.objective))
    tier = _tie_groups(candidates, sign)
    # Last tie-break: the run, then the run's own order (not the row id: it is
    # not known yet for candidates ranked before they are saved).
    candidates.sort(
        key=lambda c: (
            tier[id(c)],
            quality[c.run_id],
            -c.probability,
            c.bitstring,
            c.run_id,
            c.run_rank or 0,
        )
    )
    for position, candidate in enumerate(candidates, start=1):
        candidate.rank = position
    return candidates


def _tie_groups(ordered: list[Candidate], sign: float) -> dict[int, int]:
    """Number runs of equal (feasible, objective) in ``ordered``; objectives within
    a relative 1e-9 are equal, because two solvers' sums for one assignment can
    differ in the last bits."""
    groups: dict[int, int] = {}
    group, start, feasible = -1, 0.0, None
    for c in ordered:
        value = sign * c.objective
        if c.feasible != feasible or value - start > TIE_RTOL * max(1.0, abs(start)):
            group, start, feasible = group + 1, value, c.feasible
        groups[id(c)] = group
    return groups


def source_quality(run: Run) -> int:
    """Lower is better evidence. A cache copy is as good as the run it copies."""
    source = run.origin
    if source.solver in solving.PROVEN_OPTIMAL_SOLVERS:
        return 0
    return TIER_QUALITY.get(Tier(source.tier), UNKNOWN_QUALITY) if source.tier else UNKNOWN_QUALITY


def _label(run: Run) -> str:
    return f"{run.solver} on {run.backend}" if run.backend else run.solver


def _best(ranked: list[Candidate]) -> dict[str, Any] | None:
    if not ranked:
        return None
    best = ranked[0]
    return {
        "bitstring": best.bitstring,
        "objective": best.objective,
        "feasible": best.feasible,
        "run": best.run_id,
    }
