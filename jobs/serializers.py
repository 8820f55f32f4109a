"""Serializers the request endpoints share: the solver spec in, runs and candidates out."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hybridreview.accounts.models import Team
from hybridreview.api import StrictSerializer
from jobs.models import Candidate, OptimizationRequest, Run
from jobs.optimum import request_optimum, run_ratio
from jobs.selectors_budget import request_cost


class PageFilterSerializer(StrictSerializer):
    """Query parameters of a list: its own filters plus the page (hybridreview.pagination).
    Unknown parameters are refused, so a misspelt filter is not silently ignored."""

    json_types = False  # a query string is text: "2" is the page 2

    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)

    @classmethod
    def check(cls, request: Any, params: Any = None) -> dict[str, Any]:
        """The validated filters of ``request``'s query string (or of ``params``,
        a rewritten copy of it), without the page."""
        filters = cls(data=request.query_params if params is None else params)
        filters.is_valid(raise_exception=True)
        return {k: v for k, v in filters.validated_data.items() if k not in ("page", "page_size")}


class SolverInputSerializer(StrictSerializer):
    name = serializers.CharField(max_length=64)
    backend = serializers.CharField(max_length=128, required=False, allow_null=True, default=None)
    options = serializers.DictField(required=False, default=dict)


class RunSerializer(serializers.ModelSerializer[Run]):
    """A run of a request loaded by ``jobs.selectors.request_detail`` (its runs
    prefetched, which ``approximation_ratio`` reads)."""

    backend = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    approximation_ratio = serializers.SerializerMethodField()
    cache_source: serializers.PrimaryKeyRelatedField[Run] = serializers.PrimaryKeyRelatedField(
        read_only=True
    )

    class Meta:
        model = Run
        fields = [
            "id",
            "solver",
            "kind",
            "backend",
            "downgraded_from",
            "options",
            "status",
            "attempt",
            "max_attempts",
            "tier",
            "cache_source",
            "provider_job_id",
            "enqueued_at",
            "started_at",
            "finished_at",
            "timings",
            "metrics",
            "approximation_ratio",
            "circuit",
            "usage",
            "error",
        ]

    def get_backend(self, run: Run) -> str | None:
        return run.backend or None

    def get_approximation_ratio(self, run: Run) -> float | None:
        """The run's best objective against the request's ``optimum``, so a heuristic
        run at the optimum reads 1 (``metrics.approximation_ratio`` is the solver's
        own, against the optimum it knew: none, for a heuristic). Null without an
        optimum, a best objective, or when either is 0."""
        req = run.request
        value: float | None = run_ratio(run, request_optimum(req.runs.all()), req.sense)["value"]
        return value

    def get_error(self, run: Run) -> dict[str, Any] | None:
        if not run.error_message:
            return None
        return {"message": run.error_message, "permanent": run.error_permanent}


class CandidateSerializer(serializers.ModelSerializer[Candidate]):
    solver = serializers.CharField(source="run.solver")
    backend = serializers.SerializerMethodField()
    tier = serializers.CharField(source="run.tier")

    class Meta:
        model = Candidate
        fields = [
            "id",
            "rank",
            "assignment",
            "bitstring",
            "objective",
            "feasible",
            "probability",
            "count",
            "solver",
            "backend",
            "tier",
            "run",
        ]

    def get_backend(self, candidate: Candidate) -> str | None:
        return candidate.run.backend or None


class RunBriefSerializer(serializers.ModelSerializer[Run]):
    class Meta:
        model = Run
        fields = ["id", "solver", "backend", "status", "attempt", "tier"]


class RequestSummarySerializer(serializers.ModelSerializer[OptimizationRequest]):
    team: serializers.SlugRelatedField[Team] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    requester = serializers.CharField(source="requester.username", read_only=True)
    runs = RunBriefSerializer(many=True, read_only=True)

    class Meta:
        model = OptimizationRequest
        fields = [
            "id",
            "status",
            "title",
            "team",
            "requester",
            "problem_kind",
            "num_variables",
            "fallback",
            "created_at",
            "updated_at",
            "deadline",
            "ready_at",
            "runs",
        ]


class RequestDetailSerializer(serializers.ModelSerializer[OptimizationRequest]):
    team: serializers.SlugRelatedField[Team] = serializers.SlugRelatedField(
        slug_field="slug", read_only=True
    )
    requester = serializers.CharField(source="requester.username", read_only=True)
    runs = RunSerializer(many=True, read_only=True)
    candidates = CandidateSerializer(many=True, read_only=True)
    cost = serializers.SerializerMethodField()
    optimum = serializers.SerializerMethodField()

    class Meta:
        model = OptimizationRequest
        fields = [
            "id",
            "status",
            "title",
            "team",
            "requester",
            "schema_version",
            "problem",
            "problem_kind",
            "num_variables",
            "sense",
            "settings",
            "fingerprint",
            "cache_policy",
            "campaign",
            "rerun_of",
            "correlation_id",
            "created_at",
            "updated_at",
            "deadline",
            "ready_at",
            "fallback",
            "fallback_reason",
            "failure_reason",
            "cost",
            "optimum",
            "runs",
            "candidates",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_cost(self, request: OptimizationRequest) -> dict[str, Any]:
        """{"credits", "reserved", "final"}: credits settled over every run and attempt,
        credits still reserved by unfinished runs, and whether nothing is."""
        return request_cost(request)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_optimum(self, request: OptimizationRequest) -> dict[str, Any] | None:
        """{"value", "source", "run"}: the optimum every run's approximation_ratio is
        measured against. ``source`` is "proven" (exhaustive search: an exact run,
        or QAOA's own reference on a small problem) or "given" (a known optimum in
        QAOA's options); ``run`` is the run it comes from. Null when none is known."""
        found = request_optimum(request.runs.all())
        return found.as_dict() if found is not None else None
