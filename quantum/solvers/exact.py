"""Exhaustive search: the ground truth for up to ``MAX_VARIABLES`` variables.

x is split into a low block (the first ``LOW_BITS`` variables) and a high
block. With the upper-triangular Q, E(lo, hi) = E_lo(lo) + E_hi(hi) +
lo^T Q_cross hi, so for a batch of high blocks every energy comes from one
(2^LOW_BITS x k) matrix product over all low blocks: 2^n energies in
O(2^n * LOW_BITS) flops with memory bounded by the batch size, not 2^n.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from quantum.model import BinaryQuadraticModel, FloatArray
from quantum.problems.problem import Problem
from quantum.results import SolveResult
from quantum.solvers._classical import TOP_K, check_option_names, classical_result

NAME = "exact"
MAX_VARIABLES = 26
LOW_BITS = 12
# Energies per batch: 2^20 float64 = 8 MB, plus the same again for the product.
BATCH_STATES = 1 << 20

IndexArray = npt.NDArray[np.int64]


def solve(problem: Problem, options: Mapping[str, Any], *, seed: int) -> SolveResult:
    """Enumerate all 2^n assignments; ``seed`` is accepted for the common signature and unused.

    Returns the best ``TOP_K`` assignments by energy; the penalty guarantees
    feasible ones come first, so the first candidate is the optimum.
    """
    started = time.perf_counter()
    check_option_names(NAME, options, ())
    n = problem.num_variables
    if n > MAX_VARIABLES:
        raise ValueError(f"exact search handles at most {MAX_VARIABLES} variables; got {n}")
    indices = lowest_energy_states(problem.bqm, TOP_K)
    xs = (indices[:, None] >> np.arange(n)) & 1
    optimum = _best_feasible_objective(problem, xs)
    return classical_result(
        NAME,
        problem,
        xs,
        started=started,
        optimum=optimum,
        extra_metrics={"optimum": optimum, "states_evaluated": 1 << n},
    )


def lowest_energy_states(bqm: BinaryQuadraticModel, k: int) -> IndexArray:
    """The ``k`` assignments of lowest energy, as integers (bit i = variable i), best first."""
    n = bqm.num_variables
    low = min(n, LOW_BITS)
    q = bqm.quadratic_matrix()
    lin = bqm.linear_array()
    x_low = _bit_rows(low)
    e_low = _block_energies(x_low, lin[:low], q[:low, :low]) + bqm.offset
    cross = x_low @ q[:low, low:]  # (2^low, n - low)
    per_batch = max(1, BATCH_STATES >> low)
    best_idx = np.zeros(0, dtype=np.int64)
    best_e = np.zeros(0, dtype=np.float64)
    for start in range(0, 1 << (n - low), per_batch):
        highs = np.arange(start, min(start + per_batch, 1 << (n - low)), dtype=np.int64)
        x_high = ((highs[:, None] >> np.arange(n - low)) & 1).astype(np.float64)
        e_high = _block_energies(x_high, lin[low:], q[low:, low:])
        energies = e_low[:, None] + e_high[None, :] + cross @ x_high.T
        idx = (highs[None, :] << low) | np.arange(1 << low, dtype=np.int64)[:, None]
        best_idx, best_e = _keep_lowest(
            np.concatenate([best_idx, idx.ravel()]), np.concatenate([best_e, energies.ravel()]), k
        )
    return best_idx


def _bit_rows(bits: int) -> FloatArray:
    values = np.arange(1 << bits, dtype=np.int64)
    return ((values[:, None] >> np.arange(bits)) & 1).astype(np.float64)


def _block_energies(xs: FloatArray, lin: FloatArray, q: FloatArray) -> FloatArray:
    return np.asarray(xs @ lin + np.einsum("ij,ij->i", xs @ q, xs), dtype=np.float64)


def _keep_lowest(idx: IndexArray, energies: FloatArray, k: int) -> tuple[IndexArray, FloatArray]:
    # Keep everything tied with the k-th energy, then break ties by index, so
    # the answer is the k smallest (energy, index) pairs whatever the batching.
    if len(energies) > k:
        threshold = np.partition(energies, k - 1)[k - 1]
        keep = energies <= threshold
        idx, energies = idx[keep], energies[keep]
    order = np.lexsort((idx, energies))[:k]
    return idx[order], energies[order]


def _best_feasible_objective(problem: Problem, xs: npt.ArrayLike) -> float | None:
    objectives, feasible = problem.evaluate_many(xs)
    if not feasible.any():
        return None
    values = objectives[feasible]
    return float(values.max() if problem.sense == "maximize" else values.min())
