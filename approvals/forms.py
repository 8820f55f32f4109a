from __future__ import annotations

from django import forms

from approvals.selectors import AuditFilters


class AuditFilterForm(forms.Form):
    object_type = forms.CharField(required=False, max_length=100, label="Object type")
    object_id = forms.CharField(required=False, max_length=64, label="Object id")
    request = forms.IntegerField(required=False, min_value=1, label="Request")
    actor = forms.CharField(required=False, max_length=150, label="Actor")
    action = forms.CharField(required=False, max_length=64, label="Action")
    since = forms.DateTimeField(required=False, label="From")
    until = forms.DateTimeField(required=False, label="Until")

    def filters(self) -> AuditFilters:
        """The valid filters; an invalid field is left out, and the page shows its error."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        return AuditFilters(
            object_type=data.get("object_type") or "",
            object_id=data.get("object_id") or "",
            request_ref=data.get("request"),
            actor=data.get("actor") or "",
            action=data.get("action") or "",
            since=data.get("since"),
            until=data.get("until"),
        )
