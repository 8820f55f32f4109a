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


@pytest.mark.slow
@pytest.mark.postgres
def test_a_worker_keeps_its_database_connection_between_tasks(celery_worker_process):
    # Celery's default closes it around every task: a new PostgreSQL backend
    # per run. The worker's connection must outlive the task that opened it.
    from django.db import connection

    def worker_backends() -> set[int]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            return {row[0] for row in cursor.fetchall()}

    heartbeat.delay()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not WorkerHeartbeat.objects.exists():
        time.sleep(0.2)
    assert WorkerHeartbeat.objects.exists(), celery_worker_process.log()[-3000:]
    time.sleep(1)  # past the task's end, where Celery's default would close it
    first = worker_backends()
    assert first, "the worker closed its connection when the task ended"
    WorkerHeartbeat.objects.all().delete()
    heartbeat.delay()
    while time.monotonic() < deadline and not WorkerHeartbeat.objects.exists():
        time.sleep(0.2)
    assert worker_backends() & first, "the second task opened a new connection"


@pytest.mark.slow
def test_readyz_sees_a_real_worker_consume_every_queue(celery_worker_process, client):
    from django.conf import settings

    for queue in settings.WORKER_QUEUES:  # what beat sends every 30 s
        heartbeat.apply_async(queue=queue)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and WorkerHeartbeat.objects.count() < len(
        settings.WORKER_QUEUES
    ):
        time.sleep(0.2)
    workers = client.get("/readyz").json()["checks"]["workers"]
    assert workers["ok"] is True, (workers, celery_worker_process.log()[-3000:])
    assert {q: w["live_workers"] for q, w in workers["queues"].items()} == dict.fromkeys(
        settings.WORKER_QUEUES, 1
    )
