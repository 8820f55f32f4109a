"""A real `celery worker` process, over the configured broker and database."""

import time

import pytest

from hybridreview.correlation import correlation_scope
from jobs.models import WorkerHeartbeat
from jobs.tasks import heartbeat


@pytest.mark.slow
def test_a_task_crosses_the_broker_to_a_real_worker_and_keeps_its_correlation_id(
    celery_worker_process,
):
    with correlation_scope("corr-e2e-1"):
        heartbeat.delay()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not WorkerHeartbeat.objects.exists():
        time.sleep(0.2)
    beat = WorkerHeartbeat.objects.get()
    assert beat.correlation_id == "corr-e2e-1"
    assert '"correlation_id": "corr-e2e-1"' in celery_worker_process.log()
