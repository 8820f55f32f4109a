"""Worker liveness per queue, reported by /readyz."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """Last time a worker host took the periodic heartbeat from a queue.

    Beat sends one heartbeat to every queue, so a row proves that this host
    consumes that queue, not only that its process is up. /readyz reports,
    per queue, the workers seen recently; the real-worker tests use it to
    prove a task crossed the broker.
    """

    hostname = models.CharField(max_length=255)
    queue = models.CharField(max_length=64, default="celery")
    seen_at = models.DateTimeField()
    correlation_id = models.CharField(max_length=128, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["hostname", "queue"], name="heartbeat_host_queue_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.hostname} ({self.queue}) at {self.seen_at:%Y-%m-%d %H:%M:%S}"
