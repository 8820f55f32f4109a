"""The audit page and its exports; the trail and a request's timeline in the API.

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
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.views import APIView

from approvals import exports
from approvals.evidence import evidence_pack
from approvals.forms import DATE_HINT, AuditFilterForm, day_start
from approvals.models import AuditEvent
from approvals.permissions import AUDIT_PERMISSION, access_request_audit, may_read_evidence
from approvals.review_selectors import decision_get_for_user
from approvals.selectors import AuditFilters, audit_events_for_user, request_timeline
from jobs.serializers import PageFilterSerializer

PAGE_SIZE = 50
EXPORT_CHUNK = 2000
EXACT_HINT = "Exact, as the trail holds it."


def _audit_access_check(user: Any) -> None:
    """403 for a role that reads no audit trail: the page's answer and the API's."""
    if not user.has_perm(AUDIT_PERMISSION):
        raise PermissionDenied("The audit trail is for admins and auditors.")


def _audit_reader(request: HttpRequest) -> AuditFilterForm:
    _audit_access_check(request.user)
    form = AuditFilterForm(request.GET)
    form.is_valid()
    return form


@login_required
def audit_page(request: HttpRequest) -> HttpResponse:
    form = _audit_reader(request)
    # A filter that is not valid lists nothing, rather than everything without
    # it: "request #-1" must not read as the whole trail (the API says 400).
    events = (
        audit_events_for_user(request.user, form.filters())
        if form.is_valid()
        else AuditEvent.objects.none()
    )
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "approvals/audit.html", context)


@login_required
def audit_export(request: HttpRequest, fmt: str) -> HttpResponse | StreamingHttpResponse:
    form = _audit_reader(request)
    if not form.is_valid():
        # An export is read far from the form that made it: refuse rather than
        # write a file of everything the bad filter failed to narrow.
        fields = ", ".join(sorted(form.errors))
        return HttpResponse(
            f"Not exported: the filter {fields} is not valid; fix it on the audit page.\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
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


class AuditApi(ListAPIView[AuditEvent]):
    """The events the audit page shows the caller, filtered the same way, but oldest
    first: a script walks prev_hash -> hash down the pages, as down the JSON export."""

    serializer_class = AuditEventOutput

    class FilterSerializer(PageFilterSerializer):
        """The audit page's filters (``AuditFilterForm``), by the same names and with the
        same meaning. Where the page shows a bad value and drops it, here it is a 400
        naming it: a script must not take a wider list for the one it asked for."""

        # Blank is "any", as the page's form sends it (?action=&actor=...).
        object_type = serializers.CharField(
            required=False, allow_blank=True, max_length=100, default="", help_text=EXACT_HINT
        )
        object_id = serializers.CharField(
            required=False, allow_blank=True, max_length=64, default="", help_text=EXACT_HINT
        )
        request = serializers.IntegerField(
            required=False, min_value=1, default=None, help_text="A request's id."
        )
        actor = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=150,
            default="",
            help_text="Part of a username.",
        )
        action = serializers.CharField(
            required=False, allow_blank=True, max_length=64, default="", help_text=EXACT_HINT
        )
        since = serializers.DateField(
            required=False, default=None, help_text="A day, in UTC: events from its start."
        )
        until = serializers.DateField(required=False, default=None, help_text=DATE_HINT)

        @classmethod
        def filters(cls, request: Any) -> AuditFilters:
            data = cls.check(request)
            return AuditFilters(
                object_type=data["object_type"],
                object_id=data["object_id"],
                request_ref=data["request"],
                actor=data["actor"],
                action=data["action"],
                since=day_start(data["since"]),
                until=day_start(data["until"], days_after=1),
            )

    # A ListAPIView: drf-spectacular documents its pagination itself.
    @extend_schema(
        parameters=[FilterSerializer],
        responses={
            200: AuditEventOutput(many=True),
            400: OpenApiResponse(description="An unknown or invalid query parameter, named."),
            403: OpenApiResponse(description="Your role reads no audit trail."),
        },
        operation_id="audit_list",
    )
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        _audit_access_check(request.user)  # the role first: 403 whatever the filters
        self.audit_filters = self.FilterSerializer.filters(request)
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        return audit_events_for_user(self.request.user, self.audit_filters).order_by("seq")


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
