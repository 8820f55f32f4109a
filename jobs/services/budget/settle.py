"""The end of a run: settle its actual cost, or release its reservation; once."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import F
from django.utils import timezone

from jobs.models import Budget, LedgerEntry, LedgerKind, Run, RunStatus
from jobs.services.budget.row import budget_alerts_check, ledger_entry
from jobs.services.spend_plan import ZERO, credits


def run_spend_close(*, run_id: int) -> LedgerEntry | None:
    """Settle a finished run's actual cost, or release its reservation; once.

    Succeeded: the actual cost (at the prices of its reservation) is charged
    and the reservation closed, so what was held but not used is free again.
    Failed, timed out or cancelled: the reservation is released.
    Called inside the transaction that made the run terminal.
    """
    return runs_spend_close(run_ids=[run_id]).get(run_id)


def runs_spend_close(*, run_ids: Iterable[int]) -> dict[int, LedgerEntry]:
    """``run_spend_close`` for many runs in a fixed number of queries: the entries
    written, by run id. Runs without a reservation (classical runs, cache copies,
    runs from before budgets) and runs already closed are left alone."""
    ids = list(run_ids)
    # Budgets first (in id order, as everywhere): under their locks, "already
    # closed" cannot change before our entries are in.
    reserving = LedgerEntry.objects.filter(run_id__in=ids, kind=LedgerKind.RESERVE)
    locked = Budget.objects.select_for_update().filter(pk__in=reserving.values("budget_id"))
    budgets = {b.pk: b for b in locked.order_by("pk")}
    if not budgets:
        return {}
    reserves: dict[int, LedgerEntry] = {}
    closed: set[int] = set()
    for entry in LedgerEntry.objects.filter(run_id__in=ids):
        if entry.kind == LedgerKind.RESERVE:
            reserves[entry.run_id] = entry
        elif entry.kind in (LedgerKind.SETTLE, LedgerKind.RELEASE):
            closed.add(entry.run_id)
    todo = sorted(set(reserves) - closed)
    runs = Run.objects.filter(id__in=todo).select_related("request").order_by("id")
    written = {
        run.id: _closing_entry(budgets[reserves[run.id].budget_id], run, reserves[run.id])
        for run in runs
    }
    LedgerEntry.objects.bulk_create(written.values())
    _budgets_apply(budgets, [(reserves[run_id], entry) for run_id, entry in written.items()])
    return written


def _closing_entry(budget: Budget, run: Run, reserve: LedgerEntry) -> LedgerEntry:
    if run.status == RunStatus.SUCCEEDED:
        amount, detail = actual_cost(run, reserve)
        return ledger_entry(budget, run, LedgerKind.SETTLE, amount, detail)
    return ledger_entry(budget, run, LedgerKind.RELEASE, reserve.credits, {"status": run.status})


def _budgets_apply(
    budgets: dict[int, Budget], closing: list[tuple[LedgerEntry, LedgerEntry]]
) -> None:
    """Free each reservation and add what was settled, one UPDATE per budget; then alerts."""
    freed: dict[int, Decimal] = {}
    spent: dict[int, Decimal] = {}
    for reserve, entry in closing:
        freed[entry.budget_id] = freed.get(entry.budget_id, ZERO) + reserve.credits
        charged = entry.credits if entry.kind == LedgerKind.SETTLE else ZERO
        spent[entry.budget_id] = spent.get(entry.budget_id, ZERO) + charged
    for budget_id in sorted(freed):
        Budget.objects.filter(pk=budget_id).update(
            reserved_credits=F("reserved_credits") - freed[budget_id],
            spent_credits=F("spent_credits") + spent[budget_id],
            updated_at=timezone.now(),
        )
        if spent[budget_id]:
            budget_alerts_check(budget=Budget.objects.get(pk=budget_id), system="jobs.budget")


def actual_cost(run: Run, reserve: LedgerEntry) -> tuple[Decimal, dict[str, Any]]:
    """What a succeeded run cost, from what its backend reported, at the reserved prices.

    ``usage`` (from the solve) counts the provider jobs and billed quantum
    seconds of the attempt that succeeded; ``failed_usage`` the same for every
    attempt that failed after reaching the provider. Shots are the usage's when
    it has them, else the final shots plus the optimiser's shots per extra job,
    as estimated. An earlier attempt that left no usage is charged one task.
    """
    prices = reserve.detail.get("cost_model", {})
    estimate = reserve.detail.get("estimate", {})
    usage = run.usage or {}
    jobs = int(usage.get("jobs") or estimate.get("jobs") or 1)
    shots = int(usage.get("shots") or _shots_from_estimate(run, estimate, jobs))
    seconds = Decimal(str(usage.get("quantum_seconds") or 0))
    failed = {int(u["attempt"]): u for u in run.failed_usage or []}
    for attempt in range(1, run.attempt):
        spent = failed.get(attempt, {})
        failed_jobs = int(spent.get("jobs") or 0)
        jobs += max(failed_jobs, 1)
        shots += failed_jobs * _shots_per_optimiser_job(run, estimate)
        seconds += Decimal(str(spent.get("quantum_seconds") or 0))
    amount = (
        Decimal(prices.get("per_task", "0")) * jobs
        + Decimal(prices.get("per_shot", "0")) * shots
        + Decimal(prices.get("per_second", "0")) * seconds
    )
    detail = {
        "tasks": jobs,
        "shots": shots,
        "quantum_seconds": float(seconds),
        "attempts": run.attempt,
        "estimated": str(reserve.credits),
    }
    return credits(amount), detail


def _shots_from_estimate(run: Run, estimate: dict[str, Any], jobs: int) -> int:
    final = int(run.request.settings.get("shots") or 0)
    return final + max(0, jobs - 1) * _shots_per_optimiser_job(run, estimate)


def _shots_per_optimiser_job(run: Run, estimate: dict[str, Any]) -> int:
    final = int(run.request.settings.get("shots") or 0)
    est_jobs, est_shots = int(estimate.get("jobs") or 1), int(estimate.get("shots") or final)
    return (est_shots - final) // (est_jobs - 1) if est_jobs > 1 else 0
