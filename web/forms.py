"""HTML forms: the worksheet grid's fields back into answers, practice options into a spec, and
the page model of a worksheet (given matrices, then each blank with its answers and marks)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from handcalc import Problem

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
    """Every blank cell of ``problem`` as rows of text, from fields named ``cell[i][j]``
    (fields that are not on the sheet are ignored; entries not sent are empty)."""
    shapes = {name: problem.values[name].shape for name in service.blanks(problem)}
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


@dataclass
class Blank:
    name: str
    formula: str
    phase: str
    rows: list[list[str]]
    marks: list[list[str]] | None = None
    status: str | None = None
    feedback: str = ""
    diagnosis: list[str] = field(default_factory=list)


@dataclass
class Sheet:
    """What a worksheet page shows: the given values, then every blank by phase."""

    title: str
    describe: str
    given: list[tuple[str, list[list[str]]]]
    tables: list[tuple[str, list[list[str]]]]
    phases: list[tuple[str, list[Blank]]]
    notes: list[str]


def sheet(
    problem: Problem,
    title: str,
    answers: Mapping[str, Any] | None = None,
    report: Mapping[str, Any] | None = None,
) -> Sheet:
    doc = service.student_copy(problem)
    given = [
        (name, value if isinstance(value, list) else [[value]])
        for name, value in doc["given"].items()
    ]
    tables = list((doc.get("tables") or {}).items())
    cells = (answers or {}).get("cells", {})
    marks = service.marks(report)
    phases: dict[str, list[Blank]] = {}
    blanks = set(service.blanks(problem))
    for step in doc["steps"]:
        if step["name"] not in blanks:
            continue
        n, m = step["shape"]
        rows = _rows(cells.get(step["name"]), n, m)
        mark = marks.get(step["name"], {})
        entries = mark.get("entries")
        phases.setdefault(step["phase"], []).append(
            Blank(
                step["name"],
                step["formula"],
                step["phase"],
                rows,
                entries if isinstance(entries, list) else None,
                mark.get("status"),
                str(mark.get("feedback") or ""),
                list(mark.get("diagnosis") or []),
            )
        )
    spec = problem.spec
    notes = [f"Reduction over the batch: {spec.reduction}."]
    if spec.transcendental == "table":
        notes.append(
            f"Lookup tables give activations rounded to {spec.digits} decimals; work "
            "exactly from them."
        )
    elif spec.transcendental == "base":
        notes.append(f"Write {spec.base}^z for e^z; the loss is in log base {spec.base}.")
    else:
        tolerance = (report or {}).get("tolerance")
        notes.append(
            "Irrational cells: type a decimal; it is graded with a relative tolerance"
            + (f" of {tolerance}." if tolerance else ".")
        )
    notes.append("Type integers, fractions (-3/4) or decimals (0.75).")
    return Sheet(
        title,
        problem.describe(),
        given,
        tables,
        [(PHASE_TITLES.get(p, p.title()), b) for p, b in phases.items()],
        notes,
    )
