"""parse_problem: valid payloads become canonical Problems; every fault names its exact field."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from quantum import (
    SUPPORTED_SCHEMA_VERSIONS,
    FieldError,
    ProblemValidationError,
    parse_problem,
    problem_schemas,
)
from quantum.problems import MAX_ASSETS, MAX_TERMS, MAX_VARIABLES
from quantum.problems.limits import MAX_REPORTED_ERRORS
from quantum.problems.schemas import schema_for
from quantum.problems.structure import _field_errors, structural_errors

NAN, INF = math.nan, math.inf
SQUARE = {"type": "maxcut", "graph": {"nodes": 4, "edges": [[0, 1], [1, 2], [2, 3], [3, 0]]}}
QUBO = {"type": "qubo", "linear": [1.0, -2.0, 0.5], "quadratic": [[0, 1, 3.0], [2, 1, -1.0]]}
PORTFOLIO = {
    "type": "portfolio",
    "expected_returns": [0.10, 0.20, 0.15],
    "covariance": [[0.10, 0.02, 0.0], [0.02, 0.20, 0.01], [0.0, 0.01, 0.10]],
    "budget": 2,
    "risk_factor": 0.5,
}


def errors_of(payload: object, schema_version: str = "1") -> list[FieldError]:
    with pytest.raises(ProblemValidationError) as caught:
        parse_problem(payload, schema_version)
    return caught.value.errors


def changed(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with the dotted ``path`` set to ``value`` (or removed if ...)."""
    payload = copy.deepcopy(base)
    *parents, last = path.split(".")
    node = payload
    for key in parents:
        node = node[key]
    if value is ...:
        del node[last]
    else:
        node[last] = value
    return payload


def ring_of_rings(rings: int) -> list[list[int]]:
    """Distinct edges (u, u + k mod n) for k = 1..rings on MAX_VARIABLES nodes."""
    n = MAX_VARIABLES
    return [[u, (u + k) % n] for k in range(1, rings + 1) for u in range(n)]


# ---- valid payloads


def test_square_maxcut_parses_to_canonical_sorted_weighted_edges() -> None:
    problem = parse_problem(SQUARE)
    assert problem.kind == "maxcut"
    assert problem.sense == "maximize"
    assert problem.num_variables == 4
    assert problem.data["graph"]["edges"] == [[0, 1, 1.0], [0, 3, 1.0], [1, 2, 1.0], [2, 3, 1.0]]
    assert problem.evaluate([1, 0, 1, 0]) == (4.0, True)
    assert problem.bqm.energy([1, 0, 1, 0]) == -4.0


def test_reversed_edges_and_implicit_weights_fingerprint_the_same() -> None:
    reordered = changed(SQUARE, "graph.edges", [[0, 3, 1], [2, 1], [3, 2, 1.0], [1, 0]])
    assert parse_problem(reordered).canonical_json() == parse_problem(SQUARE).canonical_json()


def test_canonical_json_has_sorted_keys_and_no_spaces() -> None:
    text = parse_problem(SQUARE).canonical_json()
    assert text == (
        '{"graph":{"edges":[[0,1,1.0],[0,3,1.0],[1,2,1.0],[2,3,1.0]],"nodes":4},"type":"maxcut"}'
    )


def test_qubo_defaults_to_minimize_with_zero_offset_and_orders_its_pairs() -> None:
    problem = parse_problem(QUBO)
    assert problem.sense == "minimize"
    assert problem.data["offset"] == 0.0
    assert problem.data["quadratic"] == [[0, 1, 3.0], [1, 2, -1.0]]
    assert problem.evaluate([1, 1, 1]) == (1.0 - 2.0 + 0.5 + 3.0 - 1.0, True)


def test_maximize_qubo_stores_negated_energy() -> None:
    problem = parse_problem({**QUBO, "sense": "maximize", "offset": 2})
    objective, _ = problem.evaluate([1, 1, 0])
    assert objective == 2.0 + 1.0 - 2.0 + 3.0
    assert problem.bqm.energy([1, 1, 0]) == -objective
    assert problem.better(5.0, 4.0) and not problem.better(4.0, 5.0)


def test_qubo_diagonal_term_adds_to_its_linear_coefficient() -> None:
    problem = parse_problem({"type": "qubo", "linear": [1.0, 0.0], "quadratic": [[0, 0, 2.0]]})
    assert problem.evaluate([1, 0]) == (3.0, True)


def test_portfolio_objective_is_risk_minus_return_and_needs_exactly_budget_assets() -> None:
    problem = parse_problem(PORTFOLIO)
    objective, feasible = problem.evaluate([1, 1, 0])
    risk = 0.10 + 0.20 + 2 * 0.02
    assert objective == pytest.approx(0.5 * risk - 0.30)
    assert feasible
    assert problem.evaluate([1, 1, 1])[1] is False
    assert problem.cardinality == 2
    assert problem.penalty > 0


def test_slightly_asymmetric_covariance_within_tolerance_is_symmetrised() -> None:
    nudged = copy.deepcopy(PORTFOLIO)
    nudged["covariance"][0][1] = 0.02 * (1 + 1e-10)
    problem = parse_problem(nudged)
    covariance = problem.data["covariance"]
    assert covariance[0][1] == covariance[1][0]


def test_integral_float_is_accepted_as_a_node_index() -> None:
    problem = parse_problem(changed(SQUARE, "graph.edges", [[0.0, 1.0, 2]]))
    assert problem.data["graph"]["edges"] == [[0, 1, 2.0]]


def test_import_quantum_does_not_import_qiskit_or_jsonschema() -> None:
    import subprocess
    import sys

    code = "import sys, quantum; print('qiskit' in sys.modules, 'jsonschema' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ---- malformed payloads: (payload, exact path, words the message must contain)

MALFORMED: list[tuple[str, object, str, str]] = [
    ("not_an_object", [1, 2], "problem", "JSON object"),
    ("missing_type", {"graph": {}}, "problem.type", "maxcut, qubo, portfolio"),
    ("unknown_type", {"type": "tsp"}, "problem.type", "maxcut, qubo, portfolio"),
    ("non_string_type", {"type": 3}, "problem.type", "unknown problem type"),
    ("unknown_top_field", {**SQUARE, "colour": "red"}, "problem.colour", "not a known field"),
    ("missing_graph", changed(SQUARE, "graph", ...), "problem.graph", "required"),
    ("missing_nodes", changed(SQUARE, "graph.nodes", ...), "problem.graph.nodes", "required"),
    ("zero_nodes", changed(SQUARE, "graph.nodes", 0), "problem.graph.nodes", "at least 1"),
    (
        "too_many_nodes",
        changed(SQUARE, "graph.nodes", MAX_VARIABLES + 1),
        "problem.graph.nodes",
        f"at most {MAX_VARIABLES}",
    ),
    ("string_nodes", changed(SQUARE, "graph.nodes", "4"), "problem.graph.nodes", "integer"),
    (
        "self_loop",
        changed(SQUARE, "graph.edges", [[0, 1], [1, 2], [2, 2]]),
        "problem.graph.edges[2][1]",
        "self-loop",
    ),
    (
        "end_out_of_range",
        changed(SQUARE, "graph.edges", [[0, 1], [1, 2], [2, 3], [3, 4]]),
        "problem.graph.edges[3][1]",
        "out of range",
    ),
    (
        "start_out_of_range",
        changed(SQUARE, "graph.edges", [[9, 1]]),
        "problem.graph.edges[0][0]",
        "node 9 is out of range",
    ),
    (
        "negative_node",
        changed(SQUARE, "graph.edges", [[0, -1]]),
        "problem.graph.edges[0][1]",
        "at least 0",
    ),
    (
        "fractional_node",
        changed(SQUARE, "graph.edges", [[0, 1.5]]),
        "problem.graph.edges[0][1]",
        "integer",
    ),
    (
        "boolean_node",
        changed(SQUARE, "graph.edges", [[True, 1]]),
        "problem.graph.edges[0][0]",
        "got boolean",
    ),
    (
        "nan_weight",
        changed(SQUARE, "graph.edges", [[0, 1, NAN]]),
        "problem.graph.edges[0][2]",
        "finite",
    ),
    (
        "infinite_weight",
        changed(SQUARE, "graph.edges", [[0, 1], [1, 2, -INF]]),
        "problem.graph.edges[1][2]",
        "finite",
    ),
    (
        "string_weight",
        changed(SQUARE, "graph.edges", [[0, 1, "heavy"]]),
        "problem.graph.edges[0][2]",
        "number",
    ),
    (
        "huge_weight",
        changed(SQUARE, "graph.edges", [[0, 1, 1e300]]),
        "problem.graph.edges[0][2]",
        "at most",
    ),
    (
        "duplicate_edge",
        changed(SQUARE, "graph.edges", [[0, 1], [1, 2], [0, 1, 5]]),
        "problem.graph.edges[2]",
        "repeats edges[0]",
    ),
    (
        "reversed_duplicate_edge",
        changed(SQUARE, "graph.edges", [[0, 1], [1, 2], [2, 1]]),
        "problem.graph.edges[2]",
        "repeats edges[1]",
    ),
    ("short_edge", changed(SQUARE, "graph.edges", [[0]]), "problem.graph.edges[0]", "at least 2"),
    (
        "long_edge",
        changed(SQUARE, "graph.edges", [[0, 1, 1, 1]]),
        "problem.graph.edges[0]",
        "at most 3",
    ),
    ("edge_not_a_list", changed(SQUARE, "graph.edges", [7]), "problem.graph.edges[0]", "array"),
    ("edges_not_a_list", changed(SQUARE, "graph.edges", {}), "problem.graph.edges", "array"),
    (
        "unknown_graph_field",
        changed(SQUARE, "graph.directed", True),
        "problem.graph.directed",
        "allowed: edges, nodes",
    ),
    ("nan_linear", changed(QUBO, "linear", [1.0, NAN, 0.0]), "problem.linear[1]", "finite"),
    ("empty_linear", changed(QUBO, "linear", []), "problem.linear", "at least 1"),
    ("missing_linear", changed(QUBO, "linear", ...), "problem.linear", "required"),
    (
        "quadratic_index_out_of_range",
        changed(QUBO, "quadratic", [[0, 3, 1.0]]),
        "problem.quadratic[0][1]",
        "out of range",
    ),
    (
        "quadratic_without_coefficient",
        changed(QUBO, "quadratic", [[0, 1]]),
        "problem.quadratic[0]",
        "at least 3",
    ),
    (
        "nan_quadratic",
        changed(QUBO, "quadratic", [[0, 1, NAN]]),
        "problem.quadratic[0][2]",
        "finite",
    ),
    (
        "duplicate_pair",
        changed(QUBO, "quadratic", [[0, 1, 1.0], [1, 2, 1.0], [1, 0, 2.0]]),
        "problem.quadratic[2]",
        "repeats quadratic[0]",
    ),
    ("bad_sense", changed(QUBO, "sense", "max"), "problem.sense", "minimize, maximize"),
    ("nan_offset", changed(QUBO, "offset", NAN), "problem.offset", "finite"),
    ("string_offset", changed(QUBO, "offset", "0"), "problem.offset", "number"),
    (
        "nan_expected_return",
        changed(PORTFOLIO, "expected_returns", [0.1, 0.2, NAN]),
        "problem.expected_returns[2]",
        "finite",
    ),
    (
        "covariance_row_too_short",
        changed(PORTFOLIO, "covariance", [[0.1, 0.0, 0.0], [0.0, 0.2], [0.0, 0.0, 0.1]]),
        "problem.covariance[1]",
        "must have 3 entries",
    ),
    (
        "covariance_too_few_rows",
        changed(PORTFOLIO, "covariance", [[0.1, 0.0, 0.0], [0.0, 0.2, 0.0]]),
        "problem.covariance",
        "must have 3 rows",
    ),
    (
        "asymmetric_covariance",
        changed(PORTFOLIO, "covariance", [[0.1, 0.05, 0.0], [0.02, 0.2, 0.0], [0.0, 0.0, 0.1]]),
        "problem.covariance[0][1]",
        "symmetric); got 0.05 and 0.02",  # the numbers as written, not np.float64(...)
    ),
    (
        "indefinite_covariance",
        changed(PORTFOLIO, "covariance", [[0.1, 0.5, 0.0], [0.5, 0.2, 0.0], [0.0, 0.0, 0.1]]),
        "problem.covariance",
        "positive semidefinite",
    ),
    (
        "nan_covariance",
        changed(PORTFOLIO, "covariance", [[0.1, 0.0, 0.0], [0.0, NAN, 0.0], [0.0, 0.0, 0.1]]),
        "problem.covariance[1][1]",
        "finite",
    ),
    ("zero_budget", changed(PORTFOLIO, "budget", 0), "problem.budget", "at least 1"),
    ("budget_above_assets", changed(PORTFOLIO, "budget", 4), "problem.budget", "at most the"),
    ("fractional_budget", changed(PORTFOLIO, "budget", 1.5), "problem.budget", "integer"),
    ("negative_risk", changed(PORTFOLIO, "risk_factor", -0.1), "problem.risk_factor", "at least"),
    ("nan_risk", changed(PORTFOLIO, "risk_factor", NAN), "problem.risk_factor", "finite"),
    ("missing_risk", changed(PORTFOLIO, "risk_factor", ...), "problem.risk_factor", "required"),
]


@pytest.mark.parametrize(
    ("payload", "path", "words"),
    [pytest.param(p, path, words, id=name) for name, p, path, words in MALFORMED],
)
def test_malformed_payload_is_rejected_naming_exactly_its_field(
    payload: object, path: str, words: str
) -> None:
    errors = errors_of(payload)
    assert [e.path for e in errors] == [path]
    assert words in errors[0].message


def test_unknown_schema_version_lists_the_supported_ones() -> None:
    errors = errors_of(SQUARE, schema_version="2")
    assert errors == [FieldError("schema_version", "unsupported schema version '2'; supported: 1")]


def test_every_fault_in_one_payload_is_reported_together() -> None:
    payload = changed(SQUARE, "graph.edges", [[0, 0], [1, 9], [0, 1], [1, 0], [2, 3, NAN]])
    assert [e.path for e in errors_of(payload)] == [
        "problem.graph.edges[0][1]",
        "problem.graph.edges[1][1]",
        "problem.graph.edges[3]",
        "problem.graph.edges[4][2]",
    ]


def test_a_flood_of_bad_items_is_capped() -> None:
    payload = changed(SQUARE, "graph.edges", [[0, "x"]] * MAX_TERMS)
    errors = errors_of(payload)
    assert len(errors) == MAX_REPORTED_ERRORS
    assert errors[0].path == "problem.graph.edges[0][1]"


def test_one_edge_over_the_limit_is_rejected_at_the_edge_list() -> None:
    payload = {"type": "maxcut", "graph": {"nodes": MAX_VARIABLES, "edges": ring_of_rings(51)}}
    payload["graph"]["edges"] = payload["graph"]["edges"][: MAX_TERMS + 1]
    assert errors_of(payload) == [
        FieldError("problem.graph.edges", f"must have at most {MAX_TERMS} items; got 100001")
    ]


def test_a_bad_item_at_the_end_of_a_long_list_is_found_with_its_index() -> None:
    edges: list[list[Any]] = [[0, v] for v in range(1, MAX_VARIABLES)]
    edges.append([1, 2, "x"])
    payload = {"type": "maxcut", "graph": {"nodes": MAX_VARIABLES, "edges": edges}}
    assert [e.path for e in errors_of(payload)] == [f"problem.graph.edges[{len(edges) - 1}][2]"]


def test_the_largest_allowed_maxcut_parses() -> None:
    edges = ring_of_rings(MAX_TERMS // MAX_VARIABLES)
    assert len(edges) == MAX_TERMS
    problem = parse_problem({"type": "maxcut", "graph": {"nodes": MAX_VARIABLES, "edges": edges}})
    assert len(problem.bqm.quadratic) == MAX_TERMS


# ---- published schemas


def test_schemas_are_published_for_every_supported_version_and_type() -> None:
    schemas = problem_schemas()
    assert tuple(schemas) == SUPPORTED_SCHEMA_VERSIONS
    assert set(schemas["1"]) == {"maxcut", "qubo", "portfolio"}
    for schema in schemas["1"].values():
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schemas_state_the_limits_parsing_enforces() -> None:
    text = json.dumps(problem_schemas())
    v1 = problem_schemas()["1"]
    assert v1["maxcut"]["properties"]["graph"]["properties"]["edges"]["maxItems"] == MAX_TERMS
    assert v1["maxcut"]["properties"]["graph"]["properties"]["nodes"]["maximum"] == MAX_VARIABLES
    assert v1["qubo"]["properties"]["quadratic"]["maxItems"] == MAX_TERMS
    assert v1["qubo"]["properties"]["linear"]["maxItems"] == MAX_VARIABLES
    assert v1["portfolio"]["properties"]["covariance"]["maxItems"] == MAX_ASSETS
    assert "maximum" in text and "minimum" in text


def test_valid_payloads_validate_against_their_published_schema() -> None:
    v1 = problem_schemas()["1"]
    for payload in (SQUARE, QUBO, PORTFOLIO):
        Draft202012Validator(v1[str(payload["type"])]).validate(payload)


def test_changing_the_returned_schemas_does_not_change_validation() -> None:
    problem_schemas()["1"]["maxcut"]["properties"]["graph"]["properties"]["nodes"]["maximum"] = 2
    assert parse_problem(SQUARE).num_variables == 4


# ---- the fast structural path agrees with plain jsonschema

json_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=3),
    st.lists(st.one_of(st.integers(-3, 3), st.floats(-1e13, 1e13), st.booleans()), max_size=4),
)


# Each base payload with a way to reach each of its big arrays.
FAST_ARRAYS = [
    (SQUARE, lambda p: p["graph"]["edges"]),
    (QUBO, lambda p: p["quadratic"]),
    (QUBO, lambda p: p["linear"]),
    (PORTFOLIO, lambda p: p["covariance"]),
    (PORTFOLIO, lambda p: p["expected_returns"]),
]


@settings(max_examples=150, deadline=None)
@given(
    case=st.sampled_from(FAST_ARRAYS),
    mutations=st.lists(st.tuples(st.integers(0, 10), st.integers(0, 10), json_junk), max_size=4),
)
def test_fast_structural_check_reports_what_plain_jsonschema_reports(
    case: tuple[dict[str, Any], Any], mutations: list[tuple[int, int, Any]]
) -> None:
    payload = copy.deepcopy(case[0])
    target = case[1](payload)
    for i, j, junk in mutations:
        row = target[i % len(target)]
        if isinstance(row, list) and row and j % 2:
            row[j % len(row)] = junk
        else:
            target[i % len(target)] = junk
    kind = str(payload["type"])
    plain = Draft202012Validator(schema_for("1", kind)).iter_errors(payload)
    expected = {e for error in plain for e in _field_errors(error, ())}
    assert set(structural_errors(payload, "1", kind)) == expected
