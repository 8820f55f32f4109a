"""Collecting ``FieldError``s with a cap, shared by the per-type semantic checks."""

from __future__ import annotations

import math

from quantum.errors import FieldError, ProblemValidationError
from quantum.problems.limits import MAX_REPORTED_ERRORS


class ErrorList:
    """Accumulates field errors so a payload's problems are reported together.

    Stops accepting after ``MAX_REPORTED_ERRORS`` (``full`` turns true) so a
    payload with 100k bad edges costs neither a 100k-line message nor the
    time to build it.
    """

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    @property
    def full(self) -> bool:
        return len(self.errors) >= MAX_REPORTED_ERRORS

    def add(self, path: str, message: str) -> None:
        if not self.full:
            self.errors.append(FieldError(path=path, message=message))

    def check_finite(self, path: str, value: float) -> bool:
        if math.isfinite(value):
            return True
        self.add(path, f"must be a finite number; got {value}")
        return False

    def raise_if_any(self) -> None:
        if self.errors:
            raise ProblemValidationError(list(self.errors))
