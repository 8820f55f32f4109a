"""What an approver signs, and its SHA-256.

The signed document is canonical JSON (approvals.audit.canonical_json: sorted
keys, no spaces, UTF-8) of:

    {
      "format": "hybridreview.signing/1",
      "request": <id>,
      "schema_version": "...",
      "problem": <the canonical problem payload>,
      "candidates": [{"id", "rank", "run", "bitstring", "objective", "feasible",
                      "probability"}, ...],        # every ranked candidate, by rank
      "runs": [{"id", "solver", "backend", "status", "tier",
                "distribution_sha256"}, ...],       # every run, by id
      "chosen": {"id", "rank", "bitstring", "objective", "feasible"} | null
    }

The sign form shows the digest with ``chosen`` null: the state of the
request the approver is looking at. The signature stores the digest with the
chosen candidate filled in (null for a rejection). At sign time the service
recomputes the first and refuses (409) if it differs from what the form
showed, so nobody signs a ranking they did not see.
"""

from __future__ import annotations

import hashlib
from typing import Any

from approvals.audit import canonical_json, json_safe
from jobs.models import Candidate, OptimizationRequest, Run

FORMAT = "hybridreview.signing/1"


def signing_document(
    request_obj: OptimizationRequest, candidate: Candidate | None = None
) -> dict[str, Any]:
    candidates = Candidate.objects.filter(request=request_obj, rank__isnull=False).order_by(
        "rank", "id"
    )
    runs = Run.objects.filter(request=request_obj).select_related("distribution").order_by("id")
    document = {
        "format": FORMAT,
        "request": request_obj.pk,
        "schema_version": request_obj.schema_version,
        "problem": request_obj.problem,
        "candidates": [_candidate(c) for c in candidates],
        "runs": [_run(r) for r in runs],
        "chosen": None if candidate is None else _chosen(candidate),
    }
    # As it would read back from JSON, so an outsider re-hashing it agrees.
    result: dict[str, Any] = json_safe(document)
    return result


def signing_digest(request_obj: OptimizationRequest, candidate: Candidate | None = None) -> str:
    """SHA-256 (hex) of the signing document; see the module docstring."""
    return hashlib.sha256(canonical_json(signing_document(request_obj, candidate))).hexdigest()


def _candidate(c: Candidate) -> dict[str, Any]:
    return {
        "id": c.pk,
        "rank": c.rank,
        "run": c.run_id,
        "bitstring": c.bitstring,
        "objective": c.objective,
        "feasible": c.feasible,
        "probability": c.probability,
    }


def _run(run: Run) -> dict[str, Any]:
    distribution = getattr(run, "distribution", None)
    return {
        "id": run.pk,
        "solver": run.solver,
        "backend": run.backend,
        "status": run.status,
        "tier": run.tier,
        "distribution_sha256": distribution.sha256 if distribution is not None else None,
    }


def _chosen(c: Candidate) -> dict[str, Any]:
    return {
        "id": c.pk,
        "rank": c.rank,
        "bitstring": c.bitstring,
        "objective": c.objective,
        "feasible": c.feasible,
    }
