"""REST API for backends, budgets and estimates: one APIView per operation, thin.

Credentials are write-only: ``PATCH /backends/{name}/`` accepts
``"credentials"`` (a string sets them, null or "" clears them) and every
answer says only ``"has_credentials"``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from hybridreview.accounts.models import Team
from hybridreview.api import StrictSerializer, page_of
from hybridreview.pagination import page_response
from jobs import selectors
from jobs.api import JobsApi, SubmitInputSerializer, campaign_field
from jobs.models import Budget
from jobs.selectors_budget import (
    backend_get_for_user,
    backend_list_for_user,
    budget_get_for_user,
    budget_list_for_user,
    budget_view,
    team_quota,
)
from jobs.serializers import PageFilterSerializer
from jobs.services.backends import (
    EDITABLE_FIELDS,
    UNCHANGED,
    backend_config_update,
    backend_test_connection,
)
from jobs.services.budget import request_estimate
from jobs.services.budget_admin import budget_update
from quantum.models import CHANNELS, BackendConfig


def credits_field(**kwargs: Any) -> serializers.DecimalField:
    """Credits out as JSON numbers (money is Decimal inside, to six places)."""
    return serializers.DecimalField(
        max_digits=16, decimal_places=6, coerce_to_string=False, **kwargs
    )


def price_field() -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=14, decimal_places=6, min_value=Decimal(0), required=False
    )


class BackendOutput(serializers.ModelSerializer[BackendConfig]):
    tier = serializers.CharField(read_only=True)
    has_credentials = serializers.BooleanField(read_only=True)
    cost_per_task = serializers.DecimalField(
        max_digits=14, decimal_places=6, coerce_to_string=False
    )
    cost_per_shot = serializers.DecimalField(
        max_digits=14, decimal_places=6, coerce_to_string=False
    )
    cost_per_second = serializers.DecimalField(
        max_digits=14, decimal_places=6, coerce_to_string=False
    )
    health = serializers.SerializerMethodField()

    class Meta:
        model = BackendConfig
        # What an admin may PATCH, between what identifies it and what is derived.
        fields = [
            "name",
            "kind",
            "tier",
            *EDITABLE_FIELDS,
            "has_credentials",
            "health",
            "updated_at",
        ]

    def get_health(self, config: BackendConfig) -> dict[str, Any] | None:
        if config.last_test_at is None:
            return None
        return {
            "ok": config.last_test_ok,
            "tested_at": config.last_test_at,
            "latency_ms": config.last_test_latency_ms,
            "message": config.last_test_message,
        }


class BackendsApi(JobsApi):
    """Every configured backend (admins and operators)."""

    @extend_schema(
        parameters=[PageFilterSerializer],
        responses={200: page_of(BackendOutput)},
        operation_id="backends_list",
    )
    def get(self, request: Request) -> Response:
        PageFilterSerializer.check(request)
        return page_response(request, self, backend_list_for_user(request.user), BackendOutput)


class BackendDetailApi(JobsApi):
    """One backend (admins and operators read it); PATCH (operators) changes its settings and,
    write-only, its credentials."""

    class BackendPatchInputSerializer(StrictSerializer):
        enabled = serializers.BooleanField(required=False)
        device = serializers.CharField(required=False, allow_blank=True, max_length=64)
        channel = serializers.ChoiceField(choices=["", *CHANNELS], required=False)
        instance = serializers.CharField(required=False, allow_blank=True, max_length=255)
        backend_name = serializers.CharField(required=False, allow_blank=True, max_length=128)
        max_qubits = serializers.IntegerField(required=False, min_value=1, max_value=100_000)
        max_shots = serializers.IntegerField(required=False, min_value=1, max_value=10_000_000)
        options = serializers.DictField(required=False)
        cost_per_task = price_field()
        cost_per_shot = price_field()
        cost_per_second = price_field()
        credentials = serializers.CharField(
            required=False,
            allow_null=True,
            allow_blank=True,
            write_only=True,
            max_length=8192,
            style={"input_type": "password"},
            help_text="Write-only: a string replaces the stored credentials; null or '' clears.",
        )
        reason = serializers.CharField(
            required=False, allow_blank=True, max_length=2000, default=""
        )

    @extend_schema(responses={200: BackendOutput}, operation_id="backends_retrieve")
    def get(self, request: Request, name: str) -> Response:
        return Response(BackendOutput(backend_get_for_user(request.user, name)).data)

    @extend_schema(request=BackendPatchInputSerializer, responses={200: BackendOutput})
    def patch(self, request: Request, name: str) -> Response:
        config = backend_get_for_user(request.user, name, change=True)
        data = self.BackendPatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        credentials = changes.pop("credentials", UNCHANGED)
        reason = changes.pop("reason", "")
        updated = backend_config_update(
            config=config,
            actor=selectors.signed_in(request.user),
            changes=changes,
            credentials=credentials,
            http_request=request._request,
            reason=reason,
        )
        return Response(BackendOutput(updated).data)


class BackendTestApi(JobsApi):
    """Test the connection (operators): a tiny job on a simulator, a status call on IBM hardware."""

    class ConnectionTestSerializer(serializers.Serializer[Any]):
        ok = serializers.BooleanField()
        latency_ms = serializers.FloatField()
        message = serializers.CharField()

    @extend_schema(request=None, responses={200: ConnectionTestSerializer})
    def post(self, request: Request, name: str) -> Response:
        config = backend_get_for_user(request.user, name, change=True)
        result = backend_test_connection(
            config=config, actor=selectors.signed_in(request.user), http_request=request._request
        )
        body = {
            "ok": result.ok,
            "latency_ms": round(result.latency_ms, 1),
            "message": result.message,
        }
        return Response(self.ConnectionTestSerializer(body).data)


class BudgetOutput(serializers.ModelSerializer[Budget]):
    team: serializers.SlugRelatedField[Team] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    period = serializers.DateField(format="%Y-%m")
    limit_credits = credits_field()
    reserved_credits = credits_field()
    spent_credits = credits_field()
    remaining_credits = credits_field(source="remaining", read_only=True)
    quota = serializers.SerializerMethodField()

    class Meta:
        model = Budget
        fields = [
            "id",
            "team",
            "period",
            "limit_credits",
            "hard",
            "alert_thresholds",
            "alerts_raised",
            "reserved_credits",
            "spent_credits",
            "remaining_credits",
            "quota",
            "updated_at",
        ]

    def get_quota(self, budget: Budget) -> dict[str, int | None]:
        quota = team_quota(budget.team)
        return {
            "max_concurrent_runs": quota.max_concurrent_runs if quota else None,
            "max_shots_per_request": quota.max_shots_per_request if quota else None,
        }


class BudgetsApi(JobsApi):
    """Budgets of your teams, newest month first (admins). This month's always exists."""

    class BudgetFilterSerializer(PageFilterSerializer):
        team = serializers.SlugField(required=False)
        period = serializers.DateField(required=False, input_formats=["%Y-%m"])

    @extend_schema(
        parameters=[BudgetFilterSerializer],
        responses={200: page_of(BudgetOutput)},
        operation_id="budgets_list",
    )
    def get(self, request: Request) -> Response:
        filters = self.BudgetFilterSerializer.check(request)
        budgets = budget_list_for_user(request.user, **filters)
        return page_response(request, self, budgets, BudgetOutput)


class BudgetDetailApi(JobsApi):
    """One budget (admins of its team); PATCH its limit, hard or soft, and alert thresholds."""

    class BudgetPatchInputSerializer(StrictSerializer):
        limit_credits = serializers.DecimalField(
            required=False, max_digits=16, decimal_places=6, min_value=Decimal(0)
        )
        hard = serializers.BooleanField(required=False)
        alert_thresholds = serializers.ListField(
            child=serializers.FloatField(min_value=0.01, max_value=10.0),
            required=False,
            max_length=10,
            help_text="Fractions of the limit that raise an alert, e.g. [0.5, 0.8].",
        )
        reason = serializers.CharField(
            required=False, allow_blank=True, max_length=2000, default=""
        )

    @extend_schema(responses={200: BudgetOutput}, operation_id="budgets_retrieve")
    def get(self, request: Request, budget_id: int) -> Response:
        return Response(BudgetOutput(budget_get_for_user(request.user, budget_id)).data)

    @extend_schema(request=BudgetPatchInputSerializer, responses={200: BudgetOutput})
    def patch(self, request: Request, budget_id: int) -> Response:
        budget = budget_get_for_user(request.user, budget_id, change=True)
        data = self.BudgetPatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        reason = changes.pop("reason", "")
        updated = budget_update(
            budget=budget,
            actor=selectors.signed_in(request.user),
            changes=changes,
            http_request=request._request,
            reason=reason,
        )
        return Response(BudgetOutput(updated).data)


class EstimateOutput(serializers.Serializer[Any]):
    class EstimateRunSerializer(serializers.Serializer[Any]):
        solver = serializers.CharField()
        backend = serializers.CharField(allow_null=True)
        tier = serializers.CharField()
        credits = credits_field()
        seconds = serializers.FloatField()
        seconds_from = serializers.ChoiceField(
            choices=["history", "model"],
            help_text="history: the median of similar runs finished on this deployment.",
        )
        similar_runs = serializers.IntegerField()
        qubits = serializers.IntegerField()
        downgraded_from = serializers.CharField(allow_null=True)

    class EstimateBudgetSerializer(serializers.Serializer[Any]):
        team = serializers.CharField()
        period = serializers.DateField(format="%Y-%m")
        limit = credits_field()
        reserved = credits_field()
        spent = credits_field()
        remaining = credits_field()
        hard = serializers.BooleanField()

    runs = EstimateRunSerializer(many=True)
    total_credits = credits_field()
    total_seconds = serializers.FloatField()
    budget = EstimateBudgetSerializer()
    outcome = serializers.ChoiceField(
        choices=["accepted", "over_soft_limit", "downgraded", "refused", "over_quota"]
    )
    message = serializers.CharField()
    warnings = serializers.ListField(
        child=serializers.CharField(),
        help_text="Runs expected to outlast the deadline (they would fall back to classical).",
    )


class EstimateApi(JobsApi):
    """What a request would cost, run by run, and what the budget has left.

    Takes exactly the body of ``POST /api/v1/requests/``; saves nothing.
    """

    @extend_schema(
        request=SubmitInputSerializer,
        responses={
            200: EstimateOutput,
            400: OpenApiResponse(description="Invalid input, as for a submission."),
        },
        operation_id="estimate_create",
    )
    def post(self, request: Request) -> Response:
        selectors.request_access_check(request.user, "submit")
        data = SubmitInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        campaign = campaign_field(request, fields.pop("campaign", None))
        estimate = request_estimate(requester=request.user, campaign=campaign, **fields)
        body = {
            "runs": [r.as_dict() for r in estimate.plan.runs],
            "total_credits": estimate.plan.total,
            "total_seconds": round(estimate.plan.seconds, 3),
            "budget": budget_view(estimate.budget),
            "outcome": estimate.outcome,
            "message": estimate.message,
            "warnings": estimate.plan.deadline_warnings(),
        }
        return Response(EstimateOutput(body).data, status=status.HTTP_200_OK)
