"""Celery tasks: thin interfaces that take ids and call one service."""

from __future__ import annotations

from celery import shared_task

from jobs import services


@shared_task(name="jobs.heartbeat", ignore_result=True, expires=60)
def heartbeat() -> None:
    services.worker_heartbeat_record(hostname=heartbeat.request.hostname or "unknown")
