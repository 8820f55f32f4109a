"""Pages: the request list, the submit form, one request. Thin: selectors and services."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from approvals.review_selectors import request_sign_off
from jobs import selectors, services
from jobs.api import body_digest
from jobs.errors import Conflict, IdempotencyMismatch, InvalidInput
from jobs.examples import EXAMPLES
from jobs.forms import CampaignForm, RequestForm
from jobs.models import Campaign, CampaignStatus, OptimizationRequest, RequestStatus
from jobs.models.request import REQUEST_ACTIVE
from jobs.models.run import RUN_ACTIVE
from jobs.optimum import request_optimum, run_ratio
from jobs.selectors_budget import request_cost
from jobs.services.backends import enabled_backend_names

PAGE_SIZE = 25


@login_required
@require_GET
def request_list(request: HttpRequest) -> HttpResponse:
    statuses = [s for s in request.GET.getlist("status") if s in RequestStatus.values]
    team = request.GET.get("team") or None
    qs = selectors.request_list_for_user(request.user, status=statuses, team=team)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)  # the pager adds its own
    context = {
        "page": page,
        "query": query.urlencode(),
        "statuses": RequestStatus.choices,
        "selected_statuses": statuses,
        "teams": selectors.user_teams(request.user, "view").order_by("slug"),
        "selected_team": team or "",
        "may_submit": selectors.user_may(request.user, "submit"),
        "active_statuses": list(REQUEST_ACTIVE),
    }
    return render(request, "jobs/request_list.html", context)


def _teams(request: HttpRequest) -> list[tuple[str, str]]:
    """The teams the user may submit to: the submit and campaign forms' choices."""
    teams = selectors.user_teams(request.user, "submit").order_by("slug")
    return [(t.slug, t.name) for t in teams]


def _open_campaigns(request: HttpRequest) -> list[tuple[str, str]]:
    found = selectors.campaign_list_for_user(request.user, "submit").filter(status="collecting")
    return [(str(c.id), f"#{c.id} {c.title} ({c.team.slug})") for c in found]


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    selectors.request_access_check(request.user, "submit")
    choices = {"teams": _teams(request), "campaigns": _open_campaigns(request)}
    params = request.POST if request.method == "POST" else request.GET
    example = EXAMPLES.get(params.get("example", ""))
    if request.method == "POST" and example is None:
        form = RequestForm(request.POST, request.FILES, **choices)
        if form.is_valid():
            submitted = _submit(request, form)
            if submitted is not None:
                if submitted.created:
                    messages.success(request, f"Request #{submitted.request.pk} submitted.")
                else:
                    messages.info(
                        request,
                        f"This form was already sent: it is request #{submitted.request.pk}. "
                        "Nothing new was submitted.",
                    )
                return redirect("request-detail", request_id=submitted.request.pk)
    else:
        # A visit (from a campaign: ?campaign=N), or one of the example buttons,
        # which post the form as typed: fill in the example's problem and
        # keep everything else.
        initial = RequestForm.initial_from(params, example)
        initial.setdefault("submission_key", uuid.uuid4().hex)
        form = RequestForm(initial=initial, **choices)
    form.describe()
    # The backends an admin has enabled (BackendConfig), as suggestions.
    backends = enabled_backend_names()
    context = {"form": form, "examples": EXAMPLES.values(), "backends": backends}
    return render(request, "jobs/request_new.html", context, status=400 if form.errors else 200)


def _submit(request: HttpRequest, form: RequestForm) -> services.Submitted | None:
    data = form.cleaned_data
    key = ""
    if data.get("submission_key"):
        # The form's key and what it asks: the same form sent again unchanged
        # replays the first request; changed (Back, edit, send), it is a new one.
        asked = {k: v for k, v in data.items() if k not in {"problem_file", "problem"}}
        key = f"form:{data['submission_key']}:{body_digest(asked)}"
    try:
        submitted = services.request_submit(
            requester=selectors.signed_in(request.user),
            problem=data["problem_json"],
            team=data["team"],
            title=data.get("title") or "",
            solvers=form.solver_specs(),
            shots=data.get("shots"),
            seed=data.get("seed"),
            deadline_seconds=data.get("deadline_seconds"),
            cache=data.get("cache"),
            campaign=_campaign(request, data.get("campaign")),
            http_request=request,
            on_budget_exceeded=data.get("on_budget_exceeded") or "refuse",
            idempotency_key=key,
        )
    except InvalidInput as exc:
        form.add_service_errors(exc.errors)
        return None
    except IdempotencyMismatch as exc:  # the key holds the body's digest; kept honest
        form.add_error(None, str(exc))
        return None
    return submitted


def _campaign(request: HttpRequest, campaign_id: str | None) -> Campaign | None:
    return selectors.campaign_get_for_user(request.user, int(campaign_id)) if campaign_id else None


@login_required
@require_GET
def request_detail(request: HttpRequest, request_id: int) -> HttpResponse:
    return request_page(request, selectors.request_get_for_user(request.user, request_id))


def request_page(
    request: HttpRequest,
    found: OptimizationRequest,
    *,
    status: int = 200,
    rerun_form: Any = None,
    recommend_form: Any = None,
) -> HttpResponse:
    """The request page of a request the user may view (a form posted from it that
    failed answers with this page too: ``rerun_form`` or ``recommend_form``, bound,
    with its errors)."""
    req = selectors.request_detail(found)
    candidates = list(req.candidates.all())
    runs = list(req.runs.all())
    optimum = request_optimum(runs)
    active = req.status in REQUEST_ACTIVE
    # The one read of the ledger: the sign-off line and the review panels reuse it.
    cost = request_cost(req)
    context: dict[str, Any] = {
        "req": req,
        # Each run with its best objective's ratio to the request's one optimum.
        "runs": [(run, run_ratio(run, optimum, req.sense)) for run in runs],
        "optimum": optimum,
        "candidates": [c for c in candidates if c.rank is not None][:50],
        "candidate_count": len(candidates),
        "active": active,
        # Its runs wait for the campaign: the solve deadline starts when it sends them.
        "held_by_campaign": active
        and req.campaign is not None
        and req.campaign.status == CampaignStatus.COLLECTING,
        "may_cancel": selectors.user_may(request.user, "cancel"),
        "sign_off": (
            request_sign_off(request.user, req, settled=cost["credits"])
            if selectors.user_may(request.user, "approve")
            else None
        ),
        "cost": cost,
        "rerun_form": rerun_form,
        "recommend_form": recommend_form,
    }
    return render(request, "jobs/request_detail.html", context, status=status)


@login_required
@require_POST
def request_cancel(request: HttpRequest, request_id: int) -> HttpResponse:
    req = selectors.request_get_for_user(request.user, request_id, action="cancel")
    try:
        actor = selectors.signed_in(request.user)
        services.request_cancel(request=req, actor=actor, http_request=request)
        messages.success(request, f"Request #{req.id} cancelled.")
    except Conflict as exc:
        messages.error(request, str(exc))
    return redirect("request-detail", request_id=req.id)


@login_required
@require_POST
def request_rerun(request: HttpRequest, request_id: int) -> HttpResponse:
    req = selectors.request_get_for_user(request.user, request_id, action="rerun")
    try:
        actor = selectors.signed_in(request.user)
        submitted = services.request_rerun(request=req, actor=actor, http_request=request)
    except InvalidInput as exc:
        messages.error(request, f"Could not rerun: {exc}")
        return redirect("request-detail", request_id=req.id)
    messages.success(request, f"Request #{submitted.request.id} submitted as a rerun of #{req.id}.")
    return redirect("request-detail", request_id=submitted.request.id)


@login_required
@require_http_methods(["GET", "POST"])
def campaign_list(request: HttpRequest) -> HttpResponse:
    campaigns = selectors.campaign_list_for_user(request.user)
    form = CampaignForm(request.POST or None, teams=_teams(request))
    if request.method == "POST":
        selectors.request_access_check(request.user, "submit")
        if form.is_valid():
            created = _campaign_create(request, form)
            if created is not None:
                messages.success(request, f"Campaign #{created} is collecting requests.")
                return redirect("campaign-detail", campaign_id=created)
    form.describe()
    context = {
        "campaigns": campaigns,
        "form": form,
        "may_submit": selectors.user_may(request.user, "submit"),
    }
    return render(request, "jobs/campaign_list.html", context, status=400 if form.errors else 200)


def _campaign_create(request: HttpRequest, form: CampaignForm) -> int | None:
    data = form.cleaned_data
    team = selectors.user_teams(request.user, "submit").get(slug=data["team"])
    try:
        campaign = services.campaign_create(
            actor=selectors.signed_in(request.user),
            team=team,
            title=data["title"],
            description=data.get("description") or "",
            window_seconds=int(data["window_minutes"] * 60),
            http_request=request,
        )
    except InvalidInput as exc:
        for problem in exc.errors:
            form.add_error(None, f"{problem.field}: {problem.message}")
        return None
    return campaign.id


@login_required
@require_GET
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_get_for_user(request.user, campaign_id)
    rows = selectors.campaign_comparison(campaign)
    context = {
        "campaign": campaign,
        "rows": rows,
        "may_submit": selectors.user_may(request.user, "submit"),
        # Something will still change without the user doing anything.
        "live": campaign.status == CampaignStatus.COLLECTING
        or any(row["status"] in RUN_ACTIVE for row in rows),
    }
    return render(request, "jobs/campaign_detail.html", context)


@login_required
@require_POST
def campaign_dispatch(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = selectors.campaign_get_for_user(request.user, campaign_id, action="submit")
    try:
        runs = services.campaign_dispatch(
            campaign=campaign, actor=selectors.signed_in(request.user), http_request=request
        )
        messages.success(request, f"Campaign #{campaign.id} sent {len(runs)} runs.")
    except Conflict as exc:
        messages.error(request, str(exc))
    return redirect("campaign-detail", campaign_id=campaign.id)
