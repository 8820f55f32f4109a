"""Forms of the team members page: shape only; the services decide the rest."""

from __future__ import annotations

from django import forms

from .roles import TEAM_ROLES

ROLE_CHOICES = [(role, role) for role in TEAM_ROLES]


class MemberRolesForm(forms.Form):
    """One row of the members table: a member and the roles they should hold."""

    user = forms.IntegerField(widget=forms.HiddenInput)
    roles = forms.MultipleChoiceField(
        required=False, choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple
    )


class MemberRemoveForm(forms.Form):
    user = forms.IntegerField(widget=forms.HiddenInput)


class MemberAddForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        label="Username",
        help_text="An existing account; an administrator creates accounts.",
    )
    roles = forms.MultipleChoiceField(
        required=False,
        choices=ROLE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label="Roles in this team",
    )
