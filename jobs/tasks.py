"""Celery tasks: thin interfaces that take ids and call one service.

Delivery guarantees come from settings (acks_late, reject on worker loss,
prefetch 1, JSON only); correctness does not depend on them: a run is
claimed by a conditional update, so a duplicate message does nothing, and
the reaper re-sends what a lost message never delivered.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import InterfaceError, OperationalError

from jobs import services

# Database blips (a restarted PostgreSQL, a busy SQLite file) are worth a few
# quick retries; backend errors are not handled here but in the service,
# whose attempt cap lives in the database.
_DB_RETRY: dict[str, Any] = {
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(bind=True, name="jobs.heartbeat", ignore_result=True, expires=60)
def heartbeat(self: Any) -> None:
    # Beat sends one to each queue (settings.WORKER_QUEUES); the queue a
    # message came from is its routing key.
    queue = (self.request.delivery_info or {}).get("routing_key") or "celery"
    services.worker_heartbeat_record(hostname=self.request.hostname or "unknown", queue=queue)


@shared_task(bind=True, name="jobs.execute_quantum_run", ignore_result=True, **_DB_RETRY)
def execute_quantum_run(self: Any, run_id: int) -> str:
    return services.run_execute(run_id=run_id, worker=self.request.hostname or "")


@shared_task(bind=True, name="jobs.execute_classical_run", ignore_result=True, **_DB_RETRY)
def execute_classical_run(self: Any, run_id: int) -> str:
    return services.run_execute(run_id=run_id, worker=self.request.hostname or "")


@shared_task(bind=True, name="jobs.execute_classical_runs", ignore_result=True, **_DB_RETRY)
def execute_classical_runs(self: Any, run_ids: list[int]) -> list[str]:
    """A group of small classical runs (see JOBS_GROUP_SIZE), claimed and finished together."""
    return services.runs_execute_group(run_ids=run_ids, worker=self.request.hostname or "")


@shared_task(name="jobs.reap_runs", ignore_result=True, expires=30, **_DB_RETRY)
def reap_runs() -> None:
    services.runs_reap()


@shared_task(name="jobs.sweep_deadlines", ignore_result=True, expires=10, **_DB_RETRY)
def sweep_deadlines() -> None:
    services.requests_sweep_deadlines()


@shared_task(bind=True, name="jobs.execute_campaign_batch", ignore_result=True, **_DB_RETRY)
def execute_campaign_batch(self: Any, campaign_id: int, backend: str) -> list[str]:
    return services.campaign_run_batch(
        campaign_id=campaign_id, backend=backend, worker=self.request.hostname or ""
    )


@shared_task(name="jobs.dispatch_campaigns", ignore_result=True, expires=10, **_DB_RETRY)
def dispatch_campaigns() -> None:
    services.campaigns_dispatch_due()
