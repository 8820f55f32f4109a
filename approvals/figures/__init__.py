"""The request page's Plotly figures, built on the server as plain figure dicts.

Everything is aggregated here so the page stays small whatever the run
produced: a distribution of 2^20 outcomes becomes its top ``TOP_K`` bars and
one "other" bar; the objective histogram is binned; long optimiser traces are
thinned. plotly.js (served from static/) only draws.

Plain dicts rather than ``plotly.graph_objects``: the objects validate every
property on construction, which costs more than the rest of the page, and
plotly.js reads the same JSON either way.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.core.cache import cache
from django.db import transaction

from approvals.digest import signing_digest
from approvals.distributions import outcomes_from_counts, outcomes_of
from approvals.figures.common import FIGURES_CACHE_SECONDS, FIGURES_VERSION, TOP_K, Figure
from approvals.figures.compare import compare_candidates_figures, compare_runs_figures
from approvals.figures.convergence import convergence_figure
from approvals.figures.distribution import measurement_figure, noise_figure
from approvals.figures.objective import objective_figure
from approvals.figures.problem import problem_figure
from approvals.review_selectors import ranked_candidates, request_recommendation, run_best
from jobs.models import Candidate, OptimizationRequest, Run, RunStatus
from quantum import parse_problem

# What the app and the tests import from here; the figure modules are the rest.
__all__ = [
    "TOP_K",
    "Figure",
    "build_figures",
    "compare_candidates_figures",
    "compare_runs_figures",
    "figures_warm",
    "figures_warm_on_commit",
    "request_figures",
]


def request_figures(request_obj: OptimizationRequest) -> dict[str, Any]:
    """Every figure of the request, and the digest of what they show.

    Cached under the signing digest (which changes with the problem, any run,
    distribution or ranking) and the recommended candidate (which the figures
    mark): a finished request's figures never change otherwise, and reading a
    2^20-outcome distribution again on every view would cost most of a second.
    """
    digest = signing_digest(request_obj)
    recommendation = request_recommendation(request_obj)
    recommended = recommendation.candidate if recommendation is not None else None
    key = f"hr:figures:{FIGURES_VERSION}:{request_obj.pk}:{digest}:{recommended and recommended.pk}"
    payload: dict[str, Any] | None = cache.get(key)
    if payload is None:
        payload = {
            "request": request_obj.pk,
            "digest": digest,
            "figures": [asdict(f) for f in build_figures(request_obj, recommended)],
        }
        cache.set(key, payload, FIGURES_CACHE_SECONDS)
    return payload


def figures_warm(*, request_id: int) -> None:
    """Build and cache a request's figures before anyone opens the page.

    Enqueued (on commit) when a request is ranked and when a candidate is
    recommended, the two events that change what the figures show, so the
    reviewer's first view reads the shared cache instead of paying the
    build of a large distribution.
    """
    request_obj = OptimizationRequest.objects.filter(pk=request_id).first()
    if request_obj is not None:
        request_figures(request_obj)


def figures_warm_on_commit(request_id: int) -> None:
    from approvals.tasks import warm_figures

    transaction.on_commit(lambda: warm_figures.delay(request_id))


def build_figures(request_obj: OptimizationRequest, recommended: Candidate | None) -> list[Figure]:
    runs = list(
        Run.objects.filter(request=request_obj)
        .select_related("distribution", "cache_source")
        .order_by("id")
    )
    candidates = ranked_candidates(request_obj)
    problem = parse_problem(request_obj.problem, request_obj.schema_version)
    sampled = {
        run.pk: outcomes_of(run.distribution)
        for run in runs
        if run.status == RunStatus.SUCCEEDED and getattr(run, "distribution", None) is not None
    }
    figures: list[Figure] = []
    for run in runs:
        if run.pk in sampled:
            best = run_best(candidates, run)
            figures.append(measurement_figure(run, sampled[run.pk], best, recommended))
    succeeded = [r for r in runs if r.status == RunStatus.SUCCEEDED]
    if sampled:  # without quantum samples there is nothing to set the baselines against
        figures.append(objective_figure(problem, succeeded, sampled, candidates))
    figures.extend(convergence_figure(r) for r in succeeded if r.trace)
    for run in succeeded:
        ideal = (run.metrics or {}).get("ideal_counts")
        if run.pk in sampled and ideal:
            tvd = run.metrics.get("tvd_to_ideal")
            figures.append(noise_figure(run, sampled[run.pk], outcomes_from_counts(ideal), tvd))
    chosen = recommended or (candidates[0] if candidates else None)
    if chosen is not None:
        which = (
            "the recommended candidate" if chosen is recommended else "the best-ranked candidate"
        )
        figures.append(problem_figure(problem, chosen, which=which))
    return figures
