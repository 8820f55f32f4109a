"""Greedy construction plus best-improvement 1-flip local search: the fast baseline."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from quantum.problems.problem import Problem
from quantum.results import SolveResult
from quantum.solvers._classical import check_option_names, classical_result, int_option
from quantum.solvers._search import SearchModel, descend

NAME = "local_search"
OPTIONS = ("restarts",)
DEFAULT_RESTARTS = 8
MAX_RESTARTS = 1024


def check_options(options: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` for an option ``solve`` would refuse: names, types, ranges."""
    check_option_names(NAME, options, OPTIONS)
    int_option(options, "restarts", DEFAULT_RESTARTS, 1, MAX_RESTARTS)


def solve(problem: Problem, options: Mapping[str, Any], *, seed: int) -> SolveResult:
    """Descend from the greedy start and from ``restarts - 1`` seeded random starts.

    The greedy construction is descent from all-zeros: with best-improvement
    moves, each early step sets the variable whose marginal gain is largest,
    which is exactly best-first greedy, and descent then keeps going past
    where plain greedy would stop (including swaps under a cardinality
    constraint). Options: ``restarts`` (default 8, 1..1024).
    """
    started = time.perf_counter()
    check_options(options)
    restarts = int_option(options, "restarts", DEFAULT_RESTARTS, 1, MAX_RESTARTS)
    rng = np.random.default_rng(seed)
    starts = np.zeros((restarts, problem.num_variables), dtype=np.float64)
    starts[1:] = rng.integers(0, 2, size=(restarts - 1, problem.num_variables))
    finals = descend(SearchModel.from_bqm(problem.bqm), starts, problem.cardinality)
    return classical_result(
        NAME, problem, finals, started=started, extra_metrics={"restarts": restarts}
    )
