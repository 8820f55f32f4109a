"""Reads of the audit trail, each scoped to what the reader may see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.contrib.auth.models import AnonymousUser, User
from django.core.cache import cache
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast

from approvals.models import AuditEvent
from approvals.permissions import AUDIT_PERMISSION
from hybridreview.accounts.models import Membership
from hybridreview.accounts.selectors import teams_where

USER_LABEL = "auth.user"


def request_timeline(request_obj: Any) -> QuerySet[AuditEvent]:
    """Every event of one optimisation request and of its runs, candidates,
    recommendations and decisions, oldest first. The caller checks access."""
    return AuditEvent.objects.filter(request_ref=request_obj.pk).order_by("seq")


@dataclass(frozen=True)
class AuditFilters:
    object_type: str = ""
    object_id: str = ""
    request_ref: int | None = None
    actor: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None


def audit_events_for_user(
    user: User | AnonymousUser, filters: AuditFilters | None = None
) -> QuerySet[AuditEvent]:
    """The audit page's events, newest first, limited to what ``user`` may read.

    Admins and auditors read events of their teams, and team-less events
    (logins, tokens, failed logins) whose actor or subject is a member of one
    of their teams. Superusers with the permission read everything, because
    some events belong to no team (a failed login for a name nobody has).
    """
    if not (user.is_authenticated and user.is_active and user.has_perm(AUDIT_PERMISSION)):
        return AuditEvent.objects.none()
    events = AuditEvent.objects.all()
    if not user.is_superuser:
        events = events.filter(_visible_to(user))
    return _filtered(events, filters or AuditFilters()).order_by("-seq")


def _visible_to(user: Any) -> Q:
    teams = teams_where(user, AUDIT_PERMISSION).values("id")
    members = Membership.objects.filter(team_id__in=teams).values("user_id")
    member_ids_text = (
        Membership.objects.filter(team_id__in=teams)
        .annotate(uid=Cast("user_id", CharField()))
        .values("uid")
    )
    teamless = Q(team__isnull=True) & (
        Q(actor_id__in=members) | Q(object_type=USER_LABEL, object_id__in=member_ids_text)
    )
    return Q(team_id__in=teams) | teamless


def _filtered(events: QuerySet[AuditEvent], f: AuditFilters) -> QuerySet[AuditEvent]:
    if f.object_type:
        events = events.filter(object_type=f.object_type)
    if f.object_id:
        events = events.filter(object_id=f.object_id)
    if f.request_ref is not None:
        events = events.filter(request_ref=f.request_ref)
    if f.actor:
        # Part of a name finds it ("ana" finds "ana.b"): people remember names loosely.
        events = events.filter(actor_label__icontains=f.actor)
    if f.action:
        events = events.filter(action=f.action)
    if f.since is not None:
        events = events.filter(time__gte=f.since)
    if f.until is not None:
        events = events.filter(time__lt=f.until)
    return events


def audit_vocabulary() -> tuple[list[str], list[str]]:
    """The actions and object types the trail holds, sorted: the audit filters'
    choices. Names only (the same for every reader), so not scoped to a team.

    Two DISTINCT scans of the whole trail, so kept in the cache under the
    chain's head: an append moves the head and the next read scans again.
    """
    head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    key = f"audit-vocabulary:{head}"
    found = cache.get(key)
    if found is None:
        found = _audit_vocabulary_scan()
        cache.set(key, found, timeout=24 * 3600)
    return found[0], found[1]


def _audit_vocabulary_scan() -> tuple[list[str], list[str]]:
    events = AuditEvent.objects.order_by()
    actions = events.values_list("action", flat=True).distinct().order_by("action")
    types = (
        events.exclude(object_type="")
        .values_list("object_type", flat=True)
        .distinct()
        .order_by("object_type")
    )
    return list(actions), list(types)


# Objects whose name says more than their id, and the field that holds it.
NAMED_OBJECTS = {USER_LABEL: "username", "accounts.team": "slug", "quantum.backendconfig": "name"}


def audit_object_names(events: Iterable[AuditEvent]) -> dict[tuple[str, str], str]:
    """(object_type, object_id) -> the object's name now (a username, a team's
    slug, a backend's name) for the named objects among ``events``; one query
    per type. An object that no longer exists is left out."""
    ids: dict[str, set[str]] = {}
    for event in events:
        if event.object_type in NAMED_OBJECTS and event.object_id:
            ids.setdefault(event.object_type, set()).add(event.object_id)
    names: dict[tuple[str, str], str] = {}
    for label, wanted in ids.items():
        model = apps.get_model(label)
        pks = [int(i) for i in wanted if i.isdigit()]
        for pk, name in model.objects.filter(pk__in=pks).values_list("pk", NAMED_OBJECTS[label]):
            names[label, str(pk)] = str(name)
    return names
