"""MaxCut: split the nodes in two to maximise the weight of the edges cut."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from quantum.model import BinaryQuadraticModel
from quantum.problems._errors import ErrorList
from quantum.problems._models import scaled
from quantum.problems.problem import Problem

Edge = tuple[int, int, float]


def build(payload: Mapping[str, Any]) -> Problem:
    """Build from a schema-valid payload; semantic errors raise ``ProblemValidationError``."""
    nodes = int(payload["graph"]["nodes"])
    edges = _checked_edges(nodes, payload["graph"]["edges"])
    # cut(x) = sum over edges of w * (x_u + x_v - 2 x_u x_v): 1 exactly when the ends differ.
    linear: dict[int, float] = {}
    quadratic: dict[tuple[int, int], float] = {}
    for u, v, w in edges:
        linear[u] = linear.get(u, 0.0) + w
        linear[v] = linear.get(v, 0.0) + w
        quadratic[(u, v)] = -2.0 * w
    objective = BinaryQuadraticModel.build(nodes, linear, quadratic)
    data = {"type": "maxcut", "graph": {"nodes": nodes, "edges": [list(e) for e in edges]}}
    return Problem(
        kind="maxcut",
        num_variables=nodes,
        data=data,
        bqm=scaled(objective, -1.0),
        sense="maximize",
        objective_model=objective,
    )


def _checked_edges(nodes: int, raw: Sequence[Sequence[Any]]) -> list[Edge]:
    errors = ErrorList()
    first_seen: dict[tuple[int, int], int] = {}
    edges: list[Edge] = []
    for k, item in enumerate(raw):
        if errors.full:
            break
        path = f"problem.graph.edges[{k}]"
        u, v = int(item[0]), int(item[1])
        weight = float(item[2]) if len(item) > 2 else 1.0
        ends_ok = _check_ends(errors, path, nodes, u, v)
        weight_ok = errors.check_finite(f"{path}[2]", weight)
        if not ends_ok:
            continue
        key = (min(u, v), max(u, v))
        if key in first_seen:
            message = (
                f"repeats edges[{first_seen[key]}]: edges are undirected, "
                f"so [{u}, {v}] and [{v}, {u}] are the same edge"
            )
            errors.add(path, message)
            continue
        first_seen[key] = k
        if weight_ok:
            edges.append((key[0], key[1], weight))
    errors.raise_if_any()
    edges.sort()
    return edges


def _check_ends(errors: ErrorList, path: str, nodes: int, u: int, v: int) -> bool:
    ok = True
    for position, node in ((0, u), (1, v)):
        if node >= nodes:
            message = f"node {node} is out of range: the graph has {nodes} nodes, 0 to {nodes - 1}"
            errors.add(f"{path}[{position}]", message)
            ok = False
    if ok and u == v:
        errors.add(f"{path}[1]", f"self-loop: the edge joins node {u} to itself")
        ok = False
    return ok
