"""Submitting: defaults, one run per (solver, backend), fingerprints, refusals, audit."""

from __future__ import annotations

import pytest
from django.db import transaction

from approvals.models import AuditEvent
from jobs import services
from jobs.errors import IdempotencyMismatch, InvalidInput
from jobs.models import Candidate, OptimizationRequest, Run
from tests.jobs.conftest import maxcut

pytestmark = pytest.mark.django_db


def _fields(exc: InvalidInput) -> set[str | None]:
    return {e.field for e in exc.errors}


def test_a_request_and_one_run_per_solver_and_backend_are_saved_together(submit):
    req = submit(
        solvers=[
            {"name": "qaoa", "backend": "aer_statevector", "options": {"reps": 1}},
            {"name": "qaoa", "backend": "aer_mps", "options": {"reps": 1}},
            {"name": "exact"},
        ]
    )
    runs = list(req.runs.values_list("solver", "backend", "kind", "status", "attempt"))
    assert runs == [
        ("qaoa", "aer_statevector", "quantum", "queued", 0),
        ("qaoa", "aer_mps", "quantum", "queued", 0),
        ("exact", "", "classical", "queued", 0),
    ]
    assert req.status == "submitted"
    assert req.problem_kind == "maxcut" and req.num_variables == 6 and req.sense == "maximize"


def test_without_solvers_small_problems_get_qaoa_and_exact(submit):
    req = submit(solvers=None)
    assert list(req.runs.values_list("solver", "backend")) == [
        ("qaoa", "aer_statevector"),
        ("exact", ""),
    ]


def test_without_solvers_problems_over_twenty_variables_get_qaoa_and_annealing(submit):
    req = submit(solvers=None, problem=maxcut(21))
    assert list(req.runs.values_list("solver", flat=True)) == ["qaoa", "annealing"]


def test_defaults_fill_every_setting_but_the_problem(submit, settings):
    req = submit()
    assert req.settings["shots"] == settings.JOBS_DEFAULT_SHOTS
    assert req.settings["seed"] == settings.JOBS_DEFAULT_SEED
    assert req.settings["deadline_seconds"] == settings.JOBS_DEFAULT_DEADLINE_SECONDS
    assert req.settings["cache"] == "bypass"
    assert req.title == "maxcut with 6 variables"
    assert req.team.slug == "demo"
    delta = (req.deadline - req.created_at).total_seconds()
    assert abs(delta - settings.JOBS_DEFAULT_DEADLINE_SECONDS) < 5


def test_the_fingerprint_ignores_solver_order_deadline_and_key_order(submit):
    a = submit(solvers=[{"name": "exact"}, {"name": "local_search"}], deadline_seconds=60)
    b = submit(solvers=[{"name": "local_search"}, {"name": "exact"}], deadline_seconds=90)
    problem = maxcut()
    reordered = {"graph": dict(reversed(list(problem["graph"].items()))), "type": "maxcut"}
    c = submit(problem=reordered)
    assert a.fingerprint == b.fingerprint == c.fingerprint


def test_the_fingerprint_changes_with_seed_shots_options_or_problem(submit):
    base = submit().fingerprint
    assert submit(seed=8).fingerprint != base
    assert submit(shots=100).fingerprint != base
    assert submit(solvers=[{"name": "exact"}]).fingerprint != base
    assert submit(problem=maxcut(7)).fingerprint != base


def test_submitting_is_audited_in_the_same_transaction(submit, analyst):
    req = submit()
    event = AuditEvent.objects.get(action="request.submitted")
    assert event.object_id == str(req.id) and event.actor == analyst
    assert event.after["fingerprint"] == req.fingerprint


def test_a_broken_problem_is_refused_naming_the_path_and_saves_nothing(submit):
    bad = maxcut()
    bad["graph"]["edges"][3][1] = 99
    with pytest.raises(InvalidInput) as caught:
        submit(problem=bad)
    assert "problem.graph.edges[3][1]" in _fields(caught.value)
    assert OptimizationRequest.objects.count() == Run.objects.count() == 0
    assert not AuditEvent.objects.filter(action="request.submitted").exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"schema_version": "9"}, "schema_version"),
        ({"solvers": [{"name": "nope"}]}, "solvers[0].name"),
        ({"solvers": [{"name": "exact", "backend": "aer_mps"}]}, "solvers[0].backend"),
        ({"solvers": [{"name": "qaoa", "backend": "warp_drive"}]}, "solvers[0].backend"),
        ({"solvers": [{"name": "qaoa", "options": {"reps": "two"}}]}, "solvers[0].options"),
        ({"solvers": [{"name": "exact"}, {"name": "exact"}]}, "solvers[1]"),
        ({"shots": 0}, "shots"),
        ({"seed": -1}, "seed"),
        ({"deadline_seconds": 0}, "deadline_seconds"),
        ({"cache": "sometimes"}, "cache"),
        ({"team": "elsewhere"}, "team"),
        ({"title": "x" * 201}, "title"),
    ],
)
def test_each_bad_setting_is_refused_naming_its_field_and_saves_nothing(submit, changes, field):
    with pytest.raises(InvalidInput) as caught:
        submit(**changes)
    assert field in _fields(caught.value), caught.value.errors
    assert OptimizationRequest.objects.count() == Run.objects.count() == 0


def test_several_bad_fields_are_reported_together(submit):
    with pytest.raises(InvalidInput) as caught:
        submit(shots=0, seed=-1, solvers=[{"name": "nope"}])
    assert {"shots", "seed", "solvers[0].name"} <= _fields(caught.value)


def test_a_member_of_two_teams_must_name_one(submit, make_team, make_user):
    user = make_user("two", "analyst", teams=(make_team("a"), make_team("b")))
    with pytest.raises(InvalidInput) as caught:
        submit(requester=user)
    assert _fields(caught.value) == {"team"}
    assert submit(requester=user, team="b").team.slug == "b"


def test_the_same_key_and_body_return_the_first_request(analyst):
    first = services.request_submit(
        requester=analyst, problem=maxcut(), idempotency_key="k1", body_sha256="h1"
    )
    again = services.request_submit(
        requester=analyst, problem=maxcut(), idempotency_key="k1", body_sha256="h1"
    )
    assert first.created and not again.created
    assert again.request.id == first.request.id
    assert OptimizationRequest.objects.count() == 1


def test_the_same_key_with_another_body_is_refused(analyst):
    services.request_submit(
        requester=analyst, problem=maxcut(), idempotency_key="k1", body_sha256="h1"
    )
    with pytest.raises(IdempotencyMismatch, match="different body"):
        services.request_submit(
            requester=analyst, problem=maxcut(7), idempotency_key="k1", body_sha256="h2"
        )
    assert OptimizationRequest.objects.count() == 1


def test_keys_are_per_requester(analyst, make_user, team):
    other = make_user("bob", "analyst", team=team)
    services.request_submit(
        requester=analyst, problem=maxcut(), idempotency_key="k", body_sha256="h"
    )
    services.request_submit(requester=other, problem=maxcut(), idempotency_key="k", body_sha256="h")
    assert OptimizationRequest.objects.count() == 2


def test_messages_are_sent_only_after_commit(submit, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        submit()
        assert Run.objects.filter(enqueued_at__isnull=False).count() == 2
    assert len(callbacks) == 1  # one nudge-sending callback for the request's runs


def test_nothing_is_sent_when_the_caller_runs_the_runs_itself(
    submit, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        submit(enqueue=False)
    assert callbacks == []
    assert Candidate.objects.count() == 0
