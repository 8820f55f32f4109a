"""Worker heartbeats: the periodic proof that some worker consumes each queue."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from hybridreview.correlation import get_correlation_id
from jobs.models import WorkerHeartbeat

# Hosts come and go (every rollout names new pods): forget one after this long.
FORGET_AFTER = timedelta(days=1)


def worker_heartbeat_record(*, hostname: str, queue: str = "celery") -> WorkerHeartbeat:
    now = timezone.now()
    beat, _ = WorkerHeartbeat.objects.update_or_create(
        hostname=hostname,
        queue=queue,
        defaults={"seen_at": now, "correlation_id": get_correlation_id()},
    )
    WorkerHeartbeat.objects.filter(seen_at__lt=now - FORGET_AFTER).delete()
    return beat
