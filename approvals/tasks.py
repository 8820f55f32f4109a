"""Celery tasks: thin interfaces that call one service."""

from __future__ import annotations

from celery import shared_task

from approvals import audit


@shared_task(name="approvals.verify_audit_chain", ignore_result=True, expires=3000)
def verify_audit_chain() -> None:
    audit.audit_health_check()


@shared_task(name="approvals.anchor_audit_head", ignore_result=True, expires=3600)
def anchor_audit_head() -> None:
    audit.anchor_write()


@shared_task(name="approvals.warm_figures", ignore_result=True, expires=3600)
def warm_figures(request_id: int) -> None:
    from approvals.figures import figures_warm

    figures_warm(request_id=request_id)
