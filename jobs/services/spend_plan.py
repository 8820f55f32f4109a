"""Estimating a submission's spend, run by run, and moving paid runs to a simulator.

Reads only: nothing here locks or writes. ``jobs.services.budget`` decides
with these numbers under the budget's row lock.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings

from jobs import solving
from jobs.errors import FieldProblem, InvalidInput
from jobs.models import Run, RunStatus, Tier
from jobs.services.specs import SolverSpec, fingerprint
from quantum.errors import BackendError
from quantum.models import BackendConfig
from quantum.solve import RunEstimate, estimate_run

if TYPE_CHECKING:
    from hybridreview.accounts.models import Team
    from jobs.services.checks import Submission

CREDIT_PLACES = Decimal("0.000001")
ZERO = Decimal(0)


@dataclass(frozen=True)
class RunCost:
    """One run's estimate. Classical runs cost no credits but still take time."""

    solver: str
    backend: str | None
    kind: str
    tier: str
    credits: Decimal
    seconds: float
    qubits: int
    jobs: int = 0
    shots: int = 0
    cost_model: dict[str, str] = field(default_factory=dict)
    downgraded_from: str = ""
    # Where ``seconds`` comes from: the median of this many similar runs that
    # finished on this deployment, or (0) the library's speed model.
    similar_runs: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "solver": self.solver,
            "backend": self.backend,
            "tier": self.tier,
            "credits": self.credits,
            "seconds": round(self.seconds, 3),
            "seconds_from": "history" if self.similar_runs else "model",
            "similar_runs": self.similar_runs,
            "qubits": self.qubits,
            "downgraded_from": self.downgraded_from or None,
        }


@dataclass(frozen=True)
class SpendPlan:
    submission: Submission
    runs: tuple[RunCost, ...]  # in the order of submission.run.solvers

    @property
    def team(self) -> Team:
        return self.submission.team

    @property
    def total(self) -> Decimal:
        return sum((r.credits for r in self.runs), ZERO)

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.runs)

    @property
    def quantum_runs(self) -> int:
        return sum(1 for r in self.runs if r.kind == solving.QUANTUM)

    def deadline_warnings(self) -> list[str]:
        """Runs expected to outlast the request's deadline: cut off there, they
        would leave the request to fall back on the classical results."""
        deadline = self.submission.run.deadline_seconds
        return [
            f"{r.solver} on {r.backend} is estimated at about {r.seconds:.0f} s "
            f"({_basis(r)}), longer than the {deadline} s deadline: it would likely be "
            "cut off, and the request fall back to the classical results. "
            "Allow a longer deadline, or a cheaper backend."
            for r in self.runs
            if r.kind == solving.QUANTUM and r.seconds > deadline
        ]


def _basis(cost: RunCost) -> str:
    if cost.similar_runs:
        return f"the median of the last {cost.similar_runs} similar runs here"
    return "from the speed model; no similar run has finished here yet"


def spend_plan(*, submission: Submission) -> SpendPlan:
    configs = _configs_of(submission.run.solvers)
    runs = tuple(
        run_cost(submission, spec, configs.get(spec.backend or ""))
        for spec in submission.run.solvers
    )
    return SpendPlan(submission=submission, runs=runs)


def run_cost(submission: Submission, spec: SolverSpec, config: BackendConfig | None) -> RunCost:
    problem, shots = submission.problem, submission.run.shots
    kind = solving.solver_kind(spec.name) or solving.CLASSICAL
    try:
        if kind != solving.QUANTUM or config is None:
            estimate = estimate_run(problem, solver=spec.name, options=spec.options, shots=shots)
            return RunCost(spec.name, None, kind, Tier.CLASSICAL, ZERO, estimate.seconds, 0)
        estimate = estimate_run(
            problem,
            solver=spec.name,
            options=spec.options,
            shots=shots,
            backend_spec=config.to_spec(),
        )
    except (BackendError, ValueError) as exc:
        # The submission checks refuse these first; this only guards a race
        # with an admin narrowing the backend meanwhile.
        raise InvalidInput([FieldProblem("solvers", f"{spec.name}: {exc}")]) from exc
    cost = _quantum_cost(spec, config, estimate)
    observed = observed_seconds(spec, config.name, problem.num_variables, shots)
    if observed is None:
        return cost
    return dataclasses.replace(cost, seconds=observed[0], similar_runs=observed[1])


# The time estimate learns from the deployment's own runs: the speed model
# knows the simulators roughly, not this machine, its load, or a noisy device
# copy's trajectories. Credits stay on the cost model (they decide budgets).
HISTORY_RUNS = 20
HISTORY_MIN = 3


def observed_seconds(
    spec: SolverSpec, backend: str, num_variables: int, shots: int
) -> tuple[float, int] | None:
    """The median wall time (claim to result) of the last HISTORY_RUNS runs of
    the same solver, backend, options, problem size and shots that succeeded,
    with how many there were; None below HISTORY_MIN."""
    recent = (
        Run.objects.filter(
            solver=spec.name,
            backend=backend,
            status=RunStatus.SUCCEEDED,
            cache_source__isnull=True,  # a cache hit took no solving time
            request__num_variables=num_variables,
            request__settings__shots=shots,
        )
        .order_by("-finished_at")
        .values_list("options", "timings")[: HISTORY_RUNS * 3]
    )
    walls = [
        float(timings["wall"])
        for options, timings in recent
        if options == dict(spec.options) and "wall" in (timings or {})
    ][:HISTORY_RUNS]
    if len(walls) < HISTORY_MIN:
        return None
    return statistics.median(walls), len(walls)


def _quantum_cost(spec: SolverSpec, config: BackendConfig, estimate: RunEstimate) -> RunCost:
    return RunCost(
        solver=spec.name,
        backend=config.name,
        kind=solving.QUANTUM,
        tier=config.tier,
        credits=credits(estimate.credits),
        seconds=estimate.seconds,
        qubits=estimate.qubits,
        jobs=estimate.jobs,
        shots=estimate.shots,
        cost_model={
            "per_task": str(config.cost_per_task),
            "per_shot": str(config.cost_per_shot),
            "per_second": str(config.cost_per_second),
        },
    )


def credits(value: float | Decimal) -> Decimal:
    """Credits to six places, rounded up: a reservation never falls short by rounding."""
    return Decimal(str(value)).quantize(CREDIT_PLACES, rounding=ROUND_CEILING)


def fmt(value: Decimal) -> str:
    """12.5, 3.0, 0.0004: short, and never in exponent notation."""
    text = format(value.quantize(CREDIT_PLACES).normalize(), "f")
    return text if "." in text else f"{text}.0"


def _configs_of(specs: Iterable[SolverSpec]) -> dict[str, BackendConfig]:
    names = {s.backend for s in specs if s.backend}
    if not names:  # classical solvers only: nothing to look up
        return {}
    return {c.name: c for c in BackendConfig.objects.filter(name__in=names)}


def plan_on_simulators(plan: SpendPlan) -> SpendPlan | None:
    """The same request with every paid quantum run moved to an ideal simulator.

    Candidates are ``BUDGET_SIMULATOR_BACKENDS`` in order (aer_statevector,
    then aer_mps for wider problems): the first enabled one, other than the
    run's own backend, that fits the problem, the shots and the "one run per
    solver and backend" rule. An ideal simulator rather than a noisy copy of
    the device: the point is to spend little or nothing (simulators are free
    by default), and a noisy simulation of a large device is itself the most
    expensive thing a worker does. None when some run fits nowhere; the
    caller still checks the new total against the budget.
    """
    submission = plan.submission
    candidates = _simulators(submission.problem.num_variables, submission.run.shots)
    taken = {(c.solver, c.backend) for c in plan.runs if not _paid(c)}
    specs: list[SolverSpec] = []
    runs: list[RunCost] = []
    for spec, cost in zip(submission.run.solvers, plan.runs, strict=True):
        if not _paid(cost):
            specs.append(spec)
            runs.append(cost)
            continue
        target = next(
            (c for c in candidates if c.name != spec.backend and (spec.name, c.name) not in taken),
            None,
        )
        if target is None:
            return None
        taken.add((spec.name, target.name))
        moved = dataclasses.replace(spec, backend=target.name)
        specs.append(moved)
        runs.append(
            dataclasses.replace(
                run_cost(submission, moved, target), downgraded_from=cost.backend or ""
            )
        )
    run_settings = dataclasses.replace(submission.run, solvers=tuple(specs))
    moved_submission = dataclasses.replace(
        submission,
        run=run_settings,
        fingerprint=fingerprint(submission.problem, submission.schema_version, run_settings),
    )
    return SpendPlan(submission=moved_submission, runs=tuple(runs))


def _paid(cost: RunCost) -> bool:
    return cost.kind == solving.QUANTUM and cost.credits > 0


def _simulators(qubits: int, shots: int) -> list[BackendConfig]:
    configs = {
        c.name: c
        for c in BackendConfig.objects.filter(
            name__in=settings.BUDGET_SIMULATOR_BACKENDS, enabled=True
        )
    }
    ordered = [configs[n] for n in settings.BUDGET_SIMULATOR_BACKENDS if n in configs]
    return [
        c
        for c in ordered
        if c.tier == "simulator" and qubits <= c.max_qubits and shots <= c.max_shots
    ]
