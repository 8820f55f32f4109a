"""Simulated annealing on the BQM, every restart advancing together as one numpy array.

A sweep visits the variables one colour class at a time: a greedy colouring
of the coupling graph splits the variables into classes with no coupling
inside a class, so a whole class can take its update step at once (its
members' energy changes do not depend on one another) and the local fields
are refreshed with one sparse product. A sparse graph needs a handful of
classes, so a sweep costs a few numpy calls instead of n Python steps.

Moves are accepted with the heat-bath (Glauber) probability
1 / (1 + exp(delta / T)) rather than Metropolis' min(1, exp(-delta / T)).
Both satisfy detailed balance, but Metropolis accepts a zero-change move
with certainty: on a 4-cycle, a class whose members all see delta == 0
flips together every time, and the state is locked in a deterministic
two-cycle at every temperature. Heat-bath accepts it half the time.

Problems with a cardinality constraint (portfolio) anneal with swaps
instead; see ``_anneal_swaps``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

from quantum.model import FloatArray
from quantum.problems.problem import Problem
from quantum.results import SolveResult
from quantum.solvers._classical import (
    check_option_names,
    classical_result,
    int_option,
    positive_float_option,
)
from quantum.solvers._search import SearchModel, descend

NAME = "annealing"
OPTIONS = ("sweeps", "restarts", "initial_temperature", "final_temperature")
DEFAULT_SWEEPS = 1000
DEFAULT_RESTARTS = 16
MAX_SWEEPS = 100_000
MAX_RESTARTS = 1024
MIN_TEMPERATURE_RATIO = 1e-9


@dataclass(frozen=True)
class _Schedule:
    initial: float
    final: float
    sweeps: int

    def temperatures(self) -> FloatArray:
        return np.geomspace(self.initial, self.final, self.sweeps)


@dataclass(frozen=True)
class _ColourClass:
    members: npt.NDArray[np.intp]
    coupling_t: Any  # csr (n, len(members)): J[members].T, for the field update


def check_options(options: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` for an option ``solve`` would refuse whatever the problem:
    names, types and ranges (so a request fails at submit, not on a worker)."""
    check_option_names(NAME, options, OPTIONS)
    int_option(options, "restarts", DEFAULT_RESTARTS, 1, MAX_RESTARTS)
    int_option(options, "sweeps", DEFAULT_SWEEPS, 1, MAX_SWEEPS)
    initial = positive_float_option(options, "initial_temperature")
    final = positive_float_option(options, "final_temperature")
    if initial is not None and final is not None and final > initial:
        raise ValueError(
            f"final_temperature ({final:g}) must not exceed initial_temperature ({initial:g})"
        )


def solve(problem: Problem, options: Mapping[str, Any], *, seed: int) -> SolveResult:
    """Anneal ``restarts`` seeded random starts, then polish each with descent.

    Options: ``sweeps`` (default 1000), ``restarts`` (default 16), and
    ``initial_temperature`` / ``final_temperature`` to override the schedule,
    which by default runs geometrically from T0 = max_delta / ln 2 (the
    largest possible uphill move accepted a third of the time under
    heat-bath) to T1 = min_delta / ln 100 (the smallest ~1% of the time), but
    no colder than 1e-9 * T0.

    Under a cardinality constraint the moves are swaps from feasible starts
    instead of flips (see ``_anneal_swaps``), and the schedule is scaled to
    the objective alone: the penalty never changes under a swap.
    """
    started = time.perf_counter()
    check_options(options)
    restarts = int_option(options, "restarts", DEFAULT_RESTARTS, 1, MAX_RESTARTS)
    rng = np.random.default_rng(seed)
    model = SearchModel.from_bqm(problem.bqm)
    if problem.cardinality is None:
        schedule = _schedule(model, options)
        starts = rng.integers(0, 2, (restarts, model.num_variables))
        best = _anneal(model, schedule, starts, rng)
    else:
        schedule = _schedule(SearchModel.from_bqm(problem.objective_model), options)
        best = _anneal_swaps(model, schedule, restarts, problem.cardinality, rng)
    finals = descend(model, best, problem.cardinality)
    extra = {
        "sweeps": schedule.sweeps,
        "restarts": restarts,
        "initial_temperature": schedule.initial,
        "final_temperature": schedule.final,
    }
    return classical_result(NAME, problem, finals, started=started, extra_metrics=extra)


def _schedule(model: SearchModel, options: Mapping[str, Any]) -> _Schedule:
    sweeps = int_option(options, "sweeps", DEFAULT_SWEEPS, 1, MAX_SWEEPS)
    abs_coupling = abs(model.coupling)
    max_delta = float((np.abs(model.linear) + abs_coupling.sum(axis=1).A1).max(initial=0.0))
    nonzero = np.concatenate([np.abs(model.linear), abs_coupling.data])
    nonzero = nonzero[nonzero > 0]
    if not len(nonzero):  # constant energy: any schedule is as good as another
        max_delta, min_delta = 1.0, 1.0
    else:
        min_delta = float(nonzero.min())
    initial = positive_float_option(options, "initial_temperature") or max_delta / math.log(2)
    # Coefficients below 1e-9 of the largest are float noise more often than
    # signal; cooling for them would spend most sweeps frozen. Capped at
    # ``initial`` so a low explicit initial_temperature alone is not an error.
    default_final = min(max(min_delta / math.log(100), MIN_TEMPERATURE_RATIO * initial), initial)
    final = positive_float_option(options, "final_temperature") or default_final
    if final > initial:
        raise ValueError(
            f"final_temperature ({final:g}) must not exceed initial_temperature ({initial:g})"
        )
    return _Schedule(initial=initial, final=final, sweeps=sweeps)


def _anneal(
    model: SearchModel, schedule: _Schedule, starts: npt.ArrayLike, rng: np.random.Generator
) -> FloatArray:
    """Heat-bath sweeps; returns the lowest-energy state each restart visited."""
    x = np.asarray(starts, dtype=np.float64)
    h = model.fields(x)
    energy = model.energies(x)
    best_x, best_e = x.copy(), energy.copy()
    classes = _colour_classes(model)
    for temperature in schedule.temperatures():
        for cls in classes:
            _heat_bath_step(x, h, energy, cls, temperature, rng)
        improved = energy < best_e
        best_x[improved], best_e[improved] = x[improved], energy[improved]
    return best_x


def _anneal_swaps(
    model: SearchModel,
    schedule: _Schedule,
    restarts: int,
    budget: int,
    rng: np.random.Generator,
) -> FloatArray:
    """Anneal with swaps (one 1 -> 0, one 0 -> 1) that keep sum(x) == budget.

    The penalty makes every feasible x a 1-flip local minimum walled off by
    a barrier of P, so single-flip annealing only crosses between feasible
    states while hot and then freezes wherever it is. Swaps move between
    feasible states directly. A sweep is n proposals per restart; each
    accepted swap updates the fields with two dense rows (J is dense under
    the penalty anyway). Returns the best state each restart visited.
    """
    n = model.num_variables
    order = np.argsort(rng.random((restarts, n)), axis=1)
    ones, zeros = order[:, :budget].copy(), order[:, budget:].copy()
    x = np.zeros((restarts, n), dtype=np.float64)
    np.put_along_axis(x, ones, 1.0, axis=1)
    if budget == n:  # one feasible state: nothing to anneal
        return x
    coupling = model.dense_coupling
    h, energy = model.fields(x), model.energies(x)
    best_x, best_e = x.copy(), energy.copy()
    rows = np.arange(restarts)
    for temperature in schedule.temperatures():
        picks_out = rng.integers(0, budget, (n, restarts))
        picks_in = rng.integers(0, n - budget, (n, restarts))
        draws = rng.random((n, restarts))
        for a, b, u in zip(picks_out, picks_in, draws, strict=True):
            i, j = ones[rows, a], zeros[rows, b]
            # The penalty terms of h_j, h_i and J_ij cancel: the swap keeps sum(x).
            delta = h[rows, j] - h[rows, i] - coupling[i, j]
            with np.errstate(over="ignore"):
                accept = u < special.expit(-delta / temperature)
            if not accept.any():
                continue
            r, out, into = rows[accept], i[accept], j[accept]
            x[r, out], x[r, into] = 0.0, 1.0
            h[r] += coupling[into] - coupling[out]
            energy[r] += delta[accept]
            ones[r, a[accept]], zeros[r, b[accept]] = into, out
        improved = energy < best_e
        best_x[improved], best_e[improved] = x[improved], energy[improved]
    return best_x


def _heat_bath_step(
    x: FloatArray,
    h: FloatArray,
    energy: FloatArray,
    cls: _ColourClass,
    temperature: float,
    rng: np.random.Generator,
) -> None:
    members = cls.members
    sign = 1.0 - 2.0 * x[:, members]  # +1 flips 0 -> 1, -1 flips 1 -> 0
    delta = sign * h[:, members]
    # At the cold end -delta / T can overflow to +-inf; expit maps those to 1 and 0 exactly.
    with np.errstate(over="ignore"):
        accept = rng.random(delta.shape) < special.expit(-delta / temperature)
    if not accept.any():
        return
    step = np.where(accept, sign, 0.0)
    x[:, members] += step
    h += (cls.coupling_t @ step.T).T
    energy += np.where(accept, delta, 0.0).sum(axis=1)


def _colour_classes(model: SearchModel) -> list[_ColourClass]:
    colours = _greedy_colouring(model.coupling)
    coupling_t = model.coupling.T.tocsr()
    classes = []
    for colour in range(int(colours.max(initial=-1)) + 1):
        members = np.flatnonzero(colours == colour)
        classes.append(_ColourClass(members=members, coupling_t=coupling_t[:, members].tocsr()))
    return classes


def _greedy_colouring(coupling: Any) -> npt.NDArray[np.intp]:
    """Welsh-Powell: highest degree first, each node takes the lowest free colour."""
    n = coupling.shape[0]
    indptr, indices = coupling.indptr, coupling.indices
    degrees = np.diff(indptr)
    colours = np.full(n, -1, dtype=np.intp)
    for node in np.argsort(-degrees, kind="stable").tolist():
        taken = set(colours[indices[indptr[node] : indptr[node + 1]]].tolist())
        colour = 0
        while colour in taken:
            colour += 1
        colours[node] = colour
    return colours
