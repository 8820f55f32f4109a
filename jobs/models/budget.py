"""What quantum time may cost: a budget per team and month, the spend ledger, team quotas.

Money is ``Decimal`` with six places (credits are small per shot), never float.

The budget row is the lock: every reservation, settlement and release takes
``select_for_update`` on it before reading ``reserved_credits`` and
``spent_credits``, so concurrent submissions queue on one row instead of
each reading the same "remaining" and together overspending it.

No check constraint bounds ``reserved + spent`` by the limit: a run's actual
cost is recorded as it was, and may exceed its estimate, so ``spent`` can
pass the limit. The limit stops *new* work (``jobs.services.budget``).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from hybridreview.accounts.models import Team
from jobs.models.run import Run

# Credits: 10 digits before the point, 6 after (a shot can cost a millionth).
MAX_DIGITS, PLACES = 16, 6
ZERO = Decimal(0)


def default_thresholds() -> list[float]:
    return [0.8]


class Budget(models.Model):
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="budgets")
    # The first day of the month the budget covers (UTC).
    period = models.DateField()
    limit_credits = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=PLACES)
    # Hard: a submission that would pass the limit is refused (402), or sent
    # to a simulator when it asks to be. Soft: it goes through and alerts.
    hard = models.BooleanField(default=True)
    # Fractions of the limit at which spend raises an alert, e.g. [0.8, 1.0].
    alert_thresholds = models.JSONField(default=default_thresholds, blank=True)
    # Thresholds already alerted this period, so each fires once.
    alerts_raised = models.JSONField(default=list, blank=True)
    reserved_credits = models.DecimalField(
        default=ZERO, max_digits=MAX_DIGITS, decimal_places=PLACES
    )
    spent_credits = models.DecimalField(default=ZERO, max_digits=MAX_DIGITS, decimal_places=PLACES)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period", "team__slug"]
        constraints = [
            models.UniqueConstraint(fields=["team", "period"], name="budget_one_per_team_period"),
            models.CheckConstraint(
                condition=models.Q(period__day=1), name="budget_period_is_first_of_month"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    limit_credits__gte=0, reserved_credits__gte=0, spent_credits__gte=0
                ),
                name="budget_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.period:%Y-%m}"

    @property
    def committed(self) -> Decimal:
        return self.reserved_credits + self.spent_credits

    @property
    def remaining(self) -> Decimal:
        """What new work may still reserve; never negative."""
        return max(ZERO, self.limit_credits - self.committed)


class LedgerKind(models.TextChoices):
    RESERVE = "reserve"  # held at submit: the run's estimate
    SETTLE = "settle"  # charged at the end: the run's actual cost; closes the hold
    RELEASE = "release"  # closed without charge (failed before any billing, cancelled)


class LedgerEntry(models.Model):
    """One movement of credits for one run. Rows are only ever added.

    A run has at most one reserve and at most one closing entry (settle or
    release); the unique constraints make settling twice impossible rather
    than merely unlikely, so a duplicate completion is a no-op.
    """

    budget = models.ForeignKey(Budget, on_delete=models.PROTECT, related_name="entries")
    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(max_length=8, choices=LedgerKind.choices)
    credits = models.DecimalField(max_digits=MAX_DIGITS, decimal_places=PLACES)
    # Denormalised from the run for the spend-per-backend chart.
    backend = models.CharField(max_length=128, blank=True)
    # How the amount was made up: {"tasks", "shots", "quantum_seconds", "attempts", ...}.
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run"],
                condition=models.Q(kind="reserve"),
                name="ledger_one_reserve_per_run",
            ),
            models.UniqueConstraint(
                fields=["run"],
                condition=models.Q(kind__in=["settle", "release"]),
                name="ledger_one_close_per_run",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=LedgerKind.values), name="ledger_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(credits__gte=0), name="ledger_credits_not_negative"
            ),
        ]
        indexes = [
            # Spend charts: settled credits per budget (team, month) and backend.
            models.Index(fields=["budget", "kind", "backend"], name="ledger_budget_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.credits} for run #{self.run_id}"


class TeamQuota(models.Model):
    """Per-team limits checked at submit; an empty field means no limit."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="quota")
    # Queued plus running runs of the team at any moment.
    max_concurrent_runs = models.PositiveIntegerField(null=True, blank=True)
    # Shots of one request: its shots setting times its sampling (quantum) runs.
    max_shots_per_request = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"quota of {self.team}"
