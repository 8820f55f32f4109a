"""Fixtures for backends, budgets and spend: a team, its people, priced backends."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from jobs import services
from jobs.models import Budget, OptimizationRequest
from jobs.services.budget import current_period
from quantum.models import BackendConfig

# Ideal simulator, expectation objective: one sampling job per run, so the
# estimate is exact: per_task * 1 + per_shot * shots.
TINY_QAOA = {"name": "qaoa", "backend": "aer_statevector", "options": {"reps": 1, "maxiter": 4}}
CLASSICAL = {"name": "local_search"}


def maxcut(n: int = 4) -> dict[str, Any]:
    edges = [[i, (i + 1) % n] for i in range(n)]
    return {"type": "maxcut", "graph": {"nodes": n, "edges": edges}}


@pytest.fixture
def team(make_team: Callable[..., Any]) -> Any:
    return make_team("demo")


@pytest.fixture
def analyst(make_user: Callable[..., Any], team: Any) -> Any:
    return make_user("ana", "analyst", team=team)


def _staff(user: Any) -> Any:
    """``user`` with the Django admin's staff flag, as their role's work needs."""
    user.is_staff = True
    user.save()
    return user


@pytest.fixture
def admin(make_user: Callable[..., Any], team: Any) -> Any:
    return _staff(make_user("adm", "admin", team=team))


@pytest.fixture
def operator(make_user: Callable[..., Any], team: Any) -> Any:
    """Changes and tests backends, which every team shares (admins only read them)."""
    return _staff(make_user("ops", "operator", team=team))


@pytest.fixture
def priced(db: Any) -> Callable[..., BackendConfig]:
    """Give a configured backend a cost model: priced("aer_statevector", per_task="1")."""

    def price(name: str = "aer_statevector", **costs: str) -> BackendConfig:
        config = BackendConfig.objects.get(name=name)
        for key in ("per_task", "per_shot", "per_second"):
            setattr(config, f"cost_{key}", Decimal(costs.get(key, "0")))
        config.save()
        return config

    return price


@pytest.fixture
def budget(team: Any) -> Callable[..., Budget]:
    """This month's budget of the team: budget(limit="10", hard=True)."""

    def make(limit: str = "10", hard: bool = True, thresholds: list[float] | None = None) -> Budget:
        row, _ = Budget.objects.update_or_create(
            team=team,
            period=current_period(),
            defaults={
                "limit_credits": Decimal(limit),
                "hard": hard,
                "alert_thresholds": thresholds if thresholds is not None else [0.8],
            },
        )
        return row

    return make


@pytest.fixture
def submit(analyst: Any) -> Callable[..., OptimizationRequest]:
    def go(**kwargs: Any) -> OptimizationRequest:
        kwargs.setdefault("problem", maxcut())
        kwargs.setdefault("solvers", [TINY_QAOA])
        kwargs.setdefault("enqueue", False)
        requester = kwargs.pop("requester", analyst)
        return services.request_submit(requester=requester, **kwargs).request

    return go
