"""``Problem``: a validated payload in canonical form, plus the model solvers minimise."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from quantum.model import BinaryQuadraticModel, FloatArray

Sense = Literal["minimize", "maximize"]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Problem:
    """One optimisation problem, built only by ``parse_problem``.

    ``objective_model`` is the problem's objective in its own terms (cut
    weight, QUBO value, portfolio risk minus return) with no penalty;
    ``bqm`` is what solvers *minimise*: the objective, negated when
    ``sense == "maximize"``, plus ``penalty * (sum(x) - cardinality)^2`` when
    the problem has a cardinality constraint. So for a feasible x,
    ``objective_from_energy(bqm.energy(x))`` is its objective up to float
    rounding, and ``penalty`` is chosen so every infeasible x has higher
    energy than every feasible one (see ``portfolio.penalty_weight``).
    """

    kind: str
    num_variables: int
    data: dict[str, Any]
    bqm: BinaryQuadraticModel
    sense: Sense
    objective_model: BinaryQuadraticModel
    cardinality: int | None = None  # feasible iff sum(x) == cardinality
    penalty: float = 0.0

    def __hash__(self) -> int:
        # The generated hash would fail on the dict fields; the canonical JSON
        # is exactly the identity that equality cares about.
        return hash(self.canonical_json())

    def canonical_json(self) -> str:
        """Sorted keys, no spaces: stable input for fingerprints."""
        return json.dumps(self.data, sort_keys=True, separators=(",", ":"), allow_nan=False)

    def evaluate(self, assignment: Sequence[int]) -> tuple[float, bool]:
        """Objective in the problem's own terms, and whether ``assignment`` is feasible."""
        objectives, feasible = self.evaluate_many(np.asarray([assignment]))
        return float(objectives[0]), bool(feasible[0])

    def evaluate_many(self, xs: npt.ArrayLike) -> tuple[FloatArray, BoolArray]:
        """Vectorised ``evaluate`` over the rows of an (m, n) 0/1 array."""
        arr = _as_assignments(xs, self.num_variables)
        objectives = self.objective_model.energies(arr)
        if self.cardinality is None:
            feasible = np.ones(arr.shape[0], dtype=np.bool_)
        else:
            feasible = arr.sum(axis=1) == self.cardinality
        return objectives, feasible

    def objective_from_energy(self, energy: float) -> float:
        """The objective of a *feasible* assignment with this BQM energy."""
        return -energy if self.sense == "maximize" else energy

    def better(self, a: float, b: float) -> bool:
        """True when objective ``a`` is strictly better than ``b`` under ``sense``."""
        return a > b if self.sense == "maximize" else a < b


def _as_assignments(xs: npt.ArrayLike, n: int) -> npt.NDArray[np.int8]:
    arr = np.asarray(xs)
    if arr.ndim != 2 or arr.shape[1] != n:
        raise ValueError(f"assignments must have shape (m, {n}); got {arr.shape}")
    if arr.size and not np.isin(arr, (0, 1)).all():
        raise ValueError("assignments must contain only 0 and 1")
    return arr.astype(np.int8, copy=False)
