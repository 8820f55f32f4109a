"""Shared fixtures. Real PostgreSQL/Redis when DATABASE_URL/CELERY_BROKER_URL say so.

HR_REQUIRE_SERVICES=1 (set by .ci/run) turns every "skip: service absent"
into a failure, so CI can never pass by skipping what it is meant to test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

REQUIRE_SERVICES = os.environ.get("HR_REQUIRE_SERVICES") == "1"


def skip_or_fail(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"HR_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _service_markers(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("postgres"):
        from django.db import connection

        if connection.vendor != "postgresql":
            skip_or_fail("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")
    if request.node.get_closest_marker("broker"):
        from django.conf import settings

        if not settings.CELERY_BROKER_URL.startswith("redis"):
            skip_or_fail("needs Redis: set CELERY_BROKER_URL=redis://... to run it")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # Throttles count per client address (every test's is 127.0.0.1) in the
    # cache: one test's failed sign-ins must not hold back the next test's.
    from django.core.cache import cache

    cache.clear()


PASSWORD = "correct horse battery staple"


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def make_team(db: Any) -> Callable[..., Any]:
    from hybridreview.accounts.services import team_create

    def make(slug: str = "demo", name: str | None = None) -> Any:
        return team_create(slug=slug, name=name or slug.title())

    return make


@pytest.fixture
def make_user(db: Any, make_team: Callable[..., Any]) -> Callable[..., Any]:
    from django.contrib.auth import get_user_model

    from hybridreview.accounts.roles import ensure_roles
    from hybridreview.accounts.services import membership_add

    ensure_roles()

    def make(username: str, *roles: str, team: Any = None, teams: tuple[Any, ...] = ()) -> Any:
        user = get_user_model().objects.create_user(
            username=username, password=PASSWORD, first_name=username.title(), last_name="Test"
        )
        for t in teams or (team or make_team("demo"),):
            membership_add(team=t, user=user, roles=roles)
        return user

    return make


@pytest.fixture
def api_client() -> Any:
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def token_for(api_client: Any) -> Callable[[Any], str]:
    def get(user: Any) -> str:
        response = api_client.post(
            "/api/v1/auth/token/", {"username": user.username, "password": PASSWORD}, format="json"
        )
        assert response.status_code == 201, response.content
        return str(response.json()["token"])

    return get


@pytest.fixture
def client_as(api_client: Any, token_for: Callable[[Any], str]) -> Callable[[Any], Any]:
    """An API client authenticated with a real token for ``user``."""
    from rest_framework.test import APIClient

    def make(user: Any) -> Any:
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
        return c

    return make


@pytest.fixture
def celery_worker_process(transactional_db: Any) -> Iterator[Any]:
    """A real `celery worker` process on the test database and broker."""
    from tests.support.worker import running_worker

    with running_worker() as worker:
        yield worker
