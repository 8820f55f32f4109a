"""/healthz says the process is alive; /readyz says it can do work (DB and broker)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ready"
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "vendor": connection.vendor}


def _check_broker() -> dict[str, Any]:
    from hybridreview.celery import app

    try:
        with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            # A bounded wait: a readiness probe must answer even when the broker hangs.
            conn.ensure_connection(max_retries=1, timeout=2)
            transport = conn.transport_cls
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "transport": str(transport)}


def _check_audit() -> dict[str, Any]:
    """The last periodic audit chain check. Reported, never a reason to be
    unready: a broken chain needs a person, and taking the app down would
    only stop the trail from recording what happens next."""
    from approvals.models import AuditHealth

    try:
        health = AuditHealth.objects.filter(pk=1).first()
    except Exception as exc:
        return {"ok": None, "error": type(exc).__name__}
    if health is None:
        return {"ok": None, "checked_at": None}
    return {
        "ok": health.ok,
        "checked_at": health.checked_at.isoformat(),
        "events": health.events,
        "first_bad_seq": health.first_bad_seq,
    }


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "broker": _check_broker()}
    down = [name for name, result in checks.items() if not result["ok"]]
    checks["audit"] = _check_audit()
    body = {"status": "ok" if not down else "unavailable", "down": down, "checks": checks}
    return JsonResponse(body, status=503 if down else 200)
