"""Logins and API tokens, each with its audit event."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from knox.models import AuthToken
from rest_framework.request import Request

from approvals.audit import AuditAction, audit_record

USERNAME_MAX = 150


@transaction.atomic
def login_record(*, user: AbstractBaseUser, request: HttpRequest | None) -> None:
    audit_record(action=AuditAction.LOGIN, obj=user, actor=user, request=request)


@transaction.atomic
def login_failed_record(*, username: str, request: HttpRequest | None) -> None:
    """A failed login; names the account when it exists so its team's auditors see it."""
    user = get_user_model().objects.filter(username=username).first()
    audit_record(
        action=AuditAction.LOGIN_FAILED,
        obj=user,
        actor=None,
        request=request,
        after={"username": username[:USERNAME_MAX]},
    )


@transaction.atomic
def token_create(
    *, user: AbstractBaseUser, request: HttpRequest | Request
) -> tuple[AuthToken, str]:
    """Issue an API token; the event names its key prefix, never the token."""
    instance, token = AuthToken.objects.create(user=user)
    audit_record(
        action=AuditAction.TOKEN_CREATED,
        obj=user,
        actor=user,
        request=request,
        after={"token_key": instance.token_key, "expiry": instance.expiry},
    )
    return instance, token


@transaction.atomic
def token_revoke(
    *, user: AbstractBaseUser, request: HttpRequest | Request, token: AuthToken | None
) -> int:
    """Revoke ``token``, or every token of ``user`` when it is None. Returns how many."""
    tokens = AuthToken.objects.filter(user=user)
    if token is not None:
        tokens = tokens.filter(pk=token.pk)
    keys = sorted(tokens.values_list("token_key", flat=True))
    tokens.delete()
    audit_record(
        action=AuditAction.TOKEN_REVOKED,
        obj=user,
        actor=user,
        request=request,
        after={"token_keys": keys, "all": token is None},
    )
    return len(keys)


def username_from(credentials: dict[str, Any]) -> str:
    field = get_user_model().USERNAME_FIELD
    return str(credentials.get(field) or credentials.get("username") or "")
