"""Reads of the audit trail, each scoped to what the reader may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast

from approvals.models import AuditEvent
from approvals.permissions import AUDIT_PERMISSION
from hybridreview.accounts.models import Membership

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
    teams = Membership.objects.filter(user=user).values("team_id")
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
        events = events.filter(actor_label=f.actor)
    if f.action:
        events = events.filter(action=f.action)
    if f.since is not None:
        events = events.filter(time__gte=f.since)
    if f.until is not None:
        events = events.filter(time__lt=f.until)
    return events
