"""Reserve at submit, settle or release at the end: hard and soft limits, downgrade, alerts."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from approvals.models import AuditEvent
from jobs import services
from jobs.models import Budget, LedgerEntry, OptimizationRequest, Run, RunStatus
from jobs.selectors_budget import request_cost
from jobs.services.budget import (
    BudgetExceeded,
    budget_for,
    current_period,
    run_spend_close,
)
from quantum.models import BackendConfig
from tests.budgets.conftest import CLASSICAL, TINY_QAOA, maxcut
from tests.jobs.conftest import work

SHOTS = 1000


def _ledger(req: OptimizationRequest) -> list[tuple[str, Decimal]]:
    return list(
        LedgerEntry.objects.filter(run__request=req).order_by("id").values_list("kind", "credits")
    )


def test_a_quantum_run_reserves_its_estimate_at_submit(submit, priced, budget):
    priced("aer_statevector", per_task="1", per_shot="0.001")
    budget(limit="10")
    req = submit(solvers=[TINY_QAOA, CLASSICAL], shots=SHOTS)
    assert _ledger(req) == [("reserve", Decimal("2.000000"))]  # 1 task + 1000 shots
    row = Budget.objects.get(team=req.team)
    assert (row.reserved_credits, row.spent_credits) == (Decimal(2), Decimal(0))


def test_the_settled_cost_of_a_real_run_matches_its_estimate(submit, priced, budget):
    priced("aer_statevector", per_task="1", per_shot="0.001")
    budget(limit="10")
    req = work(submit(solvers=[TINY_QAOA], shots=SHOTS))
    run = req.runs.get()
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert _ledger(req) == [("reserve", Decimal(2)), ("settle", Decimal(2))]
    settle = LedgerEntry.objects.get(run=run, kind="settle")
    assert settle.detail["tasks"] == 1 and settle.detail["shots"] == SHOTS
    row = Budget.objects.get(team=req.team)
    assert (row.reserved_credits, row.spent_credits) == (Decimal(0), Decimal(2))
    assert request_cost(req)["credits"] == Decimal(2)


@pytest.mark.slow
def test_a_noisy_run_settles_what_it_used_which_is_at_most_its_estimate(submit, priced, budget):
    # CVaR on samples: one job per optimiser evaluation plus the final one;
    # COBYLA may stop before maxiter, so the actual jobs are at most the estimate.
    priced("aer_noisy:fake_torino", per_task="0.5", per_shot="0.0001")
    budget(limit="100")
    qaoa = {
        "name": "qaoa",
        "backend": "aer_noisy:fake_torino",
        "options": {"reps": 1, "maxiter": 4},
    }
    req = work(submit(solvers=[qaoa], shots=SHOTS, problem=maxcut(3)))
    run = req.runs.get()
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    reserve = LedgerEntry.objects.get(run=run, kind="reserve")
    settle = LedgerEntry.objects.get(run=run, kind="settle")
    jobs = run.usage["jobs"]
    expected = Decimal("0.5") * jobs + Decimal("0.0001") * settle.detail["shots"]
    assert settle.credits == expected
    assert 0 < settle.credits <= reserve.credits


def test_a_hard_limit_refuses_naming_the_estimate_and_what_is_left(submit, priced, budget):
    priced("aer_statevector", per_task="12.5")
    budget(limit="15")
    Budget.objects.filter(period=current_period()).update(spent_credits=Decimal(12))
    with pytest.raises(BudgetExceeded) as caught:
        submit()
    assert caught.value.message.startswith(
        "Estimated 12.5 credits exceeds the 3.0 credits left in demo's budget for "
        f"{current_period():%Y-%m}"
    )
    assert OptimizationRequest.objects.count() == Run.objects.count() == 0
    assert LedgerEntry.objects.count() == 0
    assert Budget.objects.get().reserved_credits == 0


def test_free_runs_pass_a_spent_hard_budget(submit, priced, budget):
    budget(limit="0")
    req = submit(solvers=[TINY_QAOA, CLASSICAL])
    assert req.runs.count() == 2
    assert _ledger(req) == [("reserve", Decimal(0))]


def test_a_soft_limit_lets_the_request_through_and_alerts_once(submit, priced, budget, caplog):
    priced("aer_statevector", per_task="4")
    budget(limit="5", hard=False, thresholds=[0.5])
    with caplog.at_level(logging.WARNING, logger="jobs.services.budget"):
        submit()
        submit(seed=8)  # 8 of 5: over the limit, still accepted
        submit(seed=9)
    assert OptimizationRequest.objects.count() == 3
    row = Budget.objects.get()
    assert row.reserved_credits == 12
    alerts = list(AuditEvent.objects.filter(action="budget.alert").order_by("seq"))
    assert [a.after["thresholds"] for a in alerts] == [[0.5], [1.0]]
    assert row.alerts_raised == [0.5, 1.0]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("budget alert" in w for w in warnings) == 2
    assert any("passed its soft budget" in w for w in warnings)


def test_over_a_hard_limit_simulate_sends_paid_runs_to_a_free_simulator(submit, priced, budget):
    priced("aer_noisy:fake_torino", per_task="50")
    budget(limit="10")
    qaoa = {
        "name": "qaoa",
        "backend": "aer_noisy:fake_torino",
        "options": {"reps": 1, "maxiter": 4},
    }
    req = submit(solvers=[qaoa, CLASSICAL], on_budget_exceeded="simulate")
    run = req.runs.get(solver="qaoa")
    assert (run.backend, run.downgraded_from) == ("aer_statevector", "aer_noisy:fake_torino")
    assert req.settings["solvers"][0]["backend"] == "aer_statevector"
    event = AuditEvent.objects.get(action="request.downgraded")
    assert event.after["runs"] == [
        {"solver": "qaoa", "from": "aer_noisy:fake_torino", "to": "aer_statevector"}
    ]
    run = work(req).runs.get(solver="qaoa")
    assert (run.status, run.tier) == (RunStatus.SUCCEEDED, "simulator")
    assert Budget.objects.get().spent_credits == 0


def test_simulate_still_refuses_when_no_simulator_can_take_the_problem(submit, priced, budget):
    priced("aer_noisy:fake_torino", per_task="50")
    BackendConfig.objects.filter(name__in=["aer_statevector", "aer_mps"]).update(enabled=False)
    budget(limit="10")
    qaoa = {"name": "qaoa", "backend": "aer_noisy:fake_torino", "options": {"reps": 1}}
    with pytest.raises(BudgetExceeded, match="No simulator can take"):
        submit(solvers=[qaoa], on_budget_exceeded="simulate")
    assert OptimizationRequest.objects.count() == 0


def test_a_failed_run_releases_its_reservation(submit, priced, budget):
    priced("aer_statevector", per_task="3")
    budget(limit="10")
    req = submit()
    run = req.runs.get()
    services.run_claim(run_id=run.id, worker="w")
    services.run_error(run_id=run.id, attempt=1, message="device retired", permanent=True)
    assert _ledger(req) == [("reserve", Decimal(3)), ("release", Decimal(3))]
    row = Budget.objects.get()
    assert (row.reserved_credits, row.spent_credits) == (0, 0)
    assert request_cost(req)["credits"] == 0


def test_cancelling_a_request_releases_its_reservations(submit, priced, budget, analyst):
    priced("aer_statevector", per_task="3")
    budget(limit="10")
    req = submit()
    services.request_cancel(request=req, actor=analyst)
    assert [k for k, _ in _ledger(req)] == ["reserve", "release"]
    assert Budget.objects.get().reserved_credits == 0


def test_a_run_is_settled_once_however_often_it_is_closed(submit, priced, budget):
    priced("aer_statevector", per_task="1")
    budget(limit="10")
    req = work(submit())
    run = req.runs.get()
    assert run_spend_close(run_id=run.id) is None
    assert [k for k, _ in _ledger(req)] == ["reserve", "settle"]
    assert Budget.objects.get().spent_credits == 1


def test_the_ledger_is_append_only_in_the_database(submit, priced, budget):
    from django.db import IntegrityError, transaction

    priced("aer_statevector", per_task="1")
    budget(limit="10")
    req = work(submit())
    settle = LedgerEntry.objects.get(run__request=req, kind="settle")
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(pk=settle.pk).update(credits=Decimal("0"))
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.filter(pk=settle.pk)._raw_delete(using="default")
    assert _ledger(req) == [("reserve", Decimal("1.000000")), ("settle", Decimal("1.000000"))]


def test_retries_are_charged_a_task_each(submit, priced, budget, settings):
    from quantum.errors import BackendError
    from tests.support.backends import ScriptedBackend, swapped

    settings.JOBS_RETRY_BACKOFF_SECONDS = 0
    priced("aer_statevector", per_task="1")
    budget(limit="10")
    req = submit()
    script = [BackendError("busy", permanent=False)]
    with swapped("aer_statevector", lambda inner: ScriptedBackend(inner, script, [])):
        req = work(req)
    run = req.runs.get()
    assert (run.status, run.attempt) == (RunStatus.SUCCEEDED, 2)
    settle = LedgerEntry.objects.get(run=run, kind="settle")
    assert (settle.credits, settle.detail["tasks"]) == (Decimal(2), 2)


def test_what_a_failed_attempt_consumed_at_the_provider_is_settled_too(
    submit, priced, budget, settings
):
    settings.JOBS_RETRY_BACKOFF_SECONDS = 0
    priced("aer_statevector", per_task="1", per_second="2")
    budget(limit="100")
    req = submit()
    run = services.run_claim(run_id=req.runs.get().id, worker="w1")
    # The first attempt ran three provider jobs (2.5 billed seconds), then failed.
    services.run_error(
        run_id=run.id,
        attempt=1,
        message="device went into maintenance",
        permanent=False,
        usage={"jobs": 3, "quantum_seconds": 2.5},
    )
    run = work(req).runs.get()
    assert (run.status, run.attempt) == (RunStatus.SUCCEEDED, 2)
    settle = LedgerEntry.objects.get(run=run, kind="settle")
    succeeded_jobs = int(run.usage["jobs"])
    assert settle.detail["tasks"] == succeeded_jobs + 3
    assert settle.detail["quantum_seconds"] >= 2.5
    assert settle.credits >= Decimal(succeeded_jobs + 3) + Decimal("5.0")


def test_a_new_month_starts_from_the_previous_budget(team, budget):
    budget(limit="42", hard=False, thresholds=[0.5, 0.9])
    later = current_period().replace(year=current_period().year + 1)
    fresh = budget_for(team, later, lock=False)
    assert (fresh.pk, fresh.limit_credits, fresh.hard) == (None, Decimal(42), False)
    assert fresh.alert_thresholds == [0.5, 0.9]


def test_a_team_without_a_budget_gets_the_default_on_first_submit(submit, settings):
    settings.BUDGET_DEFAULT_LIMIT_CREDITS = Decimal(7)
    submit()
    row = Budget.objects.get()
    assert (row.limit_credits, row.hard, row.period) == (Decimal(7), True, current_period())
