"""Auth signal handlers: each hands the event to a service and does nothing else."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from . import services


@receiver(user_logged_in, dispatch_uid="accounts.audit_login")
def _audit_login(sender: Any, request: Any = None, user: Any = None, **_: Any) -> None:
    services.login_record(user=user, request=request)


@receiver(user_login_failed, dispatch_uid="accounts.audit_login_failed")
def _audit_login_failed(
    sender: Any, credentials: dict[str, Any] | None = None, request: Any = None, **_: Any
) -> None:
    services.login_failed_record(
        username=services.username_from(credentials or {}), request=request
    )
