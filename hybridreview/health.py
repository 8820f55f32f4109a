"""/healthz says the process is alive; /readyz says it can do work (DB and broker)."""

from __future__ import annotations

from collections.abc import Callable
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


def _check_workers() -> dict[str, Any]:
    """Whether some worker consumes each queue. Reported, never a reason to be
    unready: the web still accepts and stores requests, whose runs wait in
    the queue for a worker (or fall back to classical results at their deadline)."""
    from jobs.selectors import worker_queues_liveness

    try:
        return worker_queues_liveness()
    except Exception as exc:
        return {"ok": None, "error": type(exc).__name__}


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "broker": _check_broker()}
    down = [name for name, result in checks.items() if not result["ok"]]
    checks["audit"] = _check_audit()
    checks["workers"] = _check_workers()
    body = {"status": "ok" if not down else "unavailable", "down": down, "checks": checks}
    return JsonResponse(body, status=503 if down else 200)


class ProbeMiddleware:
    """Answers /healthz and /readyz before Django validates the Host header.

    Kubernetes probes and load-balancer checks address the pod or container
    by IP, a host ALLOWED_HOSTS rightly does not list: through the normal
    stack they would get 400 and the orchestrator would restart a healthy
    process. Neither answer builds a URL from the Host header, so skipping
    the check here opens nothing. Placed after the correlation id, before
    the security middleware (which would redirect a plain-HTTP probe).
    """

    VIEWS = {"/healthz": healthz, "/readyz": readyz}

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        view = self.VIEWS.get(request.path_info)
        return view(request) if view else self.get_response(request)
