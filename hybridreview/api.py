"""One error shape for the whole API.

Every 4xx body is ``{"detail": "<summary>", "errors": [{"field": "<path>", "message": "..."}]}``
where ``field`` is a dotted path into the request body such as
``problem.graph.edges[3][1]`` (or ``null`` for errors not tied to one field).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.openapi import AutoSchema as _SpectacularAutoSchema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def flatten_errors(detail: Any, prefix: str = "") -> Iterator[tuple[str | None, str]]:
    """Walk DRF's nested error structure, yielding (field path, message)."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            if key in ("non_field_errors", "detail"):
                yield from flatten_errors(value, prefix)
                continue
            if isinstance(key, int):  # DRF >= 3.15 keys list-item errors by index
                yield from flatten_errors(value, f"{prefix}[{key}]")
                continue
            key = str(key)
            # Keys that already are paths (from quantum's FieldError) stay whole.
            path = key if (not prefix or key.startswith(prefix + ".")) else f"{prefix}.{key}"
            yield from flatten_errors(value, path)
    elif isinstance(detail, list):
        if all(not isinstance(v, dict | list) for v in detail):
            for v in detail:
                yield (prefix or None, str(v))
        else:
            for i, v in enumerate(detail):
                if v in ({}, []):
                    continue
                yield from flatten_errors(v, f"{prefix}[{i}]")
    else:
        yield (prefix or None, str(detail))


def error_body(summary: str, errors: list[dict[str, str | None]] | None = None) -> dict[str, Any]:
    return {"detail": summary, "errors": errors or []}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = [{"field": f, "message": m} for f, m in flatten_errors(exc.detail)]
        fields = ", ".join(sorted({e["field"] for e in errors if e["field"]}))
        summary = (
            f"Invalid input: {fields}."
            if fields
            else str(errors[0]["message"] if errors else "Invalid input.")
        )
        response.data = error_body(summary, errors)
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = error_body(str(response.data["detail"]))
    return response


class BodySizeLimitMiddleware:
    """Refuse oversized API bodies with 413 before anything parses them.

    DRF reads the raw stream itself, so Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    does not guard JSON bodies; this does, from Content-Length.
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit and request.path.startswith("/api/"):
            body = error_body(f"Request body is {length} bytes; the limit is {limit} bytes.")
            return JsonResponse(body, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
        response: HttpResponse = self.get_response(request)
        return response


class AutoSchema(_SpectacularAutoSchema):
    """Names nested serializers after the API class that holds them.

    Every API class here nests its own ``InputSerializer``/``OutputSerializer``
    (one class per operation); drf-spectacular would name them all
    ``Input``/``Output`` and merge unrelated shapes into one component.
    ``ApproveApi.InputSerializer`` becomes ``ApproveInput``.
    """

    def get_serializer_name(
        self, serializer: Any, direction: Literal["request", "response"]
    ) -> str:
        cls = serializer.__class__
        outer, _, inner = cls.__qualname__.rpartition(".")
        if not outer:
            name: str = super().get_serializer_name(serializer, direction)
            return name
        outer = outer.removesuffix("Api").removesuffix("View")
        return f"{outer}{inner.removesuffix('Serializer')}"
