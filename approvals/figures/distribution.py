"""The measurement distribution of one quantum run, and that run's ideal against noisy figure."""

from __future__ import annotations

from collections.abc import Sequence

from approvals.distributions import Outcomes, total_variation_distance
from approvals.figures.common import (
    LIGHT,
    MARKS,
    OUTCOME_AXIS,
    SERIES,
    TOP_K,
    Figure,
    _category_axis,
    _label,
    _layout,
)
from jobs.models import Candidate, Run

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
