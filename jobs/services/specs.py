"""What a submission asks for, checked and put in canonical form.

Range checks live here rather than in a serializer so the API, the web form
and a rerun all refuse the same inputs with the same words.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from jobs import solving
from jobs.errors import FieldProblem
from jobs.models import CachePolicy
from quantum import Problem

MAX_SHOTS = 1_000_000
MAX_SEED = 2**32 - 1
MAX_SOLVERS = 8
MIN_DEADLINE_SECONDS = 1


@dataclass(frozen=True)
class SolverSpec:
    name: str
    backend: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "backend": self.backend, "options": self.options}


@dataclass(frozen=True)
class RunSettings:
    """Everything but the problem that decides what gets solved, and how."""

    solvers: tuple[SolverSpec, ...]
    shots: int
    seed: int
    deadline_seconds: int
    cache: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "solvers": [s.as_dict() for s in self.solvers],
            "shots": self.shots,
            "seed": self.seed,
            "deadline_seconds": self.deadline_seconds,
            "cache": self.cache,
        }


def default_solvers(problem: Problem) -> tuple[SolverSpec, ...]:
    baseline = (
        "exact" if problem.num_variables <= solving.EXACT_MAX_DEFAULT_VARIABLES else "annealing"
    )
    return (SolverSpec("qaoa", solving.DEFAULT_QUANTUM_BACKEND), SolverSpec(baseline))


def solver_specs(
    raw: Sequence[Mapping[str, Any]] | None,
    problem: Problem,
    shots: int,
    errors: list[FieldProblem],
) -> tuple[SolverSpec, ...]:
    """Check each {"name", "backend", "options"}; append problems to ``errors``."""
    if not raw:
        return default_solvers(problem)
    if len(raw) > MAX_SOLVERS:
        errors.append(FieldProblem("solvers", f"at most {MAX_SOLVERS} solvers per request"))
        return ()
    specs: list[SolverSpec] = []
    seen: dict[tuple[str, str | None], int] = {}
    for i, item in enumerate(raw):
        spec = _solver_spec(i, item, problem, shots, errors)
        if spec is None:
            continue
        key = (spec.name, spec.backend)
        if key in seen:
            where = f" on {spec.backend}" if spec.backend else ""
            message = (
                f"repeats solvers[{seen[key]}]: one run per solver and backend ({spec.name}{where})"
            )
            errors.append(FieldProblem(f"solvers[{i}]", message))
            continue
        seen[key] = i
        specs.append(spec)
    return tuple(specs)


def _solver_spec(
    i: int, item: Mapping[str, Any], problem: Problem, shots: int, errors: list[FieldProblem]
) -> SolverSpec | None:
    name = str(item.get("name", ""))
    backend = item.get("backend") or None
    options = dict(item.get("options") or {})
    kinds = solving.solver_kinds()
    kind = kinds.get(name)
    if kind is None:
        known = ", ".join(sorted(kinds))
        errors.append(
            FieldProblem(f"solvers[{i}].name", f"unknown solver {name!r}; one of: {known}")
        )
        return None
    if kind == solving.CLASSICAL and backend is not None:
        message = f"{name} is a classical solver and runs on the worker; omit backend"
        errors.append(FieldProblem(f"solvers[{i}].backend", message))
        return None
    if kind == solving.QUANTUM:
        backend = backend or solving.DEFAULT_QUANTUM_BACKEND
        problem_text = solving.backend_error(backend)
        if problem_text:
            errors.append(FieldProblem(f"solvers[{i}].backend", problem_text))
            return None
    refusal = solving.run_refusal(name, backend, options, shots, problem)
    if refusal:
        what, message = refusal
        part = "options" if what == "options" else ("backend" if backend else "name")
        errors.append(FieldProblem(f"solvers[{i}].{part}", message))
        return None
    return SolverSpec(name=name, backend=backend, options=options)


def bounded_int(
    value: int | None,
    *,
    field_name: str,
    default: int,
    low: int,
    high: int,
    errors: list[FieldProblem],
) -> int:
    if value is None:
        return default
    if not low <= value <= high:
        errors.append(FieldProblem(field_name, f"must be between {low} and {high}; got {value}"))
    return value


def run_settings(
    *,
    problem: Problem,
    solvers: Sequence[Mapping[str, Any]] | None,
    shots: int | None,
    seed: int | None,
    deadline_seconds: int | None,
    cache: str | None,
    errors: list[FieldProblem],
) -> RunSettings:
    cache = cache or CachePolicy.BYPASS
    if cache not in CachePolicy.values:
        errors.append(FieldProblem("cache", f"must be one of: {', '.join(CachePolicy.values)}"))
    shots = bounded_int(
        shots,
        field_name="shots",
        default=settings.JOBS_DEFAULT_SHOTS,
        low=1,
        high=MAX_SHOTS,
        errors=errors,
    )
    return RunSettings(
        solvers=solver_specs(solvers, problem, shots, errors),
        shots=shots,
        seed=bounded_int(
            seed,
            field_name="seed",
            default=settings.JOBS_DEFAULT_SEED,
            low=0,
            high=MAX_SEED,
            errors=errors,
        ),
        deadline_seconds=bounded_int(
            deadline_seconds,
            field_name="deadline_seconds",
            default=settings.JOBS_DEFAULT_DEADLINE_SECONDS,
            low=MIN_DEADLINE_SECONDS,
            high=settings.JOBS_MAX_DEADLINE_SECONDS,
            errors=errors,
        ),
        cache=cache,
    )


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def fingerprint(problem: Problem, schema_version: str, run: RunSettings) -> str:
    """sha256 of what decides the result: the canonical problem and solve settings.

    Solvers are sorted so their order in the body does not matter; the
    deadline and cache policy are left out because they change when an
    answer arrives, not what it is.
    """
    solvers = sorted((s.as_dict() for s in run.solvers), key=canonical_json)
    body = {
        "problem": json.loads(problem.canonical_json()),
        "schema_version": schema_version,
        "solvers": solvers,
        "shots": run.shots,
        "seed": run.seed,
    }
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()
