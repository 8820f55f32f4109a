"""Forms of the review pages: shape only; the services decide everything else."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django import forms
from django.http import QueryDict

from approvals.models import SignatureMeaning
from approvals.review_selectors import AWAITING_REVIEW, QUEUE_SORTS, QueueFilters
from hybridreview.forms import AccessibleForm
from jobs.models import Candidate, RequestStatus

TEXT_MAX = 5000


SHOW_MINE, SHOW_ALL = "mine", "all"


class QueueFilterForm(forms.Form):
    # Offered to approvers only, for whom "awaiting my signature" is the default.
    show = forms.ChoiceField(
        required=False,
        choices=[(SHOW_MINE, "awaiting my signature"), (SHOW_ALL, "everything in my teams")],
        label="Show",
    )
    status = forms.MultipleChoiceField(
        required=False,
        choices=[(s, RequestStatus(s).label) for s in RequestStatus.values],
        widget=forms.CheckboxSelectMultiple,
        label="Status",
    )
    team = forms.ChoiceField(required=False, label="Team")
    fallback = forms.ChoiceField(
        required=False,
        choices=[("", "any"), ("yes", "fallback only"), ("no", "no fallback")],
        label="Fallback",
    )
    older_than_hours = forms.FloatField(
        required=False, min_value=0, label="Waiting at least (hours)"
    )
    deadline_before = forms.DateTimeField(
        required=False,
        label="Solve deadline before (UTC)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    min_gap_percent = forms.FloatField(
        required=False, label="Quantum behind classical by at least (%)"
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[(key, key) for key in QUEUE_SORTS],
        widget=forms.HiddenInput,
    )

    def __init__(
        self,
        data: QueryDict,
        *,
        teams: Sequence[tuple[str, str]] = (),
        approver: bool = False,
    ) -> None:
        if approver and "show" not in data:
            data = data.copy()
            data["show"] = SHOW_MINE
        super().__init__(data)
        self.fields["team"].choices = [("", "all my teams"), *teams]  # type: ignore[attr-defined]
        if not approver:
            del self.fields["show"]

    def filters(self) -> QueueFilters:
        """The valid filters; an invalid field is left out and its error shown."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        fallback = {"yes": True, "no": False}.get(data.get("fallback") or "")
        return QueueFilters(
            awaiting_my_signature=data.get("show") == SHOW_MINE,
            statuses=tuple(data.get("status") or AWAITING_REVIEW),
            team=data.get("team") or "",
            fallback=fallback,
            older_than_hours=data.get("older_than_hours"),
            deadline_before=data.get("deadline_before"),
            min_gap_percent=data.get("min_gap_percent"),
            sort=data.get("sort") or "age",
        )


def candidate_choices(candidates: Sequence[Candidate]) -> list[tuple[int, str]]:
    return [
        (
            c.pk,
            f"rank {c.rank}: {c.bitstring} · objective {c.objective:.6g}"
            f"{'' if c.feasible else ' (infeasible)'} · {c.run.solver}",
        )
        for c in candidates
    ]


class RecommendForm(AccessibleForm):
    candidate = forms.TypedChoiceField(coerce=int, label="Candidate")
    comment = forms.CharField(
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why this candidate",
    )

    def __init__(self, *args: Any, candidates: Sequence[Candidate] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["candidate"].choices = candidate_choices(candidates)  # type: ignore[attr-defined]
        self.describe()  # drawn by the review_panels tag, bound when the server refused it


class CommentForm(forms.Form):
    body = forms.CharField(
        max_length=TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}), label="Comment"
    )


class RerunForm(AccessibleForm):
    """Ask for a re-run: the settings that change; empty fields keep the original's."""

    shots = forms.IntegerField(required=False, min_value=1, label="Shots")
    seed = forms.IntegerField(required=False, label="Seed")
    deadline_seconds = forms.IntegerField(
        required=False, min_value=1, label="Solve deadline (seconds)"
    )
    solvers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "json"}),
        label="Solvers (JSON list)",
        help_text='e.g. [{"name": "qaoa", "backend": "aer_statevector", "options": {"reps": 3}}]',
    )
    comment = forms.CharField(
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why (added to the comments)",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The request page also holds the recommend form, whose "comment" would
        # otherwise share this one's id (and its label would fill the other box).
        kwargs.setdefault("auto_id", "id_rerun_%s")
        super().__init__(*args, **kwargs)
        self.describe()  # the review_panels tag builds this form and calls nothing else on it

    def clean_solvers(self) -> list[dict[str, Any]] | None:
        text = (self.cleaned_data.get("solvers") or "").strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(f"is not JSON: {exc}") from exc
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise forms.ValidationError("must be a JSON list of solver objects")
        return value


class ApproveForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput, initial="approve")
    digest = forms.CharField(widget=forms.HiddenInput, max_length=64)
    candidate = forms.TypedChoiceField(coerce=int, label="Candidate to approve")
    meaning = forms.ChoiceField(
        choices=[(m.value, m.label) for m in SignatureMeaning if m != SignatureMeaning.REJECTED],
        label="Meaning of your signature",
    )
    comment = forms.CharField(
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Comment",
    )
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        label="Your password, to sign",
    )

    def __init__(self, *args: Any, candidates: Sequence[Candidate] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["candidate"].choices = candidate_choices(candidates)  # type: ignore[attr-defined]


class RejectForm(forms.Form):
    action = forms.CharField(widget=forms.HiddenInput, initial="reject")
    digest = forms.CharField(widget=forms.HiddenInput, max_length=64)
    reason = forms.CharField(
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reason for rejecting",
    )
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        label="Your password, to sign",
    )


class PolicyForm(forms.Form):
    approvals_required = forms.IntegerField(min_value=1, max_value=50, label="Approvals required")
    approvals_required_above_cost = forms.IntegerField(
        min_value=1, max_value=50, label="Approvals required above the cost threshold"
    )
    cost_threshold_credits = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=16,
        decimal_places=6,
        label="Cost threshold (credits; empty: none)",
    )
    recommender_may_not_approve = forms.BooleanField(
        required=False, label="The analyst who recommended may not approve"
    )
