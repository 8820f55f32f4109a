from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import template
from django.apps import apps
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from approvals.permissions import user_may
from approvals.review_selectors import user_may_read_decisions
from approvals.selectors import audit_object_names

register = template.Library()

# What a person calls the objects in the trail; others use their model's name.
OBJECT_TYPE_NAMES = {
    "jobs.optimizationrequest": "request",
    "jobs.run": "run",
    "jobs.candidate": "candidate",
    "jobs.campaign": "campaign",
    "jobs.budget": "budget",
    "jobs.teamquota": "team quota",
    "approvals.decision": "decision",
    "approvals.signature": "signature",
    "approvals.recommendation": "recommendation",
    "approvals.comment": "comment",
    "approvals.approvalpolicy": "approval policy",
    "auth.user": "user",
    "accounts.team": "team",
    "quantum.backendconfig": "backend",
}
HASH_SHOWN = 12  # hex digits of a hash shown before "…"


def object_type_name(label: str) -> str:
    """ "request" for "jobs.optimizationrequest"; a model's verbose name otherwise."""
    if label in OBJECT_TYPE_NAMES:
        return OBJECT_TYPE_NAMES[label]
    try:
        return str(apps.get_model(label)._meta.verbose_name)
    except (LookupError, ValueError):
        return label


@register.filter
def object_name(object_type: str, object_id: Any = "") -> str:
    """ "request #3" for ("jobs.optimizationrequest", "3"); "" for no object."""
    if not object_type:
        return ""
    return (
        f"{object_type_name(object_type)} #{object_id}"
        if object_id
        else object_type_name(object_type)
    )


@register.filter
def dotted(name: str) -> SafeString:
    """An action name that may break after its dots ("permission.<wbr>granted")
    rather than mid-word in a narrow column."""
    return format_html_join("", "{}<wbr>", ((part + ".",) for part in name.split(".")[:-1])) + (
        format_html("{}", name.split(".")[-1])
    )


@register.filter
def compact_json(value: Any) -> str:
    """before/after as one line of JSON, for the audit table (escaped by the template)."""
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))


@register.simple_tag
def short_hash(value: str) -> SafeString:
    """A hex digest shortened to its first digits, the whole of it one click away:
    a <details>, because a title tooltip is out of reach of keyboards and touch."""
    if not value:
        return format_html('<span class="muted">{}</span>', "—")
    if len(value) <= HASH_SHOWN + 1:
        return format_html('<span class="mono">{}</span>', value)
    return format_html(
        '<details class="hash"><summary title="{}"><span class="mono">{}…</span>'
        '<span class="visually-hidden"> (show all)</span></summary>'
        '<span class="mono wrap">{}</span></details>',
        value,
        value[:HASH_SHOWN],
        value,
    )


@dataclass(frozen=True)
class AuditRow:
    event: Any
    object_label: str  # "request #3", "user analyst"; "" for an event about no object
    object_url: str  # where the object is shown to this reader; "" if nowhere


@register.simple_tag(takes_context=True)
def audit_rows(context: template.Context, events: Iterable[Any]) -> list[AuditRow]:
    """The events with their objects named as a person would, and linked where
    the reader may open them: a request's page for those who view requests,
    else the trail filtered to that request (auditors and admins see no requests)."""
    user = context["request"].user
    events = list(events)
    names = audit_object_names(events)
    sees_requests, sees_decisions = user_may(user, "view"), user_may_read_decisions(user)
    rows = []
    for event in events:
        kind, pk = event.object_type, event.object_id
        name = names.get((kind, pk))
        label = f"{object_type_name(kind)} {name}" if name else object_name(kind, pk)
        url = ""
        if kind == "jobs.optimizationrequest" and pk.isdigit():
            url = (
                reverse("request-detail", args=[int(pk)])
                if sees_requests
                else reverse("audit") + "?" + urlencode({"request": pk})
            )
        elif kind == "approvals.decision" and pk.isdigit() and sees_decisions:
            url = reverse("decision-detail", args=[int(pk)])
        rows.append(AuditRow(event=event, object_label=label, object_url=url))
    return rows
