"""Forms of the team members page: shape only; the services decide the rest."""

from __future__ import annotations

from typing import Any

from django import forms

from hybridreview.forms import AccessibleForm

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
        help_text="An existing account. Someone without one: invite them below.",
    )
    roles = forms.MultipleChoiceField(
        required=False,
        choices=ROLE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label="Roles in this team",
    )


class InviteForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        label="Email address",
        help_text="Someone without an account: they get a link to create one, "
        "valid for {days} days.",
    )
    roles = forms.MultipleChoiceField(
        required=False,
        choices=ROLE_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label="Roles in this team",
    )

    def __init__(self, *args: Any, days: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["email"]
        field.help_text = str(field.help_text).format(days=days)


class InvitationRevokeForm(forms.Form):
    invitation = forms.IntegerField(widget=forms.HiddenInput)


class AccountCreateForm(AccessibleForm):
    """The invitee's new account. The services check the name is free and the
    password strong enough (Django's validators), naming the field at fault."""

    username = forms.CharField(
        max_length=150,
        label="Username",
        help_text="What you sign in with: letters, digits and @ . + - _ only.",
        widget=forms.TextInput(attrs={"autocomplete": "username"}),
    )
    first_name = forms.CharField(max_length=150, required=False, label="First name")
    last_name = forms.CharField(max_length=150, required=False, label="Last name")
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 8 characters; not all digits, not a common password, "
        "not like your name.",
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password2") != data["password1"]:
            self.add_error("password2", "The two passwords differ.")
        return data
