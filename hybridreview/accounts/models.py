"""Teams scope everything: a request belongs to one team, a user to one or more."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone

from .roles import TEAM_ROLES


class Team(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )
    # Object permissions on team-owned rows are granted to this group, so
    # adding a member is one row instead of one grant per object.
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="team")

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    joined_at = models.DateTimeField(auto_now_add=True)
    # What this member may do in this team: an approver here is not an
    # approver in the member's other teams. The global role groups mirror
    # the union of these (signals.py), so "may this user approve at all?"
    # stays one has_perm; every "on which team's rows?" asks these.
    roles = models.ManyToManyField(
        Group,
        blank=True,
        related_name="+",
        limit_choices_to={"name__in": TEAM_ROLES},
        help_text="The member's roles in this team.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_unique_team_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"

    # Team group membership mirrors this row wherever it is written (service,
    # admin inline, shell), because object permissions hang off the group.
    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        self.user.groups.add(self.team.group)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        self.user.groups.remove(self.team.group)
        return super().delete(*args, **kwargs)


class Invitation(models.Model):
    """A team admin's invitation for someone without an account yet.

    The link's token is shown once and emailed; only its SHA-256 is kept, so
    a copy of the database opens no account. An invitation is open until it
    is accepted, revoked or past ``expires_at``; accepting it creates the
    account and its membership with ``roles`` in one transaction.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField()
    roles = models.JSONField(default=list, help_text="Team roles the new member starts with.")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open invitation per address and team: a second would leave
            # two live links for one person. Expiry is time, not state, so the
            # service also refuses a new one while the old has not expired.
            models.UniqueConstraint(
                fields=["team", "email"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="invitation_one_open_per_team_email",
            ),
            models.CheckConstraint(
                condition=models.Q(accepted_at__isnull=True) | models.Q(revoked_at__isnull=True),
                name="invitation_accepted_or_revoked_not_both",
            ),
        ]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.team}"

    @property
    def expired(self) -> bool:
        return self.expires_at <= timezone.now()
