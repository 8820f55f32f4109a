"""Deployment checks (`manage.py check --deploy`) for what Django's own miss."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

# Caches that live inside one process or on one host's disk.
_LOCAL_CACHES = {
    "django.core.cache.backends.filebased.FileBasedCache",
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register(Tags.caches, deploy=True)
def shared_cache_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The login throttle counts attempts in the cache, and workers
    leave the review figures there for the web. With a per-host cache each
    web replica counts on its own (N replicas allow N times the attempts) and
    the figures a worker built are never seen by the web."""
    backend = settings.CACHES["default"]["BACKEND"]
    if backend not in _LOCAL_CACHES:
        return []
    hint = (
        "Set CACHE_URL to a cache every web and worker process shares, e.g. redis://redis:6379/1."
    )
    message = f"the default cache ({backend.rsplit('.', 1)[-1]}) is not shared between hosts"
    return [Warning(message, hint=hint, id="hybridreview.W001")]
