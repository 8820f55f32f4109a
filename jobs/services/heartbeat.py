"""Worker heartbeats: the periodic proof that a worker is alive."""

from __future__ import annotations

from django.utils import timezone

from hybridreview.correlation import get_correlation_id
from jobs.models import WorkerHeartbeat


def worker_heartbeat_record(*, hostname: str) -> WorkerHeartbeat:
    beat, _ = WorkerHeartbeat.objects.update_or_create(
        hostname=hostname,
        defaults={"seen_at": timezone.now(), "correlation_id": get_correlation_id()},
    )
    return beat
