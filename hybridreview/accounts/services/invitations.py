"""Invitations: a team admin brings in someone who has no account yet.

The admin names an email address and the team roles; the invitee gets a link
(by email, and the admin sees it once to pass on), opens it, and either
creates an account or, signed in already, joins with the one they have.
Every step is audited: ``invitation.created``, ``invitation.revoked``,
``invitation.accepted``, with the account's ``account.created`` and the
membership's ``permission.granted`` in the same transaction.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import User
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.mail import BadHeaderError, send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from approvals.audit import AuditAction, audit_record

from ..models import Invitation, Membership, Team
from .account import account_changes_record
from .members import MembershipRefused, _lock_for, _team_roles, membership_add

logger = logging.getLogger(__name__)

# 32 random bytes: the link is the only secret between the admin and the invitee.
TOKEN_BYTES = 32


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invitation_days() -> int:
    return int(getattr(settings, "INVITATION_DAYS", 7))


@dataclass(frozen=True)
class Issued:
    """A new invitation and its token: the only time the token exists in clear."""

    invitation: Invitation
    token: str


class InvitationClosed(Exception):
    """The link no longer opens anything: used, revoked, expired or unknown."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def invitation_create(
    *,
    team: Team,
    email: str,
    roles: Iterable[str],
    actor: User,
    http_request: HttpRequest | None = None,
) -> Issued:
    """Invite ``email`` to ``team`` with ``roles``; an open invitation to the
    same address is replaced (its link stops working): inviting again is how
    an admin resends one that was lost or expired."""
    wanted = sorted(_team_roles(roles))
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise MembershipRefused(f"{email!r} is not an email address.", field="email") from None
    with transaction.atomic():
        _lock_for(team, actor)
        member = (
            Membership.objects.filter(team=team, user__email__iexact=email)
            .select_related("user")
            .first()
        )
        if member is not None:
            raise MembershipRefused(
                f"{email} is the address of {member.user.get_username()}, already a member "
                f"of team {team.slug}; change their roles in the table.",
                field="email",
            )
        # Invitations make accounts: one for an address that has one would
        # leave the person with two (and password resets mailing both).
        holder = User.objects.filter(email__iexact=email, is_active=True).first()
        if holder is not None:
            raise MembershipRefused(
                f"{email} is the address of the account {holder.get_username()}: add them "
                "by username instead.",
                field="email",
            )
        replaced = list(
            Invitation.objects.select_for_update().filter(
                team=team,
                email__iexact=email,
                accepted_at__isnull=True,
                revoked_at__isnull=True,
            )
        )
        now = timezone.now()
        for old in replaced:
            old.revoked_at = now
            old.save(update_fields=["revoked_at"])
        token = secrets.token_urlsafe(TOKEN_BYTES)
        invitation = Invitation.objects.create(
            team=team,
            email=email,
            roles=wanted,
            token_hash=token_hash(token),
            created_by=actor,
            expires_at=now + timedelta(days=invitation_days()),
        )
        for old in replaced:
            _revoked_record(old, actor, http_request, replaced=True)
        audit_record(
            action=AuditAction.INVITATION_CREATED,
            obj=invitation,
            team=team,
            actor=actor,
            after={
                "email": email,
                "team": team.slug,
                "roles": wanted,
                "expires_at": invitation.expires_at,
                "replaces": [old.pk for old in replaced],
            },
            request=http_request,
        )
    return Issued(invitation=invitation, token=token)


def invitation_revoke(
    *, invitation: Invitation, actor: User, http_request: HttpRequest | None = None
) -> None:
    """Close an open invitation: its link stops working."""
    with transaction.atomic():
        _lock_for(invitation.team, actor)
        current = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if current.accepted_at is not None or current.revoked_at is not None:
            raise MembershipRefused(
                f"The invitation of {current.email} is already "
                f"{'accepted' if current.accepted_at else 'revoked'}.",
                conflict=True,
            )
        current.revoked_at = invitation.revoked_at = timezone.now()
        current.save(update_fields=["revoked_at"])
        _revoked_record(current, actor, http_request)


def invitation_open(token: str, *, lock: bool = False) -> Invitation:
    """The invitation ``token`` opens, or InvitationClosed saying why not.
    ``lock``: hold its row until the caller's transaction ends (accepting)."""
    found = Invitation.objects.select_related("team", "created_by")
    if lock:
        found = found.select_for_update()
    invitation = found.filter(token_hash=token_hash(token)).first()
    _check_open(invitation)
    assert invitation is not None  # _check_open refuses None
    return invitation


def invitation_accept(
    *,
    token: str,
    username: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    http_request: HttpRequest | None = None,
) -> User:
    """Create the invitee's account from the link, with the invited roles in
    its team; the link is used up. The new account is the actor of its own
    creation; the events name the admin who invited."""
    username = username.strip()
    try:
        UnicodeUsernameValidator()(username)
    except ValidationError as exc:
        raise MembershipRefused(exc.messages[0], field="username") from None
    with transaction.atomic():
        invitation = invitation_open(token, lock=True)
        if User.objects.filter(username__iexact=username).exists():
            raise MembershipRefused(
                f"The username {username!r} is taken; choose another.", field="username"
            )
        candidate = User(
            username=username, email=invitation.email, first_name=first_name, last_name=last_name
        )
        try:
            password_validation.validate_password(password, candidate)
        except ValidationError as exc:
            raise MembershipRefused(" ".join(exc.messages), field="password1") from None
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    username=username,
                    email=invitation.email,
                    password=password,
                    first_name=first_name,
                    last_name=last_name,
                )
        except IntegrityError:
            # Taken between the check and the insert (another invitee, same name).
            raise MembershipRefused(
                f"The username {username!r} is taken; choose another.", field="username"
            ) from None
        account_changes_record(user=user, before=None, actor=user, http_request=http_request)
        _join(invitation, user, http_request)
    return user


def invitation_accept_as(
    *, token: str, user: User, http_request: HttpRequest | None = None
) -> Membership:
    """Join the invitation's team with the account ``user`` is signed in with."""
    with transaction.atomic():
        invitation = invitation_open(token, lock=True)
        if Membership.objects.filter(team=invitation.team, user=user).exists():
            raise MembershipRefused(
                f"You are already a member of team {invitation.team.slug}; its admins change "
                "roles on the members page.",
                conflict=True,
            )
        return _join(invitation, user, http_request)


def _join(invitation: Invitation, user: User, http_request: HttpRequest | None) -> Membership:
    membership = membership_add(
        team=invitation.team,
        user=user,
        roles=tuple(invitation.roles),
        actor=user,
        http_request=http_request,
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    audit_record(
        action=AuditAction.INVITATION_ACCEPTED,
        obj=invitation,
        team=invitation.team,
        actor=user,
        after={
            "email": invitation.email,
            "user": user.get_username(),
            "team": invitation.team.slug,
            "roles": invitation.roles,
            "invited_by": invitation.created_by.get_username(),
        },
        request=http_request,
    )
    return membership


def _check_open(invitation: Invitation | None) -> None:
    if invitation is None:
        raise InvitationClosed(
            "This invitation link is not valid. Check that it was copied whole, "
            "or ask the team's admin for a new one."
        )
    who = f"an admin of team {invitation.team.slug}"
    if invitation.accepted_at is not None:
        raise InvitationClosed("This invitation has been used already. Sign in instead.")
    if invitation.revoked_at is not None:
        raise InvitationClosed(f"This invitation was withdrawn. Ask {who} for a new one.")
    if invitation.expires_at <= timezone.now():
        raise InvitationClosed(
            f"This invitation expired on {invitation.expires_at:%Y-%m-%d %H:%M} UTC. "
            f"Ask {who} for a new one."
        )


def _revoked_record(
    invitation: Invitation,
    actor: User,
    http_request: HttpRequest | None,
    *,
    replaced: bool = False,
) -> None:
    audit_record(
        action=AuditAction.INVITATION_REVOKED,
        obj=invitation,
        team=invitation.team,
        actor=actor,
        after={"email": invitation.email, "team": invitation.team.slug, "replaced": replaced},
        request=http_request,
    )


def invitation_link(request: HttpRequest, token: str) -> str:
    """The invitee's link, on the host the admin reached (ALLOWED_HOSTS guards it)."""
    return request.build_absolute_uri(reverse("invitation-open", args=[token]))


def invitation_send(*, issued: Issued, link: str) -> str:
    """Email the invitee their link. Returns what the admin should be told:
    "sent", "off" (no mail server configured) or why it failed. The
    invitation stands either way: the admin has the link to pass on."""
    if settings.EMAIL_BACKEND == "django.core.mail.backends.dummy.EmailBackend":
        return "off"
    invitation = issued.invitation
    body = render_to_string(
        "accounts/email/invitation.txt",
        {
            "inviter": invitation.created_by.get_full_name() or invitation.created_by.username,
            "team": invitation.team,
            "roles": invitation.roles,
            "link": link,
            "expires_at": invitation.expires_at,
        },
    )
    try:
        send_mail(
            f"Invitation to team {invitation.team.name} on HybridReview",
            body,
            None,
            [invitation.email],
        )
    except (OSError, smtplib.SMTPException, BadHeaderError) as exc:
        # The reason, never the message: it holds the link.
        logger.warning("invitation %s not emailed: %s", invitation.pk, type(exc).__name__)
        return f"the mail server refused it ({type(exc).__name__})"
    return "sent"
