"""Hypothesis strategies for small, valid problem payloads of every type, plus brute force."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from quantum import Problem, parse_problem

MAX_BRUTE_FORCE_VARIABLES = 8

coefficients = st.floats(
    min_value=-10, max_value=10, allow_nan=False, allow_infinity=False, allow_subnormal=False
)


@st.composite
def maxcut_payloads(draw: st.DrawFn, max_nodes: int = MAX_BRUTE_FORCE_VARIABLES) -> dict[str, Any]:
    nodes = draw(st.integers(min_value=1, max_value=max_nodes))
    pairs = [(u, v) for u in range(nodes) for v in range(u + 1, nodes)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    edges: list[list[Any]] = []
    for u, v in chosen:
        ends = [u, v] if draw(st.booleans()) else [v, u]
        weighted = draw(st.booleans())
        edges.append([*ends, draw(coefficients)] if weighted else ends)
    return {"type": "maxcut", "graph": {"nodes": nodes, "edges": edges}}


@st.composite
def qubo_payloads(
    draw: st.DrawFn, max_variables: int = MAX_BRUTE_FORCE_VARIABLES
) -> dict[str, Any]:
    n = draw(st.integers(min_value=1, max_value=max_variables))
    linear = draw(st.lists(coefficients, min_size=n, max_size=n))
    pairs = [(i, j) for i in range(n) for j in range(i, n)]  # diagonal terms allowed
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True))
    quadratic = [
        [i, j, draw(coefficients)] if draw(st.booleans()) else [j, i, draw(coefficients)]
        for i, j in chosen
    ]
    payload: dict[str, Any] = {"type": "qubo", "linear": linear, "quadratic": quadratic}
    if draw(st.booleans()):
        payload["offset"] = draw(coefficients)
    if draw(st.booleans()):
        payload["sense"] = draw(st.sampled_from(["minimize", "maximize"]))
    return payload


@st.composite
def portfolio_payloads(
    draw: st.DrawFn, max_assets: int = MAX_BRUTE_FORCE_VARIABLES
) -> dict[str, Any]:
    n = draw(st.integers(min_value=1, max_value=max_assets))
    factors = draw(st.integers(min_value=1, max_value=n))
    rng = np.random.default_rng(draw(st.integers(min_value=0, max_value=2**32 - 1)))
    loadings = rng.normal(scale=draw(st.sampled_from([0.01, 0.3, 1.0, 5.0])), size=(n, factors))
    covariance = loadings @ loadings.T  # PSD by construction, rank `factors`
    covariance = (covariance + covariance.T) / 2
    return {
        "type": "portfolio",
        "expected_returns": draw(st.lists(coefficients, min_size=n, max_size=n)),
        "covariance": covariance.tolist(),
        "budget": draw(st.integers(min_value=1, max_value=n)),
        "risk_factor": draw(st.floats(min_value=0, max_value=3, allow_subnormal=False)),
    }


any_payload = st.one_of(maxcut_payloads(), qubo_payloads(), portfolio_payloads())
any_problem = any_payload.map(parse_problem)


def all_assignments(n: int) -> np.ndarray[Any, np.dtype[np.int8]]:
    """Row k is the assignment whose bit i (variable i) is bit i of k."""
    k = np.arange(1 << n, dtype=np.int64)
    return ((k[:, None] >> np.arange(n)) & 1).astype(np.int8)


def brute_force_optimum(problem: Problem) -> float:
    objectives, feasible = problem.evaluate_many(all_assignments(problem.num_variables))
    values = objectives[feasible]
    return float(values.max() if problem.sense == "maximize" else values.min())
