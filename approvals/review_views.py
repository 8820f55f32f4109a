"""Review pages: the queue, the review panels of a request, sign, compare, decisions, policies.

Thin: each view checks access through approvals.permissions or the selectors,
calls one service, and answers with the page or a redirect. A role that may
not use a page gets 403; an object outside the user's teams, 404.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from approvals import services
from approvals.digest import signing_digest
from approvals.figures import compare_candidates_figures, compare_runs_figures
from approvals.models import SignatureKind
from approvals.review_forms import (
    ApproveForm,
    CommentForm,
    PolicyForm,
    QueueFilterForm,
    RecommendForm,
    RejectForm,
    RerunForm,
)
from approvals.review_selectors import (
    approvals_required_of,
    compare_candidates_of_runs,
    compare_default_candidates,
    compare_default_runs,
    compare_runs,
    decision_approvals,
    decision_get_for_user,
    decision_teams,
    decisions_for_user,
    live_approvals,
    policy_for_team,
    ranked_candidates,
    request_recommendation,
    request_sign_off,
    request_signatures,
    review_queue_for_user,
)
from approvals.services.policy import may_change_policy, team_approver_count
from approvals.services.signing import PasswordNotAccepted, SigningHeldBack
from hybridreview.accounts.models import Team
from jobs import selectors
from jobs.errors import Conflict, InvalidInput
from jobs.models import Candidate, OptimizationRequest
from jobs.views import request_page

QUEUE_PAGE = 50
FORM_CANDIDATES = 50  # the request page lists the top 50 too


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)  # login_required let only users through


def _teams(request: HttpRequest) -> list[tuple[str, str]]:
    """The teams whose requests the user reads: the queue's team filter."""
    teams = selectors.user_teams(request.user, "view").order_by("slug")
    return [(t.slug, t.name) for t in teams]


def _back(request_id: int) -> HttpResponse:
    return redirect("request-detail", request_id=request_id)


def _service_error(request: HttpRequest, exc: Exception) -> None:
    if isinstance(exc, InvalidInput):
        for problem in exc.errors:
            messages.error(request, f"{problem.field}: {problem.message}")
    else:
        messages.error(request, str(exc))


# The queue --------------------------------------------------------------------


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    selectors.request_access_check(request.user, "view")
    approver = selectors.user_may(request.user, "approve")
    form = QueueFilterForm(request.GET, teams=_teams(request), approver=approver)
    valid = form.is_valid()
    filters = form.filters()
    # A filter that is not valid lists nothing, as on the audit page, rather than
    # everything it failed to narrow.
    queue = (
        review_queue_for_user(request.user, filters)
        if valid
        else OptimizationRequest.objects.none()
    )
    page = Paginator(queue, QUEUE_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    for key in ("page", "sort"):
        query.pop(key, None)
    context = {
        "form": form,
        "page": page,
        "required": approvals_required_of(list(page.object_list)),
        "awaiting_my_signature": filters.awaiting_my_signature,
        "may_review": selectors.user_may(request.user, "review"),
        "sort": filters.sort,
        "query": query.urlencode(),
    }
    return render(request, "approvals/review_queue.html", context)


# Actions on a request (forms on the request page) ------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def request_recommend(request: HttpRequest, request_id: int) -> HttpResponse:
    if request.method == "GET":
        # A refused recommendation leaves this address in the bar; reloading it
        # opens the request's recommend form, not an empty 405.
        return redirect(f"/requests/{request_id}/#recommend")
    req = selectors.request_get_for_user(request.user, request_id, action="review")
    form = RecommendForm(request.POST, candidates=ranked_candidates(req)[:FORM_CANDIDATES])
    if not form.is_valid():
        # The page again with what was typed and the errors at their fields.
        form.describe()
        return request_page(request, req, status=400, recommend_form=form)
    try:
        services.request_recommend(
            request=req,
            actor=_user(request),
            candidate_id=form.cleaned_data["candidate"],
            comment=form.cleaned_data["comment"],
            http_request=request,
        )
    except InvalidInput as exc:
        form.add_service_errors(exc.errors)
        return request_page(request, req, status=400, recommend_form=form)
    except Conflict as exc:
        # The request moved on (recommended by someone else, cancelled): the
        # form is no longer offered, so the page says why instead.
        _service_error(request, exc)
        return _back(req.pk)
    messages.success(request, "Recommendation recorded; the approvers can sign it now.")
    return _back(req.pk)


@login_required
@require_POST
def request_comment(request: HttpRequest, request_id: int) -> HttpResponse:
    req = selectors.request_get_for_user(request.user, request_id)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.request_comment(
                request=req,
                actor=_user(request),
                body=form.cleaned_data["body"],
                http_request=request,
            )
            messages.success(request, "Comment added.")
        except InvalidInput as exc:
            _service_error(request, exc)
    else:
        messages.error(request, "Write a comment first.")
    return redirect(f"/requests/{req.pk}/#comments-heading")


@login_required
@require_http_methods(["GET", "POST"])
def request_rerun_ask(request: HttpRequest, request_id: int) -> HttpResponse:
    if request.method == "GET":
        # A refused re-run leaves this address in the bar (the form's errors
        # are drawn at it); reloading or bookmarking it opens the request's
        # re-run form, not an empty 405.
        return redirect(f"/requests/{request_id}/#rerun")
    req = selectors.request_get_for_user(request.user, request_id, action="rerun")
    form = RerunForm(request.POST)
    if not form.is_valid():
        return _rerun_refused(request, req, form)
    data = form.cleaned_data
    try:
        rerun = services.request_rerun_ask(
            request=req,
            actor=_user(request),
            comment=data["comment"] or "",
            solvers=data["solvers"],
            shots=data["shots"],
            seed=data["seed"],
            deadline_seconds=data["deadline_seconds"],
            http_request=request,
        )
    except InvalidInput as exc:
        form.add_service_errors(exc.errors)
        return _rerun_refused(request, req, form)
    except Conflict as exc:
        form.add_error(None, str(exc))
        return _rerun_refused(request, req, form)
    messages.success(request, f"Request #{rerun.pk} submitted as a re-run of #{req.pk}.")
    return _back(rerun.pk)


def _rerun_refused(request: HttpRequest, req: Any, form: RerunForm) -> HttpResponse:
    """The request page again, its re-run form open with the input and errors at the fields."""
    return request_page(request, req, status=400, rerun_form=form)


# Signing ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def request_sign(request: HttpRequest, request_id: int) -> HttpResponse:
    selectors.request_access_check(request.user, "approve")
    req = selectors.request_get_for_user(request.user, request_id, action="approve")
    candidates = ranked_candidates(req)[:FORM_CANDIDATES]
    digest = signing_digest(req)
    initial = {"digest": digest, "candidate": _preselected(req, candidates)}
    # Two forms on one page: ids of their own, or both password fields would
    # be id_password and the reject one's label would focus the approve one.
    ids = {"approve": "approve_%s", "reject": "reject_%s"}
    approve_form = ApproveForm(initial=initial, candidates=candidates, auto_id=ids["approve"])
    reject_form = RejectForm(initial={"digest": digest}, auto_id=ids["reject"])
    status, error = 200, ""
    if request.method == "POST":
        is_reject = request.POST.get("action") == "reject"
        if is_reject:
            reject_form = RejectForm(request.POST, auto_id=ids["reject"])
        else:
            approve_form = ApproveForm(request.POST, candidates=candidates, auto_id=ids["approve"])
        form = reject_form if is_reject else approve_form
        if form.is_valid():
            try:
                signed = _sign(request, req, form.cleaned_data, is_reject)
            except SigningHeldBack as exc:
                status, error = 429, str(exc)
            except PasswordNotAccepted as exc:
                # At the field too, where the approver types it again.
                status, error = 403, str(exc)
                form.add_error("password", "was not accepted: type your password again")
            except PermissionDenied as exc:
                status, error = 403, str(exc)
            except Conflict as exc:
                status, error = 409, str(exc)
            except InvalidInput as exc:
                status, error = 400, _field_errors(form, exc)
            else:
                messages.success(request, _signed_message(signed))
                return _back(req.pk)
        else:
            status = 400
    context = {
        "req": req,
        "digest": digest,
        "approve_form": approve_form,
        "reject_form": reject_form,
        "error": error,
        "is_requester": req.requester_id == request.user.pk,
        "recommendation": request_recommendation(req),
        "signatures": request_signatures(req),
        "sign_off": request_sign_off(request.user, req),
        "approvers": team_approver_count(req.team),
    }
    return render(request, "approvals/sign.html", context, status=status)


def _field_errors(form: Any, exc: InvalidInput) -> str:
    """Each of the service's problems at its field when the form has one; the
    rest (and a summary) for the banner above the forms."""
    rest = []
    for p in exc.errors:
        if p.field in form.fields:
            form.add_error(p.field, p.message)
        else:
            rest.append(f"{p.field}: {p.message}" if p.field else p.message)
    return "; ".join(rest) or "Nothing was signed: correct the fields marked below."


def _preselected(req: Any, candidates: list[Candidate]) -> int | None:
    """What the approver most likely signs: what others approved, else the recommendation."""
    live = live_approvals(req).first()
    if live is not None:
        return live.candidate_id
    recommendation = request_recommendation(req)
    if recommendation is not None:
        return recommendation.candidate_id
    return candidates[0].pk if candidates else None


def _sign(request: HttpRequest, req: Any, data: dict[str, Any], is_reject: bool) -> Any:
    if is_reject:
        return services.request_reject(
            request=req,
            actor=_user(request),
            reason=data["reason"],
            password=data["password"],
            expected_digest=data["digest"],
            http_request=request,
        )
    return services.request_approve(
        request=req,
        actor=_user(request),
        candidate_id=data["candidate"],
        meaning=data["meaning"],
        comment=data["comment"],
        password=data["password"],
        expected_digest=data["digest"],
        http_request=request,
    )


def _signed_message(signed: services.Signed) -> str:
    if signed.signature.kind == SignatureKind.REJECT:
        return "You rejected the request; the rejection is signed."
    if signed.decision is not None:
        return f"Approved: decision #{signed.decision.pk} is made."
    return f"Your approval is signed ({signed.approvals} of {signed.required} needed)."


# Compare ----------------------------------------------------------------------


@login_required
@require_GET
def request_compare(request: HttpRequest, request_id: int) -> HttpResponse:
    """Two candidates (``?a=&b=``) or two runs (``?run_a=&run_b=``) side by side.

    Both pickers always hold a pair worth comparing: in runs mode the
    candidate pickers offer the two runs' own best answers, in candidates mode
    the run pickers the best quantum run against the best classical one.
    """
    req = selectors.request_get_for_user(request.user, request_id)
    candidates = ranked_candidates(req)
    runs = compare_runs(req)
    run_pair = compare_default_runs(runs, candidates)
    context: dict[str, Any] = {"req": req, "runs": runs}
    # An id that is not this request's (a typo, another request's, a stale
    # link) is replaced by the default pick, and the page says so.
    replaced: list[str] = []
    if "run_a" in request.GET or "run_b" in request.GET:
        a = _pick(runs, request.GET.get("run_a"), "run", replaced) or run_pair[0]
        b = _pick(runs, request.GET.get("run_b"), "run", replaced) or run_pair[1]
        run_pair, candidate_pair = (a, b), compare_candidates_of_runs(candidates, a, b)
        context.update(mode="runs", a=a, b=b)
        if a is not None and b is not None:
            context["payload"] = compare_runs_figures(req, a, b, every_run=runs)
    else:
        default = compare_default_candidates(candidates)
        a = _pick(candidates, request.GET.get("a"), "candidate", replaced) or default[0]
        b = _pick(candidates, request.GET.get("b"), "candidate", replaced) or default[1]
        candidate_pair = (a, b)
        context.update(mode="candidates", a=a, b=b)
        if a is not None and b is not None:
            context.update(_candidates_compared(req, a, b))
    context.update(
        candidates=_offered(candidates, candidate_pair),
        pick_a=candidate_pair[0],
        pick_b=candidate_pair[1],
        pick_run_a=run_pair[0],
        pick_run_b=run_pair[1],
        replaced=replaced,
    )
    return render(request, "approvals/compare.html", context)


def _pick(rows: list[Any], raw: str | None, what: str, replaced: list[str]) -> Any:
    """The row whose id ``raw`` names, or None; a named id that is not among
    ``rows`` is noted in ``replaced`` for the page to say."""
    if not raw:
        return None
    found = None
    with suppress(ValueError):
        wanted = int(raw)
        found = next((r for r in rows if r.pk == wanted), None)
    if found is None:
        replaced.append(f"{what} {raw[:20]!r}")
    return found


def _offered(candidates: list[Candidate], picked: tuple[Any, Any]) -> list[Candidate]:
    """The candidates a picker lists: the first FORM_CANDIDATES, and the picked ones
    wherever they rank, so a picker never shows another than the one compared."""
    offered = candidates[:FORM_CANDIDATES]
    extra = {c.pk: c for c in picked if c is not None and c not in offered}
    return offered + sorted(extra.values(), key=lambda c: (c.rank, c.pk))


def _candidates_compared(req: Any, a: Candidate, b: Candidate) -> dict[str, Any]:
    differ = [
        (i, x, y) for i, (x, y) in enumerate(zip(a.assignment, b.assignment, strict=True)) if x != y
    ]
    return {
        "payload": compare_candidates_figures(req, a, b),
        "differ": differ,
        "same": len(a.assignment) - len(differ),
    }


# Decisions ----------------------------------------------------------------------


@login_required
@require_GET
def decision_list(request: HttpRequest) -> HttpResponse:
    team = request.GET.get("team") or ""
    decisions = decisions_for_user(request.user, team=team)
    page = Paginator(decisions, QUEUE_PAGE).get_page(request.GET.get("page"))
    teams = [(t.slug, t.name) for t in decision_teams(request.user).order_by("slug")]
    context = {"page": page, "teams": teams, "team": team}
    return render(request, "approvals/decision_list.html", context)


@login_required
@require_GET
def decision_detail(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = decision_get_for_user(request.user, decision_id)
    context = {"decision": decision, "approvals": decision_approvals(decision)}
    return render(request, "approvals/decision_detail.html", context)


# Policies ---------------------------------------------------------------------


@login_required
@require_GET
def policy_list(request: HttpRequest) -> HttpResponse:
    teams = selectors.user_teams(request.user).order_by("slug")
    rows = [(team, policy_for_team(team), may_change_policy(request.user, team)) for team in teams]
    return render(request, "approvals/policy_list.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def team_policy(request: HttpRequest, slug: str) -> HttpResponse:
    team = get_object_or_404(Team, slug=slug, memberships__user=request.user)
    may_change = may_change_policy(request.user, team)
    policy = policy_for_team(team)
    form = PolicyForm(
        initial={
            "approvals_required": policy.approvals_required,
            "approvals_required_above_cost": policy.approvals_required_above_cost,
            "cost_threshold_credits": policy.cost_threshold_credits,
            "recommender_may_not_approve": policy.recommender_may_not_approve,
        }
    )
    status = 200
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied("Only an admin of the team changes its approval policy.")
        form = PolicyForm(request.POST)
        if form.is_valid():
            try:
                services.policy_update(
                    team=team, actor=_user(request), http_request=request, **form.cleaned_data
                )
            except InvalidInput as exc:
                for problem in exc.errors:
                    form.add_error(problem.field, problem.message)
            else:
                messages.success(request, f"Approval policy of {team.slug} saved.")
                return redirect("team-policy", slug=team.slug)
        status = 400
    context = {
        "team": team,
        "policy": policy,
        "form": form,
        "may_change": may_change,
        "approvers": team_approver_count(team),
    }
    return render(request, "approvals/policy.html", context, status=status)
