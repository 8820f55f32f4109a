"""Admin: read-only views of the pipeline's rows.

Status changes go through the services (transition table, audit event,
enqueue); an admin form that edited ``status`` directly would skip all three,
so these pages only show.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from jobs.models import Campaign, Candidate, OptimizationRequest, Run, WorkerHeartbeat


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RunInline(admin.TabularInline[Run, OptimizationRequest]):
    model = Run
    extra = 0
    fields = ("solver", "backend", "status", "attempt", "tier", "error_message", "finished_at")
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OptimizationRequest)
class OptimizationRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "title", "team", "requester", "status", "fallback", "created_at")
    list_filter = ("status", "team", "fallback", "problem_kind")
    search_fields = ("title", "fingerprint", "correlation_id", "idempotency_key")
    date_hierarchy = "created_at"
    inlines = [RunInline]


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ("id", "request", "solver", "backend", "status", "attempt", "tier", "worker")
    list_filter = ("status", "solver", "tier")
    search_fields = ("provider_job_id", "worker")


@admin.register(Candidate)
class CandidateAdmin(ReadOnlyAdmin):
    list_display = ("id", "request", "run", "rank", "bitstring", "objective", "feasible")
    list_select_related = ("request", "run")


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("id", "title", "team", "status", "window_closes_at", "dispatched_at")
    list_filter = ("status", "team")


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ("hostname", "queue", "seen_at", "correlation_id")
    list_filter = ("queue",)


# Backends, budgets, quotas and the ledger (issue #7): their own module.
from jobs import admin_budget  # noqa: E402, F401
