"""The audit page, its exports and a request's audit timeline (API).

Access answers: a page or endpoint your role may not use is 403; an object you
may not see is 404, the same as one that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.views import APIView

from approvals import exports
from approvals.evidence import evidence_pack
from approvals.forms import AuditFilterForm
from approvals.models import AuditEvent
from approvals.permissions import AUDIT_PERMISSION, access_request_audit, may_read_evidence
from approvals.review_selectors import decision_get_for_user
from approvals.selectors import audit_events_for_user, request_timeline
from jobs.serializers import PageFilterSerializer

PAGE_SIZE = 50
EXPORT_CHUNK = 2000


def _audit_reader(request: HttpRequest) -> AuditFilterForm:
    if not request.user.has_perm(AUDIT_PERMISSION):
        raise PermissionDenied("The audit trail is for admins and auditors.")
    form = AuditFilterForm(request.GET)
    form.is_valid()  # errors are shown; the valid filters still apply
    return form


@login_required
def audit_page(request: HttpRequest) -> HttpResponse:
    form = _audit_reader(request)
    events = audit_events_for_user(request.user, form.filters())
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "approvals/audit.html", context)


@login_required
def audit_export(request: HttpRequest, fmt: str) -> StreamingHttpResponse:
    form = _audit_reader(request)
    events = audit_events_for_user(request.user, form.filters())
    # Oldest first, so a reader can walk prev_hash -> hash down the file.
    rows = events.order_by("seq").iterator(chunk_size=EXPORT_CHUNK)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    if fmt == "csv":
        response = StreamingHttpResponse(exports.csv_rows(rows), content_type="text/csv")
    else:
        response = StreamingHttpResponse(exports.json_lines(rows), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.{fmt}"'
    return response


class AuditEventOutput(serializers.Serializer[AuditEvent]):
    seq = serializers.IntegerField()
    time = serializers.DateTimeField()
    actor_id = serializers.IntegerField(allow_null=True)
    actor_label = serializers.CharField()
    system = serializers.CharField()
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    request_ref = serializers.IntegerField(allow_null=True)
    team_id = serializers.IntegerField(allow_null=True)
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    reason = serializers.CharField()
    correlation_id = serializers.CharField()
    ip = serializers.CharField()
    user_agent = serializers.CharField()
    prev_hash = serializers.CharField()
    hash = serializers.CharField()

    def to_representation(self, instance: AuditEvent) -> dict[str, Any]:
        # The exact hashed form (time with microseconds and Z), not DRF's.
        return exports.event_dict(instance)


class RequestAuditApi(ListAPIView[AuditEvent]):
    """A request's audit timeline, oldest first, for anyone who may view the
    request and for its team's admins and auditors."""

    serializer_class = AuditEventOutput

    # A ListAPIView: drf-spectacular documents its pagination itself.
    @extend_schema(responses={200: AuditEventOutput(many=True)})
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        PageFilterSerializer.check(request)
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        request_obj = access_request_audit(self.request.user, int(self.kwargs["pk"]))
        return request_timeline(request_obj)


@login_required
def decision_evidence_page(request: HttpRequest, decision_id: int) -> HttpResponse:
    decision = _evidence_decision(request.user, decision_id)
    return render(request, "approvals/evidence.html", {"pack": evidence_pack(decision.request)})


def _evidence_decision(user: Any, decision_id: int) -> Any:
    """The decision whose evidence ``user`` may read: 403 for a role that reads no
    evidence (consumers), then 404 for a decision that is not their team's."""
    if not may_read_evidence(user):
        raise PermissionDenied("Evidence packs are for the team's reviewers and auditors.")
    return decision_get_for_user(user, decision_id)


class DecisionEvidenceApi(APIView):
    """The evidence pack of one decision, as a JSON download."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Any, decision_id: int) -> JsonResponse:
        decision = _evidence_decision(request.user, decision_id)
        response = JsonResponse(evidence_pack(decision.request), json_dumps_params={"indent": 1})
        name = f"evidence-decision-{decision.pk}.json"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
