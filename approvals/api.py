"""REST API for review and sign-off: one APIView per operation, thin.

Access answers follow the rest of the API: a role that may not do an action
at all gets 403 before anything is looked up; a request or decision outside
the caller's teams is 404; a state that moved on (already signed, rejected
meanwhile, changed since the form was opened) is 409.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.request import Request
from rest_framework.response import Response

from approvals import services
from approvals.figures import request_figures
from approvals.models import (
    ApprovalPolicy,
    Comment,
    Decision,
    Recommendation,
    Signature,
    SignatureMeaning,
)
from approvals.review_selectors import (
    decision_approvals,
    decision_get_for_user,
    decisions_for_user,
    policy_for_team,
    request_comments,
)
from approvals.services.policy import may_change_policy
from approvals.services.signing import SigningHeldBack
from hybridreview.accounts.models import Team
from hybridreview.api import StrictSerializer, page_of
from hybridreview.pagination import page_response
from jobs import selectors
from jobs.api import JobsApi
from jobs.api_budget import credits_field
from jobs.serializers import PageFilterSerializer

SIGN_ERRORS = {
    400: OpenApiResponse(description="Invalid input; errors name each field."),
    403: OpenApiResponse(
        description="Your role may not sign, you requested this, or the password was wrong "
        "(nothing was signed)."
    ),
    404: OpenApiResponse(description="No such request in your teams."),
    409: OpenApiResponse(
        description="The request is not awaiting sign-off, you already signed, or it changed "
        "since you opened it."
    ),
    429: OpenApiResponse(
        description="Too many wrong passwords from this account lately; Retry-After says "
        "when to try again (nothing was signed)."
    ),
}


def signer(request: Request) -> User:
    """The authenticated user (IsAuthenticated let only users through)."""
    return cast(User, request.user)


class RecommendationOutput(serializers.ModelSerializer[Recommendation]):
    analyst = serializers.CharField(source="analyst.username")
    request_status = serializers.CharField(source="request.status")

    class Meta:
        model = Recommendation
        fields = [
            "id",
            "request",
            "candidate",
            "analyst",
            "comment",
            "created_at",
            "request_status",
        ]


class CommentOutput(serializers.ModelSerializer[Comment]):
    author = serializers.CharField(source="author.username")

    class Meta:
        model = Comment
        fields = ["id", "request", "author", "body", "created_at"]


class SignatureOutput(serializers.ModelSerializer[Signature]):
    signer = serializers.CharField(source="signer.username")

    class Meta:
        model = Signature
        fields = [
            "id",
            "request",
            "kind",
            "signer",
            "printed_name",
            "meaning",
            "candidate",
            "comment",
            "digest",
            "signed_at",
        ]


class SignedOutput(serializers.Serializer[Any]):
    signature = SignatureOutput()
    request_status = serializers.CharField()
    approvals = serializers.IntegerField()
    approvals_required = serializers.IntegerField()
    decision = serializers.IntegerField(allow_null=True)


def signed_response(signed: services.Signed) -> Response:
    request_obj = signed.signature.request
    request_obj.refresh_from_db(fields=["status"])  # the service moved it on
    body = {
        "signature": signed.signature,
        "request_status": request_obj.status,
        "approvals": signed.approvals,
        "approvals_required": signed.required,
        "decision": signed.decision.pk if signed.decision else None,
    }
    return Response(SignedOutput(body).data, status=status.HTTP_201_CREATED)


class RecommendApi(JobsApi):
    """Recommend one ranked candidate, with a comment (analysts)."""

    class InputSerializer(StrictSerializer):
        candidate = serializers.IntegerField()
        comment = serializers.CharField(max_length=5000)

    @extend_schema(request=InputSerializer, responses={201: RecommendationOutput, **SIGN_ERRORS})
    def post(self, request: Request, request_id: int) -> Response:
        selectors.request_access_check(request.user, "review")
        target = selectors.request_get_for_user(request.user, request_id, action="review")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recommendation = services.request_recommend(
            request=target,
            actor=signer(request),
            candidate_id=data.validated_data["candidate"],
            comment=data.validated_data["comment"],
            http_request=request._request,
        )
        return Response(RecommendationOutput(recommendation).data, status=status.HTTP_201_CREATED)


class CommentsApi(JobsApi):
    """A request's comment thread: read it, or add to it (analysts and approvers)."""

    class InputSerializer(StrictSerializer):
        body = serializers.CharField(max_length=5000)

    @extend_schema(
        parameters=[PageFilterSerializer],
        responses={200: page_of(CommentOutput)},
        operation_id="requests_comments_list",
    )
    def get(self, request: Request, request_id: int) -> Response:
        PageFilterSerializer.check(request)
        target = selectors.request_get_for_user(request.user, request_id)
        return page_response(request, self, request_comments(target), CommentOutput)

    @extend_schema(request=InputSerializer, responses={201: CommentOutput})
    def post(self, request: Request, request_id: int) -> Response:
        target = selectors.request_get_for_user(request.user, request_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.request_comment(
            request=target,
            actor=signer(request),
            body=data.validated_data["body"],
            http_request=request._request,
        )
        return Response(CommentOutput(comment).data, status=status.HTTP_201_CREATED)


class SignInput(StrictSerializer):
    # Not required here: a missing password is the service's 403, not a 400.
    password = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False, max_length=512
    )
    digest = serializers.RegexField(
        r"^[0-9a-f]{64}$",
        required=False,
        default="",
        help_text="The digest you reviewed (GET .../figures/ or the sign page); 409 if it changed.",
    )


class _SigningApi(JobsApi):
    """Approve and reject: an account held back after wrong passwords gets 429."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, SigningHeldBack):
            exc = Throttled(wait=exc.wait, detail=str(exc))
        return super().handle_exception(exc)


class ApproveApi(_SigningApi):
    """Approve a candidate (approvers; password again). 201 with the signature."""

    class InputSerializer(SignInput):
        candidate = serializers.IntegerField()
        meaning = serializers.ChoiceField(
            choices=[m for m in SignatureMeaning.values if m != SignatureMeaning.REJECTED]
        )
        comment = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=5000
        )

    @extend_schema(request=InputSerializer, responses={201: SignedOutput, **SIGN_ERRORS})
    def post(self, request: Request, request_id: int) -> Response:
        selectors.request_access_check(request.user, "approve")
        target = selectors.request_get_for_user(request.user, request_id, action="approve")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        signed = services.request_approve(
            request=target,
            actor=signer(request),
            candidate_id=v["candidate"],
            meaning=v["meaning"],
            comment=v["comment"],
            password=v["password"],
            expected_digest=v["digest"],
            http_request=request._request,
        )
        return signed_response(signed)


class RejectApi(_SigningApi):
    """Reject the request with a reason (approvers; password again)."""

    class InputSerializer(SignInput):
        reason = serializers.CharField(max_length=5000)

    @extend_schema(request=InputSerializer, responses={201: SignedOutput, **SIGN_ERRORS})
    def post(self, request: Request, request_id: int) -> Response:
        selectors.request_access_check(request.user, "approve")
        target = selectors.request_get_for_user(request.user, request_id, action="approve")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signed = services.request_reject(
            request=target,
            actor=signer(request),
            reason=data.validated_data["reason"],
            password=data.validated_data["password"],
            expected_digest=data.validated_data["digest"],
            http_request=request._request,
        )
        return signed_response(signed)


class FiguresApi(JobsApi):
    """The Plotly figure JSON the request page draws, plus the signing digest."""

    @extend_schema(responses={200: OpenApiResponse(description="{digest, figures: [...]}")})
    def get(self, request: Request, request_id: int) -> Response:
        target = selectors.request_get_for_user(request.user, request_id)
        return Response(request_figures(target))


class ApprovalOutput(serializers.Serializer[Signature]):
    name = serializers.CharField(source="printed_name")
    username = serializers.CharField(source="signer.username")
    time = serializers.DateTimeField(source="signed_at")
    meaning = serializers.CharField()
    digest = serializers.CharField()


class DecisionOutput(serializers.ModelSerializer[Decision]):
    request = serializers.SerializerMethodField()
    team = serializers.CharField(source="team.slug")
    cost_credits = credits_field()  # a number, as credits are everywhere in the API
    chosen = serializers.SerializerMethodField()
    approvals = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = [
            "id",
            "request",
            "team",
            "chosen",
            "approvals",
            "digest",
            "provenance",
            "cost_credits",
            "approvals_required",
            "created_at",
        ]

    def get_request(self, d: Decision) -> dict[str, Any]:
        return {"id": d.request_id, "title": d.request.title}

    def get_chosen(self, d: Decision) -> dict[str, Any]:
        return {
            "candidate": d.candidate_id,
            "assignment": d.assignment,
            "bitstring": d.bitstring,
            "objective": d.objective,
            "feasible": d.feasible,
        }

    def get_approvals(self, d: Decision) -> list[dict[str, Any]]:
        return [ApprovalOutput(s).data for s in decision_approvals(d)]


class DecisionsApi(JobsApi):
    """Approved decisions of your teams, newest first (consumers, auditors, reviewers)."""

    class FilterSerializer(PageFilterSerializer):
        team = serializers.SlugField(required=False, default="")
        since = serializers.DateTimeField(required=False, allow_null=True, default=None)

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: page_of(DecisionOutput)},
        operation_id="decisions_list",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer.check(request)
        qs = decisions_for_user(request.user, team=filters["team"], since=filters["since"])
        return page_response(request, self, qs, DecisionOutput)


class DecisionDetailApi(JobsApi):
    """One decision of your teams."""

    @extend_schema(responses={200: DecisionOutput})
    def get(self, request: Request, decision_id: int) -> Response:
        return Response(DecisionOutput(decision_get_for_user(request.user, decision_id)).data)


class PolicyOutput(serializers.ModelSerializer[ApprovalPolicy]):
    team = serializers.CharField(source="team.slug")
    updated_by = serializers.CharField(source="updated_by.username", allow_null=True, default=None)

    class Meta:
        model = ApprovalPolicy
        fields = [
            "team",
            "approvals_required",
            "approvals_required_above_cost",
            "cost_threshold_credits",
            "recommender_may_not_approve",
            "updated_at",
            "updated_by",
        ]


class PolicyApi(JobsApi):
    """A team's approval policy: read it (team members), change it (the team's admins)."""

    class InputSerializer(StrictSerializer):
        approvals_required = serializers.IntegerField(required=False, min_value=1, max_value=50)
        approvals_required_above_cost = serializers.IntegerField(
            required=False, min_value=1, max_value=50
        )
        cost_threshold_credits = serializers.DecimalField(
            max_digits=16, decimal_places=6, required=False, allow_null=True, min_value=0
        )
        recommender_may_not_approve = serializers.BooleanField(required=False)

    def _team(self, request: Request, slug: str) -> Team:
        return get_object_or_404(Team, slug=slug, memberships__user=request.user)

    @extend_schema(responses={200: PolicyOutput})
    def get(self, request: Request, slug: str) -> Response:
        return Response(PolicyOutput(policy_for_team(self._team(request, slug))).data)

    @extend_schema(request=InputSerializer, responses={200: PolicyOutput})
    def patch(self, request: Request, slug: str) -> Response:
        team = self._team(request, slug)
        if not may_change_policy(request.user, team):
            raise PermissionDenied("Only an admin of the team changes its policy.")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        policy = services.policy_update(
            team=team, actor=signer(request), http_request=request._request, **data.validated_data
        )
        return Response(PolicyOutput(policy).data)
