"""Array form of a BQM for local moves, and the 1-flip/swap descent both heuristics use.

Flipping x_i changes the energy by (1 - 2 x_i) * h_i, where the local field
h = linear + J x and J is the symmetric coupling matrix (J_ij = J_ji =
quadratic[(i, j)]). Keeping h up to date costs one sparse row per flip, so a
move is O(degree), not O(n^2).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from quantum.model import BinaryQuadraticModel, FloatArray

# Improvements smaller than this share of the largest coefficient are float
# noise (the portfolio penalty cancels to ~1e-16 * P per swap); accepting
# them could cycle forever.
_IMPROVEMENT_RTOL = 1e-10
# Descent from a random start takes about n/2 improving flips; 50n is far past honest work.
_MAX_ROUNDS_PER_VARIABLE = 50


@dataclass(frozen=True)
class SearchModel:
    linear: FloatArray
    coupling: Any  # scipy.sparse.csr_matrix, symmetric, zero diagonal
    offset: float

    @classmethod
    def from_bqm(cls, bqm: BinaryQuadraticModel) -> SearchModel:
        n = bqm.num_variables
        if bqm.quadratic:
            pairs = np.array(list(bqm.quadratic.keys()), dtype=np.intp)
            coefs = np.array(list(bqm.quadratic.values()), dtype=np.float64)
        else:
            pairs, coefs = np.zeros((0, 2), dtype=np.intp), np.zeros(0)
        rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
        cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
        coupling = sparse.csr_matrix((np.concatenate([coefs, coefs]), (rows, cols)), shape=(n, n))
        return cls(linear=bqm.linear_array(), coupling=coupling, offset=bqm.offset)

    @property
    def num_variables(self) -> int:
        return len(self.linear)

    @cached_property
    def tolerance(self) -> float:
        scale = max(float(np.abs(self.linear).max(initial=0.0)), self.max_coupling)
        return _IMPROVEMENT_RTOL * max(scale, 1e-300)

    @cached_property
    def max_coupling(self) -> float:
        return float(np.abs(self.coupling.data).max(initial=0.0))

    @cached_property
    def dense_coupling(self) -> FloatArray:
        return np.asarray(self.coupling.toarray(), dtype=np.float64)

    def fields(self, xs: FloatArray) -> FloatArray:
        """Local fields h = linear + J x for each row of ``xs``."""
        return np.asarray(self.linear + (self.coupling @ xs.T).T, dtype=np.float64)

    def energies(self, xs: FloatArray) -> FloatArray:
        quadratic = 0.5 * np.einsum("ij,ij->i", xs, np.asarray((self.coupling @ xs.T).T))
        return np.asarray(self.offset + xs @ self.linear + quadratic, dtype=np.float64)

    def coupling_rows(self, idx: npt.NDArray[np.intp]) -> FloatArray:
        return np.asarray(self.coupling[idx].toarray(), dtype=np.float64)


def descend(model: SearchModel, xs: FloatArray, cardinality: int | None) -> FloatArray:
    """Best-improvement descent on every row of ``xs`` (modified in place and returned).

    Each step takes, per row, the single flip that lowers the energy most. With
    a cardinality constraint, a row with no improving flip also tries the best
    swap (one 1 -> 0 and one 0 -> 1): the penalty makes every feasible x a
    1-flip local minimum, so without swaps a feasible start could never move.
    Stops when no row improves. Every step lowers energy by more than the
    tolerance, so it terminates; the round cap only guards against fields
    drifting by float error until a flip and its undo both look improving.
    """
    h = model.fields(xs)
    tol = model.tolerance
    for _ in range(_MAX_ROUNDS_PER_VARIABLE * model.num_variables + 100):
        delta = (1.0 - 2.0 * xs) * h
        best = delta.argmin(axis=1)
        improving = delta[np.arange(len(xs)), best] < -tol
        flips = [(int(r), int(best[r])) for r in np.flatnonzero(improving)]
        if cardinality is not None:
            for r in np.flatnonzero(~improving):
                flips.extend(_best_swap(model, xs[r], delta[r], int(r), tol))
        if not flips:
            break
        _apply_flips(model, xs, h, flips)
    return xs


def _best_swap(
    model: SearchModel, x: FloatArray, delta: FloatArray, row: int, tol: float
) -> list[tuple[int, int]]:
    ones, zeros = np.flatnonzero(x == 1.0), np.flatnonzero(x == 0.0)
    if not len(ones) or not len(zeros):
        return []
    # Flipping i (1 -> 0) and j (0 -> 1) together: delta_i + delta_j - J_ij.
    gain = delta[ones][:, None] + delta[zeros][None, :]
    gain -= model.dense_coupling[np.ix_(ones, zeros)]
    i, j = np.unravel_index(int(gain.argmin()), gain.shape)
    if gain[i, j] >= -tol:
        return []
    return [(row, int(ones[i])), (row, int(zeros[j]))]


def _apply_flips(
    model: SearchModel, xs: FloatArray, h: FloatArray, flips: list[tuple[int, int]]
) -> None:
    rows = np.array([r for r, _ in flips], dtype=np.intp)
    cols = np.array([c for _, c in flips], dtype=np.intp)
    step = 1.0 - 2.0 * xs[rows, cols]  # +1 for 0 -> 1, -1 for 1 -> 0
    xs[rows, cols] += step
    # np.add.at, not +=: a swap puts two flips on the same row.
    np.add.at(h, rows, step[:, None] * model.coupling_rows(cols))
