"""The problem drawn with one candidate's values: a max-cut graph, a portfolio or variables."""

from __future__ import annotations

import math
from typing import Any

from approvals.figures.common import (
    BEST,
    EDGES_MAX,
    LIGHT,
    RECOMMENDED,
    Figure,
    _category_axis,
    _layout,
)
from jobs.models import Candidate
from quantum import Problem


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
        # automargin: the default right margin, sized for a figure without a right
        # axis, cut this axis's tick labels and drew its title over them.
        yaxis2={
            "title": {"text": "expected return"},
            "overlaying": "y",
            "side": "right",
            "automargin": True,
        },
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
