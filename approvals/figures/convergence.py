"""The optimiser's convergence: one run's trace of the objective it evaluated."""

from __future__ import annotations

import math

from approvals.figures.common import SERIES, TRACE_POINTS_MAX, Figure, _label, _layout
from jobs.models import Run


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
