"""A campaign gathers requests over a window and dispatches them in one burst."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from hybridreview.accounts.models import Team


class CampaignStatus(models.TextChoices):
    COLLECTING = "collecting"
    DISPATCHED = "dispatched"
    CANCELLED = "cancelled"


class Campaign(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="campaigns")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="campaigns"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.COLLECTING
    )
    # Requests join until this moment; beat dispatches the burst soon after.
    window_closes_at = models.DateTimeField()
    dispatched_at = models.DateTimeField(null=True, blank=True)
    # One IBM Runtime Batch per campaign and IBM backend, when the backend is IBM.
    provider_batches = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "window_closes_at"], name="campaign_window_idx"),
        ]

    def __str__(self) -> str:
        return f"campaign #{self.pk} {self.title} ({self.status})"
