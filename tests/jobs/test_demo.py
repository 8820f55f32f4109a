"""Demo data: finished example requests made by the real pipeline, in-process."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from hybridreview.accounts.models import Team
from jobs.models import OptimizationRequest

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_seed_demo_creates_finished_examples_once(capsys):
    call_command("seed_demo", password="demo-pass-1")
    call_command("seed_demo", password="demo-pass-1")
    out = capsys.readouterr().out
    team = Team.objects.get(slug="demo")
    examples = OptimizationRequest.objects.filter(team=team).order_by("id")
    assert [r.title for r in examples] == [
        "Demo: 6-node MaxCut (QAOA and exact)",
        "Demo: 6-asset portfolio (QAOA and exact)",
    ]
    for req in examples:
        assert req.status == "ready_for_review", req.failure_reason
        assert set(req.runs.values_list("solver", "status")) == {
            ("qaoa", "succeeded"),
            ("exact", "succeeded"),
        }
        assert req.candidates.filter(rank=1, feasible=True).exists()
        assert req.requester.username == "analyst"
    assert "ready_for_review" in out and "exists (ready_for_review)" in out
