"""The optimum a request's runs are measured against: one reference for all of them.

A solver stores an approximation ratio against the optimum it knew itself,
and a heuristic (annealing, local search) never knows one, so its stored
ratio is null even when the request's exact run proved its answer optimal.
Everything that shows a ratio (the request and compare pages, the request
API, the evidence pack, a decision's provenance) measures against the one
optimum read here, so the same objective has the same ratio whichever solver
found it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from jobs.models import Run
from jobs.solving import PROVEN_OPTIMAL_SOLVERS
from quantum.metrics import approximation_ratio

PROVEN: Literal["proven"] = "proven"
GIVEN: Literal["given"] = "given"


@dataclass(frozen=True)
class Optimum:
    value: float
    # "proven": exhaustive search (an exact run, or QAOA's own exact reference on
    # a small problem); "given": a requester's known optimum in QAOA's options.
    source: Literal["proven", "given"]
    run_id: int

    @property
    def words(self) -> str:
        if self.source == PROVEN:
            return "proven by exhaustive search"
        return f"as given in the options of run #{self.run_id}"

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "source": self.source, "run": self.run_id}


def request_optimum(runs: Iterable[Run]) -> Optimum | None:
    """The optimum ``runs`` (one request's) know: a proving solver's best feasible
    objective, else an exact reference a run computed, else one a requester gave.
    Runs without results carry no metrics and so offer none."""
    runs = list(runs)
    for run in runs:
        best = _float((run.metrics or {}).get("best_objective"))
        if run.origin.solver in PROVEN_OPTIMAL_SOLVERS and best is not None:
            return Optimum(best, PROVEN, run.pk)
    for wanted in (PROVEN, GIVEN):
        # QAOA records the optimum it was scored against: "exact" when it
        # enumerated a small problem itself, "given" when the options named one.
        origin = "exact" if wanted == PROVEN else "given"
        for run in runs:
            metrics = run.metrics or {}
            value = _float(metrics.get("optimum"))
            if value is not None and metrics.get("optimum_source") == origin:
                return Optimum(value, wanted, run.pk)
    return None


def run_ratio(run: Run, optimum: Optimum | None, sense: str) -> dict[str, Any]:
    """``run``'s best objective against ``optimum``: ``value``, or None and ``why``
    in words."""
    best = _float((run.metrics or {}).get("best_objective"))
    if optimum is not None and best is None:
        return {"value": None, "why": f"Run #{run.pk} has no best objective to measure."}
    return objective_ratio(best, optimum, sense)


def objective_ratio(objective: float | None, optimum: Optimum | None, sense: str) -> dict[str, Any]:
    """A feasible ``objective`` against ``optimum``: ``value``, or None and ``why``."""
    if optimum is None:
        return {"value": None, "why": "No optimum is known for this request."}
    if objective is None:
        return {"value": None, "why": "No feasible objective to measure."}
    value = approximation_ratio(
        objective, optimum.value, "maximize" if sense == "maximize" else "minimize"
    )
    if value is None:  # a ratio of magnitudes has no meaning at 0
        return {"value": None, "why": "Undefined when the optimum or the objective is 0."}
    return {"value": value, "why": ""}


def _float(value: Any) -> float | None:
    """A metric's number, or None for a missing (or malformed) one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
