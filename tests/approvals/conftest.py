"""Fixtures for the audit trail and permission tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

TRIANGLE = {"type": "maxcut", "graph": {"nodes": 3, "edges": [[0, 1], [1, 2], [0, 2]]}}


@pytest.fixture(autouse=True)
def _anchors_in_tmp(settings: Any, tmp_path: Any) -> Any:
    # verify_audit reads the newest anchor file; one left by another run must not count.
    settings.AUDIT_ANCHOR_DIR = tmp_path / "audit-anchors"
    return settings.AUDIT_ANCHOR_DIR


@pytest.fixture(autouse=True)
def _no_cached_figures() -> None:
    from django.core.cache import cache

    cache.clear()  # figures are cached by request id and digest; ids repeat across tests


@pytest.fixture
def team(make_team: Any) -> Any:
    """The team most review tests work in; a module needing others defines its own."""
    return make_team("demo")


@pytest.fixture
def alpha(make_team: Any) -> Any:
    """The audit page tests' team."""
    return make_team("alpha")


@pytest.fixture
def auditor(make_user: Any, alpha: Any) -> Any:
    return make_user("aud", "auditor", team=alpha)


@pytest.fixture
def make_request(db: Any) -> Callable[..., Any]:
    """A request row with its grants and submission event, without the solver
    pipeline: the permission and audit tests do not depend on quantum."""
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from approvals.audit import AuditAction, audit_record
    from approvals.permissions import request_grant_team_permissions
    from jobs.models import OptimizationRequest, RequestStatus

    def make(user: Any, title: str, *, team: Any, status: str = RequestStatus.SUBMITTED) -> Any:
        with transaction.atomic():
            request_obj = OptimizationRequest.objects.create(
                team=team,
                requester=user,
                title=title,
                schema_version="1",
                problem=TRIANGLE,
                problem_kind="maxcut",
                num_variables=3,
                sense="maximize",
                settings={
                    "solvers": [{"name": "exact", "backend": None, "options": {}}],
                    "shots": 1024,
                    "seed": 7,
                    "deadline_seconds": 300,
                    "cache": "bypass",
                },
                fingerprint="f" * 64,
                status=status,
                deadline=timezone.now() + timedelta(minutes=5),
            )
            audit_record(
                action=AuditAction.REQUEST_SUBMITTED,
                obj=request_obj,
                actor=user,
                after={"title": title},
            )
            request_grant_team_permissions(request_obj, actor=user)
        return request_obj

    return make


@pytest.fixture
def submit(db: Any) -> Callable[..., Any]:
    """A request submitted through the real service (so its grants are real)."""
    from jobs.services import request_submit

    def make(user: Any, title: str, *, team: Any = None, solvers: Any = None) -> Any:
        return request_submit(
            requester=user,
            problem=TRIANGLE,
            team=team.slug if team is not None else None,
            title=title,
            solvers=solvers or [{"name": "exact"}],
        ).request

    return make


@pytest.fixture
def make_decision(db: Any) -> Callable[..., Any]:
    """An approved request's decision, with the run and candidate it points at."""
    from decimal import Decimal

    from django.db import transaction
    from django.utils import timezone

    from approvals.models import Decision
    from jobs.models import Candidate, Run

    def make(request_obj: Any) -> Any:
        with transaction.atomic():
            run = Run.objects.create(
                request=request_obj, solver="exact", kind="classical", status="succeeded"
            )
            candidate = Candidate.objects.create(
                request=request_obj,
                run=run,
                assignment=[0, 1, 0],
                bitstring="010",
                objective=2.0,
                feasible=True,
                probability=1.0,
                run_rank=1,
                rank=1,
            )
            return Decision.objects.create(
                request=request_obj,
                team=request_obj.team,
                candidate=candidate,
                assignment=[0, 1, 0],
                bitstring="010",
                objective=2.0,
                feasible=True,
                provenance={"run": run.pk, "solver": "exact"},
                digest="d" * 64,
                cost_credits=Decimal("0"),
                approvals_required=1,
                created_at=timezone.now(),
            )

    return make
