"""Errors raised by the quantum library."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    path: str  # e.g. "problem.graph.edges[3][1]"
    message: str


class ProblemValidationError(ValueError):
    """A problem payload is malformed; ``errors`` names every offending field."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.path}: {e.message}" for e in errors))


class BackendError(Exception):
    """A backend failed. ``permanent=False`` means a retry may succeed.

    ``usage`` is what the failed attempt had already consumed at the provider
    (jobs, quantum_seconds, queue_seconds): a failed attempt is still billed.
    """

    def __init__(
        self, message: str, *, permanent: bool, usage: Mapping[str, float] | None = None
    ) -> None:
        self.permanent = permanent
        self.usage: dict[str, float] = dict(usage or {})
        super().__init__(message)
