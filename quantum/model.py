"""The canonical binary quadratic model every problem type compiles to.

Everything in ``quantum`` meets here: problems build a ``BinaryQuadraticModel``,
classical solvers minimise its energy, and QAOA turns it into an Ising
Hamiltonian. Energies are always *minimised*: a problem that maximises
(MaxCut, a ``"maximize"`` QUBO) is stored negated, and ``Problem.evaluate``
turns an assignment back into the objective in the problem's own terms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from qiskit.quantum_info import SparsePauliOp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int8]

_ENERGY_CHUNK_ELEMENTS = 1 << 22


@dataclass(frozen=True)
class BinaryQuadraticModel:
    """E(x) = offset + sum_i linear[i] x_i + sum_(i<j) quadratic[(i, j)] x_i x_j, x in {0,1}^n.

    ``quadratic`` keys are always ``(i, j)`` with ``i < j``; the constructor
    helpers below fold ``(j, i)`` and diagonal terms so callers cannot build a
    model with two entries for one pair.
    """

    num_variables: int
    linear: tuple[float, ...]
    quadratic: dict[tuple[int, int], float] = field(default_factory=dict)
    offset: float = 0.0

    @classmethod
    def build(
        cls,
        num_variables: int,
        linear: dict[int, float] | None = None,
        quadratic: dict[tuple[int, int], float] | None = None,
        offset: float = 0.0,
    ) -> BinaryQuadraticModel:
        lin = [0.0] * num_variables
        for i, c in (linear or {}).items():
            lin[i] += float(c)
        quad: dict[tuple[int, int], float] = {}
        for (i, j), c in (quadratic or {}).items():
            if i == j:  # x_i * x_i == x_i for binaries
                lin[i] += float(c)
                continue
            key = (i, j) if i < j else (j, i)
            quad[key] = quad.get(key, 0.0) + float(c)
        quad = {k: v for k, v in quad.items() if v != 0.0}
        return cls(
            num_variables=num_variables, linear=tuple(lin), quadratic=quad, offset=float(offset)
        )

    def linear_array(self) -> FloatArray:
        return np.asarray(self.linear, dtype=np.float64)

    def quadratic_matrix(self) -> FloatArray:
        """Upper-triangular dense Q with E(x) = offset + l.x + x^T Q x."""
        q = np.zeros((self.num_variables, self.num_variables), dtype=np.float64)
        for (i, j), c in self.quadratic.items():
            q[i, j] = c
        return q

    def energy(self, x: npt.ArrayLike) -> float:
        """Energy of one assignment (sequence of 0/1 in variable order)."""
        return float(self.energies(np.asarray(x, dtype=np.float64).reshape(1, -1))[0])

    def energies(self, xs: npt.ArrayLike) -> FloatArray:
        """Energies of a batch: ``xs`` has shape (m, n) with 0/1 entries."""
        arr = np.asarray(xs, dtype=np.float64)
        e = arr @ self.linear_array() + self.offset
        if self.quadratic:
            idx = np.array(list(self.quadratic.keys()), dtype=np.intp)
            coef = np.array(list(self.quadratic.values()), dtype=np.float64)
            # The products are (rows, terms); chunk rows so 65k decoded
            # outcomes of a dense 30-variable model stay ~32 MB, not ~250.
            step = max(1, _ENERGY_CHUNK_ELEMENTS // len(coef))
            for start in range(0, arr.shape[0], step):
                part = arr[start : start + step]
                e[start : start + step] += (part[:, idx[:, 0]] * part[:, idx[:, 1]]) @ coef
        return np.asarray(e, dtype=np.float64)

    def to_ising(self) -> tuple[SparsePauliOp, float]:
        """Return ``(H, constant)`` with E(x) = <z|H|z> + constant.

        Substitutes x_i = (1 - z_i) / 2 where z_i is the eigenvalue of Z on
        qubit i: |0> has z = +1, so a measured bit '0' is x_i = 0. Qubit i is
        variable i, which in Qiskit's little-endian bitstrings is the
        *rightmost* character; see ``bitstring_to_assignment``.
        """
        from qiskit.quantum_info import SparsePauliOp

        n = self.num_variables
        constant = self.offset
        z_coef = np.zeros(n, dtype=np.float64)
        terms: list[tuple[str, list[int], float]] = []
        for i, c in enumerate(self.linear):
            constant += c / 2
            z_coef[i] -= c / 2
        for (i, j), c in self.quadratic.items():
            constant += c / 4
            z_coef[i] -= c / 4
            z_coef[j] -= c / 4
            terms.append(("ZZ", [i, j], c / 4))
        for i in range(n):
            if z_coef[i] != 0.0:
                terms.append(("Z", [i], float(z_coef[i])))
        if not terms:
            terms.append(("I", [0], 0.0))
        # atol=0: simplify's default (1e-8) silently drops real terms of small-scale
        # problems (a covariance of daily returns is ~1e-5, its products smaller).
        op = SparsePauliOp.from_sparse_list(terms, num_qubits=max(n, 1)).simplify(atol=0.0)
        return op, float(constant)


def bitstring_to_assignment(bitstring: str) -> tuple[int, ...]:
    """Qiskit bitstrings are little-endian: character -1 is qubit/variable 0."""
    return tuple(int(b) for b in reversed(bitstring))


def assignment_to_bitstring(assignment: tuple[int, ...] | list[int]) -> str:
    return "".join(str(int(b)) for b in reversed(assignment))
