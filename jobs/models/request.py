"""An optimisation request: one problem, the solvers asked for, and where it stands."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from hybridreview.accounts.models import Team


class RequestStatus(models.TextChoices):
    # Labels spelled out in sentence case: Django's default from the member
    # name is Title Case ("Ready For Review"), unlike every other label shown.
    SUBMITTED = "submitted", "Submitted"
    RUNNING = "running", "Running"
    READY_FOR_REVIEW = "ready_for_review", "Ready for review"
    RECOMMENDED = "recommended", "Recommended"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


# Statuses in which the pipeline still owes the request a result.
REQUEST_ACTIVE = (RequestStatus.SUBMITTED, RequestStatus.RUNNING)


class CachePolicy(models.TextChoices):
    BYPASS = "bypass"
    PREFER = "prefer"


class OptimizationRequest(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="requests")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="optimization_requests"
    )
    campaign = models.ForeignKey(
        "jobs.Campaign",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requests",
    )
    rerun_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reruns"
    )
    title = models.CharField(max_length=200, blank=True)
    schema_version = models.CharField(max_length=16)
    # The payload as parsed into canonical form (quantum.Problem.data), so a
    # worker re-parsing it builds exactly the model the fingerprint names.
    problem = models.JSONField()
    problem_kind = models.CharField(max_length=32)
    num_variables = models.PositiveIntegerField()
    sense = models.CharField(max_length=8)  # "minimize" | "maximize": ranking needs it
    # {"solvers": [{"name", "backend", "options"}], "shots", "seed", "deadline_seconds", "cache"}
    settings = models.JSONField()
    fingerprint = models.CharField(max_length=64)
    cache_policy = models.CharField(
        max_length=8, choices=CachePolicy.choices, default=CachePolicy.BYPASS
    )
    idempotency_key = models.CharField(max_length=255, blank=True)
    body_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=20, choices=RequestStatus.choices, default=RequestStatus.SUBMITTED
    )
    deadline = models.DateTimeField()
    correlation_id = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    fallback = models.BooleanField(default=False)
    fallback_reason = models.TextField(blank=True)
    failure_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("review_optimizationrequest", "Can review"),
            ("approve_optimizationrequest", "Can approve"),
        ]
        constraints = [
            # Twenty concurrent posts with one key make one row: the database
            # decides, not a read-then-write race in Python.
            models.UniqueConstraint(
                fields=["team", "requester", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="request_unique_idempotency_key",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=RequestStatus.values),
                name="request_status_valid",
            ),
        ]
        indexes = [
            # The request list: a team's requests, newest first, by status.
            models.Index(fields=["team", "status", "-created_at"], name="request_team_status_idx"),
            # cache "prefer": an earlier request with the same fingerprint.
            models.Index(fields=["team", "fingerprint"], name="request_fingerprint_idx"),
            # The deadline sweeper: active requests past their deadline.
            models.Index(fields=["status", "deadline"], name="request_deadline_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title or self.problem_kind} ({self.status})"
