"""Waiting for a request to settle: woken by the commit that settles it, not by polling."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection

from jobs import settled
from jobs.models import OptimizationRequest
from jobs.settled import SettledWaiter
from tests.jobs.conftest import work


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_waiter_wakes_when_another_connection_commits_the_request_ready(submit, monkeypatch):
    # With the fallback poll pushed past the wait's bound, only the
    # notification sent at commit can wake the waiter before the bound.
    monkeypatch.setattr(settled, "FALLBACK_POLL_SECONDS", 120.0)
    request = submit()
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            work(OptimizationRequest.objects.get(id=request.id))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connection.close()

    with SettledWaiter() as waiter:
        assert waiter.listening
        thread = threading.Thread(target=worker)
        thread.start()
        started = time.monotonic()
        status = waiter.wait(request.id, 90)
        waited = time.monotonic() - started
    thread.join(60)
    assert not failures, failures
    assert status == "ready_for_review"
    assert waited < 45, "woken by the bound, not by the commit"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_waiter_leaves_its_connection_listening_to_nothing(submit):
    request = submit()
    with SettledWaiter() as waiter:
        assert waiter.wait(request.id, 0) == "submitted"
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_listening_channels()")
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
def test_inside_a_transaction_a_waiter_polls_and_returns_the_status_at_the_bound(submit):
    request = submit()
    with SettledWaiter() as waiter:
        assert not waiter.listening  # notifications would be held until the transaction ends
        assert waiter.wait(request.id, 0.2) == "submitted"
    work(request)
    with SettledWaiter() as waiter:
        assert waiter.wait(request.id, 5) == "ready_for_review"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_solve_returns_the_request_a_real_worker_finished_inline(
    celery_worker_process, client_as, analyst: Any
):
    body = {
        "problem": {
            "type": "maxcut",
            "graph": {"nodes": 5, "edges": [[0, 1], [1, 2], [2, 3], [3, 4], [4, 0]]},
        },
        "solvers": [{"name": "exact"}],
    }
    response = client_as(analyst).post("/api/v1/solve/?wait=30", body, format="json")
    assert response.status_code == 200, celery_worker_process.log()[-3000:]
    data = response.json()
    assert data["status"] == "ready_for_review"
    assert data["candidates"][0]["objective"] == 4.0
