"""Backends as operators configure them: limits at submit, disabled backends, connection tests."""

from __future__ import annotations

import pytest

from approvals.models import AuditEvent
from jobs.errors import InvalidInput
from jobs.models import LedgerEntry, OptimizationRequest, Run, RunStatus
from jobs.services.backends import backend_test_connection
from quantum.models import BackendConfig, ensure_default_backends
from tests.budgets.conftest import TINY_QAOA, maxcut
from tests.jobs.conftest import work


def _errors(exc: InvalidInput) -> dict[str, str]:
    return {p.field or "": p.message for p in exc.errors}


def test_a_fresh_database_has_the_default_backends_and_ibm_disabled(db):
    rows = dict(BackendConfig.objects.values_list("name", "enabled"))
    assert rows["aer_statevector"] and rows["aer_mps"] and rows["aer_noisy:fake_torino"]
    assert rows["ibm_runtime:ibm_torino"] is False
    assert rows["ibm_runtime:fake_torino"] is False


def test_seeding_again_leaves_an_admins_changes_alone(db):
    BackendConfig.objects.filter(name="aer_mps").update(enabled=False, max_qubits=9)
    ensure_default_backends()
    assert BackendConfig.objects.filter(name="aer_mps", enabled=False, max_qubits=9).exists()
    assert BackendConfig.objects.filter(name="aer_mps").count() == 1


def test_a_disabled_backend_is_refused_naming_it_and_nothing_is_saved(submit):
    BackendConfig.objects.filter(name="aer_statevector").update(enabled=False)
    with pytest.raises(InvalidInput) as caught:
        submit()
    message = _errors(caught.value)["solvers[0].backend"]
    assert message.startswith(
        "aer_statevector is disabled by an operator; enabled backends: aer_mps"
    )
    assert OptimizationRequest.objects.count() == Run.objects.count() == 0


def test_an_unconfigured_backend_is_refused(submit):
    with pytest.raises(InvalidInput) as caught:
        submit(solvers=[{"name": "qaoa", "backend": "aer_noisy:fake_kyiv"}])
    assert (
        "no backend named 'aer_noisy:fake_kyiv' is configured"
        in _errors(caught.value)["solvers[0].backend"]
    )


def test_a_problem_wider_than_the_backend_is_refused_naming_the_limit(submit):
    BackendConfig.objects.filter(name="aer_statevector").update(max_qubits=4)
    with pytest.raises(InvalidInput) as caught:
        submit(problem=maxcut(6), solvers=[{"name": "local_search"}, TINY_QAOA])
    message = _errors(caught.value)["solvers[1].backend"]
    assert "aer_statevector" in message and "4" in message and "6 qubits" in message
    assert OptimizationRequest.objects.count() == 0


def test_more_shots_than_the_backend_allows_are_refused_naming_the_limit(submit):
    BackendConfig.objects.filter(name="aer_statevector").update(max_shots=1000)
    with pytest.raises(InvalidInput) as caught:
        submit(shots=5000)
    assert _errors(caught.value)["shots"] == (
        "aer_statevector allows at most 1000 shots per run; this request asks for 5000"
    )
    assert OptimizationRequest.objects.count() == 0


def test_limits_name_the_right_solver_when_several_are_refused(submit):
    BackendConfig.objects.filter(name="aer_mps").update(enabled=False)
    solvers = [{"name": "local_search"}, {"name": "qaoa", "backend": "aer_mps"}, {"name": "nope"}]
    with pytest.raises(InvalidInput) as caught:
        submit(solvers=solvers)
    assert {"solvers[1].backend", "solvers[2].name"} <= set(_errors(caught.value))


def test_a_backend_disabled_after_submission_fails_its_run_and_frees_the_reservation(
    submit, priced, budget
):
    priced("aer_statevector", per_task="2")
    budget(limit="10")
    req = submit()
    BackendConfig.objects.filter(name="aer_statevector").update(enabled=False)
    run = work(req).runs.get()
    assert run.status == RunStatus.FAILED
    assert run.error_message == "backend aer_statevector was disabled by an operator"
    assert sorted(LedgerEntry.objects.filter(run=run).values_list("kind", flat=True)) == [
        "release",
        "reserve",
    ]


def test_a_worker_builds_the_backend_from_the_configured_spec(submit):
    # Narrowed after submission: the worker's backend has the admin's limit,
    # not the library's default of 100000 shots.
    req = submit(shots=2000)
    BackendConfig.objects.filter(name="aer_statevector").update(max_shots=1000)
    run = work(req).runs.get()
    assert run.status == RunStatus.FAILED
    assert "1000" in run.error_message and "2000" in run.error_message


def test_a_connection_test_on_a_simulator_runs_a_tiny_job_and_is_remembered(admin):
    config = BackendConfig.objects.get(name="aer_statevector")
    result = backend_test_connection(config=config, actor=admin)
    assert result.ok, result.message
    config.refresh_from_db()
    assert config.last_test_ok is True and config.last_test_latency_ms is not None
    event = AuditEvent.objects.get(action="backend.tested")
    assert event.after["ok"] is True and event.actor_id == admin.id


def test_a_connection_test_of_ibm_without_credentials_fails_with_the_reason(admin):
    config = BackendConfig.objects.get(name="ibm_runtime:ibm_torino")
    result = backend_test_connection(config=config, actor=admin)
    assert not result.ok
    assert "token" in result.message
