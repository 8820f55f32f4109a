"""Admin for backends, budgets, quotas and the ledger. Imported by jobs/admin.py.

``BackendConfig`` is the quantum app's model, but its admin lives here: every
change goes through a jobs service that writes the audit event in the same
transaction, and ``quantum`` may not import jobs or approvals.

Credentials are write-only here too: the form's field is a password input
that never renders a value, and leaving it empty keeps what is stored.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from hybridreview.credentials import credentials_configured
from jobs.models import Budget, LedgerEntry, TeamQuota
from jobs.selectors import signed_in
from jobs.services.backends import (
    EDITABLE_FIELDS,
    UNCHANGED,
    backend_config_create,
    backend_config_problems,
    backend_config_update,
    backend_test_connection,
)
from jobs.services.budget_admin import BUDGET_FIELDS, QUOTA_FIELDS, budget_update, team_quota_set
from quantum.models import BackendConfig


class BackendConfigForm(forms.ModelForm[BackendConfig]):
    credentials = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=(
            "Write-only (e.g. an IBM Quantum API key). Leave empty to keep what is stored; "
            "it is encrypted with CREDENTIALS_KEYS and never shown again."
        ),
    )
    clear_credentials = forms.BooleanField(required=False, help_text="Remove stored credentials.")

    class Meta:
        model = BackendConfig
        fields = ["name", "kind", *EDITABLE_FIELDS]

    def _post_clean(self) -> None:
        # After the model's own validation: the service's checks, shown at
        # their fields instead of failing the save with a server error.
        super()._post_clean()  # type: ignore[misc]  # (not in django-stubs)
        if self.errors:
            return
        for problem in backend_config_problems(self.instance):
            field = (problem.field or "").split(".")[0]
            self.add_error(field if field in self.fields else None, problem.message)
        if self.cleaned_data.get("credentials") and not credentials_configured():
            self.add_error("credentials", "CREDENTIALS_KEYS is not set on the server.")


@admin.register(BackendConfig)
class BackendConfigAdmin(admin.ModelAdmin[BackendConfig]):
    form = BackendConfigForm
    list_display = (
        "name",
        "kind",
        "enabled",
        "max_qubits",
        "max_shots",
        "cost_per_task",
        "cost_per_shot",
        "cost_per_second",
        "has_credentials",
        "last_test_ok",
    )
    list_filter = ("kind", "enabled")
    readonly_fields = ("has_credentials", "last_test_at", "last_test_ok", "last_test_latency_ms")
    actions = ["test_connection"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A name is what runs point at; a kind is what the name starts with.
        fixed = ("name", "kind") if obj is not None else ()
        return (*fixed, *self.readonly_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # runs name backends; disable one instead

    @admin.display(boolean=True, description="credentials")
    def has_credentials(self, obj: BackendConfig) -> bool:
        return obj.has_credentials

    def save_model(self, request: HttpRequest, obj: BackendConfig, form: Any, change: bool) -> None:
        data = form.cleaned_data
        secret = data.get("credentials") or ""
        if not change:
            fields = {f: data[f] for f in ("name", "kind", *EDITABLE_FIELDS) if f in data}
            created = backend_config_create(
                actor=signed_in(request.user),
                fields=fields,
                credentials=secret or None,
                http_request=request,
            )
            obj.pk = created.pk
            return
        credentials: Any = UNCHANGED
        if data.get("clear_credentials"):
            credentials = None
        elif secret:
            credentials = secret
        backend_config_update(
            config=obj,
            actor=signed_in(request.user),
            changes={f: data[f] for f in form.changed_data if f in EDITABLE_FIELDS},
            credentials=credentials,
            http_request=request,
        )

    # A test writes the row's health and uses its credentials: an operator's action.
    @admin.action(description="Test connection", permissions=["change"])
    def test_connection(self, request: HttpRequest, queryset: QuerySet[BackendConfig]) -> None:
        for config in queryset:
            result = backend_test_connection(
                config=config, actor=signed_in(request.user), http_request=request
            )
            level = messages.SUCCESS if result.ok else messages.ERROR
            self.message_user(
                request, f"{config.name}: {result.message} ({result.latency_ms:.0f} ms)", level
            )


@admin.register(Budget)
class BudgetAdmin(admin.ModelAdmin[Budget]):
    list_display = (
        "team",
        "period",
        "hard",
        "limit_credits",
        "reserved_credits",
        "spent_credits",
        "alerts_raised",
    )
    list_filter = ("hard", "period", "team")
    fields = (
        "team",
        "period",
        *BUDGET_FIELDS,
        "reserved_credits",
        "spent_credits",
        "alerts_raised",
    )
    readonly_fields = ("team", "period", "reserved_credits", "spent_credits", "alerts_raised")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a month's budget is created at its first use, from the month before

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the ledger points at it

    def save_model(self, request: HttpRequest, obj: Budget, form: Any, change: bool) -> None:
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f in BUDGET_FIELDS}
        budget_update(
            budget=obj, actor=signed_in(request.user), changes=changes, http_request=request
        )


@admin.register(TeamQuota)
class TeamQuotaAdmin(admin.ModelAdmin[TeamQuota]):
    list_display = ("team", "max_concurrent_runs", "max_shots_per_request", "updated_at")
    fields = ("team", *QUOTA_FIELDS)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("team",) if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: TeamQuota, form: Any, change: bool) -> None:
        saved = team_quota_set(
            team=form.cleaned_data.get("team") or obj.team,
            actor=signed_in(request.user),
            changes={f: form.cleaned_data[f] for f in QUOTA_FIELDS},
            http_request=request,
        )
        obj.pk = saved.pk


@admin.register(LedgerEntry)
class LedgerEntryAdmin(admin.ModelAdmin[LedgerEntry]):
    """Read only: the ledger is only ever appended to, by the budget service."""

    list_display = ("id", "created_at", "budget", "run", "kind", "credits", "backend")
    list_filter = ("kind", "backend")
    list_select_related = ("budget__team", "run")
    search_fields = ("=run__id", "=run__request__id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
