"""The API's request parser (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]).

Its own module: DRF's views import the parser setting while they load, so
the parser must not live beside code that imports those views.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from rest_framework import exceptions, parsers

# Far deeper than any request body nests (a batch of QUBOs is about 6 levels):
# anything past this is an attack on code that walks the data, not input.
MAX_JSON_DEPTH = 32


def _deeper_than(data: Any, limit: int) -> bool:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if not isinstance(value, Mapping | list):
            continue
        if depth > limit:
            return True
        children = value.values() if isinstance(value, Mapping) else value
        stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, bounded in depth: a body of a thousand nested
    brackets made the decoder (or the validators after it) raise
    RecursionError, a 500 in HTML. (Size is bounded before parsing, by
    BodySizeLimitMiddleware; Django reads no more than Content-Length.)
    """

    def parse(
        self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None
    ) -> Any:
        too_deep = f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels."
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(too_deep) from None
        if _deeper_than(data, MAX_JSON_DEPTH):
            raise exceptions.ParseError(too_deep)
        return data
