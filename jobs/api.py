"""REST API for optimisation requests: one APIView per operation, thin.

Each view checks its input's shape with a nested serializer, calls one
selector or service, and renders with a nested output serializer. Business
rules (ranges, solver names, team membership, transitions) live in the
services, which the web form calls too.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.conf import settings
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hybridreview.api import StrictSerializer, page_of
from hybridreview.pagination import page_response
from jobs import selectors, services
from jobs.budget_http import spend_error_response
from jobs.errors import (
    Conflict,
    FieldProblem,
    IdempotencyMismatch,
    InvalidInput,
    JobsError,
    Unavailable,
)
from jobs.models import CachePolicy, Campaign, OptimizationRequest, RequestStatus
from jobs.models.request import REQUEST_ACTIVE
from jobs.serializers import (
    PageFilterSerializer,
    RequestDetailSerializer,
    RequestSummarySerializer,
    SolverInputSerializer,
)
from jobs.services.budget import ON_BUDGET_EXCEEDED, REFUSE
from jobs.services.specs import canonical_json
from jobs.settled import SettledWaiter
from quantum import SUPPORTED_SCHEMA_VERSIONS, problem_schemas

IDEMPOTENCY_HEADER = "Idempotency-Key"


class ConflictError(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request changed meanwhile; reload and try again."
    default_code = "conflict"


class UnavailableError(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The server is not configured for this."
    default_code = "unavailable"


class UnprocessableError(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"


def invalid_input_error(problems: list[FieldProblem]) -> ValidationError:
    """The service's field problems in DRF's shape; flatten_errors keeps the paths whole."""
    grouped: dict[str, list[str]] = {}
    for p in problems:
        grouped.setdefault(p.field or "non_field_errors", []).append(p.message)
    return ValidationError(grouped)


class JobsApi(APIView):
    """Maps the services' errors onto HTTP: 400, 409, 422, 503."""

    def handle_exception(self, exc: Exception) -> Response:
        spend = spend_error_response(exc)  # 402 over a hard budget, 429 over a run quota
        if spend is not None:
            return spend
        if isinstance(exc, InvalidInput):
            exc = invalid_input_error(exc.errors)
        elif isinstance(exc, IdempotencyMismatch):
            exc = UnprocessableError(str(exc))
        elif isinstance(exc, Conflict):
            exc = ConflictError(str(exc))
        elif isinstance(exc, Unavailable):
            exc = UnavailableError(str(exc))
        elif isinstance(exc, JobsError):
            exc = ValidationError(str(exc))
        return super().handle_exception(exc)


class SubmitInputSerializer(StrictSerializer):
    schema_version = serializers.CharField(default="1", max_length=16)
    title = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    problem = serializers.JSONField()
    solvers = SolverInputSerializer(many=True, required=False, allow_empty=False)
    shots = serializers.IntegerField(required=False)
    seed = serializers.IntegerField(required=False)
    deadline_seconds = serializers.IntegerField(required=False)
    cache = serializers.ChoiceField(choices=CachePolicy.values, default=CachePolicy.BYPASS)
    team = serializers.SlugField(required=False, max_length=64)
    campaign = serializers.IntegerField(
        required=False, help_text="Id of a collecting campaign to add the request to."
    )
    on_budget_exceeded = serializers.ChoiceField(
        choices=ON_BUDGET_EXCEEDED,
        default=REFUSE,
        help_text='Over a hard budget: "refuse" (402) or "simulate" (paid runs go to a simulator).',
    )


def body_digest(data: Any) -> str:
    """The body's identity for Idempotency-Key: key order and spacing do not count."""
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def submit_from_request(request: Request) -> services.Submitted:
    """Shared by POST /requests/ and POST /solve/: check the shape, call the service."""
    selectors.request_access_check(request.user, "submit")
    data = SubmitInputSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    fields = dict(data.validated_data)
    campaign_id = fields.pop("campaign", None)
    return services.request_submit(
        requester=selectors.signed_in(request.user),
        idempotency_key=request.headers.get(IDEMPOTENCY_HEADER, "").strip(),
        body_sha256=body_digest(request.data),
        http_request=request._request,
        campaign=campaign_field(request, campaign_id),
        **fields,
    )


def campaign_field(request: Request, campaign_id: int | None) -> Campaign | None:
    """The campaign a submission names, or a 400 on ``campaign`` if the user cannot see it."""
    if campaign_id is None:
        return None
    try:
        return selectors.campaign_get_for_user(request.user, campaign_id)
    except Http404 as exc:
        raise InvalidInput(
            [FieldProblem("campaign", f"no campaign {campaign_id} of yours")]
        ) from exc


def detail_response(req: OptimizationRequest, code: int = status.HTTP_200_OK) -> Response:
    return Response(RequestDetailSerializer(selectors.request_detail(req)).data, status=code)


IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description=(
        "Repeat a POST safely: the same key with the same body returns the original "
        "request (201, header Idempotent-Replayed: true); with a different body, 422."
    ),
)


class RequestsApi(JobsApi):
    """List the requests of your teams, or submit one."""

    class FilterSerializer(PageFilterSerializer):
        status = serializers.MultipleChoiceField(choices=RequestStatus.values, required=False)
        team = serializers.SlugField(required=False)
        created_after = serializers.DateTimeField(required=False)
        created_before = serializers.DateTimeField(required=False)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            after, before = attrs.get("created_after"), attrs.get("created_before")
            if after and before and after > before:
                raise ValidationError({"created_before": "must not be before created_after"})
            return attrs

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: page_of(RequestSummarySerializer)},
        operation_id="requests_list",
    )
    def get(self, request: Request) -> Response:
        params = request.query_params.copy()
        if "status" in params:  # ?status=a,b as well as ?status=a&status=b
            params.setlist(
                "status", [s for v in params.getlist("status") for s in v.split(",") if s]
            )
        found = self.FilterSerializer.check(request, params)
        qs = selectors.request_list_for_user(request.user, **found)
        return page_response(request, self, qs, RequestSummarySerializer)

    @extend_schema(
        request=SubmitInputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: RequestDetailSerializer,
            400: OpenApiResponse(description="Invalid input; errors name each field path."),
            413: OpenApiResponse(description="Body larger than DATA_UPLOAD_MAX_MEMORY_SIZE."),
            402: OpenApiResponse(description="Over the team's hard budget; says what is left."),
            422: OpenApiResponse(description="Idempotency-Key reused with a different body."),
            429: OpenApiResponse(description="The team's concurrent-run quota is full."),
        },
        operation_id="requests_create",
    )
    def post(self, request: Request) -> Response:
        submitted = submit_from_request(request)
        response = detail_response(submitted.request, status.HTTP_201_CREATED)
        if not submitted.created:
            response["Idempotent-Replayed"] = "true"
        return response


class BatchItemSerializer(SubmitInputSerializer):
    """One request of a batch: the fields of POST /requests/, without a campaign."""

    campaign = None  # type: ignore[assignment]  # DRF: None removes an inherited field
    on_budget_exceeded = None  # type: ignore[assignment]


class BatchResultSerializer(serializers.ModelSerializer[OptimizationRequest]):
    class Meta:
        model = OptimizationRequest
        fields = ["id", "status", "title", "problem_kind", "num_variables", "created_at"]


class RequestsBatchApi(JobsApi):
    """Submit many requests in one call: all are saved, or none (400 naming ``requests[i]...``).

    One transaction and one insert per table for the whole batch, and small
    classical runs travel to the workers in groups: the way to submit a sweep
    of hundreds of scenarios. Budgets and quotas count the whole batch.
    """

    class InputSerializer(StrictSerializer):
        requests = BatchItemSerializer(many=True, allow_empty=False)
        on_budget_exceeded = serializers.ChoiceField(choices=ON_BUDGET_EXCEEDED, default=REFUSE)

    class OutputSerializer(serializers.Serializer[Any]):
        count = serializers.IntegerField()
        results = BatchResultSerializer(many=True)

    @extend_schema(
        request=InputSerializer,
        parameters=[IDEMPOTENCY_PARAMETER],
        responses={
            201: OutputSerializer,
            400: OpenApiResponse(description="Invalid input; paths start with requests[i]."),
            402: OpenApiResponse(description="The batch is over the team's hard budget."),
            413: OpenApiResponse(description="Body larger than DATA_UPLOAD_MAX_MEMORY_SIZE."),
            422: OpenApiResponse(description="Idempotency-Key reused with a different body."),
            429: OpenApiResponse(description="The batch would pass the concurrent-run quota."),
        },
        operation_id="requests_batch_create",
    )
    def post(self, request: Request) -> Response:
        selectors.request_access_check(request.user, "submit")
        items = request.data.get("requests") if isinstance(request.data, dict) else None
        if isinstance(items, list) and len(items) > settings.JOBS_BATCH_MAX:
            # Before validating hundreds of problems only to refuse the count.
            message = f"at most {settings.JOBS_BATCH_MAX} requests per batch; got {len(items)}"
            raise invalid_input_error([FieldProblem("requests", message)])
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        submitted = services.requests_submit_batch(
            requester=selectors.signed_in(request.user),
            items=[dict(item) for item in data.validated_data["requests"]],
            idempotency_key=request.headers.get(IDEMPOTENCY_HEADER, "").strip(),
            body_sha256=body_digest(request.data),
            http_request=request._request,
            on_budget_exceeded=data.validated_data["on_budget_exceeded"],
        )
        results = BatchResultSerializer(submitted.requests, many=True).data
        body = {"count": len(results), "results": results}
        response = Response(body, status=status.HTTP_201_CREATED)
        if not submitted.created:
            response["Idempotent-Replayed"] = "true"
        return response


class RequestDetailApi(JobsApi):
    """One request with its runs and ranked candidates."""

    @extend_schema(responses={200: RequestDetailSerializer}, operation_id="requests_retrieve")
    def get(self, request: Request, request_id: int) -> Response:
        return detail_response(selectors.request_get_for_user(request.user, request_id))


class RequestCancelApi(JobsApi):
    """Cancel a request and its unfinished runs (409 if it is past cancelling)."""

    class InputSerializer(StrictSerializer):
        reason = serializers.CharField(
            required=False, allow_blank=True, max_length=2000, default=""
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            200: RequestDetailSerializer,
            409: OpenApiResponse(description="Not cancellable."),
        },
    )
    def post(self, request: Request, request_id: int) -> Response:
        target = selectors.request_get_for_user(request.user, request_id, action="cancel")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        cancelled = services.request_cancel(
            request=target,
            actor=selectors.signed_in(request.user),
            reason=data.validated_data["reason"],
            http_request=request._request,
        )
        return detail_response(cancelled)


class RequestRerunApi(JobsApi):
    """Submit the same problem again as a new request, optionally with other settings."""

    class InputSerializer(StrictSerializer):
        solvers = SolverInputSerializer(many=True, required=False, allow_empty=False)
        shots = serializers.IntegerField(required=False)
        seed = serializers.IntegerField(required=False)
        deadline_seconds = serializers.IntegerField(required=False)
        cache = serializers.ChoiceField(choices=CachePolicy.values, required=False)
        # What a 402 tells the caller to send, as for a submission.
        on_budget_exceeded = serializers.ChoiceField(choices=ON_BUDGET_EXCEEDED, default=REFUSE)

    @extend_schema(request=InputSerializer, responses={201: RequestDetailSerializer})
    def post(self, request: Request, request_id: int) -> Response:
        original = selectors.request_get_for_user(request.user, request_id, action="rerun")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        submitted = services.request_rerun(
            request=original,
            actor=selectors.signed_in(request.user),
            http_request=request._request,
            **data.validated_data,
        )
        return detail_response(submitted.request, status.HTTP_201_CREATED)


class SolveApi(JobsApi):
    """Submit a small problem and wait for it, at most ``wait`` seconds (bounded to 30)."""

    class QuerySerializer(StrictSerializer):
        json_types = False  # ?wait=5: a query string is text

        wait = serializers.FloatField(required=False, min_value=0, default=10.0)

    class PendingSerializer(serializers.Serializer[Any]):
        id = serializers.IntegerField()
        status = serializers.CharField()
        url = serializers.CharField()

    @extend_schema(
        request=SubmitInputSerializer,
        parameters=[QuerySerializer, IDEMPOTENCY_PARAMETER],
        responses={200: RequestDetailSerializer, 202: PendingSerializer},
    )
    def post(self, request: Request) -> Response:
        started = time.monotonic()
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        bound = min(query.validated_data["wait"], settings.JOBS_SOLVE_WAIT_MAX_SECONDS)
        # Listening starts before the submission commits, so a request that
        # settles at once is not missed; the wait sleeps in the socket until
        # the worker's commit notifies it (jobs.settled), never past the bound.
        with SettledWaiter() as waiter:
            submitted = submit_from_request(request)
            req = submitted.request
            req.status = waiter.wait(req.id, bound - (time.monotonic() - started))
        if req.status in REQUEST_ACTIVE:
            body = {"id": req.id, "status": req.status, "url": f"/api/v1/requests/{req.id}/"}
            response = Response(self.PendingSerializer(body).data, status=status.HTTP_202_ACCEPTED)
        else:
            response = detail_response(req)
        if not submitted.created:
            response["Idempotent-Replayed"] = "true"  # as POST /requests/ says it
        return response


class SchemasApi(APIView):
    """The problem schemas this server accepts, as JSON Schema (draft 2020-12)."""

    class OutputSerializer(serializers.Serializer[Any]):
        supported_versions = serializers.ListField(child=serializers.CharField())
        schemas = serializers.ListField(child=serializers.DictField())

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request) -> Response:
        schemas = [
            {"schema_version": version, "type": kind, "schema": schema}
            for version, by_type in problem_schemas().items()
            for kind, schema in by_type.items()
        ]
        return Response({"supported_versions": list(SUPPORTED_SCHEMA_VERSIONS), "schemas": schemas})
