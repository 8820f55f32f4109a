"""Fixtures for the pipeline: a team, its people, problems, and a worker in-process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from jobs import services
from jobs.models import OptimizationRequest, RunStatus

FAST_SOLVERS = [{"name": "exact"}, {"name": "local_search"}]


def maxcut(n: int = 6) -> dict[str, Any]:
    """A ring of n nodes with one chord: small, and its optimum is known to exact."""
    edges = [[i, (i + 1) % n] for i in range(n)] + [[0, n // 2, 2.0]]
    return {"type": "maxcut", "graph": {"nodes": n, "edges": edges}}


@pytest.fixture
def team(make_team: Callable[..., Any]) -> Any:
    return make_team("demo")


@pytest.fixture
def analyst(make_user: Callable[..., Any], team: Any) -> Any:
    return make_user("ana", "analyst", team=team)


@pytest.fixture
def approver(make_user: Callable[..., Any], team: Any) -> Any:
    return make_user("apo", "approver", team=team)


@pytest.fixture
def submit(analyst: Any) -> Callable[..., OptimizationRequest]:
    """Submit through the service as the analyst; fast classical solvers by default."""

    def go(**kwargs: Any) -> OptimizationRequest:
        kwargs.setdefault("problem", maxcut())
        kwargs.setdefault("solvers", FAST_SOLVERS)
        requester = kwargs.pop("requester", analyst)
        return services.request_submit(requester=requester, **kwargs).request

    return go


def work(request: OptimizationRequest, rounds: int = 5) -> OptimizationRequest:
    """Do what a worker does for every queued run, until none is left."""
    for _ in range(rounds):
        queued = list(request.runs.filter(status=RunStatus.QUEUED).values_list("id", flat=True))
        if not queued:
            break
        for run_id in queued:
            services.run_execute(run_id=run_id, worker="test-worker")
    request.refresh_from_db()
    return request
