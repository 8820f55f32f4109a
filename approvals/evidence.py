"""The evidence pack: everything needed to show how one decision was reached.

Built from the decision's optimisation request (it works as well on a request
still under review), served by ``GET /api/v1/decisions/{id}/evidence/`` and
``/decisions/<id>/evidence/``. The caller checks access.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.utils import timezone

from approvals.audit import canonical_json, event_hash, format_time, json_safe
from approvals.exports import event_dict
from approvals.models import (
    AuditEvent,
    AuditHealth,
    Comment,
    Decision,
    Recommendation,
    Signature,
)
from approvals.review_selectors import (
    request_comments,
    request_recommendation,
    request_signatures,
)
from approvals.selectors import request_timeline
from jobs.models import Candidate, OptimizationRequest, Run
from jobs.optimum import request_optimum, run_ratio

FORMAT = "hybridreview.evidence/1"
HASH_RULE = (
    "hash = sha256(prev_hash + canonical JSON of the event's other fields); canonical JSON "
    "is sort_keys, separators (',', ':'), UTF-8, times as ISO 8601 UTC with microseconds "
    "and Z; the first event's prev_hash is 64 zeros"
)


def evidence_pack(request_obj: OptimizationRequest) -> dict[str, Any]:
    """One JSON-ready document; ``pack_sha256`` is over all the other keys."""
    events = list(request_timeline(request_obj))
    pack: dict[str, Any] = {
        "format": FORMAT,
        "generated_at": format_time(timezone.now()),
        "request": _request(request_obj),
        "inputs": {
            "schema_version": request_obj.schema_version,
            "problem": request_obj.problem,
            "settings": request_obj.settings,
            "fingerprint": request_obj.fingerprint,
        },
        **_results(request_obj),
        "candidates": [_candidate(c) for c in _candidates(request_obj)],
        **review_sections(request_obj),
        "audit": _audit(events),
        "verify": {
            # python3, not python: on many hosts a bare python is Python 2 or missing.
            "command": f"python3 manage.py verify_audit --request {request_obj.pk}",
            "hash_rule": HASH_RULE,
        },
    }
    pack = json_safe(pack)
    pack["pack_sha256"] = hashlib.sha256(canonical_json(pack)).hexdigest()
    return pack


def review_sections(request_obj: OptimizationRequest) -> dict[str, list[Any]]:
    """Recommendations, comments, signatures (voided ones too) and the decision."""
    recommendation = request_recommendation(request_obj)
    decision = Decision.objects.filter(request=request_obj).first()
    return {
        "recommendations": [_recommendation(recommendation)] if recommendation else [],
        "comments": [_comment(c) for c in request_comments(request_obj)],
        "signatures": [_signature(s) for s in request_signatures(request_obj)],
        "decisions": [_decision(decision)] if decision else [],
    }


def _recommendation(r: Recommendation) -> dict[str, Any]:
    return {
        "candidate": r.candidate_id,
        "analyst": r.analyst.get_username(),
        "comment": r.comment,
        "created_at": _time(r.created_at),
    }


def _comment(c: Comment) -> dict[str, Any]:
    return {"author": c.author.get_username(), "body": c.body, "created_at": _time(c.created_at)}


def _signature(s: Signature) -> dict[str, Any]:
    return {
        "signer": s.signer.get_username(),
        "printed_name": s.printed_name,
        "kind": s.kind,
        "meaning": s.meaning,
        "candidate": s.candidate_id,
        "comment": s.comment,
        "digest": s.digest,
        "signed_at": _time(s.signed_at),
        "voided_at": _time(s.voided_at),
        "void_reason": s.void_reason,
    }


def _decision(d: Decision) -> dict[str, Any]:
    return {
        "id": d.pk,
        "candidate": d.candidate_id,
        "bitstring": d.bitstring,
        "assignment": d.assignment,
        "objective": d.objective,
        "feasible": d.feasible,
        "provenance": d.provenance,
        "digest": d.digest,
        "cost_credits": d.cost_credits,
        "approvals_required": d.approvals_required,
        "created_at": _time(d.created_at),
    }


def _request(r: OptimizationRequest) -> dict[str, Any]:
    return {
        "id": r.pk,
        "title": r.title,
        "team": r.team.slug,
        "requester": r.requester.get_username(),
        "status": r.status,
        "problem_kind": r.problem_kind,
        "num_variables": r.num_variables,
        "sense": r.sense,
        "created_at": _time(r.created_at),
        "ready_at": _time(r.ready_at),
        "deadline": _time(r.deadline),
        "fallback": r.fallback,
        "fallback_reason": r.fallback_reason,
        "correlation_id": r.correlation_id,
    }


def _results(r: OptimizationRequest) -> dict[str, Any]:
    """The runs, each with its approximation ratio against the request's optimum
    (jobs.optimum: one reference for every run), and that optimum."""
    runs = list(r.runs.select_related("distribution", "cache_source").order_by("id"))
    optimum = request_optimum(runs)
    return {
        "optimum": optimum.as_dict() if optimum is not None else None,
        "runs": [
            _run(run) | {"approximation_ratio": run_ratio(run, optimum, r.sense)["value"]}
            for run in runs
        ],
    }


def _run(run: Run) -> dict[str, Any]:
    distribution = getattr(run, "distribution", None)
    return {
        "id": run.pk,
        "solver": run.solver,
        "kind": run.kind,
        "backend": run.backend,
        "tier": run.tier,
        "status": run.status,
        "attempt": run.attempt,
        "provider_job_id": run.provider_job_id,
        "started_at": _time(run.started_at),
        "finished_at": _time(run.finished_at),
        "timings": run.timings,
        "circuit": run.circuit,
        "metrics": run.metrics,
        "usage": run.usage,
        "error": run.error_message,
        "cache_source_run": run.cache_source_id,
        "distribution": None
        if distribution is None
        else {
            "sha256": distribution.sha256,
            "shots": distribution.shots,
            "outcomes": distribution.outcomes,
            "size_bytes": distribution.size_bytes,
        },
    }


def _candidates(r: OptimizationRequest) -> list[Candidate]:
    return list(r.candidates.order_by("rank", "id"))


def _candidate(c: Candidate) -> dict[str, Any]:
    return {
        "id": c.pk,
        "run": c.run_id,
        "rank": c.rank,
        "run_rank": c.run_rank,
        "bitstring": c.bitstring,
        "assignment": c.assignment,
        "objective": c.objective,
        "feasible": c.feasible,
        "probability": c.probability,
        "count": c.count,
    }


def _audit(events: list[AuditEvent]) -> dict[str, Any]:
    """The request's events, each re-hashed here; the chain check is the command's."""
    health = AuditHealth.objects.filter(pk=1).first()
    return {
        "events": [event_dict(e) for e in events],
        "events_rehash_ok": all(event_hash(e) == e.hash for e in events),
        "last_chain_check": None
        if health is None
        else {
            "checked_at": format_time(health.checked_at),
            "ok": health.ok,
            "events": health.events,
            "head_seq": health.head_seq,
            "head_hash": health.head_hash,
        },
    }


def _time(value: datetime | None) -> str | None:
    return format_time(value) if value is not None else None
