"""The Celery app. Tasks carry the correlation id of the request that caused them."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hybridreview.settings.local")

app = Celery("hybridreview")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Not "correlation_id": Celery already uses that name for the task id.
_HEADER = "hr_correlation_id"


@signals.before_task_publish.connect
def _attach_correlation_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    from hybridreview.correlation import get_correlation_id

    if headers is not None and not headers.get(_HEADER):
        headers[_HEADER] = get_correlation_id()


@signals.task_prerun.connect
def _enter_correlation_scope(task: Any = None, **_: Any) -> None:
    from hybridreview.correlation import _current, new_correlation_id

    value = getattr(task.request, _HEADER, None) if task is not None else None
    task.request._hr_cid_token = _current.set(value or new_correlation_id())


@signals.task_postrun.connect
def _leave_correlation_scope(task: Any = None, **_: Any) -> None:
    from hybridreview.correlation import _current

    token = getattr(task.request, "_hr_cid_token", None) if task is not None else None
    if token is not None:
        _current.reset(token)


@signals.task_prerun.connect
@signals.task_postrun.connect
def _recycle_database_connections(task: Any = None, **_: Any) -> None:
    """Django's rule for web requests, applied around each task: keep a connection
    for CONN_MAX_AGE, drop it once it errors or ages out.

    Celery's own default closes every connection before and after every task,
    so each run paid for a new PostgreSQL backend (connect, authenticate, cold
    catalogue caches): about 8 ms of a QAOA run's claim on the 2-core bench
    machine. CELERY_DB_REUSE_MAX (settings) turns that default off; this
    handler puts Django's age and health rules in its place. Not for an eager
    task (tests), which runs inside its caller's transaction and connection.
    """
    from django.db import close_old_connections

    if task is not None and getattr(task.request, "is_eager", False):
        return
    close_old_connections()


@signals.setup_logging.connect
def _use_django_logging(**_: Any) -> None:
    # Connecting this signal stops Celery from replacing the root logger, so
    # worker logs use the JSON formatter and correlation filter from settings.
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
