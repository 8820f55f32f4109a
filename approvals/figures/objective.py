"""The objective values of the quantum runs' samples against the classical baselines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from approvals.distributions import Outcomes
from approvals.figures.common import (
    BINS,
    EXACT_VALUES_MAX,
    OBJECTIVE_SAMPLE,
    SERIES,
    Figure,
    _floats,
    _label,
    _layout,
)
from approvals.review_selectors import run_best
from jobs.models import Candidate, Run
from jobs.optimum import PROVEN, request_optimum
from quantum import Problem


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
