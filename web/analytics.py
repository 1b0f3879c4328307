"""The class's mistakes as a picture (issue 16, item 8): the assignment's worksheet as a heat map,
each answer entry coloured by the share of the class that got it wrong, the most common diagnosis
of each cell, and each cell's discrimination; the same as a page, a printable PDF and CSV/JSON.

What counts: each student's **best** attempt (the highest score, the first attempt that reached
it, as the gradebook's "Best"), students who sent nothing left out. An entry is *wrong* unless
its status is ``correct`` or ``carried`` (credit carried forward from the student's own earlier
values is not a mistake at that entry): wrong, missing and invalid entries all count.

Discrimination is the point-biserial correlation, over the submissions, between "the cell is
right" (status ``correct`` or ``carried``) and the rest of the score (the total score minus that
cell's score, so a cell is not correlated with itself): near 1, strong submissions get the cell
right and weak ones do not; near 0 or below, it separates nothing (or the wrong way). ``None``
where everybody or nobody got the cell right, or every rest score is the same.

The maths is :func:`analyse` (reports in, numbers out); the rest reads the database and draws.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from flask import Blueprint, Flask, Response, jsonify, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from handcalc.render import grid_css, html_to_pdf

from . import courses, db, forms
from .api import json_only
from .auth import instructor_token, signed_in
from .gradebook import safe_cell
from .models import Assignment, Student, Submission
from .problems import blanks, problem_for
from .reports import number

#: which attempt of each student the analytics read (said in every export)
ATTEMPT = "best"
#: how discrimination is measured (said in every export)
DISCRIMINATION = "point-biserial correlation of cell right with total score minus the cell's score"
#: entry statuses that are not a mistake at that entry
RIGHT = ("correct", "carried")
#: the sequential colour scale (ColorBrewer YlOrBr, 6 classes: light to dark, readable with any
#: colour vision and in grey), one class per fifth of the class wrong, and 0 % on its own
SCALE = ("#ffffd4", "#fee391", "#fec44f", "#fe9929", "#d95f0e", "#993404")
LEGEND = ("0 %", "1–20 %", "21–40 %", "41–60 %", "61–80 %", "81–100 %")


@dataclass(frozen=True)
class CellStats:
    """One cell's picture: per entry, how many got it wrong and their share; the cell's most
    common diagnosis (code and how many submissions had it) and its discrimination."""

    name: str
    wrong: list[list[int]]
    share: list[list[float]]
    cell_share: float
    diagnosis: str | None
    diagnosis_count: int
    discrimination: float | None


@dataclass(frozen=True)
class Analytics:
    submissions: int
    cells: list[CellStats]

    def to_json(self) -> dict[str, Any]:
        return {
            "attempt": ATTEMPT,
            "discrimination": DISCRIMINATION,
            "submissions": self.submissions,
            "cells": [
                {
                    "cell": c.name,
                    "share_wrong": c.cell_share,
                    "diagnosis": c.diagnosis,
                    "diagnosis_count": c.diagnosis_count,
                    "discrimination": c.discrimination,
                    "entries_wrong": c.wrong,
                    "entries_share_wrong": c.share,
                }
                for c in self.cells
            ],
        }


def _right(status: Any) -> bool:
    return status in RIGHT


def _entry(entries: Any, i: int, j: int) -> Any:
    try:
        return entries[i][j]
    except (IndexError, KeyError, TypeError):
        return "missing"


def point_biserial(right: Sequence[bool], rest: Sequence[float]) -> float | None:
    """Pearson's correlation of a 0/1 variable with a score (the point-biserial correlation);
    ``None`` where either does not vary."""
    n = len(right)
    if n < 2:
        return None
    x = [1.0 if r else 0.0 for r in right]
    mx, my = sum(x) / n, sum(rest) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, rest, strict=True))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in rest)
    if sxx == 0 or syy <= 1e-12:
        return None
    return sxy / math.sqrt(sxx * syy)


def analyse(
    reports: Iterable[Mapping[str, Any]], shapes: Mapping[str, tuple[int, int]]
) -> Analytics:
    """The class's picture from its reports (one per student), for the cells of ``shapes`` (name
    → rows, columns) in that order. A cell a report lacks counts as missing (wrong)."""
    found = list(reports)
    n = len(found)
    out = []
    for name, (rows, cols) in shapes.items():
        wrong = [[0] * cols for _ in range(rows)]
        codes: Counter[str] = Counter()
        right: list[bool] = []
        rest: list[float] = []
        for report in found:
            cell = (report.get("cells") or {}).get(name)
            cell = cell if isinstance(cell, dict) else {}
            entries = cell.get("entries")
            for i in range(rows):
                for j in range(cols):
                    if not _right(_entry(entries, i, j)):
                        wrong[i][j] += 1
            codes.update(set(cell.get("diagnosis") or ()))
            right.append(_right(cell.get("status")))
            rest.append(number(report.get("score")) - number(cell.get("score")))
        # the most common code; ties go to the first code in alphabetical order
        top = min(codes.items(), key=lambda kv: (-kv[1], kv[0]), default=None)
        out.append(
            CellStats(
                name=name,
                wrong=wrong,
                share=[[w / n if n else 0.0 for w in row] for row in wrong],
                cell_share=(sum(not r for r in right) / n) if n else 0.0,
                diagnosis=top[0] if top else None,
                diagnosis_count=top[1] if top else 0,
                discrimination=point_biserial(right, rest),
            )
        )
    return Analytics(n, out)


def to_csv(found: Analytics) -> str:
    """One line per answer entry (row and column from 1), the cell's figures repeated."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "cell",
            "row",
            "column",
            "wrong",
            "submissions",
            "share_wrong",
            "cell_share_wrong",
            "diagnosis",
            "diagnosis_count",
            "discrimination",
        ]
    )
    for c in found.cells:
        disc = "" if c.discrimination is None else f"{c.discrimination:.4f}"
        for i, row in enumerate(c.wrong):
            for j, w in enumerate(row):
                writer.writerow(
                    [
                        safe_cell(c.name),
                        i + 1,
                        j + 1,
                        w,
                        found.submissions,
                        f"{c.share[i][j]:.4f}",
                        f"{c.cell_share:.4f}",
                        c.diagnosis or "",
                        c.diagnosis_count,
                        disc,
                    ]
                )
    return out.getvalue()


# --- the database ----------------------------------------------------------------------------


def best_reports(session: Session, assignment_id: int) -> Iterator[dict[str, Any]]:
    """The report of each student's best attempt (highest score, first attempt that reached it),
    one query, one report at a time."""
    ranked = (
        select(
            Submission.report_json,
            func.row_number()
            .over(
                partition_by=Submission.student_id,
                order_by=(Submission.score.desc(), Submission.attempt),
            )
            .label("top"),
        )
        .join(Student, Student.id == Submission.student_id)
        .where(Student.assignment_id == assignment_id)
        .subquery("ranked")
    )
    for text in session.scalars(select(ranked.c.report_json).where(ranked.c.top == 1)):
        yield orjson.loads(text)


def of_assignment(row: Assignment) -> tuple[Any, Analytics]:
    """The layout of the assignment's sheet (variant 0: every variant has the same cells and
    shapes) and its class's analytics."""
    sample = problem_for(row.kind, row.spec, 0)
    shapes = {name: sample.values[name].shape for name in blanks(sample)}
    return forms.layout(sample), analyse(best_reports(db.session(), row.id), shapes)


def heat_class(share: float) -> int:
    """The colour class of a share wrong: 0 for nobody, then one a fifth."""
    return 0 if share <= 0 else min(5, math.ceil(share * 5 - 1e-9))


def picture(found: Analytics) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """What the grid partial takes: per cell, rows of colour classes (``marks``: the entry gets
    ``class="mark-heatK"``), of percentages (``answers``, printed in the box) and of hover texts
    (``feedback``, the entry's ``title``)."""
    marks, shown, tips = {}, {}, {}
    for c in found.cells:
        marks[c.name] = [[f"heat{heat_class(s)}" for s in row] for row in c.share]
        shown[c.name] = [[f"{round(100 * s)}" for s in row] for row in c.share]
        common = (
            f"most common diagnosis: {c.diagnosis} ({c.diagnosis_count} of {found.submissions})"
            if c.diagnosis
            else "no diagnosis"
        )
        tips[c.name] = [
            [
                f"{c.name}[{i + 1},{j + 1}]: {round(100 * s)} % wrong "
                f"({c.wrong[i][j]} of {found.submissions}); {common}"
                for j, s in enumerate(row)
            ]
            for i, row in enumerate(c.share)
        ]
    return marks, shown, tips


# --- routes ----------------------------------------------------------------------------------

pages = Blueprint("analytics", __name__, url_prefix="/instructor")
api = Blueprint("analytics_api", __name__, url_prefix="/api/v1/assignments")
api.before_request(json_only)


def init_app(app: Flask) -> None:
    """Register the page and the API (CSRF-exempt: bearer tokens, never cookies)."""
    app.register_blueprint(pages)
    app.register_blueprint(api)
    app.extensions["csrf"].exempt(api)


def _page(row: Assignment, printable: bool) -> str:
    layout, found = of_assignment(row)
    marks, shown, tips = picture(found)
    return render_template(
        "instructor/analytics.html",
        row=row,
        # only the grids with answers (a lookup table of given values has nothing to colour)
        sections=[
            (section, grids)
            for section in layout.sections
            if (grids := [g for g in section.grids if any(b.role == "answer" for b in g.blocks)])
        ],
        found=found,
        marks=marks,
        shown=shown,
        tips=tips,
        scale=list(zip(SCALE, LEGEND, strict=True)),
        attempt=ATTEMPT,
        printable=printable,
        grid_css=grid_css() if printable else "",
    )


@pages.get("/assignments/<int:assignment_id>/analytics")
@signed_in
def page(assignment_id: int) -> str:
    return _page(courses.assignment(assignment_id), printable=False)


@pages.get("/assignments/<int:assignment_id>/analytics.pdf")
@signed_in
def pdf(assignment_id: int) -> Response:
    row = courses.assignment(assignment_id)
    return Response(
        html_to_pdf(_page(row, printable=True)),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="assignment-{row.id}-analytics.pdf"'},
    )


@api.get("/<int:assignment_id>/analytics.json")
@instructor_token
def export_json(assignment_id: int) -> Response:
    row = courses.assignment(assignment_id)
    _, found = of_assignment(row)
    return jsonify({"assignment": row.id, **found.to_json()})


@api.get("/<int:assignment_id>/analytics.csv")
@instructor_token
def export_csv(assignment_id: int) -> Response:
    row = courses.assignment(assignment_id)
    _, found = of_assignment(row)
    name = f"assignment-{row.id}-analytics.csv"
    return Response(
        to_csv(found),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
