"""Reads for review and sign-off: the queue, policies, signatures, decisions.

Who may see a request is decided by approvals.permissions; these functions
take a request the caller already has access to, or scope by the reader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Abs, Coalesce, NullIf
from django.http import Http404
from django.utils import timezone

from approvals.models import (
    ApprovalPolicy,
    Comment,
    Decision,
    Recommendation,
    Signature,
    SignatureKind,
)
from approvals.permissions import ACTION_PERMISSIONS, requests_for_user, user_may
from hybridreview.accounts.models import Team
from hybridreview.accounts.selectors import teams_where
from jobs.errors import Conflict
from jobs.models import (
    Candidate,
    LedgerEntry,
    LedgerKind,
    OptimizationRequest,
    RequestStatus,
    Run,
)
from jobs.selectors_budget import request_cost, requests_settled_credits
from jobs.solving import CLASSICAL, QUANTUM

Reader = User | AnonymousUser
AWAITING_REVIEW = (RequestStatus.READY_FOR_REVIEW, RequestStatus.RECOMMENDED)
DECISION_PERMISSION = "approvals.view_decision"


def policy_for_team(team: Team) -> ApprovalPolicy:
    """The team's policy, or an unsaved one with the defaults."""
    found = ApprovalPolicy.objects.filter(team=team).first()
    return found if found is not None else ApprovalPolicy(team=team)


def request_cost_credits(request_obj: OptimizationRequest) -> Decimal:
    """What the request's runs were charged: their settlements in jobs' ledger."""
    credits: Decimal = request_cost(request_obj)["credits"]
    return credits


def run_cost_credits(run: Run) -> Decimal | None:
    """What one run was charged, or None while nothing is settled."""
    entry = LedgerEntry.objects.filter(run=run, kind=LedgerKind.SETTLE).first()
    return entry.credits if entry is not None else None


def approvals_required(policy: ApprovalPolicy, cost: Decimal) -> int:
    threshold = policy.cost_threshold_credits
    if threshold is not None and cost > threshold:
        return int(policy.approvals_required_above_cost)
    return int(policy.approvals_required)


def live_signatures(request_obj: OptimizationRequest) -> QuerySet[Signature]:
    return Signature.objects.filter(request=request_obj, voided_at__isnull=True)


def live_approvals(request_obj: OptimizationRequest) -> QuerySet[Signature]:
    return live_signatures(request_obj).filter(kind=SignatureKind.APPROVE)


def request_recommendation(request_obj: OptimizationRequest) -> Recommendation | None:
    return (
        Recommendation.objects.filter(request=request_obj)
        .select_related("analyst", "candidate", "candidate__run")
        .first()
    )


def request_signatures(request_obj: OptimizationRequest) -> QuerySet[Signature]:
    """Every signature, live and voided, oldest first."""
    return Signature.objects.filter(request=request_obj).select_related("signer", "candidate")


def request_comments(request_obj: OptimizationRequest) -> QuerySet[Comment]:
    return Comment.objects.filter(request=request_obj).select_related("author")


def ranked_candidates(request_obj: OptimizationRequest) -> list[Candidate]:
    return list(
        Candidate.objects.filter(request=request_obj, rank__isnull=False)
        .select_related("run")
        .order_by("rank", "id")
    )


# Compare ----------------------------------------------------------------------


def compare_runs(request_obj: OptimizationRequest) -> list[Run]:
    """The request's runs in id order, for the compare page's pickers.

    Without their distributions: those are read (lazily) for the two runs
    compared only, since one run's may hold 2^20 outcomes.
    """
    return list(
        Run.objects.filter(request=request_obj).select_related("cache_source").order_by("id")
    )


def _runs_best_first(runs: list[Run], candidates: list[Candidate]) -> list[Run]:
    """``runs`` ordered by their best ranked candidate, then those without one, by id.

    ``candidates`` are the ranked ones (``ranked_candidates``): the ranking
    already orders by feasibility and objective on the request's sense, ties
    going to the better evidence, so a run's place is its best answer's.
    """
    place: dict[int, int] = {}
    for candidate in candidates:
        place.setdefault(candidate.run_id, len(place))
    return sorted(runs, key=lambda run: (place.get(run.pk, len(place)), run.pk))


def compare_default_runs(
    runs: list[Run], candidates: list[Candidate]
) -> tuple[Run | None, Run | None]:
    """The run pair the compare page opens with: what an analyst asks first.

    The best quantum run against the best classical one, by their answers.
    When one kind has no answer (no quantum run, or every one failed), the
    two best runs; a lone run is paired with itself (the form needs two).
    """
    ranked = {c.run_id for c in candidates}
    order = _runs_best_first(runs, candidates)
    answered = [run for run in order if run.pk in ranked]
    quantum = next((run for run in answered if run.kind == QUANTUM), None)
    classical = next((run for run in answered if run.kind == CLASSICAL), None)
    if quantum is not None and classical is not None:
        return quantum, classical
    if len(order) > 1:
        return order[0], order[1]
    only = order[0] if order else None
    return only, only


def compare_default_candidates(
    candidates: list[Candidate],
) -> tuple[Candidate | None, Candidate | None]:
    """The candidate pair the compare page opens with: the best, against the
    best-ranked one that assigns some variable differently (rank 2 is often the
    same answer found by another run, which would compare nothing)."""
    if not candidates:
        return None, None
    first = candidates[0]
    other = next((c for c in candidates[1:] if c.assignment != first.assignment), None)
    if other is None and len(candidates) > 1:
        other = candidates[1]
    return first, other


def compare_candidates_of_runs(
    candidates: list[Candidate], a: Run | None, b: Run | None
) -> tuple[Candidate | None, Candidate | None]:
    """What each of two runs found best, for the candidate pickers while runs are
    compared; ``compare_default_candidates`` when that is not two candidates."""
    found = [run_best(candidates, run) if run is not None else None for run in (a, b)]
    if found[0] is None or found[1] is None or found[0].pk == found[1].pk:
        return compare_default_candidates(candidates)
    return found[0], found[1]


def run_best(candidates: list[Candidate], run: Run) -> Candidate | None:
    """``run``'s best candidate among ``candidates`` (ranked best first)."""
    return next((c for c in candidates if c.run_id == run.pk), None)


# Who may sign ---------------------------------------------------------------
#
# The rules of approving, each written once, as the request rows on which it
# lets a given signer approve. requests_awaiting_signature asks all of them of
# many rows at once (the pages offer "Sign" only where it will work); the
# signing service asks them of the one row it has locked and raises the
# refusal of the first that fails (sign_rule_refusal). The approve grant
# itself is approvals.permissions' (requests_for_user, access_request).


@dataclass(frozen=True)
class SignRule:
    name: str
    holds: Callable[[Reader], Q]  # the requests this rule lets ``user`` approve
    refusal: Callable[[OptimizationRequest], Exception]  # what to say where it does not


def _not_signed(user: Reader) -> Q:
    # Any live signature, not only approvals: a live rejection is only ever on a
    # request it rejected (for good), so on a recommended one this is an approval.
    signed = Signature.objects.filter(
        request=OuterRef("pk"), signer_id=user.pk, voided_at__isnull=True
    )
    return ~Q(Exists(signed))


def _not_barred_recommender(user: Reader) -> Q:
    barred = Recommendation.objects.filter(
        request=OuterRef("pk"),
        analyst_id=user.pk,
        request__team__approval_policy__recommender_may_not_approve=True,
    )
    return ~Q(Exists(barred))


NOT_REQUESTER = SignRule(
    "not_requester",
    lambda user: ~Q(requester_id=user.pk),
    lambda r: PermissionDenied("You requested this; another approver must sign it."),
)
RECOMMENDED = SignRule(
    "recommended",
    lambda user: Q(status=RequestStatus.RECOMMENDED),
    lambda r: Conflict(f"Request {r.pk} is {r.status}; only a recommended request can be signed."),
)
NOT_BARRED_RECOMMENDER = SignRule(
    "not_barred_recommender",
    _not_barred_recommender,
    lambda r: PermissionDenied(
        "Your team's policy does not let the analyst who recommended approve."
    ),
)
NOT_SIGNED = SignRule(
    "not_signed", _not_signed, lambda r: Conflict("You have already approved this request.")
)
# In the order the signing service reports them; rejecting asks the first two.
APPROVE_RULES = (NOT_REQUESTER, RECOMMENDED, NOT_BARRED_RECOMMENDER, NOT_SIGNED)
REJECT_RULES = (NOT_REQUESTER, RECOMMENDED)


def requests_awaiting_signature(user: Reader) -> QuerySet[OptimizationRequest]:
    """Requests ``user`` may approve now: the approve grant and every APPROVE_RULES."""
    if not user.is_authenticated:
        return OptimizationRequest.objects.none()
    return requests_for_user(user, "approve").filter(*(rule.holds(user) for rule in APPROVE_RULES))


def sign_rule_refusal(
    user: Reader, request_obj: OptimizationRequest, rules: tuple[SignRule, ...]
) -> Exception | None:
    """The refusal of the first of ``rules`` that ``user`` fails on the request,
    or None: the rules asked of one row, in one read."""
    checks = {
        f"sign_rule_{rule.name}": ExpressionWrapper(rule.holds(user), output_field=BooleanField())
        for rule in rules
    }
    row = OptimizationRequest.objects.filter(pk=request_obj.pk).annotate(**checks)
    passed = row.values_list(*checks).get()
    # Only True passes: a rule that reads NULL cannot say yes, so it says no.
    failed = next((r for r, ok in zip(rules, passed, strict=True) if ok is not True), None)
    return failed.refusal(request_obj) if failed is not None else None


@dataclass(frozen=True)
class SignOff:
    """Where one request stands on sign-off, as one reader sees it."""

    approvals: int  # live approvals so far
    required: int  # what the team's policy asks of this request
    awaiting_me: bool  # the reader may sign it now
    mine: Signature | None  # the reader's live signature: they signed this version


def request_sign_off(
    user: Reader, request_obj: OptimizationRequest, *, settled: Decimal | None = None
) -> SignOff:
    """``settled``: the request's settled credits when the caller has read them
    already (the request page shows them too), else they are read here."""
    mine = None
    if user.is_authenticated:
        mine = live_signatures(request_obj).filter(signer_id=user.pk).first()
    costs = None if settled is None else {request_obj.pk: settled}
    return SignOff(
        approvals=live_approvals(request_obj).count(),
        required=approvals_required_of([request_obj], settled=costs)[request_obj.pk],
        awaiting_me=requests_awaiting_signature(user).filter(pk=request_obj.pk).exists(),
        mine=mine,
    )


def approvals_required_of(
    requests: list[OptimizationRequest], *, settled: dict[int, Decimal] | None = None
) -> dict[int, int]:
    """How many approvals each request needs, by id: what its decision recorded
    once it was approved (a later policy change does not rewrite history), else
    ``approvals_required`` of its team's policy and its cost. A page of the queue
    in at most three reads (decisions, policies, settled credits), whatever its length;
    two when the caller passes each request's ``settled`` credits, read already."""
    ids = [r.pk for r in requests]
    # Only an approved request has a decision: read them only when there are some.
    approved = [r.pk for r in requests if r.status == RequestStatus.APPROVED]
    decided = dict(
        Decision.objects.filter(request_id__in=approved).values_list(
            "request_id", "approvals_required"
        )
        if approved
        else ()
    )
    policies = policies_for_teams({r.team_id for r in requests})
    costs = settled if settled is not None else requests_settled_credits(ids)
    return {
        r.pk: decided[r.pk]
        if r.pk in decided
        else approvals_required(policies[r.team_id], costs[r.pk])
        for r in requests
    }


def policies_for_teams(team_ids: Iterable[int]) -> dict[int, ApprovalPolicy]:
    """``policy_for_team`` of many teams, by team id, in one read."""
    wanted = set(team_ids)
    found = {p.team_id: p for p in ApprovalPolicy.objects.filter(team_id__in=wanted)}
    return {t: found[t] if t in found else ApprovalPolicy(team_id=t) for t in wanted}


# The review queue ---------------------------------------------------------

QUEUE_SORTS: dict[str, tuple[Any, ...]] = {
    "age": ("ready_at", "id"),  # oldest waiting first
    "-age": ("-ready_at", "-id"),
    "deadline": ("deadline", "id"),
    "-deadline": ("-deadline", "-id"),
    "gap": (F("gap_relative").desc(nulls_last=True), "id"),  # quantum furthest behind first
    "-gap": (F("gap_relative").asc(nulls_last=True), "id"),
    "status": ("status", "ready_at", "id"),
    "-status": ("-status", "ready_at", "id"),
}


@dataclass(frozen=True)
class QueueFilters:
    statuses: tuple[str, ...] = AWAITING_REVIEW
    team: str = ""
    fallback: bool | None = None
    older_than_hours: float | None = None
    deadline_before: datetime | None = None
    min_gap_percent: float | None = None
    awaiting_my_signature: bool = False
    sort: str = "age"


def review_queue_for_user(user: Reader, filters: QueueFilters | None = None) -> QuerySet[Any]:
    """Requests awaiting review in the user's teams, with the quantum-classical gap.

    ``gap`` is how far the best feasible quantum candidate is behind the best
    feasible classical one, in objective units (negative: quantum is ahead);
    ``gap_relative`` divides it by the classical objective's magnitude.
    Null when the request has no feasible candidate of one kind.
    Each row also carries its live ``approvals``, whether it is
    ``awaiting_me`` (the user may sign it now) and the user's own live
    signature (``my_signature_kind``, ``my_signed_at``).
    """
    f = filters or QueueFilters()
    qs = requests_for_user(user, "view").filter(status__in=f.statuses)
    if f.awaiting_my_signature:
        qs = qs.filter(pk__in=requests_awaiting_signature(user).values("pk"))
    if f.team:
        qs = qs.filter(team__slug=f.team)
    if f.fallback is not None:
        qs = qs.filter(fallback=f.fallback)
    if f.older_than_hours is not None:
        qs = qs.filter(ready_at__lte=timezone.now() - timedelta(hours=f.older_than_hours))
    if f.deadline_before is not None:
        qs = qs.filter(deadline__lt=f.deadline_before)
    qs = with_gap(qs)
    if f.min_gap_percent is not None:  # an annotation, which the type plugin cannot see
        qs = qs.filter(gap_relative__gte=f.min_gap_percent / 100.0)  # type: ignore[misc]
    order = QUEUE_SORTS.get(f.sort, QUEUE_SORTS["age"])
    qs = with_sign_off(qs, user)
    return (
        qs.select_related("team", "requester")
        .annotate(candidate_count=Count("candidates", filter=Q(candidates__rank__isnull=False)))
        .order_by(*order)
    )


def with_sign_off(qs: QuerySet[Any], user: Reader) -> QuerySet[Any]:
    """Annotate the rows with what ``request_sign_off`` tells of one request
    (all but ``required``: see ``approvals_required_of``)."""
    approvals = (
        Signature.objects.filter(
            request=OuterRef("pk"), kind=SignatureKind.APPROVE, voided_at__isnull=True
        )
        .values("request")
        .annotate(n=Count("id"))
        .values("n")
    )
    mine = Signature.objects.filter(
        request=OuterRef("pk"), signer_id=user.pk, voided_at__isnull=True
    )
    annotated: QuerySet[Any] = qs.annotate(
        approvals=Coalesce(Subquery(approvals, output_field=IntegerField()), 0),
        awaiting_me=Exists(requests_awaiting_signature(user).filter(pk=OuterRef("pk"))),
        my_signature_kind=Subquery(mine.values("kind")[:1]),
        my_signed_at=Subquery(mine.values("signed_at")[:1]),
    )
    return annotated


def _best_of(kind: str, aggregate: type[Max] | type[Min]) -> Subquery:
    best = (
        Candidate.objects.filter(
            request=OuterRef("pk"), run__kind=kind, feasible=True, rank__isnull=False
        )
        .values("request")
        .annotate(v=aggregate("objective"))
        .values("v")
    )
    return Subquery(best, output_field=FloatField())


def _best(kind: str) -> Case:
    return Case(
        When(sense="maximize", then=_best_of(kind, Max)),
        default=_best_of(kind, Min),
        output_field=FloatField(),
    )


def with_gap(qs: QuerySet[OptimizationRequest]) -> QuerySet[Any]:
    qs = qs.annotate(quantum_best=_best(QUANTUM), classical_best=_best(CLASSICAL))
    gap = Case(
        When(sense="maximize", then=F("classical_best") - F("quantum_best")),
        default=F("quantum_best") - F("classical_best"),
        output_field=FloatField(),
    )
    relative = ExpressionWrapper(
        F("gap") / NullIf(Abs(F("classical_best")), Value(0.0)), output_field=FloatField()
    )
    return qs.annotate(gap=gap).annotate(gap_relative=relative)


# Decisions ----------------------------------------------------------------


def user_may_read_decisions(user: Reader) -> bool:
    """Consumers and auditors (the decision permission) and the team's reviewers."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.has_perm(DECISION_PERMISSION) or user_may(user, "view"))
    )


def decision_teams(user: Reader) -> QuerySet[Team]:
    """The teams whose decisions the user reads: where they are a consumer or an
    auditor (the decision permission), an analyst or an approver (they read the
    requests)."""
    return teams_where(user, DECISION_PERMISSION) | teams_where(user, ACTION_PERMISSIONS["view"])


def decisions_for_user(
    user: Reader, *, team: str = "", since: datetime | None = None
) -> QuerySet[Decision]:
    """Decisions of the user's teams, newest first; PermissionDenied for other roles."""
    if not user_may_read_decisions(user):
        raise PermissionDenied("Your role does not read decisions.")
    qs = Decision.objects.filter(team__in=decision_teams(user))
    if team:
        qs = qs.filter(team__slug=team)
    if since is not None:
        qs = qs.filter(created_at__gte=since)
    return qs.select_related("team", "request").order_by("-created_at", "-id")


def decision_get_for_user(user: Reader, decision_id: int) -> Decision:
    """One decision of the user's teams, or Http404 (missing and not yours alike)."""
    found = decisions_for_user(user).filter(pk=decision_id).first()
    if found is None:
        raise Http404("No such decision.")
    return found


def decision_approvals(decision: Decision) -> list[Signature]:
    """The live approvals that made the decision, in signing order."""
    return list(live_approvals(decision.request).select_related("signer").order_by("signed_at"))
