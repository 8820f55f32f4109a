from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from .models import Invitation, Membership, Team
from .roles import PLATFORM_ROLES
from .selectors import held_groups
from .services import member_changes_record, member_roles_snapshot
from .services.account import (
    AccountState,
    account_changes_record,
    account_delete_record,
    account_platform_roles_set,
    account_state,
)


class MembershipInline(admin.TabularInline[Membership, Team]):
    model = Membership
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ("slug", "name", "created_at")
    inlines = [MembershipInline]

    def save_related(
        self,
        request: HttpRequest,
        form: ModelForm[Team],
        formsets: list[BaseInlineFormSet[Any, Team, Any]],
        change: bool,
    ) -> None:
        # Members and roles changed here are audited as the members page's
        # are (permission.granted / permission.revoked, by this admin user),
        # inside the admin's own transaction.
        before = member_roles_snapshot(form.instance) if change else {}
        super().save_related(request, form, formsets, change)
        member_changes_record(
            team=form.instance, before=before, actor=cast(User, request.user), http_request=request
        )


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    """Read only: invitations are made, withdrawn and accepted through the
    members page and the API, where each step is checked and audited."""

    list_display = ("email", "team", "roles", "created_by", "created_at", "expires_at", "state")
    list_filter = ("team",)
    search_fields = ("email",)
    exclude = ("token_hash",)

    @admin.display(description="State")
    def state(self, invitation: Invitation) -> str:
        if invitation.accepted_at:
            return f"accepted by {invitation.accepted_by}"
        if invitation.revoked_at:
            return "withdrawn"
        return "expired" if invitation.expired else "open"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Invitation | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Invitation | None = None) -> bool:
        return False


class AccountChangeForm(UserChangeForm[User]):
    """Django's user form with the platform roles in place of raw groups.

    Raw groups would let a superuser tick a team-role group that no
    membership holds (and that the next membership change would undo), and
    direct user permissions would bypass roles altogether: team roles are set
    on the team's members page, platform roles here, and nothing else grants.
    """

    platform_roles = forms.MultipleChoiceField(
        choices=[(role, role) for role in PLATFORM_ROLES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Held for every team: operators change backends, prices and limits. "
        "Team roles are set on each team's members page.",
    )
    # The account as stored before this save: the admin reads it in
    # save_model, before writing, and audits against it in save_related.
    account_before: AccountState | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["platform_roles"].initial = sorted(
                held_groups(self.instance, PLATFORM_ROLES)
            )


admin.site.unregister(User)


@admin.register(User)
class AccountAdmin(UserAdmin):  # type: ignore[type-arg]
    """Django's user admin, with every change to an account audited: created,
    privileges granted or revoked, deactivated, renamed, password reset, deleted."""

    form = AccountChangeForm
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        (
            "Access",
            {"fields": ("is_active", "is_staff", "is_superuser", "platform_roles", "team_roles")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    readonly_fields = ("team_roles", "last_login", "date_joined")
    list_filter = ("is_active", "is_staff", "is_superuser", "groups")

    @admin.display(description="Teams and roles")
    def team_roles(self, user: User) -> str:
        memberships = Membership.objects.filter(user=user).select_related("team")
        rows = [
            (
                reverse("team-members", args=[m.team.slug]),
                m.team.slug,
                ", ".join(sorted(m.roles.values_list("name", flat=True))) or "no role",
            )
            for m in memberships.order_by("team__slug")
        ]
        if not rows:
            return "In no team."
        return format_html(
            "<ul>{}</ul>",
            format_html_join("", '<li><a href="{}">{}</a>: {}</li>', rows),
        )

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if change and isinstance(form, AccountChangeForm):
            form.account_before = account_state(obj.pk)
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if isinstance(form, AccountChangeForm):
            roles = set(form.cleaned_data.get("platform_roles") or ())
            account_platform_roles_set(user=form.instance, roles=roles)
            before = form.account_before
        else:
            before = None  # the add form: the account is new
        account_changes_record(
            user=form.instance, before=before, actor=_actor(request), http_request=request
        )

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        with transaction.atomic():
            account_delete_record(user=obj, actor=_actor(request), http_request=request)
            super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        with transaction.atomic():
            for user in queryset:
                account_delete_record(user=user, actor=_actor(request), http_request=request)
            super().delete_queryset(request, queryset)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        # Django's view saves the new password itself; compare before and after.
        user_id = int(id) if id.isdigit() else None
        with transaction.atomic():
            before = account_state(user_id) if user_id is not None else None
            response = super().user_change_password(request, id, form_url)
            if user_id is not None and before is not None and request.method == "POST":
                account_changes_record(
                    user=User.objects.get(pk=user_id),
                    before=before,
                    actor=_actor(request),
                    http_request=request,
                )
        return response


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)
