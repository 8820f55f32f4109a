"""A stored measurement distribution, read fast enough for a page.

jobs stores a run's counts as canonical JSON (sorted keys, no spaces),
zlib-compressed when large. A 20-qubit run can have 2^20 outcomes: ~27 MB of
JSON that ``json.loads`` needs ~0.7 s to turn into a dict we do not need.
The figures only need the counts and the labels of a few outcomes, so the
canonical form is read with numpy instead: find every ``:``, read the digits
after it, and slice a label out only when it is shown. Anything not in that
exact form (keys of mixed width, spaces between registers) goes through
``json.loads``.
"""

from __future__ import annotations

import bisect
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from jobs.models import Distribution

IntArray = npt.NDArray[np.int64]
KeyArray = npt.NDArray[np.int64]
_COLON, _COMMA, _QUOTE, _ZERO = ord(":"), ord(","), ord('"'), ord("0")
_MAX_DIGITS = 19  # an int64's
_MAX_INT_KEY_WIDTH = 62  # int64 keys, with room to spare


@dataclass(frozen=True)
class Outcomes:
    """Counts of one distribution, in key order (which is numeric order for
    equal-width bitstrings). ``label(i)`` is the i-th bitstring."""

    counts: IntArray
    width: int
    _raw: bytes = field(repr=False, default=b"")
    _colons: IntArray | None = field(repr=False, default=None)
    _labels: tuple[str, ...] | None = field(repr=False, default=None)
    # The longest top() computed so far: a shorter top is its prefix.
    _top: list[int] = field(repr=False, compare=False, default_factory=list)

    @property
    def shots(self) -> int:
        return int(self.counts.sum())

    def __len__(self) -> int:
        return int(self.counts.shape[0])

    def label(self, i: int) -> str:
        if self._labels is not None:
            return self._labels[i]
        assert self._colons is not None
        end = int(self._colons[i]) - 1
        return self._raw[end - self.width : end].decode("ascii")

    def top(self, k: int) -> list[int]:
        """Indices of the ``k`` largest counts, largest first (ties in key order)."""
        k = min(k, len(self))
        if k <= 0:
            return []
        if len(self._top) >= k:
            return self._top[:k]
        # The k-th largest count, then everything above it and as many of the
        # outcomes equal to it as fit, in key order, so ties are deterministic.
        threshold = -np.partition(-self.counts, k - 1)[k - 1]
        above = np.flatnonzero(self.counts > threshold)
        equal = np.flatnonzero(self.counts == threshold)[: k - len(above)]
        chosen = np.concatenate([above, equal])
        order = np.lexsort((chosen, -self.counts[chosen]))
        self._top[:] = [int(i) for i in chosen[order]]
        return self._top[:k]

    def find(self, label: str) -> int | None:
        """The index of ``label``, or None; a binary search, since outcomes are in key order."""
        at = bisect.bisect_left(range(len(self)), label, key=self.label)
        return at if at < len(self) and self.label(at) == label else None

    def int_keys(self) -> KeyArray | None:
        """Outcomes as integers (bit j is variable j), or None when too wide for 64 bits."""
        if self.width > _MAX_INT_KEY_WIDTH or self.width == 0:
            return None
        if self._labels is not None:
            return np.array([int(s, 2) for s in self._labels], dtype=np.int64)
        assert self._colons is not None
        buf = np.frombuffer(self._raw, dtype=np.uint8)
        keys = np.zeros(len(self), dtype=np.int64)
        first = self._colons - 1 - self.width
        for j in range(self.width):  # in place: a million keys, twenty passes, ~0.1 s
            keys *= 2
            keys += buf[first + j]
            keys -= _ZERO
        return keys

    def bits(self, indices: list[int]) -> npt.NDArray[np.int8]:
        """Rows of 0/1 in variable order (variable 0 is the last character)."""
        text = "".join(self.label(i) for i in indices).encode("ascii")
        rows = np.frombuffer(text, dtype=np.uint8).reshape(len(indices), self.width) - _ZERO
        return np.ascontiguousarray(rows[:, ::-1]).astype(np.int8)


def outcomes_of(distribution: Distribution) -> Outcomes:
    raw = bytes(distribution.data)
    if distribution.encoding == Distribution.ENCODING_ZLIB:
        raw = zlib.decompress(raw)
    return parse_counts(raw)


def parse_counts(raw: bytes) -> Outcomes:
    """Counts from JSON bytes; the numpy path for the canonical form, else ``json``."""
    fast = _parse_canonical(raw)
    return fast if fast is not None else _parse_any(raw)


def _parse_canonical(raw: bytes) -> Outcomes | None:
    buf = np.frombuffer(raw, dtype=np.uint8)
    if len(buf) < 2 or raw[:2] != b'{"' or raw[-1:] != b"}":
        return None
    colons = np.flatnonzero(buf == _COLON).astype(np.int64)
    if len(colons) == 0:
        return None
    width = int(colons[0]) - 3  # {"<width bits>":
    # Keys of one circuit share a layout, so the first shows whether there are
    # separators between registers ("01 10"); those take the general path.
    if width < 1 or raw[2 : 2 + width].strip(b"01"):
        return None
    # Each value runs from after its colon to the comma before the next key
    # (which starts width + 2 bytes before that key's colon), the last to the "}".
    ends = np.empty_like(colons)
    ends[:-1] = colons[1:] - width - 3
    ends[-1] = len(buf) - 1
    lengths = ends - colons - 1
    if (
        (lengths < 1).any()
        or (lengths > _MAX_DIGITS).any()
        or (buf[colons - 1] != _QUOTE).any()
        or (buf[colons - width - 2] != _QUOTE).any()
        or (buf[ends[:-1]] != _COMMA).any()
    ):
        return None
    counts = np.zeros(len(colons), dtype=np.int64)
    for d in range(int(lengths.max())):
        live = lengths > d
        digit = buf[colons[live] + 1 + d].astype(np.int64) - _ZERO
        if ((digit < 0) | (digit > 9)).any():
            return None
        counts[live] = counts[live] * 10 + digit
    return Outcomes(counts=counts, width=width, _raw=raw, _colons=colons)


def _parse_any(raw: bytes) -> Outcomes:
    return outcomes_from_counts(json.loads(raw))


def outcomes_from_counts(data: Mapping[str, int]) -> Outcomes:
    """From a counts dict; registers separated by spaces are joined, as quantum decodes them."""
    merged: dict[str, int] = {}
    for key, count in data.items():
        bits = str(key).replace(" ", "")
        merged[bits] = merged.get(bits, 0) + int(count)
    labels = tuple(sorted(merged))
    widths = {len(k) for k in labels}
    width = widths.pop() if len(widths) == 1 else 0  # 0: mixed widths, no int keys
    counts = np.array([merged[k] for k in labels], dtype=np.int64)
    return Outcomes(counts=counts, width=width, _labels=labels)


def total_variation_distance(a: Outcomes, b: Outcomes) -> float:
    """Half the L1 distance between the two normalised distributions.

    Sorted integer keys make it a merge (searchsorted), not a dict of a
    million entries; the general ``quantum.metrics`` version is the fallback.
    """
    ka, kb = a.int_keys(), b.int_keys()
    pa = a.counts / max(a.shots, 1)
    pb = b.counts / max(b.shots, 1)
    if ka is None or kb is None or a.width != b.width:
        from quantum.metrics import total_variation_distance as tvd

        return tvd(
            {a.label(i): float(pa[i]) for i in range(len(a))},
            {b.label(i): float(pb[i]) for i in range(len(b))},
        )
    where = np.searchsorted(kb, ka)
    inside = where < len(kb)
    matched = np.zeros(len(ka), dtype=bool)
    matched[inside] = kb[where[inside]] == ka[inside]
    common_b = pb[where[matched]]
    l1 = np.abs(pa[matched] - common_b).sum() + pa[~matched].sum() + (pb.sum() - common_b.sum())
    return float(0.5 * l1)
