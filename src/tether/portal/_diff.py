"""A side-by-side line diff of two texts (difflib), for comparing connector revisions."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

__all__ = ["CONTEXT_LINES", "DiffRow", "side_by_side"]

CONTEXT_LINES = 3


@dataclass(frozen=True, slots=True)
class DiffRow:
    """One row of the two columns; ``kind`` is same, changed, removed, added or skip (elided lines)."""

    kind: str
    left_number: int | None
    left: str
    right_number: int | None
    right: str


def side_by_side(old: str, new: str, *, context: int = CONTEXT_LINES) -> list[DiffRow]:
    """Rows pairing ``old``'s and ``new``'s lines, unchanged runs cut to ``context`` lines around changes."""
    a, b = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        if rows or group[0][1] > 0:
            rows.append(DiffRow("skip", None, "", None, ""))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [
                    DiffRow("same", i + 1, a[i], j + 1, b[j])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            left, right = list(range(i1, i2)), list(range(j1, j2))
            for k in range(max(len(left), len(right))):
                li = left[k] if k < len(left) else None
                rj = right[k] if k < len(right) else None
                kind = (
                    "changed"
                    if li is not None and rj is not None
                    else "removed"
                    if li is not None
                    else "added"
                )
                rows.append(
                    DiffRow(
                        kind,
                        None if li is None else li + 1,
                        "" if li is None else a[li],
                        None if rj is None else rj + 1,
                        "" if rj is None else b[rj],
                    )
                )
    return rows
