"""REST API for campaigns: collect requests over a window, dispatch them in one burst,
compare the variants they hold."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from hybridreview.api import StrictSerializer, page_of
from hybridreview.pagination import page_response
from jobs import selectors, services
from jobs.api import JobsApi
from jobs.models import Campaign
from jobs.serializers import PageFilterSerializer
from jobs.services.checks import team_for


class CampaignSerializer(serializers.ModelSerializer[Campaign]):
    team: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    requests = serializers.SerializerMethodField()

    class Meta:
        model = Campaign
        fields = [
            "id",
            "title",
            "description",
            "team",
            "status",
            "window_closes_at",
            "dispatched_at",
            "provider_batches",
            "created_at",
            "requests",
        ]

    def get_requests(self, campaign: Campaign) -> list[int]:
        return list(campaign.requests.order_by("id").values_list("id", flat=True))


class ComparisonRowSerializer(serializers.Serializer[Any]):
    request = serializers.IntegerField()
    title = serializers.CharField()
    run = serializers.IntegerField()
    solver = serializers.CharField()
    backend = serializers.CharField(allow_null=True)
    variant = serializers.CharField()
    status = serializers.CharField()
    tier = serializers.CharField()
    best_objective = serializers.FloatField(allow_null=True)
    ratio = serializers.FloatField(allow_null=True)
    ratio_against = serializers.ChoiceField(
        choices=["proven", "given", "best_found"],
        help_text="What ratio is measured against: the request's proven or given optimum, "
        "or, when it knows none, the best objective any of its runs found.",
    )
    probability_of_best = serializers.FloatField(allow_null=True)
    feasible_probability = serializers.FloatField(allow_null=True)
    depth = serializers.IntegerField(allow_null=True)
    two_qubit_gates = serializers.IntegerField(allow_null=True)
    seconds = serializers.FloatField(allow_null=True)


class CampaignsApi(JobsApi):
    """List your teams' campaigns, or open one."""

    class InputSerializer(StrictSerializer):
        title = serializers.CharField(max_length=200)
        description = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=5000
        )
        window_seconds = serializers.IntegerField(default=300)
        team = serializers.SlugField(required=False)

    @extend_schema(
        parameters=[PageFilterSerializer],
        responses={200: page_of(CampaignSerializer)},
        operation_id="campaigns_list",
    )
    def get(self, request: Request) -> Response:
        PageFilterSerializer.check(request)
        campaigns = selectors.campaign_list_for_user(request.user)
        return page_response(request, self, campaigns, CampaignSerializer)

    @extend_schema(request=InputSerializer, responses={201: CampaignSerializer})
    def post(self, request: Request) -> Response:
        selectors.request_access_check(request.user, "submit")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        campaign = services.campaign_create(
            actor=selectors.signed_in(request.user),
            team=team_for(selectors.signed_in(request.user), fields.pop("team", None), None),
            http_request=request._request,
            **fields,
        )
        return Response(CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)


class CampaignDetailApi(JobsApi):
    """One campaign and a comparison of every run it holds, one row per variant."""

    class OutputSerializer(CampaignSerializer):
        comparison = serializers.SerializerMethodField()

        class Meta(CampaignSerializer.Meta):
            fields = [*CampaignSerializer.Meta.fields, "comparison"]

        @extend_schema_field(ComparisonRowSerializer(many=True))
        def get_comparison(self, campaign: Campaign) -> list[dict[str, Any]]:
            rows = selectors.campaign_comparison(campaign)
            return list(ComparisonRowSerializer(rows, many=True).data)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request, campaign_id: int) -> Response:
        campaign = selectors.campaign_get_for_user(request.user, campaign_id)
        return Response(self.OutputSerializer(campaign).data)


class CampaignDispatchApi(JobsApi):
    """Send every held run now instead of at the window's close (409 if already sent)."""

    @extend_schema(
        request=None,
        responses={200: CampaignSerializer, 409: OpenApiResponse(description="Already sent.")},
    )
    def post(self, request: Request, campaign_id: int) -> Response:
        campaign = selectors.campaign_get_for_user(request.user, campaign_id, action="submit")
        services.campaign_dispatch(
            campaign=campaign,
            actor=selectors.signed_in(request.user),
            http_request=request._request,
        )
        campaign.refresh_from_db()
        return Response(CampaignSerializer(campaign).data)
