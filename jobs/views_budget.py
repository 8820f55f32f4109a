"""Pages for backends and budgets, and the submit page's cost estimate.

Thin: selectors and services do the work. Figures are built here as plain
Plotly JSON and drawn by static/js/budgets.js (the CSP allows no inline script).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from hybridreview.api import error_body
from jobs import selectors
from jobs.errors import InvalidInput
from jobs.forms import RequestForm
from jobs.models import TeamQuota
from jobs.selectors_budget import (
    CHANGE_BACKENDS,
    CHANGE_BUDGETS,
    VIEW_BACKENDS,
    access_check,
    admin_teams,
    backend_get_for_user,
    backends_overview,
    budget_list_for_user,
    spend_by_backend,
    spend_by_team_month,
)
from jobs.services import budget as budget_services
from jobs.services.backends import backend_test_connection
from jobs.services.budget import BudgetExceeded
from jobs.services.spend_plan import fmt
from jobs.views import _open_campaigns, _teams

MONTHS_SHOWN = 12


@login_required
@require_GET
def budgets_page(request: HttpRequest) -> HttpResponse:
    budgets = list(budget_list_for_user(request.user))
    teams = admin_teams(request.user)
    by_backend = spend_by_backend(teams, months=MONTHS_SHOWN)
    context = {
        "budgets": budgets,
        "quotas": {q.team_id: q for q in TeamQuota.objects.filter(team__in=teams)},
        "may_change": request.user.has_perm(CHANGE_BUDGETS),
        "team_figure": _team_figure(spend_by_team_month(teams, months=MONTHS_SHOWN)),
        "backend_figure": _backend_figure(by_backend),
        "backend_spend": by_backend,
    }
    return render(request, "jobs/budgets.html", context)


def _team_figure(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return _bar_figure(rows, "team", "Credits settled per team and month", "group")


def _backend_figure(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return _bar_figure(rows, "backend", "Credits settled per backend and month", "stack")


def _bar_figure(
    rows: Iterable[dict[str, Any]], series: str, title: str, mode: str
) -> dict[str, Any]:
    """One bar trace per ``series`` value over the months; floats, as plotly.js reads them."""
    rows = list(rows)
    months = sorted({f"{r['period']:%Y-%m}" for r in rows})
    by_series: dict[str, dict[str, float]] = defaultdict(dict)
    for r in rows:
        by_series[r[series] or "(none)"][f"{r['period']:%Y-%m}"] = float(r["spent"])
    data = [
        {
            "type": "bar",
            "name": name,
            "x": months,
            "y": [values.get(m, 0.0) for m in months],
            "hovertemplate": "%{x}: %{y} credits<extra>" + name + "</extra>",
        }
        for name, values in sorted(by_series.items())
    ]
    layout = {
        "title": {"text": title},
        "barmode": mode,
        "xaxis": {"title": {"text": "Month"}, "type": "category"},
        "yaxis": {"title": {"text": "Credits"}, "rangemode": "tozero"},
        "margin": {"t": 48, "r": 16, "b": 48, "l": 64},
        "legend": {"orientation": "h"},
    }
    return {"data": data, "layout": layout}


@login_required
@require_GET
def backends_page(request: HttpRequest) -> HttpResponse:
    access_check(request.user, VIEW_BACKENDS, "Backends")
    context = {
        "backends": backends_overview(),
        "may_change": request.user.has_perm(CHANGE_BACKENDS),
    }
    return render(request, "jobs/backends.html", context)


@login_required
@require_POST
def backend_test(request: HttpRequest, name: str) -> HttpResponse:
    config = backend_get_for_user(request.user, name, change=True)
    result = backend_test_connection(
        config=config, actor=selectors.signed_in(request.user), http_request=request
    )
    if result.ok:
        messages.success(request, f"{name}: {result.message} in {result.latency_ms:.0f} ms.")
    else:
        messages.error(request, f"{name}: connection test failed: {result.message}")
    return redirect("backends")


@login_required
@require_POST
def request_estimate(request: HttpRequest) -> JsonResponse:
    """The submit form's fields in, the estimate out (JSON for static/js/estimate.js)."""
    selectors.request_access_check(request.user, "submit")
    form = RequestForm(
        request.POST, request.FILES, teams=_teams(request), campaigns=_open_campaigns(request)
    )
    if not form.is_valid():
        errors = form.labelled_errors(
            [
                (field if field != "__all__" else None, str(message))
                for field, messages_ in form.errors.items()
                for message in messages_
            ]
        )
        return JsonResponse(error_body("Fix the form first.", errors), status=400)
    data = form.cleaned_data
    try:
        estimate = budget_services.request_estimate(
            requester=request.user,
            problem=data["problem_json"],
            team=data["team"],
            title=data.get("title") or "",
            solvers=form.solver_specs(),
            shots=data.get("shots"),
            seed=data.get("seed"),
            deadline_seconds=data.get("deadline_seconds"),
            cache=data.get("cache"),
            on_budget_exceeded=data.get("on_budget_exceeded") or "refuse",
        )
    except BudgetExceeded as exc:  # not raised by an estimate; kept honest
        return JsonResponse(error_body(exc.message), status=402)
    except InvalidInput as exc:
        # Named as the submit would name them: by the form's labels, not API paths.
        errors = form.labelled_errors(form.service_errors(exc.errors))
        return JsonResponse(error_body("The request would be refused.", errors), status=400)
    budget = estimate.budget
    return JsonResponse(
        {
            "runs": [
                r.as_dict() | {"credits": fmt(r.credits), "credits_value": float(r.credits)}
                for r in estimate.plan.runs
            ],
            "total_credits": fmt(estimate.plan.total),
            "total_seconds": round(estimate.plan.seconds, 3),
            "budget": {
                "team": budget.team.slug,
                "period": f"{budget.period:%Y-%m}",
                "limit": fmt(budget.limit_credits),
                "reserved": fmt(budget.reserved_credits),
                "spent": fmt(budget.spent_credits),
                "remaining": fmt(budget.remaining),
                "hard": budget.hard,
            },
            "outcome": estimate.outcome,
            "message": estimate.message,
            "warnings": estimate.plan.deadline_warnings(),
        }
    )
