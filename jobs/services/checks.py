"""The checks every submission passes before anything is saved or reserved.

Shared by a submission (``submission``), a batch and a cost estimate
(``budget.estimate``), so an estimate refuses exactly what a submission would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User

from approvals.permissions import ACTION_PERMISSIONS
from hybridreview.accounts.models import Team
from hybridreview.accounts.selectors import member_teams, teams_where
from jobs.errors import FieldProblem, InvalidInput
from jobs.models import Campaign
from jobs.services.backends import backends_check
from jobs.services.specs import RunSettings, fingerprint, run_settings
from quantum import Problem, ProblemValidationError, parse_problem
from quantum.problems import MAX_PAYLOAD_BYTES

TITLE_MAX = 200


@dataclass(frozen=True)
class Submission:
    """A checked submission, ready to save."""

    team: Team
    title: str
    schema_version: str
    problem: Problem
    run: RunSettings
    fingerprint: str


def submission_check(
    *,
    team: Team,
    problem: Any,
    schema_version: str,
    title: str,
    solvers: Sequence[Mapping[str, Any]] | None,
    shots: int | None,
    seed: int | None,
    deadline_seconds: int | None,
    cache: str | None,
) -> Submission:
    """Every check a submission must pass, with every failing field reported at once."""
    size = _json_size(problem)
    if size > MAX_PAYLOAD_BYTES:
        message = f"is {size} bytes as compact JSON; the limit is {MAX_PAYLOAD_BYTES}"
        raise InvalidInput([FieldProblem("problem", message)])
    try:
        parsed = parse_problem(problem, schema_version)
    except ProblemValidationError as exc:
        raise InvalidInput([FieldProblem(e.path, e.message) for e in exc.errors]) from exc
    errors: list[FieldProblem] = []
    if len(title) > TITLE_MAX:
        errors.append(FieldProblem("title", f"must be at most {TITLE_MAX} characters"))
    settings_ = run_settings(
        problem=parsed,
        solvers=solvers,
        shots=shots,
        seed=seed,
        deadline_seconds=deadline_seconds,
        cache=cache,
        errors=errors,
    )
    backends_check(problem=parsed, run=settings_, solvers=solvers, errors=errors)
    if errors:
        raise InvalidInput(errors)
    return Submission(
        team=team,
        title=title.strip() or default_title(parsed),
        schema_version=schema_version,
        problem=parsed,
        run=settings_,
        fingerprint=fingerprint(parsed, schema_version, settings_),
    )


def _json_size(value: Any) -> int:
    """Bytes of ``value`` as compact JSON: the size the published schemas limit,
    whichever way it arrived (API body, form, upload, batch item)."""
    try:
        return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError):
        return 0  # not JSON-shaped: the parser names what is wrong with it


def default_title(problem: Problem) -> str:
    return f"{problem.kind} with {problem.num_variables} variables"


def team_for(user: User, slug: str | None, campaign: Campaign | None) -> Team:
    """The team named, the campaign's, or the only team the user may submit to.

    Submitting needs the analyst role in that team, not only membership: an
    approver in team A who analyses in team B submits to B only.
    """
    allowed = teams_where(user, ACTION_PERMISSIONS["submit"])
    if campaign is not None:
        slug = slug or campaign.team.slug
        if slug != campaign.team.slug:
            raise InvalidInput([FieldProblem("team", "must be the campaign's team")])
    if slug:
        team = allowed.filter(slug=slug).first()
        if team is None:
            message = (
                f"your role in team {slug!r} does not allow submitting requests"
                if member_teams(user).filter(slug=slug).exists()
                else f"you are not a member of a team {slug!r}"
            )
            raise InvalidInput([FieldProblem("team", message)])
        return team
    mine = list(allowed.order_by("slug")[:2])
    if len(mine) != 1:
        message = (
            "you may submit in no team" if not mine else "you may submit in several teams; name one"
        )
        raise InvalidInput([FieldProblem("team", message)])
    return mine[0]
