"""Pieces the review and signing services share."""

from __future__ import annotations

from typing import Any

from jobs.errors import FieldProblem, InvalidInput
from jobs.models import Candidate, OptimizationRequest

TEXT_MAX = 5000


def lock_request(request_id: int) -> OptimizationRequest:
    """The request's row, locked until the transaction ends.

    Every review and signing write takes this lock first, as jobs' writers
    do, so two actions on one request queue instead of interleaving.
    """
    return OptimizationRequest.objects.select_for_update().select_related("team").get(pk=request_id)


def ranked_candidate(request_obj: OptimizationRequest, candidate_id: Any) -> Candidate:
    """A candidate of this request that has a rank, or InvalidInput on ``candidate``."""
    found = None
    if isinstance(candidate_id, int) and not isinstance(candidate_id, bool):
        found = (
            Candidate.objects.filter(request=request_obj, pk=candidate_id, rank__isnull=False)
            .select_related("run")
            .first()
        )
    if found is None:
        raise InvalidInput(
            [FieldProblem("candidate", f"is not a ranked candidate of request {request_obj.pk}")]
        )
    return found


def candidate_view(candidate: Candidate) -> dict[str, Any]:
    """How a candidate appears in audit events."""
    return {
        "id": candidate.pk,
        "rank": candidate.rank,
        "bitstring": candidate.bitstring,
        "objective": candidate.objective,
        "feasible": candidate.feasible,
        "run": candidate.run_id,
    }


def required_text(field: str, value: str | None, missing: str) -> str:
    """``value`` stripped; InvalidInput on ``field`` if empty or too long."""
    text = (value or "").strip()
    if not text:
        raise InvalidInput([FieldProblem(field, f"is required: {missing}")])
    if len(text) > TEXT_MAX:
        raise InvalidInput([FieldProblem(field, f"must be at most {TEXT_MAX} characters")])
    return text
