"""Review, sign-off and the audit trail.

The audit trail is append-only: database triggers (approvals/immutability.py)
refuse UPDATE, DELETE and TRUNCATE, and every row's hash chains to the one
before it, so an edit made behind the triggers' back is still detected by
`manage.py verify_audit`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class AuditEvent(models.Model):
    """One thing that happened: who (or which task), what, to which object, why.

    ``seq`` is the position in the chain. It is assigned under the append lock
    as head + 1 rather than by a database sequence, because a sequence leaves
    holes when a transaction rolls back, and a hole must mean "a row was
    deleted". See approvals.audit for the exact hashed fields.
    """

    seq = models.BigIntegerField(primary_key=True)
    time = models.DateTimeField()
    # PROTECT: a user who appears in the trail is deactivated, never deleted
    # (SET_NULL would be an UPDATE, which the trigger refuses anyway).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The username at the time, so the trail reads the same after a rename.
    actor_label = models.CharField(max_length=150, blank=True)
    # For events with no person behind them: the task or command, e.g. "task:jobs.run_execute".
    system = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    # The optimisation request the event belongs to: the request itself or its
    # run, candidate, recommendation, decision... One indexed column gives a
    # request its whole timeline. Not a foreign key: audit rows outlive anything.
    request_ref = models.BigIntegerField(null=True, blank=True)
    # Scopes the audit page: admins and auditors see their teams' events.
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True)
    correlation_id = models.CharField(max_length=128, blank=True)
    # Text, not GenericIPAddressField: PostgreSQL's inet would re-spell some
    # IPv6 forms on the way back and break the hash.
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [
            # The audit page's object filter.
            models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_timeline"),
            # A request's timeline (page, API, evidence pack).
            models.Index(fields=["request_ref", "seq"], name="audit_request_timeline"),
            # The audit page scoped to the viewer's teams, newest first.
            models.Index(fields=["team", "seq"], name="audit_team_seq"),
            # The audit page's action filter over a time range.
            models.Index(fields=["action", "time"], name="audit_action_time"),
            # No actor index: the actor filter matches part of a name (icontains),
            # which a b-tree cannot serve, and every append would pay for one.
        ]

    def __str__(self) -> str:
        who = self.actor_label or self.system or "anonymous"
        return f"#{self.seq} {self.action} by {who}"


class AuditHealth(models.Model):
    """The result of the last periodic chain check (one row, pk=1).

    A row rather than a cache key so the web process (/readyz) sees what the
    beat-driven worker found.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    checked_at = models.DateTimeField()
    ok = models.BooleanField()
    events = models.BigIntegerField(default=0)
    head_seq = models.BigIntegerField(null=True, blank=True)
    head_hash = models.CharField(max_length=64, blank=True)
    first_bad_seq = models.BigIntegerField(null=True, blank=True)
    problem = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"audit chain {'ok' if self.ok else 'BROKEN'} at {self.checked_at:%Y-%m-%d %H:%M}"


# Object permissions on optimisation requests, with real foreign keys instead
# of guardian's generic (content type, text pk) pair: the permission filter on
# every request list becomes an indexed join, and a deleted request takes its
# grants with it. Guardian finds these models through `content_object`.
class RequestUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("jobs.OptimizationRequest", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class RequestGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("jobs.OptimizationRequest", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


# Review and sign-off (approvals/services). Every row below is written by a
# service that holds the request's row lock and audits the change in the same
# transaction; none is edited afterwards except a signature being voided.


class Recommendation(models.Model):
    """An analyst's pick among a request's ranked candidates, with their reasons."""

    request = models.ForeignKey(
        "jobs.OptimizationRequest", on_delete=models.PROTECT, related_name="recommendations"
    )
    candidate = models.ForeignKey("jobs.Candidate", on_delete=models.PROTECT, related_name="+")
    analyst = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    comment = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # ready_for_review -> recommended happens once; the row mirrors that.
            models.UniqueConstraint(fields=["request"], name="recommendation_one_per_request"),
        ]

    def __str__(self) -> str:
        return f"recommendation of candidate #{self.candidate_id} on request #{self.request_id}"


class Comment(models.Model):
    request = models.ForeignKey(
        "jobs.OptimizationRequest", on_delete=models.PROTECT, related_name="comments"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["request", "created_at"], name="comment_request_time")]

    def __str__(self) -> str:
        return f"comment #{self.pk} on request #{self.request_id}"


class ApprovalPolicy(models.Model):
    """How many approvers must sign a team's requests, and who may not.

    A team without a row gets the defaults (one approval, no cost threshold).
    Changed only through ``approvals.services.policy_update`` (admins, audited).
    """

    team = models.OneToOneField(
        "accounts.Team", on_delete=models.PROTECT, related_name="approval_policy"
    )
    approvals_required = models.PositiveSmallIntegerField(default=1)
    approvals_required_above_cost = models.PositiveSmallIntegerField(default=2)
    # Requests costing more than this (credits settled for their runs, as in
    # jobs' ledger) need approvals_required_above_cost signatures; null: no threshold.
    cost_threshold_credits = models.DecimalField(
        max_digits=16, decimal_places=6, null=True, blank=True
    )
    recommender_may_not_approve = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name_plural = "approval policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(approvals_required__gte=1), name="policy_at_least_one_approval"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    approvals_required_above_cost__gte=models.F("approvals_required")
                ),
                name="policy_above_cost_not_fewer",
            ),
            models.CheckConstraint(
                condition=models.Q(cost_threshold_credits__isnull=True)
                | models.Q(cost_threshold_credits__gte=0),
                name="policy_threshold_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"approval policy of {self.team_id}"


class SignatureKind(models.TextChoices):
    APPROVE = "approve"
    REJECT = "reject"


class SignatureMeaning(models.TextChoices):
    """What an approver's signature says; a rejection always means "rejected"."""

    EXECUTION = "approved for execution", "Approved for execution"
    REPORTING = "approved for reporting", "Approved for reporting"
    EXPERIMENT = "approved for a limited trial", "Approved for a limited trial"
    REJECTED = "rejected", "Rejected"


class Signature(models.Model):
    """One approver signing (approving or rejecting) one request.

    ``digest`` is the SHA-256 of what was signed (approvals.digest). A re-run
    voids the pending approvals of a request (``voided_at``); the row stays.
    """

    request = models.ForeignKey(
        "jobs.OptimizationRequest", on_delete=models.PROTECT, related_name="signatures"
    )
    # Copied from the request so the database itself can refuse a requester
    # signing their own request (a check constraint sees only its own row).
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures"
    )
    printed_name = models.CharField(max_length=300)
    kind = models.CharField(max_length=8, choices=SignatureKind.choices)
    meaning = models.CharField(max_length=64, choices=SignatureMeaning.choices)
    candidate = models.ForeignKey(
        "jobs.Candidate", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    comment = models.TextField(blank=True)
    digest = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["signed_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(signer=models.F("requester")),
                name="signature_signer_not_requester",
            ),
            models.CheckConstraint(
                condition=models.Q(kind=SignatureKind.APPROVE, candidate__isnull=False)
                | models.Q(kind=SignatureKind.REJECT, candidate__isnull=True),
                name="signature_candidate_iff_approve",
            ),
            # One live signature per person per request: N approvals are N people.
            models.UniqueConstraint(
                fields=["request", "signer"],
                condition=models.Q(voided_at__isnull=True),
                name="signature_one_live_per_signer",
            ),
        ]
        indexes = [
            models.Index(fields=["request", "signed_at"], name="signature_request_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of request #{self.request_id} by {self.printed_name}"


class ImmutableRowError(RuntimeError):
    pass


class Decision(models.Model):
    """An approved request's outcome, the only thing consumers read. Never changes.

    The chosen candidate's facts are copied (assignment, objective,
    provenance, cost) so the decision reads the same whatever happens to the
    rows it came from.
    """

    request = models.OneToOneField(
        "jobs.OptimizationRequest", on_delete=models.PROTECT, related_name="decision"
    )
    # The request's team, copied: the consumer's list is "my teams' decisions, newest first".
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="decisions")
    candidate = models.ForeignKey("jobs.Candidate", on_delete=models.PROTECT, related_name="+")
    assignment = models.JSONField()
    bitstring = models.CharField(max_length=2048)
    objective = models.FloatField()
    feasible = models.BooleanField()
    # {"run", "solver", "backend", "tier", "fallback", "fallback_reason"}
    provenance = models.JSONField()
    digest = models.CharField(max_length=64)
    cost_credits = models.DecimalField(max_digits=16, decimal_places=6)
    approvals_required = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["team", "-created_at"], name="decision_team_created"),
        ]

    def __str__(self) -> str:
        return f"decision #{self.pk} on request #{self.request_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ImmutableRowError("A decision never changes once made.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise ImmutableRowError("A decision is never deleted.")
