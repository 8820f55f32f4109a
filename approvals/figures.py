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

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from django.core.cache import cache
from django.db import transaction

from approvals.digest import signing_digest
from approvals.distributions import (
    Outcomes,
    outcomes_from_counts,
    outcomes_of,
    total_variation_distance,
)
from approvals.review_selectors import ranked_candidates, request_recommendation, run_best
from jobs.models import Candidate, OptimizationRequest, Run, RunStatus
from jobs.optimum import PROVEN, request_optimum, run_ratio
from quantum import Problem, parse_problem

FIGURES_VERSION = 2  # bump when a figure's shape changes, so cached ones are rebuilt
FIGURES_CACHE_SECONDS = 7 * 24 * 3600
TOP_K = 30  # bars per measurement distribution, before "other"
OBJECTIVE_SAMPLE = 4096  # most frequent outcomes whose objective is evaluated
EXACT_VALUES_MAX = 60  # up to this many distinct objective values, one bar each
BINS = 40
TRACE_POINTS_MAX = 1000
EDGES_MAX = 2000
TICK_EVERY_BAR_MAX = 40  # up to this many bars, every one gets its axis label
OUTCOME_AXIS = "outcome (bitstring; variable 0 is the last character)"

# Colours with at least 3:1 contrast on white; every mark also has a text
# label or a distinct symbol, so nothing is told by colour alone.
GREY, LIGHT, BEST, RECOMMENDED, BOTH = "#64748b", "#94a3b8", "#116329", "#1d4ed8", "#7c3aed"
SERIES = ("#1d4ed8", "#b45309", "#0f766e", "#a21caf", "#475569")
# (is the run's best, is the recommended) -> bar colour and label
MARKS = {
    (False, False): (GREY, ""),
    (True, False): (BEST, "best"),
    (False, True): (RECOMMENDED, "recommended"),
    (True, True): (BOTH, "best + recommended"),
}
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif"


@dataclass(frozen=True)
class Figure:
    id: str  # unique on the page; the div's id
    kind: str  # measurement | objective | convergence | noise | problem
    title: str
    caption: str  # what the figure shows, in words (also its accessible description)
    figure: dict[str, Any]  # {"data": [...], "layout": {...}} for Plotly.newPlot


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


# 1. The measurement distribution of one quantum run ------------------------


def measurement_figure(
    run: Run, outcomes: Outcomes, best: Candidate | None, recommended: Candidate | None
) -> Figure:
    shots = max(outcomes.shots, 1)
    shown = outcomes.top(TOP_K)
    labels = [outcomes.label(i) for i in shown]
    marked = {c.bitstring for c in (best, recommended) if c is not None}
    missing = sorted(marked - set(labels))
    extra = _lookup(outcomes, missing)
    bars = [(label, int(outcomes.counts[i])) for label, i in zip(labels, shown, strict=True)]
    bars += [(label, count) for label, count in extra.items()]
    other_count = outcomes.shots - sum(count for _, count in bars)
    other_n = len(outcomes) - len(bars)
    x, y, colours, texts = [], [], [], []
    for label, count in bars:
        is_best = best is not None and label == best.bitstring
        is_rec = recommended is not None and label == recommended.bitstring
        x.append(label)
        y.append(count / shots)
        colours.append(MARKS[is_best, is_rec][0])
        texts.append(MARKS[is_best, is_rec][1])
    if other_n > 0:
        x.append(f"other ({other_n:,} outcomes)")
        y.append(other_count / shots)
        colours.append(LIGHT)
        texts.append("")
    trace = {
        "type": "bar",
        "x": x,
        "y": y,
        "text": texts,
        "textposition": "outside",
        "textfont": {"size": 12},
        "constraintext": "none",  # plotly would shrink the label to the bar's width
        "cliponaxis": False,
        "marker": {"color": colours},
        "hovertemplate": "%{x}<br>probability %{y:.4f}<extra></extra>",
        "name": _label(run),
    }
    layout = _layout(
        xaxis=_category_axis(OUTCOME_AXIS, len(x)),
        yaxis={"title": {"text": "probability"}, "rangemode": "tozero"},
        showlegend=False,
    )
    not_measured = sorted(marked - set(x))
    caption = (
        f"{len(outcomes):,} distinct outcomes in {outcomes.shots:,} shots; the {len(shown)} most "
        f"frequent are shown"
        + (f"; the other {other_n:,} make up the last bar" if other_n > 0 else "")
        + ". The run's best candidate and the recommended one are labelled."
        + (f" Not measured by this run: {', '.join(not_measured)}." if not_measured else "")
    )
    return Figure(
        id=f"measurement-{run.pk}",
        kind="measurement",
        title=f"Measurement distribution of run #{run.pk} ({_label(run)})",
        caption=caption,
        figure={"data": [trace], "layout": layout},
    )


def _lookup(outcomes: Outcomes, labels: Sequence[str]) -> dict[str, int]:
    """Counts of a few named outcomes (those measured)."""
    found = {}
    for label in labels:
        at = outcomes.find(label)
        if at is not None:
            found[label] = int(outcomes.counts[at])
    return found


# 2. The objective values each run found ------------------------------------


def objective_figure(
    problem: Problem,
    runs: list[Run],
    sampled: dict[int, Outcomes],
    candidates: list[Candidate],
) -> Figure:
    samples: dict[int, tuple[np.ndarray, np.ndarray, float, float]] = {}
    for run in runs:
        if run.pk in sampled:
            samples[run.pk] = _objective_sample(problem, sampled[run.pk])
    values = np.concatenate([v for v, _, _, _ in samples.values()]) if samples else np.array([])
    centres, assign = _bins(values)
    data: list[dict[str, Any]] = []
    notes: list[str] = []
    for n, run in enumerate(r for r in runs if r.pk in samples):
        vals, weights, covered, infeasible = samples[run.pk]
        mass = np.zeros(len(centres))
        if len(vals):
            np.add.at(mass, assign(vals), weights)
        data.append(
            {
                "type": "bar",
                "name": f"#{run.pk} {_label(run)} (samples)",
                "x": _floats(centres),
                "y": _floats(mass),
                "marker": {"color": SERIES[n % len(SERIES)]},
                "hovertemplate": "objective %{x:.4g}<br>probability %{y:.4f}"
                "<extra>%{fullData.name}</extra>",
            }
        )
        notes.append(
            f"Run #{run.pk}: the outcomes evaluated cover {covered:.0%} of its shots"
            + (f", {infeasible:.0%} infeasible (not shown)" if infeasible > 0 else "")
        )
    top = float(max((max(d["y"]) for d in data if d["y"]), default=1.0)) or 1.0
    lines: list[Mark] = []
    baselines = [r for r in runs if r.pk not in samples]
    for n, run in enumerate(baselines):
        best = run_best(candidates, run)
        if best is not None and best.feasible:
            name = f"#{run.pk} {_label(run)} best"
            lines.append(Mark(best.objective, name, f"#{run.pk} best", SERIES[-1 - n % 3], "dot"))
    known = request_optimum(runs)
    optimum = known.value if known is not None and known.source == PROVEN else None
    if optimum is not None:
        lines.insert(0, Mark(optimum, "optimum", "optimum", "#111827", "dash"))
    data.extend(_vlines(lines, top, [*_floats(centres), *(m.x for m in lines)]))
    layout = _layout(
        xaxis={"title": {"text": f"objective ({problem.sense})"}},
        yaxis={"title": {"text": "probability"}, "rangemode": "tozero"},
        barmode="group",
    )
    against = "the classical baselines' best answers" + (
        " and the proven optimum" if optimum is not None else ""
    )
    shared = len({round(float(m.x), 9) for m in lines}) < len(lines)
    caption = " ".join(
        [
            "Objective values of the quantum runs' samples (probability per value or bin), "
            f"against {against}"
            + ("; a line that stands for several is named after all of them." if shared else "."),
            *(f"{note}." for note in notes),
        ]
    )
    return Figure(
        id="objective",
        kind="objective",
        title="Objective values: quantum samples against classical baselines",
        caption=caption,
        figure={"data": data, "layout": layout},
    )


def _objective_sample(
    problem: Problem, outcomes: Outcomes
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(feasible objectives, their probabilities, share of shots evaluated, infeasible share)."""
    top = outcomes.top(OBJECTIVE_SAMPLE)
    if not top or outcomes.width != problem.num_variables:
        return np.array([]), np.array([]), 0.0, 0.0
    objectives, feasible = problem.evaluate_many(outcomes.bits(top))
    weights = outcomes.counts[top] / max(outcomes.shots, 1)
    covered = float(weights.sum())
    infeasible = float(weights[~feasible].sum())
    return objectives[feasible], weights[feasible], covered, infeasible


def _bins(values: np.ndarray) -> tuple[np.ndarray, Any]:
    """Bar positions, and a function mapping values to bar indices: one bar per
    distinct value when there are few (a cut weight), else equal-width bins."""
    if len(values) == 0:
        return np.array([]), lambda v: np.zeros(len(v), dtype=int)
    distinct = np.unique(np.round(values, 9))
    if len(distinct) <= EXACT_VALUES_MAX:
        return distinct, lambda v: np.searchsorted(distinct, np.round(v, 9))
    edges = np.linspace(float(distinct[0]), float(distinct[-1]), BINS + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    return centres, lambda v: np.clip(np.searchsorted(edges, v, side="right") - 1, 0, BINS - 1)


@dataclass(frozen=True)
class Mark:
    """A vertical line in the objective figure: a baseline's best or the optimum."""

    x: float
    name: str  # in the legend and on hover
    short: str  # written at the line's top
    colour: str
    dash: str


def _vlines(marks: list[Mark], top: float, xs: list[float]) -> list[dict[str, Any]]:
    """One line per distinct value, each labelled at its top. Marks at the same
    value (the exact solver's best is the optimum) share one line named after
    all of them, else the first would hide under the last. Tops step up in
    turn, so the labels of lines close together do not overprint; a label
    reads towards the middle of the axis (``xs`` spans it), not off its edge."""
    groups: dict[float, list[Mark]] = {}
    for mark in marks:
        groups.setdefault(round(float(mark.x), 9), []).append(mark)
    middle = (min(xs) + max(xs)) / 2 if xs else 0.0
    traces = []
    for k, (x, group) in enumerate(sorted(groups.items())):
        first = group[0]
        name = " = ".join(m.name for m in group)
        height = top * (1.08 + 0.1 * (k % 3))
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+text",
                "name": name,
                "x": [x, x],
                "y": [0, height],
                "text": ["", " = ".join(m.short for m in group)],
                "textposition": "top left" if x > middle else "top right",
                "cliponaxis": False,
                "line": {"color": first.colour, "dash": first.dash, "width": 2},
                "hovertemplate": f"{name}: %{{x:.6g}}<extra></extra>",
            }
        )
    return traces


# 3. The optimiser's convergence --------------------------------------------


def convergence_figure(run: Run) -> Figure:
    """One run's optimiser trace. One figure per run: an exact expectation and a
    sampled CVaR are on different scales, and one would flatten the other."""
    trace = [float(v) if v is not None else None for v in run.trace]
    step = max(1, math.ceil(len(trace) / TRACE_POINTS_MAX))
    xs = list(range(1, len(trace) + 1))[::step]
    ys = trace[::step]
    if xs and xs[-1] != len(trace):  # keep the final value
        xs.append(len(trace))
        ys.append(trace[-1])
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers" if len(xs) <= 60 else "lines",
            "name": f"#{run.pk} {_label(run)}",
            "x": xs,
            "y": ys,
            "line": {"color": SERIES[0]},
        }
    ]
    objective = (run.metrics or {}).get("objective") or "objective"
    layout = _layout(
        xaxis={"title": {"text": "optimiser evaluation"}},
        yaxis={"title": {"text": f"{objective} (problem's terms)"}},
        showlegend=False,
    )
    final = next((v for v in reversed(trace) if v is not None), None)
    return Figure(
        id=f"convergence-{run.pk}",
        kind="convergence",
        title=f"Optimiser convergence of run #{run.pk} ({_label(run)})",
        caption=(
            f"The {objective} the classical optimiser evaluated at each of its {len(trace)} "
            f"steps" + (f"; the last was {final:.6g}." if final is not None else ".")
        ),
        figure={"data": data, "layout": layout},
    )


# 4. Ideal against noisy or hardware -----------------------------------------


def noise_figure(run: Run, noisy: Outcomes, ideal: Outcomes, tvd: float | None) -> Figure:
    """The run's counts beside those of the same bound circuit sampled noise-free.

    quantum's QAOA stores that ideal sample (its most frequent outcomes) and
    the distance over the full distributions in the run's metrics; ideal
    probabilities are over the same number of shots as the run's.
    """
    exact_tvd = tvd is not None
    if tvd is None:  # an older run without the stored distance: over what was kept
        tvd = total_variation_distance(ideal, noisy)
    shots = max(noisy.shots, 1)
    labels: list[str] = []
    for outcomes in (ideal, noisy):
        for i in outcomes.top(TOP_K // 2):
            if outcomes.label(i) not in labels:
                labels.append(outcomes.label(i))
    p_ideal = [c / shots for c in _counts_of(ideal, labels)]
    p_noisy = [c / shots for c in _counts_of(noisy, labels)]
    order = sorted(range(len(labels)), key=lambda i: (-(p_ideal[i] + p_noisy[i]), labels[i]))
    x = [labels[i] for i in order] + ["other outcomes"]
    tier = run.tier.replace("_", " ")
    data = []
    for name, p, colour in (
        ("ideal simulator (same circuit)", p_ideal, SERIES[0]),
        (f"#{run.pk} {_label(run)} ({tier})", p_noisy, SERIES[1]),
    ):
        ys = [p[i] for i in order]
        data.append(
            {
                "type": "bar",
                "name": name,
                "x": x,
                "y": [*ys, max(0.0, 1.0 - sum(ys))],
                "marker": {"color": colour},
                "hovertemplate": "%{x}<br>probability %{y:.4f}<extra>%{fullData.name}</extra>",
            }
        )
    layout = _layout(
        xaxis=_category_axis(OUTCOME_AXIS, len(x)),
        yaxis={"title": {"text": "probability"}, "rangemode": "tozero"},
        barmode="group",
    )
    over = "all outcomes" if exact_tvd else f"the ideal run's {len(ideal)} most frequent outcomes"
    return Figure(
        id=f"noise-{run.pk}",
        kind="noise",
        title=f"Ideal against {tier} (run #{run.pk}): total variation distance {tvd:.3f}",
        caption=(
            f"The circuit of run #{run.pk} with its optimised angles, sampled on {_label(run)} "
            f"and on an ideal simulator, side by side over the outcomes most frequent in either. "
            f"Total variation distance over {over}: {tvd:.4f} (0: identical, 1: disjoint)."
        ),
        figure={"data": data, "layout": layout},
    )


def _counts_of(outcomes: Outcomes, labels: list[str]) -> list[int]:
    found = _lookup(outcomes, labels)
    return [found.get(label, 0) for label in labels]


# 5. The problem and a candidate --------------------------------------------


def problem_figure(
    problem: Problem, candidate: Candidate, *, which: str, figure_id: str = "problem"
) -> Figure:
    """The problem drawn with ``candidate``'s values; ``which`` names it in the title."""
    x = [int(v) for v in candidate.assignment]
    if problem.kind == "maxcut":
        data, layout, caption = _maxcut(problem, x)
        title = f"The cut of {which} (cut weight {candidate.objective:g})"
    elif problem.kind == "portfolio":
        data, layout, caption = _portfolio(problem, x)
        title = f"Assets chosen by {which} (objective {candidate.objective:.6g})"
    else:
        data, layout, caption = _variables(x)
        title = f"Variable values of {which} (objective {candidate.objective:.6g})"
    return Figure(
        id=figure_id,
        kind="problem",
        title=title,
        caption=caption,
        figure={"data": data, "layout": layout},
    )


def _maxcut(problem: Problem, x: list[int]) -> tuple[list[Any], dict[str, Any], str]:
    n = problem.num_variables
    # A circle: deterministic, cheap, and readable up to a few dozen nodes.
    angle = [2 * math.pi * i / max(n, 1) for i in range(n)]
    px = [round(math.cos(a), 4) for a in angle]
    py = [round(math.sin(a), 4) for a in angle]
    edges = problem.data["graph"]["edges"]
    cut: tuple[list[float | None], list[float | None]] = ([], [])
    kept: tuple[list[float | None], list[float | None]] = ([], [])
    for u, v, *_ in edges[:EDGES_MAX]:
        target = cut if x[u] != x[v] else kept
        target[0].extend([px[u], px[v], None])
        target[1].extend([py[u], py[v], None])
    data: list[Any] = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "edge not cut",
            "x": kept[0],
            "y": kept[1],
            "line": {"color": LIGHT, "width": 1.5, "dash": "dot"},
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "edge cut",
            "x": cut[0],
            "y": cut[1],
            "line": {"color": BEST, "width": 3},
            "hoverinfo": "skip",
        },
    ]
    for side, symbol, colour in ((0, "circle", RECOMMENDED), (1, "square", "#b45309")):
        nodes = [i for i in range(n) if x[i] == side]
        data.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": f"side {side} (x = {side})",
                "x": [px[i] for i in nodes],
                "y": [py[i] for i in nodes],
                "text": [str(i) for i in nodes],
                "textposition": "top center",
                "marker": {"symbol": symbol, "size": 16, "color": colour},
                "hovertemplate": "node %{text}<extra>%{fullData.name}</extra>",
            }
        )
    layout = _layout(xaxis={"visible": False}, yaxis={"visible": False, "scaleanchor": "x"})
    n_cut = len(cut[0]) // 3
    caption = (
        f"{n} nodes on a circle; {n_cut} of {len(edges)} edges cross the cut (solid). "
        "Circles are one side, squares the other."
        + (f" Only the first {EDGES_MAX} edges are drawn." if len(edges) > EDGES_MAX else "")
    )
    return data, layout, caption


def _portfolio(problem: Problem, x: list[int]) -> tuple[list[Any], dict[str, Any], str]:
    returns = problem.data["expected_returns"]
    covariance = problem.data["covariance"]
    chosen = [i for i, v in enumerate(x) if v]
    weight = 1.0 / len(chosen) if chosen else 0.0
    names = [f"asset {i}" for i in range(len(returns))]
    data = [
        {
            "type": "bar",
            "name": "weight",
            "x": names,
            "y": [weight if v else 0.0 for v in x],
            "marker": {"color": [RECOMMENDED if v else LIGHT for v in x]},
            "text": ["chosen" if v else "" for v in x],
            "textposition": "outside",
            "customdata": [[returns[i], covariance[i][i]] for i in range(len(returns))],
            "hovertemplate": "%{x}<br>weight %{y:.3f}<br>expected return %{customdata[0]:.4g}"
            "<br>variance %{customdata[1]:.4g}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "expected return",
            "x": names,
            "y": [float(r) for r in returns],
            "yaxis": "y2",
            "marker": {"symbol": "diamond", "size": 9, "color": "#b45309"},
        },
    ]
    layout = _layout(
        xaxis=_category_axis("asset", len(names)),
        yaxis={"title": {"text": "weight (equal over the chosen)"}, "rangemode": "tozero"},
        yaxis2={"title": {"text": "expected return"}, "overlaying": "y", "side": "right"},
    )
    caption = (
        f"{len(chosen)} of {len(returns)} assets chosen (budget {problem.data['budget']}), "
        f"each weighted {weight:.3f}: {', '.join(names[i] for i in chosen) or 'none'}."
    )
    return data, layout, caption


def _variables(x: list[int]) -> tuple[list[Any], dict[str, Any], str]:
    data = [
        {
            "type": "bar",
            "name": "value",
            "x": [f"x{i}" for i in range(len(x))],
            "y": x,
            "marker": {"color": [RECOMMENDED if v else LIGHT for v in x]},
            "hovertemplate": "%{x} = %{y}<extra></extra>",
        }
    ]
    layout = _layout(
        xaxis=_category_axis("variable", len(x)),
        yaxis={"title": {"text": "value"}, "tickvals": [0, 1], "range": [0, 1.15]},
        showlegend=False,
    )
    ones = [f"x{i}" for i, v in enumerate(x) if v]
    caption = f"{len(ones)} of {len(x)} variables are 1: {', '.join(ones) or 'none'}."
    return data, layout, caption


# The compare view ---------------------------------------------------------------


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


# Shared ---------------------------------------------------------------------


def _category_axis(title: str, bars: int) -> dict[str, Any]:
    """A categorical x axis; up to TICK_EVERY_BAR_MAX bars each gets its label
    (Plotly's own choice labels every other bar once they are crowded)."""
    axis: dict[str, Any] = {"title": {"text": title}, "type": "category", "automargin": True}
    if bars <= TICK_EVERY_BAR_MAX:
        axis |= {"tickmode": "linear", "tick0": 0, "dtick": 1}
    return axis


def _layout(**extra: Any) -> dict[str, Any]:
    return {
        "height": 380,
        "margin": {"l": 64, "r": 24, "t": 48, "b": 96},
        "font": {"family": FONT, "size": 13},
        # Above the plot: below it, the legend would collide with rotated outcome labels.
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "hoverlabel": {"namelength": -1},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        **extra,
    }


def _label(run: Run) -> str:
    return f"{run.solver} on {run.backend}" if run.backend else run.solver


def _floats(values: Any) -> list[float]:
    return [float(v) for v in values]
