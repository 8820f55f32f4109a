"""Races for the last credits against PostgreSQL: threads, each on its own connection,
committing for real, so only the budget row's lock stands between them and overspending."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from jobs import services
from jobs.models import Budget, LedgerEntry, OptimizationRequest, Run, TeamQuota
from jobs.services.budget import BudgetExceeded, QuotaExceeded
from tests.budgets.conftest import CLASSICAL, TINY_QAOA, maxcut
from tests.support.concurrency import at_once


def _at_once(n: int, call: Callable[[int], Any]) -> list[Any]:
    return at_once([lambda i=i: call(i) for i in range(n)])


def _submit(analyst: Any, solvers: list[dict[str, Any]]) -> Callable[[int], Any]:
    def call(i: int) -> Any:
        return services.request_submit(
            requester=analyst, problem=maxcut(), solvers=solvers, seed=i, enqueue=False
        ).request.id

    return call


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_fifty_submissions_racing_for_the_last_ten_credits_never_overspend(analyst, priced, budget):
    priced("aer_statevector", per_task="1")  # each request: exactly 1 credit
    budget(limit="12")
    Budget.objects.update(spent_credits=Decimal(2))  # 10 credits left
    outcomes = _at_once(50, _submit(analyst, [TINY_QAOA]))
    accepted = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, BudgetExceeded)]
    assert len(accepted) == 10 and len(refused) == 40, [
        o for o in outcomes if not isinstance(o, int | BudgetExceeded)
    ]
    row = Budget.objects.get()
    assert (row.reserved_credits, row.spent_credits) == (Decimal(10), Decimal(2))
    assert row.remaining == 0 and row.limit_credits - row.committed == 0
    assert LedgerEntry.objects.filter(kind="reserve").count() == 10
    assert OptimizationRequest.objects.count() == Run.objects.count() == 10
    assert all("0.0 credits left" in e.message for e in refused[-5:])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_submissions_racing_for_five_run_slots_get_exactly_five(analyst, team):
    TeamQuota.objects.create(team=team, max_concurrent_runs=5)
    outcomes = _at_once(20, _submit(analyst, [CLASSICAL]))
    assert sum(isinstance(o, int) for o in outcomes) == 5
    assert sum(isinstance(o, QuotaExceeded) for o in outcomes) == 15, outcomes
    assert Run.objects.count() == 5
