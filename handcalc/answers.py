"""Reading a student's answers: ``{"cells": {"Z1": [["2", "1"], …]}}`` into exact matrices.

A format error is kept apart from a wrong answer: a cell that cannot be read is reported with a
message saying what is accepted, and is not graded. Only the envelope (not JSON, not an object, too
large, unknown cell names) raises ``DocumentError``, since then nothing can be graded at all.

Numbers go through ``values.parse_number``: nothing a student types is ever ``eval``-ed or
sympified.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .errors import DocumentError, HandcalcError
from .jsondoc import read_json_object
from .matrix import Mat, rational
from .values import ACCEPTED, MAX_CHARS, parse_expression, parse_number

FORMAT = "handcalc/answers@1"
MAX_ANSWER_CHARS = 200_000
MAX_CELLS = 200
MAX_ROWS = 32
MAX_COLUMNS = 32
MAX_EXPRESSION_CHARS = 400  # the solver keeps a cell within 200
MAX_MAGNITUDE = 1e12

#: statuses of one entry before it is compared with anything
BLANK = "missing"
UNREADABLE = "invalid"


@dataclass(frozen=True)
class CellAnswer:
    """What a student wrote in one cell.

    ``value`` is the exact matrix when every entry was read; otherwise ``None``, with ``entries``
    (``Fraction`` for a readable entry, ``"missing"`` for a blank one, ``"invalid"`` for one that
    does not parse) when the cell has the right shape, and ``problems`` saying what is wrong.
    ``shape`` is the shape the student wrote (for diagnosing a transposed result)."""

    name: str
    shape: tuple[int, int] | None
    entries: tuple[tuple[Fraction | str, ...], ...]
    problems: tuple[str, ...] = ()
    value: Mat | None = None
    #: a wrongly shaped cell, read anyway (to recognise a transposed result); never graded
    as_written: Mat | None = None

    @property
    def blank(self) -> bool:
        """True when nothing was written: the cell is missing rather than malformed."""
        return not self.problems and all(e == BLANK for row in self.entries for e in row)

    @property
    def readable(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class KnownCell:
    """Texts of a cell whose reading is already known (the key's own, as printed) and ``answer``,
    the cell read from exactly those texts by :func:`read_cell`.

    An entry typed the same as its known text (or with spaces around it) reads as the known entry
    without being parsed again, and a cell typed the same throughout reads as ``answer`` itself:
    what :func:`read_cell` would make of it anyway, since reading is a function of the text."""

    texts: tuple[tuple[str, ...], ...]
    answer: CellAnswer
    #: ``texts`` as JSON gives them (lists), to recognise a whole cell typed so in one comparison
    rows: list[list[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", [list(row) for row in self.texts])

    @property
    def usable(self) -> bool:
        return self.answer.value is not None and len(self.texts) == len(self.answer.entries)


def load_answers(doc: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    """The ``cells`` object of an answers document (JSON text or parsed), checked for size."""
    doc = read_json_object(
        doc,
        "answers",
        MAX_ANSWER_CHARS,
        {"format", "cells"},
        expected='a JSON object such as {"cells": {"Z1": [["2", "1"]]}}',
    )
    if doc.get("format", FORMAT) != FORMAT:
        raise DocumentError(
            f"answers.format: {doc['format']!r} is not accepted; accepted: {FORMAT!r}"
        )
    cells = doc.get("cells")
    if not isinstance(cells, Mapping):
        raise DocumentError(
            "answers.cells: expected an object of cell name → matrix (a list of "
            'rows), such as {"Z1": [["2", "1"]]}'
        )
    if len(cells) > MAX_CELLS:
        raise DocumentError(f"answers.cells: {len(cells)} cells is too many (at most {MAX_CELLS})")
    bad = next((k for k in cells if not isinstance(k, str)), None)
    if bad is not None:
        raise DocumentError(f"answers.cells: cell names are strings, got {bad!r}")
    return dict(cells)


def check_names(cells: Iterable[str], graded: Iterable[str], ignored: Iterable[str]) -> None:
    """Refuse cell names the problem does not have, naming the ones it does."""
    graded, known = tuple(graded), set(graded) | set(ignored) | {"A0"}
    unknown = sorted(set(cells) - known)
    if unknown:
        raise DocumentError(
            f"answers.cells: unknown cell {unknown[0]!r}; this problem's cells are "
            f"{', '.join(graded)}"
        )


def read_cell(
    name: str,
    raw: Any,
    shape: tuple[int, int],
    irrational: bool = False,
    known: KnownCell | None = None,
) -> CellAnswer:
    """One cell as typed; a scalar cell (``loss``) may also be written as a plain number.

    Where the key is ``irrational`` (exact mode, a logarithm) an entry may also be written as an
    expression such as ``exp(2)/(1 + E)``; it is graded by its decimal value, like a decimal.

    ``known`` (texts already read, in this cell's shape and with the same ``irrational``) saves
    parsing entries typed exactly like them; the result is the same as without it."""
    if raw is None or raw == "" or raw == []:
        return CellAnswer(name, None, _blank(shape))
    if shape == (1, 1) and isinstance(raw, str | int | float) and not isinstance(raw, bool):
        raw = [[raw]]
    if known is not None and not known.usable:
        known = None
    if known is not None and raw == known.rows:  # the common case: every entry as printed
        return known.answer
    if not isinstance(raw, list) or not all(isinstance(row, list) for row in raw):
        return CellAnswer(
            name,
            None,
            (),
            (
                f"{name}: expected a matrix written as a list of rows, "
                f'such as [["2", "1"], ["-1", "3/4"]]',
            ),
        )
    if len(raw) > MAX_ROWS or any(len(row) > MAX_COLUMNS for row in raw):
        return CellAnswer(
            name, None, (), (f"{name}: too large (at most {MAX_ROWS} rows of {MAX_COLUMNS})",)
        )
    widths = {len(row) for row in raw}
    written = (len(raw), widths.pop()) if len(widths) == 1 else None
    if written != shape:
        got = f"{written[0]} × {written[1]}" if written else "rows of different lengths"
        return CellAnswer(
            name,
            written,
            (),
            (
                f"{name}: expected a {shape[0]} × {shape[1]} matrix "
                f"({shape[0]} rows of {shape[1]}), got {got}",
            ),
            as_written=_read_all(raw) if written else None,
        )
    entries: list[tuple[Fraction | str, ...]] = []
    problems: list[str] = []
    same = known is not None
    for i, row in enumerate(raw):
        out: list[Fraction | str] = []
        texts = known.texts[i] if known is not None else None
        for j, text in enumerate(row):
            if texts is not None:
                typed = texts[j]
                # spaces around a number or an expression change nothing, within the length
                # limit that applies before anything is parsed
                if text == typed or (
                    isinstance(text, str) and len(text) <= MAX_CHARS and text.strip() == typed
                ):
                    out.append(known.answer.entries[i][j])  # type: ignore[union-attr]
                    continue
                same = False
            if text is None or (isinstance(text, str) and not text.strip()):
                out.append(BLANK)
                continue
            where = f"{name}[{i + 1}][{j + 1}]"
            try:
                out.append(parse_number(text, where))
            except HandcalcError as e:
                try:
                    if not irrational:
                        raise
                    out.append(read_expression(text, where))
                except HandcalcError:
                    out.append(UNREADABLE)
                    problems.append(
                        str(e) + (" or an expression such as exp(2)/(1 + E)" if irrational else "")
                    )
        entries.append(tuple(out))
    if same:
        assert known is not None
        return known.answer
    blanks = [
        f"[{i + 1}][{j + 1}]"
        for i, row in enumerate(entries)
        for j, e in enumerate(row)
        if e == BLANK
    ]
    if blanks and len(blanks) < shape[0] * shape[1]:
        problems.append(
            f"{name}: entr{'y' if len(blanks) == 1 else 'ies'} {', '.join(blanks)} "
            f"{'is' if len(blanks) == 1 else 'are'} blank; fill in every entry"
        )
    numbers = [[e for e in row if isinstance(e, Fraction)] for row in entries]
    value = None if problems or blanks else rational(numbers)
    return CellAnswer(name, shape, tuple(entries), tuple(problems), value)


def read_expression(text: Any, where: str) -> Fraction:
    """An exact-mode expression typed by a student, as the (binary) fraction of its float value.

    The expression is read by the safe parser of ``values`` and evaluated with ``math``, never by
    sympy's evalf: a nested ``tanh(exp(exp(20)))`` must cost microseconds, not a third of a second.
    """
    if not isinstance(text, str) or len(text) > MAX_EXPRESSION_CHARS:
        raise DocumentError(
            f"{where}: not an expression of at most {MAX_EXPRESSION_CHARS} characters"
        )
    value = approximate(parse_expression(text, where))
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise DocumentError(f"{where}: {text!r} is too large")
    return Fraction(value)


def approximate(x: Any) -> float:
    """A sympy expression of numbers, E, exp, log and tanh as a float, by ``math`` (fast, and
    refusing what overflows or has no real value with ``DocumentError``)."""
    import sympy

    try:
        if x.is_Rational:
            return int(x.p) / int(x.q)
        if x is sympy.E:
            return math.e
        args = [approximate(a) for a in x.args]
        if isinstance(x, sympy.Add):
            return math.fsum(args)
        if isinstance(x, sympy.Mul):
            return math.prod(args)
        if isinstance(x, sympy.Pow):
            value = args[0] ** args[1]
            if isinstance(value, complex):
                raise ValueError("complex")
            return float(value)
        for fn, real in ((sympy.exp, math.exp), (sympy.log, math.log), (sympy.tanh, math.tanh)):
            if isinstance(x, fn):
                return real(args[0])
    except (ValueError, OverflowError, ZeroDivisionError):
        raise DocumentError("the expression has no real value of a sensible size") from None
    raise DocumentError(f"cannot evaluate {x}")


def _blank(shape: tuple[int, int]) -> tuple[tuple[str, ...], ...]:
    return tuple((BLANK,) * shape[1] for _ in range(shape[0]))


def _read_all(raw: list[list[Any]]) -> Mat | None:
    """A wrongly shaped cell read anyway, so that a transposed result can still be recognised."""
    try:
        return rational([[parse_number(v) for v in row] for row in raw])
    except HandcalcError:
        return None


__all__ = [
    "ACCEPTED",
    "FORMAT",
    "CellAnswer",
    "KnownCell",
    "check_names",
    "load_answers",
    "read_cell",
]
