"""Matrices an author typed into ``given``: read entry by entry, each message naming its field."""

from __future__ import annotations

from typing import Any

from ..errors import DocumentError
from ..matrix import Mat, rational
from ..values import parse_number

#: limits on authored given values
GIVEN_MAX = 10**6


def written_shape(raw: Any) -> str:
    """What was written instead of a matrix, in words: ``3 × 2``, ``rows of 2, 3 and 2 entries``,
    ``a row that is not a list``, or the JSON type."""
    if not isinstance(raw, list):
        return "a number or text" if isinstance(raw, str | int | float) else type(raw).__name__
    if not all(isinstance(r, list) for r in raw):
        return "a list whose rows are not all lists"
    lengths = [len(r) for r in raw]
    if len(set(lengths)) > 1:
        shown = ", ".join(map(str, lengths[:-1])) + f" and {lengths[-1]}"
        return f"{len(raw)} rows of {shown} entries"
    return f"{len(raw)} × {lengths[0] if lengths else 0}"


def read_matrix(raw: Any, where: str, shape: tuple[int, int]) -> Mat:
    rows, cols = shape
    if (
        not isinstance(raw, list)
        or not all(isinstance(r, list) for r in raw)
        or len(raw) != rows
        or any(len(r) != cols for r in raw)
    ):
        raise DocumentError(
            f"{where}: expected a {shape_text(shape)} matrix (a list of {rows} "
            f"rows of {cols}), got {written_shape(raw)}"
        )
    values = []
    for i, row in enumerate(raw):
        out_row = []
        for j, text in enumerate(row):
            q = parse_number(text, f"{where}[{i + 1}][{j + 1}]")
            if abs(q.numerator) > GIVEN_MAX or q.denominator > GIVEN_MAX:
                raise DocumentError(
                    f"{where}[{i + 1}][{j + 1}]: {text!r} is too large; accepted: "
                    f"numerators and denominators up to {GIVEN_MAX}"
                )
            out_row.append(q)
        values.append(out_row)
    return rational(values)


def shape_text(shape: tuple[int, int]) -> str:
    return f"{shape[0]} × {shape[1]}"
