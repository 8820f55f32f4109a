"""Measurement counts -> ranked ``CandidateResult``s, in the problem's own terms."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt

from quantum.model import FloatArray
from quantum.problems.problem import BoolArray, Problem, Sense
from quantum.results import CandidateResult

IntArray = npt.NDArray[np.int64]


def decode_counts(problem: Problem, counts: Mapping[str, int]) -> tuple[CandidateResult, ...]:
    """Decode Qiskit counts (little-endian bitstrings) into ranked candidates.

    Every distinct outcome becomes one candidate: feasible first, then better
    objective, then more shots, then bitstring (so ties rank the same way on
    every run). Vectorised: the only per-outcome Python work is building the
    result objects.
    """
    merged = _merged_counts(counts)
    if not merged:
        return ()
    keys = list(merged)
    shots = np.fromiter(merged.values(), dtype=np.int64, count=len(keys))
    if (shots < 0).any():
        raise ValueError("counts must not be negative")
    total = int(shots.sum())
    if total == 0:
        raise ValueError("counts must include at least one shot")
    xs = bitstrings_to_assignments(keys, problem.num_variables)
    objectives, feasible = problem.evaluate_many(xs)
    order = rank_order(objectives, feasible, shots, keys, problem.sense)
    rows = xs.tolist()
    return tuple(
        CandidateResult(
            assignment=tuple(rows[i]),
            bitstring=keys[i],
            objective=float(objectives[i]),
            feasible=bool(feasible[i]),
            probability=int(shots[i]) / total,
            count=int(shots[i]),
        )
        for i in order.tolist()
    )


def rank_order(
    objectives: FloatArray,
    feasible: BoolArray,
    counts: IntArray,
    bitstrings: list[str],
    sense: Sense,
) -> npt.NDArray[np.intp]:
    """Indices best first: feasible, better objective, more shots, then bitstring."""
    by_objective = -objectives if sense == "maximize" else objectives
    bitstring_rank = np.empty(len(bitstrings), dtype=np.intp)
    bitstring_rank[np.argsort(np.asarray(bitstrings))] = np.arange(len(bitstrings))
    # lexsort sorts by the *last* key first.
    return np.lexsort((bitstring_rank, -counts, by_objective, ~feasible))


def rank_candidates(
    candidates: Iterable[CandidateResult], sense: Sense
) -> tuple[CandidateResult, ...]:
    """Candidates from any source, in the order ``decode_counts`` uses."""
    sign = -1.0 if sense == "maximize" else 1.0
    return tuple(
        sorted(
            candidates,
            key=lambda c: (not c.feasible, sign * c.objective, -c.count, c.bitstring),
        )
    )


def _merged_counts(counts: Mapping[str, int]) -> dict[str, int]:
    # Counts over several classical registers come space-separated ("01 10");
    # the variables are their concatenation.
    merged: dict[str, int] = {}
    for key, count in counts.items():
        bits = key.replace(" ", "")
        merged[bits] = merged.get(bits, 0) + int(count)
    return merged


def bitstrings_to_assignments(keys: list[str], n: int) -> npt.NDArray[np.int8]:
    """Measured bitstrings as rows of 0/1 in the problem's variable order.

    Qiskit writes qubit 0 rightmost (little-endian), so row ``i`` column ``j``
    is character ``n - 1 - j`` of ``keys[i]``. Raises ``ValueError`` for a
    bitstring of the wrong width or with characters other than 0 and 1.
    """
    wrong = next((k for k in keys if len(k) != n), None)
    if wrong is not None:
        raise ValueError(f"bitstring {wrong[:80]!r} has {len(wrong)} bits; the problem has {n}")
    try:
        raw = "".join(keys).encode("ascii")
    except UnicodeEncodeError as exc:
        raise ValueError("bitstrings must contain only '0' and '1'") from exc
    bits = np.frombuffer(raw, dtype=np.uint8).reshape(len(keys), n) - ord("0")
    if (bits > 1).any():  # uint8 wraps, so characters below '0' land here too
        raise ValueError("bitstrings must contain only '0' and '1'")
    # Little-endian: the last character is variable 0.
    return np.ascontiguousarray(bits[:, ::-1]).astype(np.int8)
