"""Campaigns: requests held over a window, sent in one burst, compared in one table."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.models import AuditEvent
from jobs import services
from jobs.models import Campaign, OptimizationRequest, Run
from quantum.backends import get_backend
from quantum.models import BackendConfig
from tests.jobs.conftest import maxcut, work
from tests.support.backends import BatchRecordingBackend, replaced

pytestmark = pytest.mark.django_db


def qaoa(reps: int, backend: str = "aer_statevector") -> dict:
    return {"name": "qaoa", "backend": backend, "options": {"reps": reps, "maxiter": 8}}


@pytest.fixture
def ana(client_as, analyst):
    return client_as(analyst)


@pytest.fixture
def campaign(ana):
    response = ana.post(
        "/api/v1/campaigns/", {"title": "reps 1 vs 3", "window_seconds": 600}, format="json"
    )
    assert response.status_code == 201, response.json()
    return Campaign.objects.get(id=response.json()["id"])


def _submit(ana, campaign, reps: int) -> int:
    body = {
        "problem": maxcut(6),
        "solvers": [qaoa(reps), {"name": "exact"}],
        "shots": 128,
        "campaign": campaign.id,
    }
    response = ana.post("/api/v1/requests/", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_requests_in_a_collecting_campaign_are_held_not_sent(
    ana, campaign, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks() as sent:
        rid = _submit(ana, campaign, reps=1)
    assert sent == []  # no broker message yet
    assert set(Run.objects.filter(request_id=rid).values_list("status", flat=True)) == {"queued"}
    later = timezone.now() + timedelta(seconds=settings.JOBS_RENUDGE_AFTER_SECONDS + 1)
    assert services.runs_reap(now=later).renudged == []  # held on purpose
    req = OptimizationRequest.objects.get(id=rid)
    assert services.requests_sweep_deadlines(now=req.deadline + timedelta(seconds=1)) == []


def test_dispatch_sends_every_held_run_at_once_and_restarts_deadlines(
    ana, campaign, django_capture_on_commit_callbacks
):
    ids = [_submit(ana, campaign, reps=1), _submit(ana, campaign, reps=3)]
    before = {r.id: r.deadline for r in OptimizationRequest.objects.filter(id__in=ids)}
    with django_capture_on_commit_callbacks() as sent:
        response = ana.post(f"/api/v1/campaigns/{campaign.id}/dispatch/")
    assert response.status_code == 200 and response.json()["status"] == "dispatched"
    assert len(sent) == 1  # one callback sends all four runs' messages
    assert Run.objects.filter(request_id__in=ids, enqueued_at__isnull=False).count() == 4
    for req in OptimizationRequest.objects.filter(id__in=ids):
        assert req.deadline > before[req.id]
    assert AuditEvent.objects.filter(action="campaign.dispatched").count() == 1
    again = ana.post(f"/api/v1/campaigns/{campaign.id}/dispatch/")
    assert again.status_code == 409


def test_a_dispatched_campaign_takes_no_more_requests(ana, campaign):
    services.campaign_dispatch(campaign=campaign)
    body = {"problem": maxcut(), "solvers": [{"name": "exact"}], "campaign": campaign.id}
    response = ana.post("/api/v1/requests/", body, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "campaign"
    assert OptimizationRequest.objects.count() == 0


def test_a_retried_submission_gets_its_request_back_after_its_campaign_was_sent(ana, campaign):
    body = {"problem": maxcut(), "solvers": [{"name": "exact"}], "campaign": campaign.id}
    first = ana.post("/api/v1/requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 201
    services.campaign_dispatch(campaign=campaign)

    again = ana.post("/api/v1/requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    assert again.status_code == 201, again.json()
    assert again.json()["id"] == first.json()["id"] and again["Idempotent-Replayed"] == "true"
    new = ana.post("/api/v1/requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert new.status_code == 400 and new.json()["errors"][0]["field"] == "campaign"
    assert OptimizationRequest.objects.count() == 1


def test_another_teams_campaign_is_a_400_on_the_field(ana, client_as, make_user, make_team):
    other = client_as(make_user("zed", "analyst", team=make_team("other")))
    theirs = other.post("/api/v1/campaigns/", {"title": "theirs"}, format="json").json()["id"]
    body = {"problem": maxcut(), "solvers": [{"name": "exact"}], "campaign": theirs}
    response = ana.post("/api/v1/requests/", body, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "campaign"
    assert ana.get(f"/api/v1/campaigns/{theirs}/").status_code == 404


def test_beat_dispatches_campaigns_whose_window_closed(ana, campaign):
    _submit(ana, campaign, reps=1)
    assert services.campaigns_dispatch_due() == []
    assert services.campaigns_dispatch_due(now=campaign.window_closes_at) == [campaign.id]
    campaign.refresh_from_db()
    assert campaign.status == "dispatched"


def test_the_campaign_page_compares_its_variants_in_one_table(
    ana, campaign, client, analyst, password
):
    ids = [_submit(ana, campaign, reps=1), _submit(ana, campaign, reps=3)]
    services.campaign_dispatch(campaign=campaign)
    for rid in ids:
        work(OptimizationRequest.objects.get(id=rid))
    rows = ana.get(f"/api/v1/campaigns/{campaign.id}/").json()["comparison"]
    variants = [(r["request"], r["solver"], r["variant"]) for r in rows]
    assert variants == [
        (ids[0], "qaoa", "maxiter=8, reps=1"),
        (ids[0], "exact", ""),
        (ids[1], "qaoa", "maxiter=8, reps=3"),
        (ids[1], "exact", ""),
    ]
    exact_rows = [r for r in rows if r["solver"] == "exact"]
    assert all(r["ratio"] == 1.0 and r["best_objective"] == 8.0 for r in exact_rows)
    qaoa_rows = [r for r in rows if r["solver"] == "qaoa"]
    assert qaoa_rows[0]["depth"] < qaoa_rows[1]["depth"]  # reps 3 is deeper
    client.login(username=analyst.username, password=password)
    html = client.get(f"/campaigns/{campaign.id}/").content.decode()
    assert "Variants compared" in html and "maxiter=8, reps=3" in html
    # The two exact runs sampled nothing: no P(best) of 1.000 for them, as in
    # the candidates table; the two QAOA runs show their measured shares.
    assert html.count(">not sampled</td>") == 2
    shown = client.get(f"/campaigns/{campaign.id}/").context["rows"]
    assert [r["kind"] for r in shown] == ["quantum", "classical", "quantum", "classical"]


def test_campaign_ratios_are_the_request_pages_and_say_when_no_optimum_is_known(
    ana, campaign, client, analyst, password
):
    proven = _submit(ana, campaign, reps=1)  # qaoa and exact: the optimum is proven
    body = {
        "problem": maxcut(6),
        "solvers": [{"name": "local_search"}, {"name": "annealing"}],  # no optimum known
        "campaign": campaign.id,
    }
    unproven = ana.post("/api/v1/requests/", body, format="json").json()["id"]
    services.campaign_dispatch(campaign=campaign)
    for rid in (proven, unproven):
        work(OptimizationRequest.objects.get(id=rid))
    rows = ana.get(f"/api/v1/campaigns/{campaign.id}/").json()["comparison"]
    detail = ana.get(f"/api/v1/requests/{proven}/").json()
    on_request_page = {run["id"]: run["approximation_ratio"] for run in detail["runs"]}
    for row in rows:
        if row["request"] == proven:
            assert row["ratio_against"] == "proven"
            assert row["ratio"] == on_request_page[row["run"]]  # one number, two pages
        else:
            assert row["ratio_against"] == "best_found"
    assert max(r["ratio"] for r in rows if r["request"] == unproven) == 1.0
    client.login(username=analyst.username, password=password)
    html = client.get(f"/campaigns/{campaign.id}/").content.decode()
    assert html.count("vs best found") == 2  # the two rows of the request with no optimum


def test_runs_on_an_ibm_backend_go_in_one_provider_batch(ana, campaign):
    name = "ibm_runtime:fake_torino"
    BackendConfig.objects.update_or_create(
        name=name,
        defaults={
            "kind": "ibm_runtime",
            "enabled": True,
            "channel": "local",
            "backend_name": "fake_torino",
            "max_qubits": 20,
            "max_shots": 100_000,
        },
    )
    ids = []
    for reps in (1, 2):
        body = {
            "problem": maxcut(6),
            "solvers": [qaoa(reps, name), {"name": "exact"}],
            "shots": 64,
            "campaign": campaign.id,
        }
        ids.append(ana.post("/api/v1/requests/", body, format="json").json()["id"])
    services.campaign_dispatch(campaign=campaign)
    campaign.refresh_from_db()
    ibm_runs = sorted(Run.objects.filter(backend=name).values_list("id", flat=True))
    assert campaign.provider_batches == {name: {"runs": ibm_runs}}
    log: list[tuple[str, int]] = []
    aer = get_backend("aer_statevector")
    with replaced("ibm_runtime", lambda spec: BatchRecordingBackend(aer, spec, log)):
        outcomes = services.campaign_run_batch(campaign_id=campaign.id, backend=name, worker="w")
    assert outcomes == ["succeeded", "succeeded"]
    # Both runs' jobs were submitted inside the one batch.
    assert log[0] == ("open", 1) and log[-1] == ("close", 1)
    assert {entry for entry in log[1:-1]} == {("run", 1)}
    assert set(Run.objects.filter(id__in=ibm_runs).values_list("tier", flat=True)) == {"hardware"}


def test_a_test_backend_wrapping_another_keeps_the_inner_provider_batch():
    """Fault-injecting wrappers (tests.support) must not silently drop a provider
    batch: jobs submitted through the wrapper go in the inner backend's batch."""
    from qiskit import QuantumCircuit

    from tests.support.backends import WrappedBackend

    aer = get_backend("aer_statevector")
    log: list[tuple[str, int]] = []
    outer = WrappedBackend(BatchRecordingBackend(aer, aer.spec, log))
    circuit = QuantumCircuit(1)
    circuit.h(0)
    circuit.measure_all()
    with outer.batch() as batch:
        assert batch is outer
        batch.run([outer.transpile(circuit, seed=1)], shots=8, seed=1)
    assert log == [("open", 1), ("run", 1), ("close", 1)]
