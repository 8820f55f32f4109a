"""Merged ranking on one scale; cache "prefer" serves identical work from a stored result."""

from __future__ import annotations

import pytest

from approvals.models import AuditEvent
from jobs.models import Candidate, Distribution, Run
from jobs.services.ranking import candidates_rank
from tests.jobs.conftest import maxcut, work

pytestmark = pytest.mark.django_db

TINY_QAOA = {"name": "qaoa", "backend": "aer_statevector", "options": {"reps": 1, "maxiter": 5}}


def _add(req, run, *, bitstring, objective, feasible=True, probability=0.0):
    return Candidate.objects.create(
        request=req,
        run=run,
        assignment=[int(b) for b in reversed(bitstring)],
        bitstring=bitstring,
        objective=objective,
        feasible=feasible,
        probability=probability,
        run_rank=1,
    )


def test_ranking_puts_feasible_first_then_objective_then_the_better_source(submit):
    req = submit(
        solvers=[TINY_QAOA, {"name": "exact"}, {"name": "local_search"}],
        problem={"type": "qubo", "linear": [1.0, 1.0], "sense": "minimize"},
        enqueue=False,
    )
    qaoa, exact, local = req.runs.order_by("id")
    Run.objects.filter(id=qaoa.id).update(status="succeeded", tier="simulator")
    Run.objects.filter(id__in=[exact.id, local.id]).update(status="succeeded", tier="classical")
    infeasible = _add(req, exact, bitstring="11", objective=-5.0, feasible=False)
    q_best = _add(req, qaoa, bitstring="00", objective=0.0, probability=0.9)
    e_best = _add(req, exact, bitstring="00", objective=0.0 + 1e-15)  # same value, float noise
    l_best = _add(req, local, bitstring="00", objective=0.0)
    worse = _add(req, qaoa, bitstring="01", objective=1.0, probability=0.1)
    ranked = candidates_rank(request=req, runs=list(req.runs.all()))
    assert [c.id for c in ranked] == [e_best.id, l_best.id, q_best.id, worse.id, infeasible.id]
    assert list(Candidate.objects.order_by("rank").values_list("rank", flat=True)) == [
        1,
        2,
        3,
        4,
        5,
    ]


def test_maximised_problems_rank_larger_objectives_first(submit):
    req = work(submit(problem=maxcut(6), solvers=[{"name": "local_search"}]))
    objectives = list(req.candidates.order_by("rank").values_list("objective", flat=True))
    assert objectives == sorted(objectives, reverse=True)


def test_cache_prefer_serves_an_identical_solved_request_labelled_cache(submit):
    first = work(submit(solvers=[TINY_QAOA, {"name": "exact"}], shots=128))
    again = submit(solvers=[TINY_QAOA, {"name": "exact"}], shots=128, cache="prefer")
    assert again.fingerprint == first.fingerprint
    assert again.status == "ready_for_review"  # no worker needed
    for run in again.runs.all():
        source = first.runs.get(solver=run.solver)
        assert (run.status, run.tier, run.cache_source_id) == ("succeeded", "cache", source.id)
        assert run.attempt == 0 and run.metrics == source.metrics
    copied = again.runs.get(solver="qaoa")
    assert (
        Distribution.objects.get(run=copied).sha256
        == Distribution.objects.get(run=first.runs.get(solver="qaoa")).sha256
    )
    assert again.candidates.count() == first.candidates.count()
    assert again.candidates.get(rank=1).bitstring == first.candidates.get(rank=1).bitstring
    assert AuditEvent.objects.filter(action="run.succeeded", system="jobs.cache").count() == 2


def test_cache_prefer_runs_what_it_cannot_serve(submit):
    work(submit(solvers=[{"name": "exact"}, {"name": "local_search"}], seed=3))
    partly = submit(solvers=[{"name": "exact"}, {"name": "local_search"}], seed=4, cache="prefer")
    assert set(partly.runs.values_list("status", flat=True)) == {"queued"}  # seed differs


def test_cache_bypass_always_runs(submit):
    work(submit())
    again = submit()
    assert set(again.runs.values_list("status", "tier")) == {("queued", "")}


def test_the_cache_is_per_team(submit, make_team, make_user):
    work(submit())
    outsider = make_user("zed", "analyst", team=make_team("other"))
    theirs = submit(requester=outsider, cache="prefer")
    assert set(theirs.runs.values_list("status", flat=True)) == {"queued"}


def test_a_ranked_request_has_its_figures_built_before_anyone_opens_it(
    submit, monkeypatch, django_capture_on_commit_callbacks
):
    """Measurement histograms are the costly figures: a request with a sampled run
    has them built by the worker (a classical-only one builds its few on first view)."""
    from django.core.cache import cache

    from approvals import figures
    from hybridreview.celery import app

    # The warm-up is a Celery task sent on commit; run it inline here.
    cache.clear()
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            req = work(submit(solvers=[TINY_QAOA, {"name": "exact"}], shots=256))
    finally:
        app.conf.task_always_eager = False
    assert req.status == "ready_for_review"

    def rebuilt(*_args, **_kwargs):
        raise AssertionError("the page rebuilt figures the worker had already built")

    monkeypatch.setattr(figures, "build_figures", rebuilt)
    payload = figures.request_figures(req)
    assert payload["request"] == req.pk and payload["figures"]
