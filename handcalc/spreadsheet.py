"""A problem as a self-checking spreadsheet (``--format xlsx``): the printed grid on a worksheet.

The layout is :func:`handcalc.layout.build_sheet`'s: each section and grid in order, each block
where the grid puts it (left to right by its ``x``, top to bottom by its ``y``), so the workbook
reads like the paper sheet. Given blocks and lookup tables hold their values; every entry of an
``answer`` block is a blank cell with, beside it, a formula that says ``NOT DONE``, ``CORRECT`` or
``INCORRECT`` against the same address on the hidden ``Key`` sheet. The formula holds an entry to
the grader's rule (:mod:`handcalc.grading.expected`):

- half a unit of the last stated decimal where the sheet asks for so many decimals (the loss, a
  table-mode value);
- the grader's relative tolerance (:data:`handcalc.grading.DEFAULT_TOLERANCE`) where the student
  works from a calculator (exact mode, a transcendental op and what follows from it);
- an exact rational otherwise, which a spreadsheet only holds as a float: a relative ``1e-9``
  covers that (type ``=1/3`` or enough decimals); the key's exact text is a comment on its cell.

Carried credit and the grader's diagnoses are not in a spreadsheet: it checks each entry alone.
openpyxl is the ``sheets`` extra.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .errors import HandcalcError
from .grading import DEFAULT_TOLERANCE
from .grading.expected import Expected, numbers
from .grading.key import answer_key
from .graph import resolve
from .layout import Block, Grid, build_sheet
from .problem import Problem

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

#: the check formulas' words, as the tests and a teacher's own formulas read them
NOT_DONE, CORRECT, INCORRECT = "NOT DONE", "CORRECT", "INCORRECT"
#: relative slack for an exact rational held as a float (the grader compares it exactly)
EXACT_SLACK = 1e-9
KEY_SHEET = "Key"
WORK_SHEET = "Worksheet"


def _openpyxl() -> Any:
    try:
        import openpyxl
    except ImportError as e:  # an extra: say which
        raise HandcalcError("--format xlsx needs openpyxl: pip install 'handcalc[sheets]'") from e
    return openpyxl


def workbook_bytes(problem: Problem, tolerance: float = DEFAULT_TOLERANCE) -> bytes:
    """The problem as an .xlsx file: the worksheet with its checks, the key sheet hidden."""
    buffer = io.BytesIO()
    workbook(problem, tolerance).save(buffer)
    return buffer.getvalue()


def workbook(problem: Problem, tolerance: float = DEFAULT_TOLERANCE) -> Any:
    """The problem as an openpyxl ``Workbook`` (see the module's docstring)."""
    openpyxl = _openpyxl()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = WORK_SHEET
    key = book.create_sheet(KEY_SHEET)
    key.sheet_state = "hidden"
    _Writer(problem, sheet, key, tolerance).write()
    return book


def tolerance_of(expected: Expected, tolerance: float) -> tuple[str, float]:
    """How an entry is checked: ``("absolute", half a unit)`` where the decimals are stated,
    ``("relative", tolerance)`` for a calculator's cell, ``("relative", EXACT_SLACK)`` for an
    exact rational (held as a float here)."""
    if expected.half_unit is not None:
        return "absolute", float(expected.half_unit)
    if expected.approximate:
        return "relative", tolerance
    return "relative", EXACT_SLACK


def check_formula(answer: str, kind: str, amount: float) -> str:
    """The formula beside the answer cell ``answer`` (an address such as ``B7``)."""
    target = f"{KEY_SHEET}!{answer}"
    bound = f"{amount!r}" if kind == "absolute" else f"{amount!r}*ABS({target})"
    # a hair of absolute slack: the key is a float of an exact value, and so is what is typed
    close = f"ABS({answer}-{target})<={bound}+1E-12"
    return f'=IF(ISBLANK({answer}),"{NOT_DONE}",IF({close},"{CORRECT}","{INCORRECT}"))'


class _Writer:
    """Writes the sheet's grids one below the other, keeping a row cursor."""

    def __init__(self, problem: Problem, sheet: Worksheet, key: Worksheet, tolerance: float):
        self.problem, self.sheet, self.key, self.tolerance = problem, sheet, key, tolerance
        self.layout = build_sheet(problem)
        self.answers = answer_key(problem)
        self.row = 1
        from openpyxl.comments import Comment
        from openpyxl.styles import Font, PatternFill

        self.comment = Comment
        self.bold = Font(bold=True)
        self.title_font = Font(bold=True, size=14)
        self.fills = {
            "given": PatternFill("solid", fgColor="EEF2F7"),
            "answer": PatternFill("solid", fgColor="FFF7D6"),
            "work": PatternFill("solid", fgColor="F1F1F1"),
        }

    def write(self) -> None:
        s = self.layout
        self._line(s.title, self.title_font)
        for text in (*s.instructions, _how_to()):
            self._line(text)
        self.row += 1
        sections = ([s.tables] if s.tables is not None else []) + list(s.sections)
        for section in sections:
            self._line(section.title, self.title_font)
            for step in section.steps:
                self._line(step)
            for grid in section.grids:
                self._grid(grid)
        self.sheet.column_dimensions["A"].width = 12

    def _line(self, text: str, font: Any = None) -> None:
        if text:
            cell = self.sheet.cell(self.row, 1, text)
            if font is not None:
                cell.font = font
            self.row += 1

    def _grid(self, grid: Grid) -> None:
        self._line(grid.title, self.bold)
        blocks = list(grid.blocks)
        left = _starts([b.x for b in blocks], [_width(b) for b in blocks])
        top = _starts([b.y for b in blocks], [_height(b) for b in blocks])
        bottom = self.row
        for b in blocks:
            r, c = self.row + top[b.y], 1 + left[b.x]
            self._block(b, r, c)
            bottom = max(bottom, r + _height(b))
        self.row = bottom + 1

    def _block(self, b: Block, r: int, c: int) -> None:
        label = b.label + ("  (working, not checked)" if b.role in ("work", "copy") else "")
        if label:
            self.sheet.cell(r, c, label).font = self.bold
        if b.role == "answer":
            self._answer(b, r + 1, c)
            return
        values = self._given(b) if b.role == "given" else None
        for i in range(b.rows):
            for j in range(b.cols):
                cell = self.sheet.cell(r + 1 + i, c + j)
                if b.role == "ones":
                    cell.value = 1
                elif values is not None:
                    cell.value, exact = values[i][j]
                    if exact:
                        cell.comment = self.comment(f"exactly {exact}", "handcalc")
                if b.role in self.fills:
                    cell.fill = self.fills[b.role]

    def _given(self, b: Block) -> list[list[tuple[Any, str]]]:
        """A given block's entries: numbers (with the exact text where a float is not it), or the
        printed text of a lookup table's entry that is not a number (a label, a starred one)."""
        name = resolve(b.cell) if b.cell else ""
        if name in self.problem.values:
            rows = numbers(self.problem.value(name))
            texts = self.problem.text(name)
            out = []
            for i in range(b.rows):
                si_row = []
                for j in range(b.cols):
                    si, sj = b.source(i, j)
                    x = rows[si][sj]
                    si_row.append((_float(x), _exact_text(x, texts[si][sj])))
                out.append(si_row)
            return out
        return [[(_number_or_text(t), "") for t in row] for row in b.texts]

    def _answer(self, b: Block, r: int, c: int) -> None:
        cell = self.answers.cells[b.cell]
        expected = cell.expected
        texts = self.problem.text(b.cell)
        kind, amount = tolerance_of(expected, self.tolerance)
        for i in range(b.rows):
            for j in range(b.cols):
                si, sj = b.source(i, j)
                col = c + 2 * j
                entry = self.sheet.cell(r + i, col)
                entry.fill = self.fills["answer"]
                address = entry.coordinate
                x = expected.numbers[si][sj]
                held = self.key.cell(r + i, col, _float(x))
                held.comment = self.comment(f"{b.cell}[{si}][{sj}] = {texts[si][sj]}", "handcalc")
                self.sheet.cell(r + i, col + 1, check_formula(address, kind, amount))


def _how_to() -> str:
    return (
        "Type each answer as a decimal (or a formula such as =1/3) in the yellow cells; "
        f"the cell beside each says {NOT_DONE}, {CORRECT} or {INCORRECT}. Exact values are "
        "checked to 1e-9, values stated to N decimals to half a unit in the last place, "
        "values worked with a calculator to the grader's relative tolerance."
    )


def _starts(at: list[float], sizes: list[int]) -> dict[float, int]:
    """Each distinct coordinate's first row or column: after everything that starts before it,
    with one to spare, so blocks keep the grid's order and never overlap."""
    start: dict[float, int] = {}
    for v in sorted(set(at)):
        start[v] = max(
            (start[u] + size + 1 for u, size in zip(at, sizes, strict=True) if u < v), default=0
        )
    return start


def _width(b: Block) -> int:
    return max(1, b.cols * (2 if b.role == "answer" else 1))


def _height(b: Block) -> int:
    return 1 + b.rows


def _float(x: Fraction | float) -> float | int:
    if isinstance(x, Fraction) and x.denominator == 1:
        return int(x)
    return float(x)


def _exact_text(x: Fraction | float, text: str) -> str:
    """The exact text where the stored float is not the value itself (1/3, an expression)."""
    if isinstance(x, Fraction) and Fraction(float(x)) == x:
        return ""
    return text


def _number_or_text(text: str) -> Any:
    try:
        return _float(Fraction(text.replace("−", "-")))  # the printed minus sign
    except (ValueError, ZeroDivisionError):
        return text


def graded_entries(problem: Problem) -> Iterable[tuple[str, int, int]]:
    """Every graded entry (cell, row, column): what the workbook must give an answer cell."""
    key = answer_key(problem)
    for name in key.names:
        for i, row in enumerate(key.cells[name].expected.numbers):
            for j in range(len(row)):
                yield name, i, j
