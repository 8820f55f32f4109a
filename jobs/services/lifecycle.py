"""A person changing an existing request: cancel it, or run it again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from approvals.audit import AuditAction, audit_record
from jobs.models import OptimizationRequest, RequestStatus, Run, RunStatus
from jobs.models.run import RUN_ACTIVE
from jobs.services.budget import REFUSE
from jobs.services.execution import provider_cancel_on_commit
from jobs.services.submission import Submitted, request_submit
from jobs.services.transitions import request_transition, run_transition


def request_cancel(
    *,
    request: OptimizationRequest,
    actor: User,
    reason: str = "",
    http_request: HttpRequest | None = None,
) -> OptimizationRequest:
    """Cancel a request and its unfinished runs; ``Conflict`` if it can no longer be."""
    now = timezone.now()
    with transaction.atomic():
        locked = OptimizationRequest.objects.select_for_update().get(id=request.id)
        before = locked.status
        request_transition(request_id=locked.id, to=RequestStatus.CANCELLED)
        active = list(Run.objects.filter(request=locked, status__in=RUN_ACTIVE))
        # The request's row lock keeps every worker's write on these runs
        # waiting; once it commits they see "cancelled" and drop their results.
        for run in active:
            run_transition(
                run_id=run.id,
                to=RunStatus.CANCELLED,
                finished_at=now,
                lease_expires_at=None,
                error_message="cancelled with its request",
            )
        for run in active:
            provider_cancel_on_commit(run)
        locked.refresh_from_db()
        audit_record(
            action=AuditAction.REQUEST_CANCELLED,
            obj=locked,
            actor=actor,
            before={"status": before},
            after={"status": locked.status, "runs_cancelled": [r.id for r in active]},
            reason=reason,
            request=http_request,
        )
    return locked


def request_rerun(
    *,
    request: OptimizationRequest,
    actor: User,
    solvers: Sequence[Mapping[str, Any]] | None = None,
    shots: int | None = None,
    seed: int | None = None,
    deadline_seconds: int | None = None,
    cache: str | None = None,
    on_budget_exceeded: str = REFUSE,
    http_request: HttpRequest | None = None,
) -> Submitted:
    """Submit the same problem again as a new request linked to the original.

    Settings not given are the original's; the original is left as it is,
    except that its pending approvals are voided: they were given to results
    someone has just asked to redo. Every re-run (API, page, review form)
    comes through here, so none can leave a stale signature standing.
    """
    # Imported here: approvals' services import jobs' at module level.
    from approvals.services.signing import signatures_void_for_request

    original = request.settings
    with transaction.atomic():
        # Lock order everywhere: request row, then budget row, then the audit lock.
        locked = OptimizationRequest.objects.select_for_update().get(pk=request.pk)
        submitted = request_submit(
            requester=actor,
            problem=locked.problem,
            schema_version=locked.schema_version,
            team=request.team.slug,
            title=locked.title,
            solvers=solvers if solvers is not None else original["solvers"],
            shots=shots if shots is not None else original["shots"],
            seed=seed if seed is not None else original["seed"],
            deadline_seconds=(
                deadline_seconds if deadline_seconds is not None else original["deadline_seconds"]
            ),
            # A re-run runs again: "prefer" only when asked, never inherited,
            # or it would be served the result it was asked to redo.
            cache=cache or "bypass",
            on_budget_exceeded=on_budget_exceeded,
            rerun_of=locked,
            http_request=http_request,
        )
        signatures_void_for_request(
            request=locked,
            reason=f"re-run requested as request #{submitted.request.pk}",
            actor=actor,
            http_request=http_request,
        )
    return submitted
