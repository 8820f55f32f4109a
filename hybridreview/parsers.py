"""The API's request parser (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]).

Its own module: DRF's views import the parser setting while they load, so
the parser must not live beside code that imports those views.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import IO, Any

from rest_framework import exceptions, parsers

# Far deeper than any request body nests (a batch of QUBOs is about 6 levels):
# anything past this is an attack on code that walks the data, not input.
MAX_JSON_DEPTH = 32


DEEP, OVERFLOW = "deep", "overflow"


def _shape_fault(data: Any, limit: int) -> str | None:
    """DEEP when ``data`` nests deeper than ``limit``, OVERFLOW when it holds a
    number too large for a float, else None: one walk, no paths built."""
    overflow = False
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, float):
            overflow = overflow or not math.isfinite(value)
            continue
        if not isinstance(value, Mapping | list):
            continue
        if depth > limit:
            return DEEP
        children = value.values() if isinstance(value, Mapping) else value
        stack.extend((child, depth + 1) for child in children)
    return OVERFLOW if overflow else None


def _overflowing_number(data: Any) -> str | None:
    """The path (``problem.graph.edges[0][2]``) of the first number too large for a
    float, or None. Python's decoder reads 1e400 as infinity without a word."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return path
        if isinstance(value, Mapping):
            stack.extend((v, f"{path}.{k}" if path else str(k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(value))
    return None


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, bounded in depth: a body of a thousand nested
    brackets made the decoder (or the validators after it) raise
    RecursionError, a 500 in HTML. (Size is bounded before parsing, by
    BodySizeLimitMiddleware; Django reads no more than Content-Length.)
    A number past any float (1e400) is refused at its path: the decoder makes
    it infinity, which every later check would call "not valid JSON" at best.
    """

    def parse(
        self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None
    ) -> Any:
        too_deep = f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels."
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(too_deep) from None
        fault = _shape_fault(data, MAX_JSON_DEPTH)
        if fault == DEEP:
            raise exceptions.ParseError(too_deep)
        if fault == OVERFLOW:  # rare: only now walk again to name where
            path = _overflowing_number(data) or "body"
            raise exceptions.ValidationError({path: ["is a number too large for a float"]})
        return data
