"""What every figure shares: the constants, colours, the ``Figure`` record and layout helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobs.models import Run

FIGURES_VERSION = 3  # bump when a figure's shape changes, so cached ones are rebuilt
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
