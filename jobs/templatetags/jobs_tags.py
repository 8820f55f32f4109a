"""Small display helpers for the jobs pages."""

from __future__ import annotations

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
    """A duration in seconds, short: 0.042 s, 3.1 s, 2 min 5 s."""
    if value is None or value == "":
        return "—"
    v = float(value)
    if v < 10:
        return f"{v:.3g} s"
    if v < 120:
        return f"{v:.0f} s"
    return f"{int(v // 60)} min {int(v % 60)} s"


@register.filter
def get(mapping: Any, key: str) -> Any:
    return mapping.get(key) if isinstance(mapping, dict) else None
