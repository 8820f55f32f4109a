"""The compare view's figures: two candidates' problem drawings, or two runs side by side."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from approvals.distributions import outcomes_of, total_variation_distance
from approvals.figures.distribution import measurement_figure
from approvals.figures.objective import objective_figure
from approvals.figures.problem import problem_figure
from approvals.review_selectors import ranked_candidates, run_best
from jobs.models import Candidate, OptimizationRequest, Run
from jobs.optimum import request_optimum, run_ratio
from quantum import parse_problem


def compare_candidates_figures(
    request_obj: OptimizationRequest, a: Candidate, b: Candidate
) -> dict[str, Any]:
    """The problem drawn with each of two candidates, for side-by-side display."""
    problem = parse_problem(request_obj.problem, request_obj.schema_version)
    figures = [
        problem_figure(problem, a, which=f"candidate A (rank {a.rank})", figure_id="compare-a"),
        problem_figure(problem, b, which=f"candidate B (rank {b.rank})", figure_id="compare-b"),
    ]
    return {"figures": [asdict(f) for f in figures]}


def compare_runs_figures(
    request_obj: OptimizationRequest, a: Run, b: Run, *, every_run: list[Run]
) -> dict[str, Any]:
    """Each run's measurement distribution, their objective values overlaid, the
    total variation distance between the two distributions when both sampled,
    and the two runs' approximation ratios (``ratios``: see
    ``jobs.optimum.run_ratio``) against the request's optimum, which any of
    ``every_run`` (the request's runs) may have found."""
    problem = parse_problem(request_obj.problem, request_obj.schema_version)
    candidates = ranked_candidates(request_obj)
    optimum = request_optimum(every_run)
    runs = [a, b] if a.pk != b.pk else [a]
    sampled = {
        run.pk: outcomes_of(run.distribution)
        for run in runs
        if getattr(run, "distribution", None) is not None
    }
    figures = [
        measurement_figure(run, sampled[run.pk], run_best(candidates, run), None)
        for run in runs
        if run.pk in sampled
    ]
    if sampled:  # two classical runs: their answers are in the table, there is no sample
        figures.append(objective_figure(problem, runs, sampled, candidates))
    tvd = (
        total_variation_distance(sampled[a.pk], sampled[b.pk])
        if a.pk in sampled and b.pk in sampled and a.pk != b.pk
        else None
    )
    return {
        "figures": [asdict(f) for f in figures],
        "tvd": tvd,
        "optimum": optimum.value if optimum is not None else None,
        "optimum_source": optimum.words if optimum is not None else "",
        "ratios": [run_ratio(run, optimum, request_obj.sense) for run in (a, b)],
    }
