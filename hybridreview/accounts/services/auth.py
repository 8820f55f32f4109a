"""Logins and API tokens, each with its audit event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from knox.models import AuthToken
from rest_framework.request import Request

from approvals.audit import AuditAction, audit_record

from ..throttles import FailedReauthentications

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


@dataclass(frozen=True)
class Confirmation:
    """A password typed again: accepted, refused, or held back ``wait`` seconds."""

    accepted: bool
    wait: int | None = None


def password_confirm(
    *, user: AbstractBaseUser, password: str, http_request: HttpRequest | None
) -> Confirmation:
    """Check the password a signed-in user types again (to sign, to make a
    token). Wrong ones count per account at the login rate: whoever holds a
    session or a token cannot guess it at any speed. Past the rate even the
    right one waits, so a guesser learns nothing."""
    throttle, ident = FailedReauthentications(), str(user.pk)
    wait = throttle.wait_seconds(ident)
    if wait is not None:
        return Confirmation(accepted=False, wait=wait)
    if password:
        again = authenticate(http_request, username=user.get_username(), password=password)
        if again is not None and again.pk == user.pk:
            return Confirmation(accepted=True)
    throttle.count(ident)
    return Confirmation(accepted=False)


class TokenRefused(Exception):
    """No token was made: the password was wrong (403) or the account is held
    back after wrong passwords (429, ``wait`` seconds)."""

    def __init__(self, message: str, wait: int | None = None) -> None:
        super().__init__(message)
        self.message, self.wait = message, wait


def token_create_confirmed(
    *, user: AbstractBaseUser, password: str, request: HttpRequest
) -> tuple[AuthToken, str]:
    """Issue a token from a signed-in page, once the password is typed again:
    a borrowed session must not mint a credential that outlives it."""
    confirmed = password_confirm(user=user, password=password, http_request=request)
    if confirmed.wait is not None:
        wait = confirmed.wait
        raise TokenRefused(
            f"Too many wrong passwords: try again in {wait} second{'' if wait == 1 else 's'}.",
            wait=wait,
        )
    if not confirmed.accepted:
        raise TokenRefused("Your password was not accepted; no token was made.")
    return token_create(user=user, request=request)


def username_from(credentials: dict[str, Any]) -> str:
    field = get_user_model().USERNAME_FIELD
    return str(credentials.get(field) or credentials.get("username") or "")
