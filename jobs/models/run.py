"""A run: one solver on one backend for one request, and what it produced."""

from __future__ import annotations

import hashlib
import json
import zlib
from typing import Any

from django.db import models

from jobs.models.request import OptimizationRequest


class RunStatus(models.TextChoices):
    # Sentence-case labels, as RequestStatus: "Timed out", not "Timed Out".
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    TIMED_OUT = "timed_out", "Timed out"
    CANCELLED = "cancelled", "Cancelled"


RUN_TERMINAL = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.CANCELLED)
RUN_ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)


class Tier(models.TextChoices):
    """Where a result came from, so a reviewer knows what it is evidence of."""

    SIMULATOR = "simulator"
    NOISY_SIMULATOR = "noisy_simulator"
    HARDWARE = "hardware"
    CACHE = "cache"
    CLASSICAL = "classical"


class Run(models.Model):
    request = models.ForeignKey(OptimizationRequest, on_delete=models.CASCADE, related_name="runs")
    solver = models.CharField(max_length=64)
    kind = models.CharField(max_length=16)  # "quantum" | "classical": picks the Celery queue
    backend = models.CharField(max_length=128, blank=True)  # empty for classical solvers
    # The backend asked for, when the team's hard budget sent the run to a
    # simulator instead ("on_budget_exceeded": "simulate"); empty otherwise.
    downgraded_from = models.CharField(max_length=128, blank=True)
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED)
    # Incremented by every claim; a worker's writes carry the attempt it
    # claimed, so a worker that lost its lease cannot overwrite its successor.
    attempt = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    provider_job_id = models.CharField(max_length=255, blank=True)
    # The optimised QAOA angles once a paid (sampled) optimisation finished,
    # saved before the final job like the job id: a retry skips to sampling.
    checkpoint = models.JSONField(default=dict, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # A transient failure's backoff: the reaper must not nudge the run before this.
    not_before = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    circuit = models.JSONField(null=True, blank=True)
    usage = models.JSONField(default=dict, blank=True)
    # What each failed attempt had consumed at the provider before it failed
    # ([{"attempt": 1, "jobs": 3, "quantum_seconds": 2.5}, ...]): settled too.
    failed_usage = models.JSONField(default=list, blank=True)
    trace = models.JSONField(default=list, blank=True)
    error_message = models.TextField(blank=True)
    error_permanent = models.BooleanField(null=True, blank=True)
    tier = models.CharField(max_length=16, choices=Tier.choices, blank=True)
    cache_source = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="cache_copies"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RunStatus.values), name="run_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(attempt__lte=models.F("max_attempts")),
                name="run_attempt_within_cap",
            ),
        ]
        indexes = [
            # The reaper: running runs whose lease expired, queued runs never claimed.
            models.Index(fields=["status", "lease_expires_at"], name="run_lease_idx"),
            models.Index(fields=["status", "enqueued_at"], name="run_enqueued_idx"),
            # cache "prefer": a succeeded run of a request with the same fingerprint.
            models.Index(fields=["request", "status"], name="run_request_status_idx"),
            # Time estimates: the latest succeeded runs of a solver on a backend.
            models.Index(
                fields=["solver", "backend", "status", "-finished_at"], name="run_history_idx"
            ),
        ]

    def __str__(self) -> str:
        where = f" on {self.backend}" if self.backend else ""
        return f"run #{self.pk} {self.solver}{where} ({self.status}, attempt {self.attempt})"

    @property
    def is_terminal(self) -> bool:
        return self.status in RUN_TERMINAL

    @property
    def origin(self) -> Run:
        """The run whose solve this one's results are: a cache copy (tier "cache")
        stands for the run it copies; any other run for itself."""
        return self.cache_source if self.tier == Tier.CACHE and self.cache_source else self


def canonical_counts_json(counts: dict[str, int]) -> bytes:
    return json.dumps(counts, sort_keys=True, separators=(",", ":")).encode()


class Distribution(models.Model):
    """A run's raw measurement counts, stored whole.

    Compressed above a threshold: a 20-qubit run with 100k shots has tens of
    thousands of outcomes, and nothing queries inside it. ``sha256`` is of the
    canonical (sorted, compact) JSON, so the evidence pack can cite a digest
    that does not depend on how the bytes were stored.
    """

    ENCODING_JSON = "json"
    ENCODING_ZLIB = "zlib+json"

    run = models.OneToOneField(Run, on_delete=models.CASCADE, related_name="distribution")
    encoding = models.CharField(max_length=16)
    data = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    shots = models.PositiveIntegerField()
    outcomes = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()  # of the canonical JSON, before compression

    def __str__(self) -> str:
        return f"distribution of run #{self.run_id} ({self.outcomes} outcomes)"

    @classmethod
    def encode(cls, counts: dict[str, int], *, compress_above: int) -> dict[str, Any]:
        raw = canonical_counts_json(counts)
        compressed = len(raw) > compress_above
        return {
            "encoding": cls.ENCODING_ZLIB if compressed else cls.ENCODING_JSON,
            "data": zlib.compress(raw, 6) if compressed else raw,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "shots": sum(counts.values()),
            "outcomes": len(counts),
            "size_bytes": len(raw),
        }

    def counts(self) -> dict[str, int]:
        raw = bytes(self.data)
        if self.encoding == self.ENCODING_ZLIB:
            raw = zlib.decompress(raw)
        counts: dict[str, int] = json.loads(raw)
        return counts


class Candidate(models.Model):
    request = models.ForeignKey(
        OptimizationRequest, on_delete=models.CASCADE, related_name="candidates"
    )
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="candidates")
    assignment = models.JSONField()  # in the problem's own variable order
    bitstring = models.CharField(max_length=2048)  # Qiskit little-endian
    objective = models.FloatField()
    feasible = models.BooleanField()
    probability = models.FloatField()
    count = models.PositiveIntegerField(default=0)
    run_rank = models.PositiveIntegerField()  # position within its run, from 1
    # Position in the request's merged ranking, from 1; null until ranked.
    rank = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["rank", "id"]
        indexes = [models.Index(fields=["request", "rank"], name="candidate_request_rank_idx")]

    def __str__(self) -> str:
        return f"candidate {self.bitstring} (rank {self.rank})"
