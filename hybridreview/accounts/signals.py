"""Auth signal handlers: each hands the event to a service and does nothing else."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import m2m_changed, post_delete
from django.dispatch import receiver

from . import services
from .models import Membership


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


@receiver(m2m_changed, sender=Membership.roles.through, dispatch_uid="accounts.roles_changed")
def _roles_changed(
    sender: Any, instance: Any = None, action: str = "", reverse: bool = False, **_: Any
) -> None:
    # Forward only: Group has no reverse accessor to memberships (related_name="+").
    if action in {"post_add", "post_remove", "post_clear"} and not reverse:
        services.role_groups_sync(instance.user)


@receiver(post_delete, sender=Membership, dispatch_uid="accounts.membership_deleted")
def _membership_deleted(sender: Any, instance: Any = None, **_: Any) -> None:
    # Also after a team's or a user's deletion cascades to its memberships;
    # a user being deleted has nothing left to sync.
    user = get_user_model().objects.filter(pk=instance.user_id).first()
    if user is not None:
        services.role_groups_sync(user)
