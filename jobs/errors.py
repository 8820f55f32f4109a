"""Errors the jobs services raise; the API maps each to one status code."""

from __future__ import annotations

from dataclasses import dataclass


class JobsError(Exception):
    """Base of every error a jobs service raises on purpose."""


class Conflict(JobsError):
    """A state change lost to another, or is not legal from the current state (HTTP 409)."""


class StaleAttempt(Conflict):
    """A worker wrote for an attempt that is no longer the run's current one.

    Not an HTTP error: a worker that lost its lease (reaped, cancelled, timed
    out) gets this and drops its result, because its successor owns the run.
    """


@dataclass(frozen=True)
class FieldProblem:
    field: str | None  # a path into the request body, e.g. "solvers[1].backend"
    message: str


class InvalidInput(JobsError):
    """The input is wrong; ``errors`` names each field (HTTP 400).

    ``item_index``: which request of a batch it is about, when the raiser knew.
    """

    item_index: int | None = None

    def __init__(self, errors: list[FieldProblem]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


class IdempotencyMismatch(JobsError):
    """An Idempotency-Key was reused with a different body (HTTP 422)."""


class Unavailable(JobsError):
    """The server is not configured to do this (HTTP 503); the caller's input is fine."""
