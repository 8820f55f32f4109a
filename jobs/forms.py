"""The submit form: the browser's way into ``request_submit``.

The form checks only what a browser adds (JSON text, an upload, checkboxes);
every rule about the request itself is the service's, and the service's
field paths are mapped back onto the form's fields so errors show inline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, cast

from django import forms
from django.http import QueryDict

from hybridreview.forms import AccessibleForm, Problem
from jobs import solving
from jobs.examples import Example
from jobs.models import CachePolicy
from quantum.problems import MAX_PAYLOAD_BYTES

SUGGESTED_BACKENDS = ("aer_statevector", "aer_mps", "aer_noisy:fake_torino")


class RequestForm(AccessibleForm):
    # Drawn fresh with each empty form: the same form sent twice with the same
    # content (a double click without script, Back and send again) is the
    # first request again, not a second one (jobs.views._submit).
    submission_key = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    title = forms.CharField(required=False, max_length=200)
    team = forms.ChoiceField(help_text="The team that owns the request.")
    problem = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "class": "json"}),
        help_text="Problem JSON (schema version 1): maxcut, qubo or portfolio.",
    )
    problem_file = forms.FileField(
        required=False, label="…or upload a JSON file", help_text="Replaces the text above."
    )
    solvers = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None checked: QAOA on the default simulator plus a classical baseline.",
    )
    quantum_backend = forms.CharField(
        required=False,
        max_length=128,
        initial=solving.DEFAULT_QUANTUM_BACKEND,
        label="Quantum backend",
        help_text="For quantum solvers, e.g. " + ", ".join(SUGGESTED_BACKENDS) + ".",
        widget=forms.TextInput(attrs={"list": "backend-suggestions"}),
    )
    options = forms.CharField(
        required=False,
        label="Solver options (JSON)",
        initial="{}",
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "json"}),
        help_text='Per solver, e.g. {"qaoa": {"reps": 2}}.',
    )
    shots = forms.IntegerField(required=False, help_text="Default 4096.")
    seed = forms.IntegerField(required=False, help_text="Default 7: results are reproducible.")
    deadline_seconds = forms.IntegerField(
        required=False,
        label="Solve deadline (seconds)",
        help_text="How long the solvers may take; then review starts on what finished.",
    )
    cache = forms.ChoiceField(
        choices=[(CachePolicy.BYPASS, "bypass: always run"), (CachePolicy.PREFER, "prefer: reuse")],
        initial=CachePolicy.BYPASS,
    )
    campaign = forms.ChoiceField(
        required=False, help_text="Held until the campaign sends its requests together."
    )
    on_budget_exceeded = forms.ChoiceField(
        choices=[("refuse", "refuse the request"), ("simulate", "run on a simulator instead")],
        required=False,  # missing means "refuse"
        initial="refuse",
        label="Over the team's hard budget",
        help_text="What to do when the estimate is more than the budget has left.",
    )

    def __init__(
        self,
        *args: Any,
        teams: list[tuple[str, str]],
        campaigns: list[tuple[str, str]] = (),  # type: ignore[assignment]
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["team"]).choices = teams
        cast(forms.ChoiceField, self.fields["campaign"]).choices = [("", "none"), *campaigns]
        kinds = solving.solver_kinds()
        solvers = cast(forms.MultipleChoiceField, self.fields["solvers"])
        solvers.choices = [(n, f"{n} ({kinds[n]})") for n in sorted(kinds)]

    @classmethod
    def initial_from(cls, params: QueryDict, example: Example | None = None) -> dict[str, Any]:
        """The form's fields as ``params`` has them (a query string, or the form as
        posted by an example's button), with ``example``'s problem in; its label
        becomes the title only when none was typed."""
        initial: dict[str, Any] = {}
        for name, field in cls.base_fields.items():
            if name in params and not isinstance(field, forms.FileField):
                multiple = isinstance(field, forms.MultipleChoiceField)
                initial[name] = params.getlist(name) if multiple else params[name]
        if example is not None:
            initial["problem"] = example.as_json()
            initial["title"] = (initial.get("title") or "").strip() or example.label
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("problem_file")
        text = data.get("problem") or ""
        if upload is not None:
            if upload.size > MAX_PAYLOAD_BYTES:
                self.add_error("problem_file", f"must be at most {MAX_PAYLOAD_BYTES} bytes")
                return data
            text = upload.read().decode("utf-8", errors="replace")
            # A browser never sends a file input back: shown again with an
            # error, the form would lose the upload and resubmit the old
            # text. So the file's text goes into the text box, where the
            # errors point and where it can be fixed.
            self.data = _with_problem(self.data, text)
        data["problem_json"] = self._json("problem", text)
        self._note_upload()
        data["options_json"] = self._json("options", data.get("options") or "{}")
        options = data.get("options_json")
        if "options_json" in data and not isinstance(options, dict):
            self.add_error("options", 'must be a JSON object keyed by solver, e.g. {"qaoa": {}}')
        elif isinstance(options, dict):
            # Options of a solver that will not run would be dropped without a word.
            unticked = sorted(set(options) - set(data.get("solvers") or []))
            if unticked:
                names = ", ".join(unticked)
                self.add_error(
                    "options",
                    f"has options for {names}, not ticked above: tick "
                    f"{'it' if len(unticked) == 1 else 'them'} or remove the options",
                )
        return data

    def _json(self, field: str, text: str) -> Any:
        if not text.strip():
            self.add_error(field, "is required: paste problem JSON or upload a file")
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            self.add_error(
                field, f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            )
            return None

    def solver_specs(self) -> list[dict[str, Any]] | None:
        """The checked solvers as the service takes them; None for the defaults."""
        names = self.cleaned_data.get("solvers") or []
        if not names:
            return None
        kinds = solving.solver_kinds()
        options = self.cleaned_data.get("options_json") or {}
        backend = (self.cleaned_data.get("quantum_backend") or "").strip() or None
        return [
            {
                "name": name,
                "backend": backend if kinds.get(name) == solving.QUANTUM else None,
                "options": options.get(name) or {},
            }
            for name in names
        ]

    def add_service_errors(self, problems: Sequence[Problem]) -> None:
        """Put each of the service's field paths under the form field it came from."""
        for field, message in self.service_errors(list(problems)):
            self.add_error(field, message)
        self._note_upload()

    def service_errors(self, problems: Sequence[Problem]) -> list[tuple[str | None, str]]:
        """The service's problems as (form field, message), as the page shows them."""
        names = self.cleaned_data.get("solvers") or []
        return [_form_field(p, names) for p in problems]

    def labelled_errors(self, errors: list[tuple[str | None, str]]) -> list[dict[str, Any]]:
        """Errors for a script to show: each field's name and its label on the page."""
        return [
            {
                "field": field,
                "label": str(self[field].label) if field in self.fields else None,
                "message": str(message),
            }
            for field, message in errors
        ]

    def _note_upload(self) -> None:
        """Say where an uploaded file went when the form comes back with its errors."""
        errors = self.errors  # already cleaned: this reads them, it does not clean again
        if self.files.get("problem_file") and "problem" in errors and "problem_file" not in errors:
            self.add_error(
                "problem_file",
                "was read into the text box above: fix it there, or upload the file again",
            )


def _with_problem(data: Mapping[str, Any], text: str) -> Mapping[str, Any]:
    """The form's data with ``text`` as the problem box's value."""
    if isinstance(data, QueryDict):
        changed = data.copy()
        changed["problem"] = text
        return changed
    return {**data, "problem": text}


def _form_field(p: Problem, solvers: list[str]) -> tuple[str | None, str]:
    path = p.field or ""
    if path.startswith("problem") or path == "schema_version":
        return "problem", f"{path}: {p.message}"
    if path.startswith("solvers["):
        index = int(path[len("solvers[") : path.index("]")])
        solver = solvers[index] if index < len(solvers) else path
        if path.endswith(".backend"):
            return "quantum_backend", f"{solver}: {p.message}"
        if path.endswith(".options"):
            return "options", f"{solver}: {p.message}"
        return "solvers", f"{solver}: {p.message}"
    if path in ("title", "team", "shots", "seed", "deadline_seconds", "cache", "campaign"):
        return path, p.message
    return None, f"{path}: {p.message}" if path else p.message


class CampaignForm(AccessibleForm):
    title = forms.CharField(max_length=200)
    team = forms.ChoiceField()
    window_minutes = forms.FloatField(
        min_value=0,
        max_value=7 * 24 * 60,
        initial=5,
        label="Collect for (minutes)",
        help_text="Requests join until then; the campaign then sends them all at once.",
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, teams: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["team"]).choices = teams
