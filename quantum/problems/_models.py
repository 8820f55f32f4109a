"""Small BQM arithmetic the problem builders share."""

from __future__ import annotations

from quantum.model import BinaryQuadraticModel


def scaled(bqm: BinaryQuadraticModel, factor: float) -> BinaryQuadraticModel:
    """``factor * E(x)``; ``scaled(m, -1)`` turns a maximised objective into an energy."""
    return BinaryQuadraticModel(
        num_variables=bqm.num_variables,
        linear=tuple(factor * c for c in bqm.linear),
        quadratic={key: factor * c for key, c in bqm.quadratic.items()},
        offset=factor * bqm.offset,
    )
