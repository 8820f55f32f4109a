"""Small display helpers for the jobs pages."""

from __future__ import annotations

import json
from typing import Any

from django import template

register = template.Library()

# One colour per meaning, shared with static/js/requests.js (statusClass).
STATUS_CLASSES = {
    "submitted": "info",
    "queued": "info",
    "running": "info",
    "ready_for_review": "ok",
    "recommended": "ok",
    "approved": "ok",
    "succeeded": "ok",
    "rejected": "warn",
    "cancelled": "warn",
    "timed_out": "warn",
    "failed": "bad",
}


@register.filter
def status_class(status: str) -> str:
    return STATUS_CLASSES.get(status, "info")


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


@register.filter
def options_json(options: Any) -> str:
    """Solver options as the API takes them ({"reps": 2}), not as Python prints them."""
    return json.dumps(options, sort_keys=True, separators=(", ", ": "))


@register.filter
def get(mapping: Any, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None
