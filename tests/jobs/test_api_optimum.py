"""The request API measures every run against one optimum, as the compare page does:
a heuristic run at the optimum reads 1, not the null its solver stored."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.evidence import evidence_pack
from jobs.models import OptimizationRequest
from tests.jobs.conftest import FAST_SOLVERS, maxcut, work

pytestmark = pytest.mark.django_db
URL = "/api/v1/requests/"
RING_OPTIMUM = 8.0  # maxcut(): the six-ring cut alternately, and its chord of weight 2


@pytest.fixture
def ana(client_as, analyst):
    return client_as(analyst)


def solved(client, solvers) -> tuple[OptimizationRequest, dict]:
    created = client.post(URL, {"problem": maxcut(), "solvers": solvers}, format="json")
    assert created.status_code == 201, created.json()
    req = work(OptimizationRequest.objects.get(id=created.json()["id"]))
    assert req.status == "ready_for_review"
    return req, client.get(f"{URL}{req.pk}/").json()


def by_solver(data: dict) -> dict[str, dict]:
    return {run["solver"]: run for run in data["runs"]}


def test_a_heuristic_run_at_the_optimum_reads_a_ratio_of_one(ana):
    _, data = solved(ana, FAST_SOLVERS)
    runs = by_solver(data)
    exact, local = runs["exact"], runs["local_search"]
    assert data["optimum"] == {"value": RING_OPTIMUM, "source": "proven", "run": exact["id"]}
    # The solver's own ratio stays as it stored it: a heuristic knows no optimum.
    assert local["metrics"]["best_objective"] == RING_OPTIMUM
    assert local["metrics"]["approximation_ratio"] is None
    assert local["approximation_ratio"] == exact["approximation_ratio"] == 1.0


def test_without_an_exhaustive_search_no_optimum_and_no_ratio_is_claimed(ana):
    _, data = solved(ana, [{"name": "local_search"}, {"name": "annealing"}])
    assert data["optimum"] is None
    assert [run["approximation_ratio"] for run in data["runs"]] == [None, None]


def test_an_optimum_given_to_qaoa_measures_the_heuristic_runs_too(ana):
    given = 10.0  # a benchmark's known optimum, say; the heuristic's 8 reads 0.8 of it
    qaoa = {"name": "qaoa", "options": {"reps": 1, "maxiter": 5, "optimum": given}}
    _, data = solved(ana, [qaoa, {"name": "local_search"}])
    runs = by_solver(data)
    assert data["optimum"] == {"value": given, "source": "given", "run": runs["qaoa"]["id"]}
    assert runs["local_search"]["approximation_ratio"] == pytest.approx(RING_OPTIMUM / given)


def test_a_proven_optimum_outranks_one_given_in_the_options(ana):
    qaoa = {"name": "qaoa", "options": {"reps": 1, "maxiter": 5, "optimum": 10.0}}
    _, data = solved(ana, [qaoa, *FAST_SOLVERS])
    runs = by_solver(data)
    assert data["optimum"] == {
        "value": RING_OPTIMUM,
        "source": "proven",
        "run": runs["exact"]["id"],
    }
    assert runs["local_search"]["approximation_ratio"] == 1.0


def test_the_ratios_cost_the_detail_no_extra_query(ana):
    req, _ = solved(ana, FAST_SOLVERS)
    with CaptureQueriesContext(connection) as two_runs:
        ana.get(f"{URL}{req.pk}/")
    more, _ = solved(ana, [*FAST_SOLVERS, {"name": "annealing"}])
    with CaptureQueriesContext(connection) as three_runs:
        ana.get(f"{URL}{more.pk}/")
    assert len(three_runs) == len(two_runs)


def test_the_evidence_pack_carries_the_optimum_and_each_runs_ratio(ana):
    req, data = solved(ana, FAST_SOLVERS)
    pack = evidence_pack(req)
    assert pack["optimum"] == data["optimum"]
    assert {run["solver"]: run["approximation_ratio"] for run in pack["runs"]} == {
        "exact": 1.0,
        "local_search": 1.0,
    }
