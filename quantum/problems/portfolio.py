"""Portfolio selection: exactly ``budget`` assets, minimising risk minus return."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from quantum.model import BinaryQuadraticModel, FloatArray
from quantum.problems._errors import ErrorList
from quantum.problems.problem import Problem

# Relative: covariances of daily returns are ~1e-4, so an absolute tolerance
# would accept matrices that are asymmetric in every significant digit.
SYMMETRY_RTOL = 1e-8
PSD_TOLERANCE = 1e-9
_MAX_ASYMMETRY_REPORTS = 5


def build(payload: Mapping[str, Any]) -> Problem:
    """Build from a schema-valid payload; semantic errors raise ``ProblemValidationError``."""
    budget, risk = int(payload["budget"]), float(payload["risk_factor"])
    mu, cov = _checked_arrays(payload["expected_returns"], payload["covariance"], budget, risk)
    objective = _objective_model(mu, cov, risk)
    penalty = penalty_weight(objective)
    data = {
        "type": "portfolio",
        "expected_returns": mu.tolist(),
        "covariance": cov.tolist(),
        "budget": budget,
        "risk_factor": risk,
    }
    return Problem(
        kind="portfolio",
        num_variables=len(mu),
        data=data,
        bqm=_with_cardinality_penalty(objective, budget, penalty),
        sense="minimize",
        objective_model=objective,
        cardinality=budget,
        penalty=penalty,
    )


def penalty_weight(objective: BinaryQuadraticModel) -> float:
    """A weight P for ``P * (sum(x) - B)^2`` that puts every infeasible x above every feasible x.

    Write the objective as f(x) = offset + sum_k c_k m_k(x) where each
    monomial m_k (x_i or x_i x_j) is 0 or 1. Then for any x and y,
    |f(x) - f(y)| <= C = sum_k |c_k|. An infeasible x has (sum(x) - B)^2 >= 1
    because sum(x) and B are integers, so its energy is at least
    f(x) + P >= f(y) - C + P for every feasible y, whose energy is f(y).
    Any P > C therefore suffices; we take 1.1 * C so that float rounding in
    the penalty's own terms (~1e-16 * P * B^2) cannot close the gap, and
    1.0 when C == 0 (every x has the same objective, P only needs to be > 0).

    The bound is loose on purpose: it holds for every instance without
    solving anything. A tighter P would give QAOA a flatter landscape, but
    must then be proven per instance.
    """
    total = sum(abs(c) for c in objective.linear) + sum(
        abs(c) for c in objective.quadratic.values()
    )
    return 1.1 * total if total > 0 else 1.0


def _objective_model(mu: FloatArray, cov: FloatArray, risk: float) -> BinaryQuadraticModel:
    # x^T S x over binaries = sum_i S_ii x_i + sum_(i<j) 2 S_ij x_i x_j (S symmetric).
    n = len(mu)
    linear = risk * np.diag(cov) - mu
    rows, cols = np.triu_indices(n, k=1)
    coefs = 2.0 * risk * cov[rows, cols]
    return _model(n, linear, rows, cols, coefs, 0.0)


def _with_cardinality_penalty(
    objective: BinaryQuadraticModel, budget: int, penalty: float
) -> BinaryQuadraticModel:
    # P (sum x - B)^2 = P [(1 - 2B) sum_i x_i + 2 sum_(i<j) x_i x_j + B^2] over binaries.
    n = objective.num_variables
    linear = objective.linear_array() + penalty * (1 - 2 * budget)
    rows, cols = np.triu_indices(n, k=1)
    coefs = objective.quadratic_matrix()[rows, cols] + 2.0 * penalty
    return _model(n, linear, rows, cols, coefs, objective.offset + penalty * budget**2)


def _model(
    n: int,
    linear: FloatArray,
    rows: np.ndarray[Any, np.dtype[np.intp]],
    cols: np.ndarray[Any, np.dtype[np.intp]],
    coefs: FloatArray,
    offset: float,
) -> BinaryQuadraticModel:
    # Built directly rather than through ``build``: keys are already (i < j)
    # and unique, and the per-pair Python loop in ``build`` is the slow part
    # for a dense n = 2000 covariance.
    keep = coefs != 0.0
    pairs = zip(rows[keep].tolist(), cols[keep].tolist(), strict=True)
    quadratic = dict(zip(pairs, coefs[keep].tolist(), strict=True))
    return BinaryQuadraticModel(
        num_variables=n, linear=tuple(linear.tolist()), quadratic=quadratic, offset=float(offset)
    )


def _checked_arrays(
    raw_mu: Sequence[float], raw_cov: Sequence[Sequence[float]], budget: int, risk: float
) -> tuple[FloatArray, FloatArray]:
    errors = ErrorList()
    n = len(raw_mu)
    for i, value in enumerate(raw_mu):
        errors.check_finite(f"problem.expected_returns[{i}]", float(value))
    if len(raw_cov) != n:
        message = f"must have {n} rows, one per entry of expected_returns; got {len(raw_cov)}"
        errors.add("problem.covariance", message)
    for i, row in enumerate(raw_cov):
        if len(row) != n:
            errors.add(f"problem.covariance[{i}]", f"must have {n} entries; got {len(row)}")
            continue
        for j, value in enumerate(row):
            errors.check_finite(f"problem.covariance[{i}][{j}]", float(value))
    if budget > n:
        errors.add("problem.budget", f"must be at most the number of assets ({n}); got {budget}")
    errors.check_finite("problem.risk_factor", risk)
    # The eigenvalue check needs a square, finite matrix: only once the rest holds.
    errors.raise_if_any()
    cov = np.asarray(raw_cov, dtype=np.float64)
    _check_symmetric_psd(errors, cov)
    errors.raise_if_any()
    # Exactly symmetric from here on; (a + a) / 2 == a, so symmetric input is unchanged.
    return np.asarray(raw_mu, dtype=np.float64), (cov + cov.T) / 2.0


def _check_symmetric_psd(errors: ErrorList, cov: FloatArray) -> None:
    scale = float(np.abs(cov).max())
    asymmetric = np.argwhere(np.triu(np.abs(cov - cov.T) > SYMMETRY_RTOL * scale, k=1))
    for i, j in asymmetric[:_MAX_ASYMMETRY_REPORTS].tolist():
        message = (
            f"must equal covariance[{j}][{i}] (a covariance is symmetric); "
            f"got {float(cov[i, j])!r} and {float(cov[j, i])!r}"
        )
        errors.add(f"problem.covariance[{i}][{j}]", message)
    if len(asymmetric):
        return
    eigenvalues = np.linalg.eigvalsh(cov)
    norm = float(np.abs(eigenvalues).max())
    smallest = float(eigenvalues[0])
    if smallest < -PSD_TOLERANCE * max(1.0, norm):
        message = f"must be positive semidefinite; its smallest eigenvalue is {smallest:.6g}"
        errors.add("problem.covariance", message)
