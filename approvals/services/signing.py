"""An approver signing a request: approve (towards a Decision) or reject.

Every signing re-enters the password. A wrong or missing one is a
PermissionDenied and no signature; the refused attempt *is* audited
(``signature.refused``, in its own transaction, on the request's timeline),
because repeated refusals on a signing form are what an auditor looks for.
Django's ``authenticate`` also records its usual ``auth.login_failed``.

Rules enforced here (the database enforces the second and fourth too):
- only a recommended request is signed;
- the requester never signs their own request;
- with the team's policy ``recommender_may_not_approve``, the analyst who
  recommended does not approve;
- one live signature per approver;
- all live approvals name one candidate;
- the request is approved when the live approvals reach the policy's number
  (more above the cost threshold); one rejection rejects it.
The first four are approvals.review_selectors' sign rules (APPROVE_RULES;
a rejection asks the first two): written once, asked of many rows by the
pages that offer "Sign" and of the locked row here, so the two cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from approvals.audit import AuditAction, AuditError, audit_record
from approvals.digest import signing_digest
from approvals.models import (
    Decision,
    Signature,
    SignatureKind,
    SignatureMeaning,
)
from approvals.permissions import access_request
from approvals.review_selectors import (
    APPROVE_RULES,
    NOT_REQUESTER,
    REJECT_RULES,
    SignRule,
    approvals_required,
    live_approvals,
    live_signatures,
    policy_for_team,
    request_cost_credits,
    sign_rule_refusal,
)
from approvals.services.common import candidate_view, lock_request, ranked_candidate, required_text
from hybridreview.accounts.services.auth import password_confirm
from jobs.errors import Conflict, FieldProblem, InvalidInput
from jobs.models import Candidate, OptimizationRequest, RequestStatus
from jobs.optimum import objective_ratio, request_optimum
from jobs.services import request_transition

SIGNATURE_REFUSED = "signature.refused"
SIGNATURES_VOIDED = "signature.voided"
APPROVE_MEANINGS = tuple(m for m in SignatureMeaning.values if m != SignatureMeaning.REJECTED)


@dataclass(frozen=True)
class Signed:
    signature: Signature
    decision: Decision | None  # set when this signature completed the approval
    approvals: int  # live approvals after this signature
    required: int


def request_approve(
    *,
    request: OptimizationRequest,
    actor: User,
    candidate_id: int,
    meaning: str,
    password: str,
    comment: str = "",
    expected_digest: str = "",
    http_request: HttpRequest | None = None,
) -> Signed:
    """Approve one ranked candidate; make the Decision when the policy is met."""
    if meaning not in APPROVE_MEANINGS:
        raise InvalidInput(
            [FieldProblem("meaning", f"must be one of: {', '.join(APPROVE_MEANINGS)}")]
        )
    _check_signer(request, actor)
    reauthenticate(user=actor, password=password, request_obj=request, http_request=http_request)
    with transaction.atomic():
        locked = lock_request(request.pk)
        _check_state(locked, actor, APPROVE_RULES, expected_digest)
        candidate = ranked_candidate(locked, candidate_id)
        policy = policy_for_team(locked.team)
        live = _approvals_so_far(locked, candidate)
        now = timezone.now()
        signature = _sign(
            locked, actor, SignatureKind.APPROVE, meaning, candidate, comment, now, http_request
        )
        cost = request_cost_credits(locked)
        required = approvals_required(policy, cost)
        decision = None
        if len(live) + 1 >= required:
            approvers = [s.printed_name for s in [*live, signature]]
            decision = _decide(
                locked, candidate, signature, cost, required, approvers, http_request
            )
    return Signed(
        signature=signature, decision=decision, approvals=len(live) + 1, required=required
    )


def request_reject(
    *,
    request: OptimizationRequest,
    actor: User,
    reason: str,
    password: str,
    expected_digest: str = "",
    http_request: HttpRequest | None = None,
) -> Signed:
    """Reject the request (reason required): recommended -> rejected.

    An approver who approved earlier and now rejects replaces their approval.
    """
    reason = required_text("reason", reason, "say why you reject the request")
    _check_signer(request, actor)
    reauthenticate(user=actor, password=password, request_obj=request, http_request=http_request)
    with transaction.atomic():
        locked = lock_request(request.pk)
        _check_state(locked, actor, REJECT_RULES, expected_digest)
        now = timezone.now()
        own = list(live_signatures(locked).filter(signer=actor).values_list("id", flat=True))
        if own:
            Signature.objects.filter(id__in=own).update(
                voided_at=now, void_reason="replaced by the signer's rejection"
            )
        signature = _sign(
            locked,
            actor,
            SignatureKind.REJECT,
            SignatureMeaning.REJECTED,
            None,
            reason,
            now,
            http_request,
        )
        request_transition(
            request_id=locked.pk, to=RequestStatus.REJECTED, from_=(RequestStatus.RECOMMENDED,)
        )
        audit_record(
            action=AuditAction.DECISION_REJECTED,
            obj=locked,
            actor=actor,
            before={"status": locked.status},
            after={"status": RequestStatus.REJECTED, "signature": signature.pk, "replaced": own},
            reason=reason,
            request=http_request,
        )
    return Signed(signature=signature, decision=None, approvals=0, required=0)


class PasswordNotAccepted(PermissionDenied):
    """The signer's password was missing or wrong: a 403, and an error at the field."""


class SigningHeldBack(PermissionDenied):
    """Too many wrong passwords from this account lately: a 429 saying how long to wait."""

    def __init__(self, wait: int) -> None:
        super().__init__(
            f"Too many wrong passwords: signing is held back for {wait} second"
            f"{'' if wait == 1 else 's'}; nothing was signed."
        )
        self.wait = wait


def reauthenticate(
    *,
    user: User,
    password: str,
    request_obj: OptimizationRequest,
    http_request: HttpRequest | None = None,
) -> None:
    """PermissionDenied unless ``password`` is the user's; a refusal is audited.

    Runs outside the signing transaction so the refusal's audit event
    survives the PermissionDenied that follows it.
    """
    confirmed = password_confirm(user=user, password=password, http_request=http_request)
    if confirmed.accepted:
        return
    if confirmed.wait is not None:
        reason = "held back after repeated wrong passwords"
    else:
        reason = "password not accepted" if password else "password missing"
    with transaction.atomic():
        audit_record(
            action=SIGNATURE_REFUSED,
            obj=request_obj,
            actor=user,
            reason=reason,
            request=http_request,
        )
    if confirmed.wait is not None:
        raise SigningHeldBack(confirmed.wait)
    raise PasswordNotAccepted("Your password was not accepted; nothing was signed.")


def signatures_void_for_request(
    *,
    request: OptimizationRequest,
    reason: str,
    actor: User | None = None,
    system: str = "",
    http_request: HttpRequest | None = None,
) -> int:
    """Void the pending approvals of a request that is still awaiting sign-off.

    For a re-run or a re-rank: what was signed no longer stands. Call it in
    the transaction that holds the request's lock. A decided request's
    signatures are final and left alone. Returns how many were voided.
    """
    if not connection.in_atomic_block:
        raise AuditError("signatures_void_for_request must run in the caller's transaction")
    status = OptimizationRequest.objects.values_list("status", flat=True).get(pk=request.pk)
    if status != RequestStatus.RECOMMENDED:
        return 0
    pending = list(live_approvals(request).values_list("id", flat=True))
    if not pending:
        return 0
    Signature.objects.filter(id__in=pending).update(voided_at=timezone.now(), void_reason=reason)
    audit_record(
        action=SIGNATURES_VOIDED,
        obj=request,
        actor=actor,
        system=system if actor is None else "",
        after={"signatures": pending},
        reason=reason,
        request=http_request,
    )
    return len(pending)


def _check_signer(request_obj: OptimizationRequest, actor: User) -> None:
    """Before the password is asked: the approve grant, and never the requester."""
    access_request(actor, request_obj.pk, "approve")
    _enforce(request_obj, actor, (NOT_REQUESTER,))


def _enforce(request_obj: OptimizationRequest, actor: User, rules: tuple[SignRule, ...]) -> None:
    refusal = sign_rule_refusal(actor, request_obj, rules)
    if refusal is not None:
        raise refusal


def _approvals_so_far(locked: OptimizationRequest, candidate: Candidate) -> list[Signature]:
    """The live approvals, once they name no other candidate than ``candidate``."""
    live = list(live_approvals(locked).select_related("candidate"))
    other = next((s for s in live if s.candidate_id != candidate.pk), None)
    if other is not None:
        rank = other.candidate.rank if other.candidate else "?"
        raise Conflict(
            f"{other.printed_name} approved the candidate ranked {rank}; "
            "approve that one or reject."
        )
    return live


def _check_state(
    locked: OptimizationRequest, actor: User, rules: tuple[SignRule, ...], expected_digest: str
) -> None:
    """Under the request's lock: the sign rules, then the digest the form was drawn with."""
    _enforce(locked, actor, rules)
    if expected_digest and expected_digest != signing_digest(locked):
        raise Conflict(
            "The request changed since you opened it (its digest differs); "
            "reload it and review it again."
        )


def _sign(
    locked: OptimizationRequest,
    actor: User,
    kind: str,
    meaning: str,
    candidate: Candidate | None,
    comment: str,
    now: datetime,
    http_request: HttpRequest | None,
) -> Signature:
    signature = Signature.objects.create(
        request=locked,
        requester_id=locked.requester_id,
        signer=actor,
        printed_name=printed_name(actor),
        kind=kind,
        meaning=meaning,
        candidate=candidate,
        comment=(comment or "").strip(),
        digest=signing_digest(locked, candidate),
        signed_at=now,
    )
    audit_record(
        action=AuditAction.SIGNATURE_ADDED,
        obj=signature,
        actor=actor,
        after={
            "kind": kind,
            "meaning": meaning,
            "printed_name": signature.printed_name,
            "signed_at": now,
            "digest": signature.digest,
            "candidate": candidate_view(candidate) if candidate is not None else None,
        },
        reason=signature.comment,
        request=http_request,
    )
    return signature


def _decide(
    locked: OptimizationRequest,
    candidate: Candidate,
    signature: Signature,
    cost: Decimal,
    required: int,
    approvers: list[str],
    http_request: HttpRequest | None,
) -> Decision:
    request_transition(
        request_id=locked.pk, to=RequestStatus.APPROVED, from_=(RequestStatus.RECOMMENDED,)
    )
    run = candidate.run
    # How good the chosen answer is, as the reviewers saw it: a consumer acting on
    # the decision can tell a proven optimum from a heuristic's best.
    optimum = request_optimum(locked.runs.select_related("cache_source"))
    objective = candidate.objective if candidate.feasible else None
    decision = Decision.objects.create(
        request=locked,
        team=locked.team,
        candidate=candidate,
        assignment=candidate.assignment,
        bitstring=candidate.bitstring,
        objective=candidate.objective,
        feasible=candidate.feasible,
        provenance={
            "run": run.pk,
            "solver": run.solver,
            "backend": run.backend or None,
            "tier": run.tier,
            "fallback": locked.fallback,
            "fallback_reason": locked.fallback_reason,
            "optimum": optimum.as_dict() if optimum is not None else None,
            "approximation_ratio": objective_ratio(objective, optimum, locked.sense)["value"],
        },
        digest=signature.digest,
        cost_credits=cost,
        approvals_required=required,
        created_at=signature.signed_at,
    )
    audit_record(
        action=AuditAction.DECISION_APPROVED,
        obj=decision,
        actor=signature.signer,
        before={"status": locked.status},
        after={
            "status": RequestStatus.APPROVED,
            "decision": decision.pk,
            "candidate": candidate_view(candidate),
            "digest": decision.digest,
            "approvers": approvers,
            "approvals_required": required,
            "cost_credits": cost,
        },
        request=http_request,
    )
    return decision


def printed_name(user: User) -> str:
    return user.get_full_name().strip() or user.get_username()
