"""Audit events as rows and JSON, for the exports, the API and the evidence pack.

One shape everywhere, with every hashed field, so anything exported can be
re-hashed by someone who does not trust this application.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from approvals.audit import format_time
from approvals.models import AuditEvent

COLUMNS = (
    "seq",
    "time",
    "actor_id",
    "actor_label",
    "system",
    "action",
    "object_type",
    "object_id",
    "request_ref",
    "team_id",
    "before",
    "after",
    "reason",
    "correlation_id",
    "ip",
    "user_agent",
    "prev_hash",
    "hash",
)
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def event_dict(event: AuditEvent) -> dict[str, Any]:
    row = {name: getattr(event, name) for name in COLUMNS}
    row["time"] = format_time(event.time)
    return row


def json_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    """A JSON array, one event per line, produced as it is read."""
    yield "["
    for i, event in enumerate(events):
        yield ("," if i else "") + "\n" + json.dumps(event_dict(event), ensure_ascii=False)
    yield "\n]\n"


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_rows(events: Iterable[AuditEvent]) -> Iterator[str]:
    """CSV for reading; the JSON export is the exact one (cells here may be escaped)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for event in events:
        yield writer.writerow([_cell(v) for v in event_dict(event).values()])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = (
        json.dumps(value, ensure_ascii=False, sort_keys=True)
        if isinstance(value, dict | list)
        else str(value)
    )
    return "'" + text if text.startswith(_FORMULA_START) else text
