"""API tokens for scripts: hashed at rest (knox), with expiry and revocation."""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema
from knox.models import AuthToken
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from hybridreview.api import StrictSerializer

from .services import token_create, token_revoke


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
