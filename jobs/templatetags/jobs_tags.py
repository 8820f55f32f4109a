"""Small display helpers for the jobs pages (and the approvals pages that show runs)."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

from django import template
from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString

from jobs.models import CampaignStatus, RequestStatus, RunStatus

register = template.Library()

# One colour per meaning. static/js/requests.js reads this and STATUS_LABELS
# from the page (status_json below), so live updates look like the server's.
STATUS_CLASSES = {
    "submitted": "info",
    "queued": "info",
    "running": "info",
    "collecting": "info",
    "ready_for_review": "ok",
    "recommended": "ok",
    "approved": "ok",
    "succeeded": "ok",
    "dispatched": "ok",
    "rejected": "warn",
    "cancelled": "warn",
    "timed_out": "warn",
    "failed": "bad",
}
# Request, run and campaign statuses share values ("running", "cancelled")
# and, so that one word reads the same everywhere, their labels.
STATUS_LABELS: dict[str, str] = {
    **dict(CampaignStatus.choices),
    **dict(RunStatus.choices),
    **dict(RequestStatus.choices),
}
# Above this many decimal places a number is shown in exponent notation (1e-15).
DECIMALS_MAX = 12


@register.filter
def status_class(status: str) -> str:
    return STATUS_CLASSES.get(status, "info")


@register.filter
def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, str(status).replace("_", " ").capitalize())


@register.simple_tag
def status_badge(status: str, prefix: str = "", field: str = "", title: str = "") -> SafeString:
    """The one way a status is shown: its label in a badge coloured by meaning.

    ``prefix`` goes before the label ("qaoa: Succeeded"); ``field`` becomes
    ``data-field``, which static/js/requests.js finds to update the badge live.
    """
    return format_html(
        '<span class="badge {}"{}{}>{}{}</span>',
        status_class(status),
        format_html(' data-field="{}"', field) if field else "",
        format_html(' title="{}"', title) if title else "",
        f"{prefix}: " if prefix else "",
        status_label(status),
    )


@register.filter
def run_label(run: Any) -> str:
    """ "qaoa on aer_statevector", or just the solver for a classical run."""
    return f"{run.solver} on {run.backend}" if run.backend else run.solver


@register.simple_tag
def status_json() -> SafeString:
    """Status labels and badge classes as JSON data, for static/js/requests.js."""
    return json_script({"labels": STATUS_LABELS, "classes": STATUS_CLASSES}, "status-labels")


def format_number(value: Any) -> str:
    """A number as a person reads it: whole numbers with thousands separators
    (100,000), others to 6 decimal places, or 6 significant digits below 1,
    trailing zeros dropped: 8.5, -0.2375 (not -0.23750000000000002), 1.6
    (not 1.600000), 0.32959. Anything not a number is returned as text."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return str(value)
    try:
        v = float(value)
    except ValueError:
        return str(value)
    if not math.isfinite(v):
        return str(value)
    if v.is_integer():
        return f"{int(v):,}"
    places = 6 if abs(v) >= 1 else 5 - math.floor(math.log10(abs(v)))
    if places > DECIMALS_MAX:
        return f"{v:.6g}"
    text = f"{v:,.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@register.filter
def number(value: Any) -> str:
    return format_number(value)


@register.filter
def plots_spend(figure: Any) -> bool:
    """Whether a spend figure has a bar above zero: one of only zeros draws an
    empty full-size chart, and the page says "No spend yet" instead."""
    data = figure.get("data", []) if isinstance(figure, dict) else []
    return any(y for trace in data for y in trace.get("y", []))


@register.filter
def seconds(value: Any) -> str:
    """A duration in seconds, short: 0.68 ms, 42 ms, 3.1 s, 2 min 5 s.
    static/js/requests.js formats live updates the same way."""
    if value is None or value == "":
        return "—"
    v = float(value)
    if v < 1:
        return f"{v * 1000:.2g} ms" if v < 0.01 else f"{v * 1000:.0f} ms"
    if v < 10:
        return f"{v:.3g} s"
    if v < 120:
        return f"{v:.0f} s"
    return f"{int(v // 60)} min {int(v % 60)} s"


# The circuit facts a worker stores (jobs.services.execution), in reading order.
CIRCUIT_FACTS = (
    ("depth", "depth {}"),
    ("two_qubit_gates", "{} two-qubit gates"),
    ("width", "{} qubits"),
    ("shots", "{} shots"),
)


@register.filter
def circuit_summary(circuit: Any) -> str:
    """A run's circuit facts as a phrase: "depth 12, 16 two-qubit gates, 6 qubits,
    2,048 shots; operations rzz 16, rx 12, h 6, measure 6; on physical qubits 0, 1";
    "—" for a run without a circuit (a classical solver's)."""
    if not isinstance(circuit, dict) or not circuit:
        return "—"
    facts = [
        text.format(format_number(circuit[key]))
        for key, text in CIRCUIT_FACTS
        if circuit.get(key) is not None
    ]
    groups = [", ".join(facts)] if facts else []
    operations = circuit.get("operations")
    if isinstance(operations, dict) and operations:
        ops = (f"{name} {format_number(n)}" for name, n in operations.items() if name != "barrier")
        groups.append("operations " + ", ".join(ops))
    layout = circuit.get("initial_layout")
    if isinstance(layout, list) and layout:
        groups.append("on physical qubits " + ", ".join(str(q) for q in layout))
    return "; ".join(groups) or "—"


@register.filter
def timings_summary(timings: Any) -> str:
    """A run's timings as a phrase: "total 954 ms (transpile 620 ms, optimise 288 ms)"."""
    if not isinstance(timings, dict) or not timings:
        return "—"
    parts = [f"{name} {seconds(v)}" for name, v in timings.items() if name != "total"]
    if "total" not in timings:
        return ", ".join(parts)
    total = f"total {seconds(timings['total'])}"
    return f"{total} ({', '.join(parts)})" if parts else total


@register.filter
def options_json(options: Any) -> str:
    """Solver options as the API takes them ({"reps": 2}), not as Python prints them."""
    return json.dumps(options, sort_keys=True, separators=(", ", ": "))


@register.filter
def get(mapping: Any, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None
