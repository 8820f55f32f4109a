"""Structural validation: a payload against its published JSON Schema, as ``FieldError``s.

jsonschema costs ~10 us per keyword per value, so 100k edges take ~4 s: too
slow for a web request. The schema itself is therefore split once into a
*light* schema (with the ``items`` of big numeric arrays removed) that
jsonschema checks as usual, and the removed item schemas, which a tight
Python loop checks by reading their own ``type``/``minimum``/``maximum``/
``minItems``/``maxItems``/``prefixItems``. Items that fail the loop are
handed back to jsonschema one by one for the message, so the published
schema stays the single source of truth and the messages are the same
either way.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from quantum.errors import FieldError
from quantum.problems.limits import MAX_REPORTED_ERRORS
from quantum.problems.schemas import schema_for

if TYPE_CHECKING:
    from jsonschema import ValidationError
    from jsonschema.protocols import Validator

Path = tuple[str | int, ...]
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MAX_SHOWN_CHARS = 60


@dataclass(frozen=True)
class _FastArray:
    path: Path  # where the array sits in the payload (through object properties only)
    item_schema: dict[str, Any]


@dataclass(frozen=True)
class _SplitSchema:
    light: Validator
    fast_arrays: tuple[_FastArray, ...]


def structural_errors(payload: object, version: str, kind: str) -> list[FieldError]:
    """Every structural error in ``payload``, capped at ``MAX_REPORTED_ERRORS``."""
    split = _split_schema(version, kind)
    found: list[FieldError] = []
    errors = _chain(
        split.light.iter_errors(cast(Any, payload)),
        *(_fast_array_errors(payload, fast) for fast in split.fast_arrays),
    )
    for error, prefix in errors:
        for field_error in _field_errors(error, prefix):
            if field_error not in found:
                found.append(field_error)
        # Everything is lazy: stopping here spares checking 100k bad items.
        if len(found) >= MAX_REPORTED_ERRORS:
            break
    return found[:MAX_REPORTED_ERRORS]


def format_path(parts: Iterable[str | int]) -> str:
    """``["graph", "edges", 3, 1]`` -> ``problem.graph.edges[3][1]``."""
    out = "problem"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.match(part):
            out += f".{part}"
        else:
            out += f"[{json.dumps(part)}]"
    return out


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):  # not tuple: jsonschema's "array" is list only
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def shown(value: object) -> str:
    """A value echoed into a message, cut short: it came from the user."""
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN_CHARS else text[: _MAX_SHOWN_CHARS - 3] + "..."


def _chain(
    light: Iterable[ValidationError], *fast: Iterable[tuple[ValidationError, Path]]
) -> Iterator[tuple[ValidationError, Path]]:
    for error in light:
        yield error, ()
    for errors in fast:
        yield from errors


def _fast_array_errors(payload: object, fast: _FastArray) -> Iterator[tuple[ValidationError, Path]]:
    values = _lookup(payload, fast.path)
    if not isinstance(values, list):
        return  # absent or mistyped: the light schema reports that
    schema_json = json.dumps(fast.item_schema, sort_keys=True)
    item_ok, item_validator = _item_check(schema_json), _validator_for(schema_json)
    for index, item in enumerate(values):
        if not item_ok(item):
            for error in item_validator.iter_errors(item):
                yield error, (*fast.path, index)


def _lookup(payload: object, path: Path) -> object:
    node = payload
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


# ---- the fast checks: a small, exact reading of the keywords the split keeps

Check = Callable[[object], bool]


@cache
def _item_check(schema_json: str) -> Check:
    schema = json.loads(schema_json)
    if schema.get("type") != "array":
        return _number_check(schema)
    low, high = schema.get("minItems", 0), schema.get("maxItems", math.inf)
    if "prefixItems" in schema:
        checks = tuple(_number_check(s) for s in schema["prefixItems"])

        def tuple_ok(item: object) -> bool:
            return (
                type(item) is list
                and low <= len(item) <= high
                and all(check(v) for check, v in zip(checks, item, strict=False))
            )

        return tuple_ok
    inner = _number_check(schema["items"])

    def row_ok(item: object) -> bool:
        return type(item) is list and low <= len(item) <= high and all(map(inner, item))

    return row_ok


def _number_check(schema: Mapping[str, Any]) -> Check:
    low, high = schema.get("minimum", -math.inf), schema.get("maximum", math.inf)
    integer = schema["type"] == "integer"

    def number_ok(value: object) -> bool:
        # Exact types: bool is an int subclass but not a JSON number. NaN fails
        # the comparison; jsonschema then finds nothing and the semantic
        # checks report it as non-finite.
        kind = type(value)
        if kind is int:
            return bool(low <= cast(int, value) <= high)
        if kind is float:
            number = cast(float, value)
            return (not integer or number.is_integer()) and bool(low <= number <= high)
        return False

    return number_ok


# ---- splitting the schema, once per (version, kind)

_SCALAR_KEYS = frozenset({"type", "minimum", "maximum", "default"})
_TUPLE_KEYS = frozenset({"type", "minItems", "maxItems", "prefixItems", "default"})
_ROW_KEYS = frozenset({"type", "minItems", "maxItems", "items", "default"})


def _is_fast_number(schema: Any) -> bool:
    return (
        isinstance(schema, dict)
        and schema.keys() <= _SCALAR_KEYS
        and schema.get("type") in ("number", "integer")
    )


def _is_fast_item(schema: Any) -> bool:
    """Only shapes whose every keyword ``_item_check`` implements exactly."""
    if _is_fast_number(schema):
        return True
    if not isinstance(schema, dict) or schema.get("type") != "array":
        return False
    if "prefixItems" in schema:
        return (
            schema.keys() <= _TUPLE_KEYS
            # items beyond the prefix are unconstrained unless maxItems caps them
            and schema.get("maxItems", math.inf) <= len(schema["prefixItems"])
            and all(_is_fast_number(s) for s in schema["prefixItems"])
        )
    return schema.keys() <= _ROW_KEYS and _is_fast_number(schema.get("items"))


@cache
def _split_schema(version: str, kind: str) -> _SplitSchema:
    light = json.loads(json.dumps(schema_for(version, kind)))  # a private deep copy
    fast: list[_FastArray] = []
    _strip_fast_items(light, (), fast)
    return _SplitSchema(light=_validator_for(json.dumps(light)), fast_arrays=tuple(fast))


def _strip_fast_items(schema: dict[str, Any], path: Path, out: list[_FastArray]) -> None:
    if schema.get("type") == "array" and _is_fast_item(schema.get("items")):
        out.append(_FastArray(path=path, item_schema=schema.pop("items")))
        return
    for name, sub in schema.get("properties", {}).items():
        if isinstance(sub, dict):
            _strip_fast_items(sub, (*path, name), out)


@cache
def _validator_for(schema_json: str) -> Validator:
    # Imported here: jsonschema costs ~0.2 s to import, and ``import quantum``
    # should stay cheap for processes that never parse a payload.
    from jsonschema import Draft202012Validator

    schema = json.loads(schema_json)
    if "$schema" in schema:
        Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


# ---- jsonschema errors -> FieldErrors


def _field_errors(error: ValidationError, prefix: Path) -> Iterable[FieldError]:
    where: Path = (*prefix, *error.absolute_path)
    keyword, instance = error.validator, error.instance
    expected: Any = error.validator_value
    if keyword == "required":
        for name in expected:
            if isinstance(instance, Mapping) and name not in instance:
                yield FieldError(format_path((*where, name)), "is required")
    elif keyword == "additionalProperties" and isinstance(instance, Mapping):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        allowed = sorted(schema.get("properties", {}))
        for name in instance:
            if name not in allowed:
                message = f"is not a known field; allowed: {', '.join(allowed)}"
                yield FieldError(format_path((*where, name)), message)
    else:
        yield FieldError(format_path(where), _message(str(keyword), expected, instance, error))


def _message(keyword: str, expected: Any, instance: Any, error: ValidationError) -> str:
    if keyword == "type":
        wanted = " or ".join(expected) if isinstance(expected, list) else str(expected)
        return f"must be of type {wanted}; got {json_type(instance)}"
    if isinstance(instance, float) and not math.isfinite(instance):
        return f"must be a finite number; got {instance}"
    if keyword == "minimum":
        return f"must be at least {expected}; got {shown(instance)}"
    if keyword == "maximum":
        return f"must be at most {expected}; got {shown(instance)}"
    if keyword == "minItems":
        return f"must have at least {expected} items; got {len(instance)}"
    if keyword == "maxItems":
        return f"must have at most {expected} items; got {len(instance)}"
    if keyword == "const":
        return f"must be {shown(expected)}"
    if keyword == "enum":
        return f"must be one of: {', '.join(map(str, expected))}; got {shown(instance)}"
    return str(error.message)[:200]
