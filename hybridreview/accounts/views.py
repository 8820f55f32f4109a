"""The accounts API: tokens for scripts (hashed at rest by knox, with expiry and
revocation), and a team's members and their roles for the team's admins."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, AuthenticationFailed, NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from hybridreview.api import StrictSerializer, page_of
from hybridreview.pagination import page_response
from jobs.serializers import PageFilterSerializer

from .models import Membership, Team
from .roles import TEAM_ROLES
from .selectors import managed_team_get, team_invitations_open, team_memberships
from .services import (
    MembershipRefused,
    member_join,
    member_remove,
    member_roles_set,
    token_create,
    token_revoke,
)
from .services.invitations import (
    invitation_create,
    invitation_link,
    invitation_revoke,
    invitation_send,
)


class TokenCreateApi(APIView):
    """Exchange a username and password for an API token."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    def get_authenticate_header(self, request: Request) -> str:
        return "Token"  # wrong credentials are a 401 with a challenge, not a 403

    class InputSerializer(StrictSerializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(max_length=512, trim_whitespace=False)

    class OutputSerializer(serializers.Serializer[Any]):
        token = serializers.CharField()
        expiry = serializers.DateTimeField(allow_null=True)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise AuthenticationFailed("Unable to log in with the given username and password.")
        instance, token = token_create(user=user, request=request)
        out = self.OutputSerializer({"token": token, "expiry": instance.expiry})
        return Response(out.data, status=status.HTTP_201_CREATED)


class TokenRevokeApi(APIView):
    """Revoke the token used for this call (``all=true`` revokes every token of the user)."""

    class QuerySerializer(serializers.Serializer[Any]):
        # DRF's boolean: true/1/yes/on and false/0/no/off; anything else is a
        # 400 naming "all" (a value once read as "not all" left tokens valid).
        all = serializers.BooleanField(
            default=False, help_text="Revoke every token of the user, not only this one."
        )

    @extend_schema(request=None, responses={204: None}, parameters=[QuerySerializer])
    def post(self, request: Request) -> Response:
        user = cast(User, request.user)  # IsAuthenticated has let only users through
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if query.validated_data["all"]:
            token_revoke(user=user, request=request, token=None)
        elif isinstance(request.auth, AuthToken):
            token_revoke(user=user, request=request, token=request.auth)
        else:
            raise serializers.ValidationError({"all": "Session callers must pass all=true."})
        return Response(status=status.HTTP_204_NO_CONTENT)


class MembersConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The team's state does not allow this change."
    default_code = "conflict"


class MemberOutput(serializers.Serializer[Any]):
    username = serializers.CharField(source="user.username")
    name = serializers.CharField(source="user.get_full_name")
    active = serializers.BooleanField(source="user.is_active")
    roles = serializers.SerializerMethodField()
    joined_at = serializers.DateTimeField()

    def get_roles(self, membership: Membership) -> list[str]:
        return sorted(g.name for g in membership.roles.all())


def role_list(**kwargs: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=list(TEAM_ROLES)),
        allow_empty=True,
        max_length=len(TEAM_ROLES),
        help_text="The member's roles in this team: " + ", ".join(TEAM_ROLES) + ".",
        **kwargs,
    )


class _MembersApi(APIView):
    """Shared by the members endpoints: the team, checked, and the services'
    refusals as HTTP (400 naming the field; 409 when the team would lose its
    last admin)."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, MembershipRefused):
            if exc.conflict:
                exc = MembersConflict(exc.message)
            else:
                exc = serializers.ValidationError({exc.field or "non_field_errors": [exc.message]})
        return super().handle_exception(exc)

    def team(self, request: Request, slug: str) -> Team:
        return managed_team_get(request.user, slug)

    def member(self, team: Team, username: str) -> Membership:
        found = team_memberships(team).filter(user__username=username).first()
        if found is None:
            raise NotFound(f"{username} is not a member of team {team.slug}.")
        return found


class TeamMembersApi(_MembersApi):
    """A team's members and their roles in it (the team's admins): list, or add an account."""

    class InputSerializer(StrictSerializer):
        username = serializers.CharField(max_length=150)
        roles = role_list(required=False)

    @extend_schema(
        operation_id="teams_members_list",
        responses={200: page_of(MemberOutput)},
        parameters=[PageFilterSerializer],
    )
    def get(self, request: Request, slug: str) -> Response:
        PageFilterSerializer.check(request)
        return page_response(
            request, self, team_memberships(self.team(request, slug)), MemberOutput
        )

    @extend_schema(request=InputSerializer, responses={201: MemberOutput})
    def post(self, request: Request, slug: str) -> Response:
        team = self.team(request, slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = member_join(
            team=team,
            username=data.validated_data["username"],
            roles=data.validated_data.get("roles", []),
            actor=cast(User, request.user),
            http_request=request._request,
        )
        out = MemberOutput(self.member(team, membership.user.get_username()))
        return Response(out.data, status=status.HTTP_201_CREATED)


class TeamMemberApi(_MembersApi):
    """One member of a team: read, set their roles (PUT), or remove them (DELETE)."""

    class InputSerializer(StrictSerializer):
        roles = role_list()

    @extend_schema(responses={200: MemberOutput})
    def get(self, request: Request, slug: str, username: str) -> Response:
        return Response(MemberOutput(self.member(self.team(request, slug), username)).data)

    @extend_schema(request=InputSerializer, responses={200: MemberOutput})
    def put(self, request: Request, slug: str, username: str) -> Response:
        team = self.team(request, slug)
        user = self.member(team, username).user
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member_roles_set(
            team=team,
            user=user,
            roles=data.validated_data["roles"],
            actor=cast(User, request.user),
            http_request=request._request,
        )
        return Response(MemberOutput(self.member(team, username)).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, slug: str, username: str) -> Response:
        team = self.team(request, slug)
        user = self.member(team, username).user
        member_remove(
            team=team, user=user, actor=cast(User, request.user), http_request=request._request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    roles = serializers.ListField(child=serializers.CharField())
    invited_by = serializers.CharField(source="created_by.username")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    expired = serializers.BooleanField()


class InvitationIssuedOutput(InvitationOutput):
    link = serializers.CharField(help_text="The invitee's link: returned only here, never again.")
    emailed = serializers.ChoiceField(
        choices=["sent", "off", "failed"],
        help_text="sent: emailed to the invitee; off: no mail server is configured; "
        "failed: the mail server refused it. In the last two, pass the link on yourself.",
    )


class TeamInvitationsApi(_MembersApi):
    """A team's open invitations (the team's admins): list, or invite an email address."""

    class InputSerializer(StrictSerializer):
        email = serializers.EmailField(max_length=254)
        roles = role_list(required=False)

    @extend_schema(
        operation_id="teams_invitations_list",
        responses={200: page_of(InvitationOutput)},
        parameters=[PageFilterSerializer],
    )
    def get(self, request: Request, slug: str) -> Response:
        PageFilterSerializer.check(request)
        return page_response(
            request, self, team_invitations_open(self.team(request, slug)), InvitationOutput
        )

    @extend_schema(request=InputSerializer, responses={201: InvitationIssuedOutput})
    def post(self, request: Request, slug: str) -> Response:
        team = self.team(request, slug)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = invitation_create(
            team=team,
            email=data.validated_data["email"],
            roles=data.validated_data.get("roles", []),
            actor=cast(User, request.user),
            http_request=request._request,
        )
        link = invitation_link(request._request, issued.token)
        mail = invitation_send(issued=issued, link=link)
        out = InvitationOutput(issued.invitation).data | {
            "link": link,
            "emailed": mail if mail in {"sent", "off"} else "failed",
        }
        return Response(out, status=status.HTTP_201_CREATED)


class TeamInvitationApi(_MembersApi):
    """Withdraw one of a team's open invitations: its link stops working."""

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, slug: str, pk: int) -> Response:
        team = self.team(request, slug)
        invitation = team_invitations_open(team).filter(pk=pk).first()
        if invitation is None:
            raise NotFound(f"Team {team.slug} has no open invitation {pk}.")
        invitation_revoke(
            invitation=invitation, actor=cast(User, request.user), http_request=request._request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
