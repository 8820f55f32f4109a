"""Finished example requests for `make run` (called by manage.py seed_demo).

Each example goes through the real pipeline in-process: the same submit
service the API calls, then the same ``run_execute`` a worker calls, so the
demo shows exactly what a deployment would produce. Idempotent by title.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hybridreview.accounts.models import Team
from hybridreview.accounts.roles import ANALYST
from jobs import services
from jobs.examples import MAXCUT_6, PORTFOLIO_6, Example
from jobs.models import OptimizationRequest, RunStatus

# Small QAOA settings: the demo must start in seconds on a laptop.
DEMO_SOLVERS: list[dict[str, Any]] = [
    {"name": "qaoa", "backend": "aer_statevector", "options": {"reps": 2}},
    {"name": "exact"},
]
DEMO_SHOTS = 2048
DEMO_EXAMPLES = (
    ("Demo: 6-node MaxCut (QAOA and exact)", MAXCUT_6),
    ("Demo: 6-asset portfolio (QAOA and exact)", PORTFOLIO_6),
)


def seed_examples(*, team: Team) -> Iterator[str]:
    """Create the finished examples the team lacks; yield one line per example."""
    requester = _requester(team)
    if requester is None:
        yield f"No member of team {team.slug} can submit requests; examples skipped."
        return
    for title, example in DEMO_EXAMPLES:
        existing = OptimizationRequest.objects.filter(team=team, title=title).first()
        if existing is not None:
            yield f"Example #{existing.id} '{title}' exists ({existing.status})."
            continue
        request = _solve_in_process(team, requester, title, example)
        yield f"Example #{request.id} '{title}': {request.status}."


def _requester(team: Team) -> Any:
    members = team.members.filter(is_active=True).order_by("id")
    analysts = members.filter(memberships__team=team, memberships__roles__name=ANALYST)
    return analysts.first() or members.first()


def _solve_in_process(team: Team, requester: Any, title: str, example: Example) -> Any:
    submitted = services.request_submit(
        requester=requester,
        team=team.slug,
        title=title,
        problem=example.problem,
        solvers=DEMO_SOLVERS,
        shots=DEMO_SHOTS,
        enqueue=False,
    )
    request = submitted.request
    for run in request.runs.filter(status=RunStatus.QUEUED):
        services.run_execute(run_id=run.id, worker="seed_demo")
    request.refresh_from_db()
    return request
