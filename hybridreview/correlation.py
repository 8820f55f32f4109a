"""Correlation ids: one per HTTP request, carried into every Celery task it causes.

The id lives in a ContextVar so that log records, audit events and task
headers all read the same value without threading it through every call.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_current: ContextVar[str] = ContextVar("correlation_id", default="")
# Accept a caller's id only if it is a plain token, so logs cannot be forged
# with newlines or padded with megabytes.
_VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def get_correlation_id() -> str:
    return _current.get()


def new_correlation_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def correlation_scope(value: str | None) -> Iterator[str]:
    token = _current.set(value or new_correlation_id())
    try:
        yield _current.get()
    finally:
        _current.reset(token)


class CorrelationIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER, "")
        value = incoming if _VALID.match(incoming) else new_correlation_id()
        with correlation_scope(value) as cid:
            request.correlation_id = cid  # type: ignore[attr-defined]
            response = self.get_response(request)
        response[HEADER] = cid
        return response


class CorrelationIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = _current.get()
        return True
