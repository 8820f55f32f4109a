"""Review panels for the request page, and small cells for its tables.

The request page belongs to jobs (templates/jobs/request_detail.html); it
shows review, sign-off, figures, comments and the audit timeline by calling
``{% review_panels req %}``, so the jobs view needs to know nothing of them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import template
from django.utils.safestring import mark_safe

from approvals.audit import format_time
from approvals.figures import request_figures
from approvals.models import Decision
from approvals.permissions import may_read_evidence, user_may
from approvals.review_forms import CommentForm, RecommendForm, RerunForm
from approvals.review_selectors import (
    approvals_required_of,
    live_approvals,
    ranked_candidates,
    request_comments,
    request_cost_credits,
    request_recommendation,
    request_signatures,
    run_cost_credits,
)
from approvals.selectors import request_timeline
from jobs.models import Candidate, OptimizationRequest, RequestStatus, Run
from jobs.templatetags.jobs_tags import format_number

register = template.Library()

REVIEWED = (
    RequestStatus.READY_FOR_REVIEW,
    RequestStatus.RECOMMENDED,
    RequestStatus.APPROVED,
    RequestStatus.REJECTED,
)
TIMELINE_MAX = 200
FORM_CANDIDATES = 50


@register.inclusion_tag("approvals/_review_panels.html", takes_context=True)
def review_panels(
    context: template.Context,
    req: OptimizationRequest,
    rerun_form: Any = None,
    recommend_form: Any = None,
    settled: Decimal | None = None,
) -> dict[str, Any]:
    """The review panels of ``req``. ``rerun_form``, ``recommend_form``: a form the
    server refused, bound (what was typed, with its errors); else an empty one.
    ``settled``: the request's settled credits if the page read them already."""
    request = context["request"]
    user = request.user
    reviewed = req.status in REVIEWED
    candidates = ranked_candidates(req)[:FORM_CANDIDATES] if reviewed else []
    recommendation = request_recommendation(req)
    top = candidates[0].pk if candidates else None
    # Read once: the cost shown and the approvals it requires come from one figure.
    cost = settled if settled is not None else request_cost_credits(req)
    signatures = list(request_signatures(req))
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "req": req,
        "reviewed": reviewed,
        "payload": request_figures(req) if reviewed else None,
        "candidates": candidates,
        "runs": list(Run.objects.filter(request=req).order_by("id")),
        "recommendation": recommendation,
        "signatures": signatures,
        # For the signatures table's caption, which explains voided ones only when there are.
        "any_voided": any(s.voided_at for s in signatures),
        "live": live_approvals(req).count(),
        "required": approvals_required_of([req], settled={req.pk: cost})[req.pk],
        "cost": cost,
        "decision": Decision.objects.filter(request=req).first(),
        "comments": request_comments(req),
        "timeline": _timeline(req),
        "may_recommend": req.status == RequestStatus.READY_FOR_REVIEW and user_may(user, "review"),
        "may_comment": user_may(user, "review") or user_may(user, "approve"),
        "may_rerun": reviewed and user_may(user, "rerun"),
        "recommend_form": recommend_form
        or RecommendForm(initial={"candidate": top}, candidates=candidates),
        "comment_form": CommentForm(),
        "rerun_form": rerun_form
        or RerunForm(initial={"solvers": json.dumps(req.settings.get("solvers", []), indent=1)}),
    }


@register.inclusion_tag("approvals/_review_nav_links.html", takes_context=True)
def review_nav_links(context: template.Context, req: OptimizationRequest) -> dict[str, Any]:
    """Links to the panels ``review_panels`` shows, for the request page's "On this page"."""
    user = context["request"].user
    reviewed = req.status in REVIEWED
    return {
        "reviewed": reviewed,
        "may_recommend": req.status == RequestStatus.READY_FOR_REVIEW
        and user_may(user, "review")
        and req.candidates.filter(rank__isnull=False).exists(),  # as ranked_candidates
        "may_rerun": reviewed and user_may(user, "rerun"),
    }


def _timeline(req: OptimizationRequest) -> list[Any]:
    """The newest events, oldest first. The page already checked the user may view the
    request, which is enough to read its timeline (approvals.permissions)."""
    return list(reversed(request_timeline(req).order_by("-seq")[:TIMELINE_MAX]))


@register.simple_tag
def candidate_gap(candidate: Candidate, best: Candidate | None, sense: str) -> str:
    """How far ``candidate`` is behind the best, in objective units ("0" for the best)."""
    if best is None:
        return "—"
    gap = (
        best.objective - candidate.objective
        if sense == "maximize"
        else (candidate.objective - best.objective)
    )
    return format_number(gap)


@register.simple_tag
def candidate_probability(candidate: Candidate) -> str:
    """The measured probability of a sampled candidate; for one no shot measured (a
    classical solver's), what its 1.0 or 0.0 means: its answer, or a runner-up
    listed for comparison. "0.0000" there read as "the quantum run rarely saw it"."""
    if candidate.count:
        return f"{candidate.probability:.4f}"
    if candidate.probability >= 1.0:
        return "answer"
    return mark_safe('<span class="muted">not sampled</span>')


@register.simple_tag
def run_cost(run: Run) -> str:
    cost = run_cost_credits(run)
    return "—" if cost is None else f"{cost.normalize():f}"


@register.filter
def reads_evidence(user: Any) -> bool:
    """Whether the user may open evidence packs (consumers may not), so a page
    offers only links that open."""
    return may_read_evidence(user)


@register.filter
def credits(value: Decimal | None) -> str:
    return "0" if not value else f"{value.normalize():f}"


@register.filter
def utc(value: Any) -> str:
    return format_time(value)[:19].replace("T", " ") + " UTC" if value else ""
