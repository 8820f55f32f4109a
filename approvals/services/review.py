"""An analyst's actions on a ranked request: recommend, comment, ask for a re-run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest

from approvals.audit import AuditAction, audit_record
from approvals.figures import figures_warm_on_commit
from approvals.models import Comment, Recommendation
from approvals.permissions import access_request, user_may
from approvals.services.common import (
    candidate_view,
    lock_request,
    ranked_candidate,
    required_text,
)
from jobs.errors import Conflict
from jobs.models import OptimizationRequest, RequestStatus
from jobs.services import request_rerun, request_transition


def request_recommend(
    *,
    request: OptimizationRequest,
    actor: User,
    candidate_id: int,
    comment: str,
    http_request: HttpRequest | None = None,
) -> Recommendation:
    """Recommend one ranked candidate: ready_for_review -> recommended.

    Once per request: a second recommendation is a Conflict, because the
    approvers may already be signing the first.
    """
    comment = required_text("comment", comment, "say why you recommend this candidate")
    access_request(actor, request.pk, "review")
    with transaction.atomic():
        locked = lock_request(request.pk)
        if locked.status == RequestStatus.RECOMMENDED:
            raise Conflict(f"Request {locked.pk} already has a recommendation.")
        if locked.status != RequestStatus.READY_FOR_REVIEW:
            # The state, not the candidate, is what is wrong (409, not 400):
            # a request still solving has no ranked candidates yet.
            raise Conflict(
                f"Request {locked.pk} is {locked.get_status_display().lower()}; "
                "only a request ready for review can be recommended."
            )
        candidate = ranked_candidate(locked, candidate_id)
        before = locked.status
        request_transition(
            request_id=locked.pk,
            to=RequestStatus.RECOMMENDED,
            from_=(RequestStatus.READY_FOR_REVIEW,),
        )
        locked.refresh_from_db(fields=["status", "updated_at"])
        recommendation = Recommendation.objects.create(
            request=locked, candidate=candidate, analyst=actor, comment=comment
        )
        audit_record(
            action=AuditAction.RECOMMENDATION_MADE,
            obj=recommendation,
            actor=actor,
            before={"status": before},
            after={"status": locked.status, "candidate": candidate_view(candidate)},
            reason=comment,
            request=http_request,
        )
        figures_warm_on_commit(locked.pk)  # the figures mark the recommended candidate
    return recommendation


def request_comment(
    *,
    request: OptimizationRequest,
    actor: User,
    body: str,
    http_request: HttpRequest | None = None,
) -> Comment:
    """Add to the request's thread: its analysts and approvers may."""
    body = required_text("body", body, "write something")
    access_request(actor, request.pk, "view")
    if not (user_may(actor, "review") or user_may(actor, "approve")):
        raise PermissionDenied("Only analysts and approvers comment on requests.")
    # No request lock: a comment changes no state, and two at once are both fine.
    with transaction.atomic():
        comment = Comment.objects.create(request=request, author=actor, body=body)
        audit_record(
            action=AuditAction.COMMENT_ADDED,
            obj=comment,
            actor=actor,
            after={"body": body},
            request=http_request,
        )
    return comment


def request_rerun_ask(
    *,
    request: OptimizationRequest,
    actor: User,
    comment: str = "",
    solvers: Sequence[Mapping[str, Any]] | None = None,
    shots: int | None = None,
    seed: int | None = None,
    deadline_seconds: int | None = None,
    http_request: HttpRequest | None = None,
) -> OptimizationRequest:
    """Run the problem again with changed settings, as a new request linked to this one.

    jobs' ``request_rerun`` records the re-run and voids the original's
    pending approvals; the analyst's reason is kept as a comment in the same
    transaction.
    """
    access_request(actor, request.pk, "rerun")
    with transaction.atomic():
        rerun = request_rerun(
            request=request,
            actor=actor,
            solvers=solvers,
            shots=shots,
            seed=seed,
            deadline_seconds=deadline_seconds,
            http_request=http_request,
        ).request
        if comment.strip():
            request_comment(request=request, actor=actor, body=comment, http_request=http_request)
    return rerun
