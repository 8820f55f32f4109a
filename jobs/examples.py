"""Example problems: offered on the submit page and used by the demo data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Example:
    slug: str
    label: str
    problem: dict[str, Any]

    def as_json(self) -> str:
        return pretty_json(self.problem)


LINE = 72


def pretty_json(value: Any, level: int = 0) -> str:
    """JSON indented by two spaces, with any array that fits on a line kept on
    it: an edge is ``[0, 1]`` and a covariance row one line, not a number per
    line as ``json.dumps(indent=2)`` prints them."""
    flat = json.dumps(value)
    if not isinstance(value, (dict, list)) or not value:
        return flat
    if isinstance(value, list) and len(flat) + 2 * level <= LINE:
        return flat
    inner, outer = "  " * (level + 1), "  " * level
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {pretty_json(v, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{outer}}}"
    items = [f"{inner}{pretty_json(v, level + 1)}" for v in value]
    return "[\n" + ",\n".join(items) + f"\n{outer}]"


MAXCUT_6 = Example(
    slug="maxcut-6",
    label="MaxCut: 6-node ring with two chords",
    problem={
        "type": "maxcut",
        "graph": {
            "nodes": 6,
            "edges": [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 0], [0, 3, 2.0], [1, 4, 0.5]],
        },
    },
)

PORTFOLIO_6 = Example(
    slug="portfolio-6",
    label="Portfolio: choose 3 of 6 assets",
    problem={
        "type": "portfolio",
        "expected_returns": [0.12, 0.10, 0.07, 0.03, 0.09, 0.05],
        "covariance": [
            [0.040, 0.006, 0.004, 0.000, 0.010, 0.002],
            [0.006, 0.030, 0.005, 0.001, 0.004, 0.002],
            [0.004, 0.005, 0.020, 0.001, 0.003, 0.001],
            [0.000, 0.001, 0.001, 0.005, 0.000, 0.001],
            [0.010, 0.004, 0.003, 0.000, 0.035, 0.002],
            [0.002, 0.002, 0.001, 0.001, 0.002, 0.010],
        ],
        "budget": 3,
        "risk_factor": 0.5,
    },
)

QUBO_4 = Example(
    slug="qubo-4",
    label="QUBO: 4 variables, minimise",
    problem={
        "type": "qubo",
        "linear": [-1.0, -2.0, 1.0, -0.5],
        "quadratic": [[0, 1, 2.0], [1, 2, -1.0], [2, 3, 1.5], [0, 3, -0.5]],
        "offset": 0.0,
        "sense": "minimize",
    },
)

EXAMPLES: dict[str, Example] = {e.slug: e for e in (MAXCUT_6, PORTFOLIO_6, QUBO_4)}
