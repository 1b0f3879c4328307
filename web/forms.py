"""HTML forms: the worksheet grid's fields back into answers, practice options into a spec, and
the page model of a worksheet (the printed sheet's layout, what was written, the marks)."""

from __future__ import annotations

import re
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from handcalc import Problem
from handcalc.grading import DEFAULT_TOLERANCE
from handcalc.layout import build_sheet

from . import service

#: a grid input is named like ``dW2[1][0]`` (row, column; from 0)
FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9_]{0,30})\[(\d{1,3})\]\[(\d{1,3})\]$")
SPEC_FIELDS = (
    "sizes",
    "activation",
    "loss",
    "batch",
    "reduction",
    "lr",
    "transcendental",
    "digits",
    "slope",
)
PHASE_TITLES = {
    "forward": "Forward pass",
    "loss": "Loss",
    "backward": "Backward pass",
    "update": "Update",
}


def answers_from_form(form: Mapping[str, str], problem: Problem) -> dict[str, Any]:
    """Every cell of the sheet's boxes as rows of text, from fields named ``cell[i][j]``
    (fields that are not on the sheet are ignored; entries not sent are empty)."""
    shapes = {name: problem.values[name].shape for name in inputs(problem)}
    cells = {name: [["" for _ in range(m)] for _ in range(n)] for name, (n, m) in shapes.items()}
    for key, value in form.items():
        match = FIELD.match(key)
        if match is None or match[1] not in cells:
            continue
        i, j = int(match[2]), int(match[3])
        n, m = shapes[match[1]]
        if i < n and j < m:
            cells[match[1]][i][j] = value[: service.MAX_ENTRY_CHARS]
    return {"cells": cells}


#: each problem's layout, for as long as the problem lives (the problem cache bounds both: an
#: lru_cache here held up to 1024 problems alive on its own, outside that bound)
_LAYOUTS: weakref.WeakKeyDictionary[Problem, Any] = weakref.WeakKeyDictionary()


def layout(problem: Problem) -> Any:
    """The printed sheet's layout of ``problem``, made once per problem."""
    found = _LAYOUTS.get(problem)
    if found is None:
        found = _LAYOUTS[problem] = build_sheet(problem)
    return found


def inputs(problem: Problem) -> list[str]:
    """The cells with boxes on the sheet: the graded ones (every step), and any the layout
    adds."""
    names = service.blanks(problem)
    return names + [n for n in layout(problem).inputs if n not in names]


def spec_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """The practice options chosen on the page (blank ones keep their defaults)."""
    return {name: form[name].strip() for name in SPEC_FIELDS if form.get(name, "").strip()}


def _rows(raw: Any, n: int, m: int) -> list[list[str]]:
    """What the student wrote, as text in the cell's shape (an API client may have sent any
    shape or a bare number; the page shows the boxes of the sheet)."""
    if not isinstance(raw, list):
        raw = [[raw]] if raw not in (None, "") else []
    rows = [
        [("" if v is None else str(v)) for v in r] if isinstance(r, list) else [str(r)] for r in raw
    ]
    return [
        [rows[i][j] if i < len(rows) and j < len(rows[i]) else "" for j in range(m)]
        for i in range(n)
    ]


@dataclass(frozen=True)
class Mark:
    name: str
    status: str
    feedback: str
    diagnosis: tuple[str, ...]


@dataclass
class Page:
    """What a worksheet page shows: the printed sheet's layout in form mode, what the student
    wrote, and the marks of the last check."""

    title: str
    layout: Any
    answers: dict[str, list[list[str]]]
    marks: dict[str, list[list[str]]]
    feedback: dict[str, str]
    cells: list[Mark]
    notes: list[str]


def sheet(
    problem: Problem,
    title: str,
    answers: Mapping[str, Any] | None = None,
    report: Mapping[str, Any] | None = None,
) -> Page:
    sent = (answers or {}).get("cells") or {}
    written = {name: _rows(sent.get(name), *problem.values[name].shape) for name in inputs(problem)}
    marks: dict[str, list[list[str]]] = {}
    feedback: dict[str, str] = {}
    cells = []
    for name, cell in service.marks(report).items():
        entries = cell.get("entries")
        if isinstance(entries, list):
            marks[name] = entries
        status = str(cell.get("status") or "")
        text = str(cell.get("feedback") or "")
        if text:
            feedback[name] = f"{name}: {status}. {text}"
        cells.append(Mark(name, status, text, tuple(cell.get("diagnosis") or ())))
    notes = []
    if problem.spec.transcendental == "exact":
        notes.append(
            f"Irrational values: type a decimal (or an expression such as exp(2)/(1 + "
            f"E)); it is graded within a relative tolerance of "
            f"{100 * DEFAULT_TOLERANCE:g} %."
        )
    notes.append(
        "Type integers, fractions (-3/4) or decimals (0.75). Cells that follow "
        "correctly from your own earlier values get credit carried forward."
    )
    return Page(title, layout(problem), written, marks, feedback, cells, notes)
