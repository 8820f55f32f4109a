"""Worker liveness, reported by /readyz."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """Last time each worker host ran the periodic heartbeat task.

    /readyz reports it so an operator sees a dead worker pool, and the
    real-worker test uses it to prove a task crossed the broker.
    """

    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField()
    correlation_id = models.CharField(max_length=128, blank=True)

    def __str__(self) -> str:
        return f"{self.hostname} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
