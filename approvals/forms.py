from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django import forms

from approvals.selectors import AuditFilters, audit_vocabulary
from approvals.templatetags.audit_tags import object_type_name

DATE_HINT = "A day, in UTC; Until includes the whole day."


class AuditFilterForm(forms.Form):
    object_type = forms.CharField(required=False, max_length=100, label="Object type")
    object_id = forms.CharField(required=False, max_length=64, label="Object id")
    request = forms.IntegerField(required=False, min_value=1, label="Request")
    actor = forms.CharField(
        required=False, max_length=150, label="Actor", help_text="Part of a username."
    )
    action = forms.CharField(required=False, max_length=64, label="Action")
    since = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        required=False,
        label="Until",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=DATE_HINT,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Exact values, picked from those the trail holds: typed free text
        # ("approv") matched nothing. Still plain text fields underneath, so a
        # link naming a value not offered yet (an action new since) filters.
        for name, field in self.fields.items():
            if field.help_text:  # the template renders it with this id
                field.widget.attrs["aria-describedby"] = f"id_{name}-hint"
        actions, types = audit_vocabulary()
        self.fields["action"].widget = forms.Select(
            choices=self._choices("action", [(a, a) for a in actions])
        )
        self.fields["object_type"].widget = forms.Select(
            choices=self._choices("object_type", [(t, object_type_name(t)) for t in types])
        )

    def _choices(self, name: str, present: list[tuple[str, str]]) -> list[tuple[str, str]]:
        value = self.data.get(name) if self.is_bound else None
        if value and value not in {v for v, _ in present}:
            present = [*present, (value, value)]
        return [("", "any"), *present]

    def filters(self) -> AuditFilters:
        """The valid filters; an invalid field is left out, and the page shows its error."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return AuditFilters(
            object_type=data.get("object_type") or "",
            object_id=data.get("object_id") or "",
            request_ref=data.get("request"),
            actor=data.get("actor") or "",
            action=data.get("action") or "",
            since=day_start(data.get("since")),
            until=day_start(data.get("until"), days_after=1),
        )


def day_start(day: date | None, days_after: int = 0) -> datetime | None:
    """Midnight UTC ``days_after`` days after ``day``: a filter's bound. None for no
    bound: no day given, or one past the calendar's last (``until=9999-12-31``
    means up to the end of that day, which is no limit at all)."""
    if day is None:
        return None
    try:
        return datetime.combine(day + timedelta(days=days_after), time.min, tzinfo=UTC)
    except OverflowError:
        return None
