"""Races through the real API against PostgreSQL: threads, each on its own connection,
committing for real (no test transaction to hide behind)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from jobs.models import OptimizationRequest, Run
from tests.jobs.conftest import FAST_SOLVERS, maxcut
from tests.support.concurrency import at_once, token_client

URL = "/api/v1/requests/"


def _at_once(n: int, call: Callable[[APIClient], Any], token: str) -> list[Any]:
    return at_once([lambda: call(token_client(token)) for _ in range(n)], timeout=60)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_posts_with_one_key_make_exactly_one_request(analyst, token_for):
    token = token_for(analyst)
    body = {"problem": maxcut(), "solvers": FAST_SOLVERS}
    responses = _at_once(
        20, lambda c: c.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="once"), token
    )
    assert all(not isinstance(r, Exception) for r in responses), responses
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(r.get("Idempotent-Replayed") == "true" for r in responses) == 19
    assert OptimizationRequest.objects.count() == 1
    assert Run.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_posts_with_one_key_and_different_bodies_make_one_and_422_the_rest(
    analyst, token_for
):
    token = token_for(analyst)
    seeds = iter(range(20))
    lock = threading.Lock()

    def post(c: APIClient) -> Any:
        with lock:
            seed = next(seeds)
        body = {"problem": maxcut(), "solvers": FAST_SOLVERS, "seed": seed}
        return c.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k")

    responses = _at_once(20, post, token)
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [422] * 19, codes
    assert OptimizationRequest.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_cancels_one_succeeds_and_the_other_gets_409(analyst, token_for):
    token = token_for(analyst)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    rid = client.post(URL, {"problem": maxcut(), "solvers": FAST_SOLVERS}, format="json").json()[
        "id"
    ]
    responses = _at_once(2, lambda c: c.post(f"{URL}{rid}/cancel/"), token)
    assert sorted(r.status_code for r in responses) == [200, 409]
