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
from django.middleware.common import CommonMiddleware as _CommonMiddleware
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.openapi import AutoSchema as _SpectacularAutoSchema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class StrictSerializer(serializers.Serializer[Any]):
    """Refuses fields it does not know, so a typo ("shot") is a 400, not silently
    ignored; and values of the wrong JSON type, which DRF would coerce ("12" or
    12.0 for an integer, true for a number, 5 for a string, "yes" for a flag)."""

    # Query strings carry only text: serializers of query parameters set this False.
    json_types = True

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields))
            if unknown:
                allowed = ", ".join(sorted(self.fields))
                raise serializers.ValidationError(
                    {name: [f"is not a known field; allowed: {allowed}"] for name in unknown}
                )
            if self.json_types:
                wrong = {
                    name: [message]
                    for name, field in self.fields.items()
                    if name in data and (message := json_type_error(field, data[name]))
                }
                if wrong:
                    raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)


def json_type_error(field: serializers.Field[Any, Any, Any, Any], value: Any) -> str:
    """Why ``value`` is the wrong JSON type for ``field``, or "" (null is the field's
    own business: allow_null)."""
    if value is None or field.read_only:
        return ""
    if isinstance(field, serializers.ListField) and isinstance(value, list):
        bad = next((e for v in value if (e := json_type_error(field.child, v))), "")
        return f"items {bad}" if bad else ""  # "items must be a number; got true"
    for kind, expected, fits in _JSON_TYPES:
        if isinstance(field, kind):
            return "" if fits(value) else f"must be {expected}; got {_json_type_name(value)}"
    if isinstance(field, serializers.ChoiceField) and all(
        isinstance(choice, str) for choice in field.choices
    ):
        return "" if isinstance(value, str) else f"must be a string; got {_json_type_name(value)}"
    return ""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# Field class (subclasses too: SlugField is a CharField), the JSON type it takes
# in words, and the test. true is an int to Python, not a number to JSON.
_JSON_TYPES: tuple[tuple[type[serializers.Field[Any, Any, Any, Any]], str, Any], ...] = (
    (serializers.BooleanField, "true or false", lambda v: isinstance(v, bool)),
    (serializers.IntegerField, "a whole number", lambda v: _is_number(v) and isinstance(v, int)),
    (serializers.FloatField, "a number", _is_number),
    # A string keeps every decimal place of an amount.
    (
        serializers.DecimalField,
        "a number or a string of one",
        lambda v: _is_number(v) or isinstance(v, str),
    ),
    (serializers.CharField, "a string", lambda v: isinstance(v, str)),
)


def _json_type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    for kind, name in ((str, "a string"), (int, "a whole number"), (float, "a fraction")):
        if isinstance(value, kind):
            return name
    return "a list" if isinstance(value, list) else "an object"


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


# A message quoting a rejected value (an option string of megabytes) is cut
# here: the caller needs the field and the reason, not their input back.
MESSAGE_MAX = 500


def _clip(message: str) -> str:
    if len(message) <= MESSAGE_MAX:
        return message
    return f"{message[:MESSAGE_MAX]}... ({len(message) - MESSAGE_MAX} more characters)"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = [{"field": f, "message": _clip(m)} for f, m in flatten_errors(exc.detail)]
        fields = ", ".join(sorted({e["field"] for e in errors if e["field"]}))
        summary = (
            f"Invalid input: {fields}."
            if fields
            else str(errors[0]["message"] if errors else "Invalid input.")
        )
        response.data = error_body(summary, errors)
    elif isinstance(response.data, dict) and "detail" in response.data:
        # A 404 or 409 may quote what was asked for, a path segment of any length.
        response.data = error_body(_clip(str(response.data["detail"])))
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


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class CommonMiddleware(_CommonMiddleware):
    """Django's, without APPEND_SLASH under /api/.

    A POST to /api/v1/requests (no slash) raised RuntimeError under DEBUG and
    was redirected with 301 otherwise, which clients follow as a GET: the
    caller got the request list back and nothing was submitted. An API path
    without its slash now gets a JSON 404 that names the right one.
    """

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        return False if _is_api(request) else bool(super().should_redirect_with_slash(request))


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: JSON in the API's error shape under /api/, the page elsewhere."""
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return unknown_endpoint(request)


UNKNOWN_ENDPOINT = "api-unknown-endpoint"


@csrf_exempt  # it changes nothing; a token client's POST must get this JSON, not a CSRF 403
def unknown_endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """The JSON 404 for a path under /api/ that names no endpoint.

    Routed as the last URL pattern under /api/ as well as being the 404
    handler's answer there: under DEBUG Django answers an unresolved path
    with its HTML debug page and never calls handler404, so `make run` gave
    API clients HTML where production gave JSON.
    """
    message = f"No API endpoint at {request.path}."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.url_name != UNKNOWN_ENDPOINT:
            message += f" Did you mean {request.path}/ (API paths end with a slash)?"
    return JsonResponse(error_body(_clip(message)), status=status.HTTP_404_NOT_FOUND)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: JSON under /api/, the page elsewhere. The id finds the logged traceback."""
    if not _is_api(request):
        return defaults.server_error(request)
    from hybridreview.correlation import get_correlation_id

    message = f"Internal server error; it was logged with request id {get_correlation_id()}."
    return JsonResponse(error_body(message), status=status.HTTP_500_INTERNAL_SERVER_ERROR)


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
        return _nested_name(outer, inner)


def _nested_name(outer: str, inner: str) -> str:
    """``ApproveApi.InputSerializer`` -> ``ApproveInput``."""
    return f"{outer.removesuffix('Api').removesuffix('View')}{inner.removesuffix('Serializer')}"


def page_of(serializer: Any) -> Any:
    """The OpenAPI response for a page of ``serializer`` (hybridreview.pagination):
    without it, lists served from an APIView were documented as bare arrays."""
    from drf_spectacular.utils import inline_serializer

    outer, _, inner = serializer.__qualname__.rpartition(".")
    name = _nested_name(outer, inner) if outer else serializer.__name__.removesuffix("Serializer")
    return inline_serializer(
        name=f"Paginated{name}List",
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer(many=True),
        },
    )
