"""Properties that hold for every valid problem: BQM, Ising form, objective and bitstrings agree."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quantum import Problem, parse_problem
from quantum.model import assignment_to_bitstring, bitstring_to_assignment
from quantum.problems.portfolio import penalty_weight

from .strategies import all_assignments, any_problem, portfolio_payloads

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def ising_diagonal(problem: Problem) -> np.ndarray[Any, np.dtype[np.float64]]:
    """<z|H|z> + constant for every basis state k (qubit i = bit i of k), from the SparsePauliOp."""
    op, constant = problem.bqm.to_ising()
    n = problem.num_variables
    assert not op.paulis.x.any(), "a diagonal Hamiltonian has only I and Z"
    assert not op.paulis.phase.any()
    z_masks = op.paulis.z.astype(np.int64)  # (terms, qubits)
    parity = (all_assignments(n).astype(np.int64) @ z_masks[:, :n].T) % 2
    return np.asarray(((1 - 2 * parity) @ op.coeffs).real + constant, dtype=np.float64)


def scale_of(problem: Problem) -> float:
    bqm = problem.bqm
    return max([1.0, abs(bqm.offset), *map(abs, bqm.linear), *map(abs, bqm.quadratic.values())])


@PROPERTY_SETTINGS
@given(problem=any_problem)
def test_ising_energy_equals_bqm_energy_for_every_bitstring(problem: Problem) -> None:
    xs = all_assignments(problem.num_variables)
    np.testing.assert_allclose(
        ising_diagonal(problem),
        problem.bqm.energies(xs),
        rtol=1e-9,
        atol=1e-9 * scale_of(problem) * max(1, len(problem.bqm.quadratic)),
    )


@PROPERTY_SETTINGS
@given(problem=any_problem)
def test_energy_of_a_feasible_assignment_maps_back_to_its_objective(problem: Problem) -> None:
    xs = all_assignments(problem.num_variables)
    objectives, feasible = problem.evaluate_many(xs)
    energies = problem.bqm.energies(xs)
    recovered = np.array([problem.objective_from_energy(e) for e in energies[feasible]])
    # The portfolio penalty cancels to zero only up to rounding of P * budget^2.
    tolerance = 1e-9 * (scale_of(problem) + problem.penalty * problem.num_variables**2)
    np.testing.assert_allclose(recovered, objectives[feasible], rtol=1e-9, atol=tolerance)


@PROPERTY_SETTINGS
@given(problem=any_problem)
def test_evaluate_many_agrees_with_evaluate_row_by_row(problem: Problem) -> None:
    xs = all_assignments(problem.num_variables)[:64]
    objectives, feasible = problem.evaluate_many(xs)
    for x, objective, ok in zip(xs, objectives, feasible, strict=True):
        assert problem.evaluate(x.tolist()) == (pytest.approx(objective), bool(ok))


@given(assignment=st.lists(st.integers(min_value=0, max_value=1), min_size=1, max_size=40))
def test_decoding_an_encoded_assignment_gives_it_back(assignment: list[int]) -> None:
    bitstring = assignment_to_bitstring(assignment)
    assert bitstring[-1] == str(assignment[0])  # little-endian: variable 0 is rightmost
    assert bitstring_to_assignment(bitstring) == tuple(assignment)


@PROPERTY_SETTINGS
@given(payload=portfolio_payloads())
def test_penalty_puts_every_infeasible_assignment_above_every_feasible_one(
    payload: dict[str, Any],
) -> None:
    problem = parse_problem(payload)
    energies = problem.bqm.energies(all_assignments(problem.num_variables))
    _, feasible = problem.evaluate_many(all_assignments(problem.num_variables))
    assert problem.penalty == penalty_weight(problem.objective_model)
    # budget >= 1, so all-zeros is always infeasible and both sets are non-empty.
    assert energies[feasible].max() < energies[~feasible].min()


@PROPERTY_SETTINGS
@given(problem=any_problem)
def test_canonical_form_parses_back_to_the_same_problem(problem: Problem) -> None:
    again = parse_problem(problem.data)
    assert again.canonical_json() == problem.canonical_json()
    assert again == problem
    assert hash(again) == hash(problem)


@PROPERTY_SETTINGS
@given(problem=any_problem)
def test_canonical_json_is_compact_with_sorted_keys(problem: Problem) -> None:
    text = problem.canonical_json()
    assert " " not in text
    assert text.startswith('{"')
    keys = list(problem.data)
    assert text.index(f'"{min(keys)}"') < text.index(f'"{max(keys)}"')
