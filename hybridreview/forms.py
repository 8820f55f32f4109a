"""What every page's form shares: help and errors tied to their inputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from django import forms


class Problem(Protocol):
    """A service's complaint about one input (jobs.errors.FieldProblem)."""

    @property
    def field(self) -> str | None: ...

    @property
    def message(self) -> str: ...


class AccessibleForm(forms.Form):
    """Ties each field's help and errors to its input with aria-describedby."""

    def describe(self) -> None:
        for name, field in self.fields.items():
            bound = self[name]
            ids = []
            if field.help_text:
                ids.append(f"{bound.auto_id}_helptext")
            if name in self.errors:
                ids.append(f"{bound.auto_id}_error")
                field.widget.attrs["aria-invalid"] = "true"
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)

    def add_service_errors(self, problems: Sequence[Problem]) -> None:
        """Each of a service's problems at the field it is about ("solvers[1].backend"
        under solvers), the rest above the form; then tie them to their inputs."""
        for p in problems:
            name = (p.field or "").split("[", 1)[0].split(".", 1)[0]
            if name in self.fields:
                self.add_error(name, p.message if name == p.field else f"{p.field}: {p.message}")
            else:
                self.add_error(None, f"{p.field}: {p.message}" if p.field else p.message)
        self.describe()
