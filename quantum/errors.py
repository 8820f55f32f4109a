"""Errors raised by the quantum library."""

from __future__ import annotations

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
    """A backend failed. ``permanent=False`` means a retry may succeed."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        self.permanent = permanent
        super().__init__(message)
