"""Every status transition, legal and illegal; and conflicting ones at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from jobs.errors import Conflict, StaleAttempt
from jobs.models import OptimizationRequest, RequestStatus, Run, RunStatus
from jobs.services import REQUEST_TRANSITIONS, RUN_TRANSITIONS, request_transition, run_transition
from tests.support.concurrency import at_once

REQUEST_PAIRS = [(a, b) for a in RequestStatus.values for b in RequestStatus.values if a != b]
RUN_PAIRS = [(a, b) for a in RunStatus.values for b in RunStatus.values if a != b]


def test_the_request_table_names_every_status_and_follows_the_issue():
    assert set(REQUEST_TRANSITIONS) == set(RequestStatus.values)
    assert REQUEST_TRANSITIONS["submitted"] >= {"running", "failed", "cancelled"}
    assert "ready_for_review" in REQUEST_TRANSITIONS["running"]
    assert "recommended" in REQUEST_TRANSITIONS["ready_for_review"]
    assert REQUEST_TRANSITIONS["recommended"] == {"approved", "rejected"}
    for final in ("approved", "rejected", "failed", "cancelled"):
        assert REQUEST_TRANSITIONS[final] == frozenset()


def test_the_run_table_names_every_status_and_follows_the_issue():
    assert set(RUN_TRANSITIONS) == set(RunStatus.values)
    assert "running" in RUN_TRANSITIONS["queued"]
    assert RUN_TRANSITIONS["running"] >= {"succeeded", "failed", "timed_out", "cancelled"}
    for final in ("succeeded", "failed", "timed_out", "cancelled"):
        assert RUN_TRANSITIONS[final] == frozenset()


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "target"), REQUEST_PAIRS)
def test_a_request_moves_only_along_the_table(submit, source, target):
    req = submit(enqueue=False)
    OptimizationRequest.objects.filter(id=req.id).update(status=source)
    if target in REQUEST_TRANSITIONS[source]:
        request_transition(request_id=req.id, to=target)
        req.refresh_from_db()
        assert req.status == target
    else:
        with pytest.raises(Conflict, match=f"from '{source}' to '{target}'"):
            request_transition(request_id=req.id, to=target)
        req.refresh_from_db()
        assert req.status == source


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "target"), RUN_PAIRS)
def test_a_run_moves_only_along_the_table(submit, source, target):
    run = submit(enqueue=False).runs.first()
    Run.objects.filter(id=run.id).update(status=source)
    if target in RUN_TRANSITIONS[source]:
        run_transition(run_id=run.id, to=target)
        run.refresh_from_db()
        assert run.status == target
    else:
        with pytest.raises(Conflict):
            run_transition(run_id=run.id, to=target)
        run.refresh_from_db()
        assert run.status == source


@pytest.mark.django_db
def test_a_write_fenced_by_an_old_attempt_is_refused(submit):
    run = submit(enqueue=False).runs.first()
    Run.objects.filter(id=run.id).update(status=RunStatus.RUNNING, attempt=2)
    with pytest.raises(StaleAttempt, match="attempt 1"):
        run_transition(run_id=run.id, to=RunStatus.SUCCEEDED, fence=1)
    run_transition(run_id=run.id, to=RunStatus.SUCCEEDED, fence=2)
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED


def _race(*calls: Callable[[], Any]) -> list[Any]:
    """Start every call at the same moment, each on its own connection; their outcomes."""
    return at_once([lambda c=c: c() or "ok" for c in calls], timeout=30)


@pytest.mark.django_db(transaction=True)
def test_of_two_conflicting_request_transitions_at_once_exactly_one_wins(submit):
    req = submit(enqueue=False)
    OptimizationRequest.objects.filter(id=req.id).update(status=RequestStatus.RUNNING)
    # Neither target may follow the other, so whichever lands second must fail.
    assert "failed" not in REQUEST_TRANSITIONS["ready_for_review"]
    outcomes = _race(
        lambda: request_transition(request_id=req.id, to=RequestStatus.FAILED),
        lambda: request_transition(request_id=req.id, to=RequestStatus.READY_FOR_REVIEW),
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "str"], outcomes
    req.refresh_from_db()
    winner = outcomes.index("ok")
    assert req.status == ("failed", "ready_for_review")[winner]


@pytest.mark.django_db(transaction=True)
def test_of_eight_workers_claiming_one_run_at_once_exactly_one_gets_it(submit):
    from jobs.services import run_claim

    run = submit(enqueue=False).runs.first()
    outcomes = _race(*[lambda i=i: run_claim(run_id=run.id, worker=f"w{i}") for i in range(8)])
    claimed = [o for o in outcomes if isinstance(o, Run)]
    assert len(claimed) == 1, outcomes
    assert all(o == "ok" for o in outcomes if not isinstance(o, Run)), outcomes
    run.refresh_from_db()
    assert (run.status, run.attempt, run.worker) == ("running", 1, claimed[0].worker)


@pytest.mark.django_db
def test_finishing_many_runs_moves_only_those_still_on_their_attempt(submit):
    from django.utils import timezone

    from jobs.services.transitions import runs_succeed

    req = submit(enqueue=False)
    first, second = req.runs.order_by("id")
    Run.objects.filter(id__in=[first.id, second.id]).update(status="running", attempt=1)
    # The second was reaped and claimed again meanwhile: attempt 1's result is stale.
    Run.objects.filter(id=second.id).update(attempt=2)
    now = timezone.now()
    fields = {"metrics": {"best": 7.5}, "circuit": None, "finished_at": now, "tier": "classical"}
    moved = runs_succeed(outcomes=[(first.id, 1, fields), (second.id, 1, fields)])
    assert moved == [first.id]
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.metrics, first.circuit, first.tier) == (
        "succeeded",
        {"best": 7.5},
        None,
        "classical",
    )
    assert first.finished_at == now
    assert (second.status, second.attempt, second.metrics) == ("running", 2, {})


@pytest.mark.django_db
def test_many_requests_move_together_or_not_at_all(submit):
    from django.db import transaction

    from jobs.services.transitions import requests_transition

    one, two = submit(enqueue=False), submit(enqueue=False)
    OptimizationRequest.objects.filter(id=two.id).update(status="cancelled")
    with pytest.raises(Conflict), transaction.atomic():  # the caller's transaction
        requests_transition(request_ids=[one.id, two.id], to="ready_for_review")
    one.refresh_from_db()
    assert one.status == "submitted"
