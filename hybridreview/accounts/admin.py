from typing import Any, cast

from django.contrib import admin
from django.contrib.auth.models import User
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest

from .models import Membership, Team
from .services import member_changes_record, member_roles_snapshot


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
