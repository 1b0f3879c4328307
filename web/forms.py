"""HTML forms: the worksheet grid's fields back into answers, a kind's options as fields and
back into a spec (made from what the kind declares), and the page model of a worksheet (the
printed sheet's layout, what was written, the marks)."""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app

from handcalc import HandcalcError, Problem, kinds
from handcalc.cells import read_field
from handcalc.grading import DEFAULT_TOLERANCE
from handcalc.layout import build_sheet
from handcalc.options import CHOICE, WHOLE, Options
from handcalc.values import parse_whole

from . import courses
from .errors import InputError
from .inputs import MAX_ENTRY_CHARS
from .instructor_api import MAX_ATTEMPTS, MAX_TITLE_CHARS
from .models import Assignment
from .problems import DEFAULT_KIND, blanks
from .reports import marks as report_marks


def answers_from_form(form: Mapping[str, str], problem: Problem) -> dict[str, Any]:
    """Every cell of the sheet's boxes as rows of text, from fields named as
    ``handcalc.cells.field_name`` writes them, ``s1.dW2[1][0]`` (fields that are not on the
    sheet are ignored; entries not sent are empty)."""
    shapes = {name: problem.values[name].shape for name in inputs(problem)}
    cells = {name: [["" for _ in range(m)] for _ in range(n)] for name, (n, m) in shapes.items()}
    for key, value in form.items():
        found = read_field(key)
        if found is None or found[0] not in cells:
            continue
        name, i, j = found
        n, m = shapes[name]
        if i < n and j < m:
            cells[name][i][j] = value[:MAX_ENTRY_CHARS]
    return {"cells": cells}


# --- options: fields made from what a kind declares -------------------------------------------


@dataclass(frozen=True)
class OptionField:
    """One option on a form: a select of its choices, or a text box."""

    name: str
    label: str
    help: str
    choices: tuple[str, ...]
    value: str
    default: str
    numeric: bool


def kind_of(raw: str | None) -> str:
    """The kind a form or a query names (the default when it names none); a ``SpecError``
    naming the kinds for any other."""
    name = (raw or "").strip() or DEFAULT_KIND
    return kinds.get(name[:40]).name


def kind_as_typed(values: Mapping[str, str]) -> str:
    """The kind of a form sent back with its error: as typed when it is one, else the default
    (the error then names the kinds)."""
    try:
        return kind_of(values.get("kind"))
    except HandcalcError:
        return DEFAULT_KIND


def kind_menu() -> list[tuple[str, str]]:
    """Every kind: its name and its description."""
    return [(name, kind.description) for name, kind in kinds.KINDS.items()]


def declared(kind: str, practice: bool = False) -> Iterable[tuple[str, Any, Any]]:
    """The options of ``kind`` (those offered on the practice page only, with ``practice``)."""
    options: type[Options] = kinds.get(kind).Options
    return [d for d in options.declared() if d[1].practice or not practice]


def _text(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def option_fields(
    kind: str, values: Mapping[str, str], practice: bool = False
) -> list[OptionField]:
    """The fields of ``kind``'s options, showing ``values`` as sent, else the defaults."""
    fields = []
    for name, option, default in declared(kind, practice):
        shown = _text(option.text(default))
        fields.append(
            OptionField(
                name=name,
                label=name.replace("_", " ").capitalize(),
                help=option.help,
                choices=option.choices if option.type == CHOICE else (),
                value=values.get(name, shown),
                default=shown or option.metavar,
                numeric=option.type == WHOLE,
            )
        )
    return fields


def spec_from_form(
    form: Mapping[str, str], kind: str = DEFAULT_KIND, practice: bool = False
) -> dict[str, Any]:
    """The options of ``kind`` chosen on a form (blank ones keep their defaults)."""
    return {
        name: form[name].strip()
        for name, _, _ in declared(kind, practice)
        if form.get(name, "").strip()
    }


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
    names = blanks(problem)
    return names + [n for n in layout(problem).inputs if n not in names]


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
    for name, cell in report_marks(report).items():
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


# --- a new assignment ------------------------------------------------------------------------


def new_assignment(form: Any, course_id: int) -> Assignment:
    """A new assignment of ``course_id`` from the new-assignment form (title, kind, its options,
    attempts); committed. Options that cannot make a problem fail before anything is stored."""
    kind = kind_of(form.get("kind"))
    spec = spec_from_form(form, kind)
    spec = kinds.get(kind).Options.from_options(spec).to_dict()
    attempts = form.get("max_attempts", "").strip()
    max_attempts = (
        parse_whole(attempts, "attempts", 1, MAX_ATTEMPTS)
        if attempts
        else int(current_app.config["DEFAULT_MAX_ATTEMPTS"])
    )
    title = form.get("title", "").strip()[:MAX_TITLE_CHARS]
    if not title:
        raise InputError("title: give the assignment a title")
    return courses.store_assignment(title, kind, spec, max_attempts, course_id)


def grading_from_form(form: Any) -> dict[str, Any]:
    """The settings form's grading fields as ``regrade.change_settings`` reads them: blank
    fields are the grader's defaults; weights one ``cell = weight`` a line (0: not counted)."""
    grading: dict[str, Any] = {}
    for name in ("tolerance", "carried_credit"):
        raw = (form.get(name) or "").strip()
        if raw:
            try:
                grading[name] = float(raw)
            except ValueError:
                raise InputError(f"{name}: {raw[:40]!r} is not a number") from None
    weights: dict[str, float] = {}
    for line in (form.get("weights") or "").splitlines():
        if not line.strip():
            continue
        cell, sep, value = line.partition("=")
        try:
            weights[cell.strip()] = float(value)
        except ValueError:
            raise InputError(
                f"weights: {line.strip()[:60]!r} is not accepted; write one `cell = weight` a line"
            ) from None
        if not sep:
            raise InputError(f"weights: {line.strip()[:60]!r}: write `cell = weight`")
    if weights:
        grading["weights"] = weights
    return grading


#: the settings form's fields (the page's "Grading and feedback")
SETTINGS_FIELDS = (
    "tolerance",
    "carried_credit",
    "weights",
    "feedback",
    "score",
    "due_at",
    "score_policy",
)


def settings_fields(row: Assignment, typed: Any = None) -> dict[str, str]:
    """The settings form's fields: as ``typed`` (the form sent back with its error), else as
    stored."""
    if typed is not None:
        return {name: str(typed.get(name, "")) for name in SETTINGS_FIELDS}
    grading = row.grading or {}
    weights = grading.get("weights") or {}
    return {
        "tolerance": str(grading.get("tolerance", "")),
        "carried_credit": str(grading.get("carried_credit", "")),
        "weights": "".join(f"{cell} = {weight:g}\n" for cell, weight in weights.items()),
        "feedback": row.feedback,
        "score": row.score_visibility,
        "due_at": row.due_at.strftime("%Y-%m-%dT%H:%M") if row.due_at else "",
        "score_policy": row.score_policy,
    }
