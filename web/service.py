"""What the views share: problems by seed (cached), answers read and checked, grading, gradebook.

Views stay thin: they read the request, call these, and shape the response. The one call into the
grading library is :func:`grade`.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Mapping
from fractions import Fraction
from functools import lru_cache
from typing import Any

import orjson

import handcalc
from handcalc import Problem
from handcalc.grading import REPORT_FORMAT, Report

from .models import Assignment, Student, Submission

MAX_ENTRY_CHARS = 200
STATUSES = ("correct", "carried", "wrong", "missing", "invalid")
#: what a student may see of a report: statuses, scores and words, never the key's values
REPORT_FIELDS = (
    "format",
    "score",
    "max_score",
    "first_error",
    "tolerance",
    "carried_credit",
    "notes",
)
CELL_FIELDS = ("status", "score", "max_score", "entries", "feedback", "diagnosis", "carried_from")


class InputError(ValueError):
    """Something in a request is not acceptable; the message says what is."""


def canonical(spec: Mapping[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


@lru_cache(maxsize=1024)
def _problem(kind: str, spec_json: str, seed: int) -> Problem:
    return handcalc.generate(kind=kind, seed=seed, **json.loads(spec_json))


def problem_of(kind: str, spec_json: str, seed: int) -> Problem:
    """``problem_for`` of a spec already in its ``canonical`` form."""
    return _problem(kind, spec_json, seed)


def problem_for(kind: str, spec: Mapping[str, Any], seed: int) -> Problem:
    """The problem of ``spec`` and ``seed`` (the same as ``handcalc.generate``), kept in memory:
    every check of the same worksheet reuses it."""
    return _problem(kind, canonical(spec), seed)


def read_spec(raw: Any) -> dict[str, Any]:
    """Spec options as sent, validated by the library (a ``HandcalcError`` says what is wrong)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError(f"spec: expected an object of options, got {type(raw).__name__}")
    handcalc.Spec.from_options(raw)
    return raw


def student_copy(problem: Problem) -> dict[str, Any]:
    """The problem as a student sees it: no values of steps, no seed."""
    doc = problem.to_dict(answers=False)
    doc.pop("seed", None)
    return doc


def blanks(problem: Problem) -> list[str]:
    """The cells a student fills in: every step but the lookup tables the sheet prints."""
    tables = problem.tables
    return [s.name for s in problem.steps if s.name not in tables]


def read_answers(body: Any, problem: Problem) -> dict[str, Any]:
    """The answers document as sent (``{"cells": {name: rows of text}}``), if it is one.

    Everything inside the cells (names, shapes, whether an entry is a number) is the grader's
    business: unknown names are refused there, and an unreadable or wrongly shaped cell is
    reported as ``invalid`` rather than wrong. ``problem`` names the cells in the message.
    """
    if not isinstance(body, dict) or not isinstance(body.get("cells"), dict):
        raise InputError(
            'body: expected a JSON object {"cells": {name: rows}}, e.g. '
            f'{{"cells": {{"Z1": [["2", "1"], ["0", "3"]]}}}}; cells: '
            f"{', '.join(blanks(problem))}"
        )
    return body


def report_of(problem: Problem, answers: Mapping[str, Any]) -> Report:
    """The grading library's report (the only call into it)."""
    return handcalc.grade(problem, answers)


def grade(problem: Problem, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The grading library's report as JSON (what a submission stores)."""
    report: dict[str, Any] = report_of(problem, answers).to_dict()
    return report


def public_json(report: Report) -> bytes:
    """``public_report(report.to_dict())`` as JSON (UTF-8), made straight from the report: a
    check is answered with it. Building the whole report's dict first, then the stdlib's JSON,
    cost more than the grading of a worksheet typed as the key (orjson: about half the time)."""
    cells = {}
    for cell in report.cells:
        cells[cell.name] = {
            "status": cell.status,
            "score": round(cell.score, 6),
            "max_score": round(cell.max_score, 6),
            "entries": cell.entries,  # tuples are JSON arrays too
            "feedback": cell.feedback,
            "diagnosis": cell.diagnosis,
            "carried_from": cell.carried_from,
        }
    out = {
        "format": REPORT_FORMAT,
        "score": round(report.score, 6),
        "max_score": round(report.max_score, 6),
        "first_error": report.first_error,
        "tolerance": report.tolerance,
        "carried_credit": report.carried_credit,
        "notes": report.notes,
        "cells": cells,
    }
    return orjson.dumps(out)


def public_report(report: Mapping[str, Any]) -> dict[str, Any]:
    """The report without anything but statuses, scores and words (whatever the grader adds)."""
    out = {k: report[k] for k in REPORT_FIELDS if k in report}
    out["cells"] = {
        name: {k: cell[k] for k in CELL_FIELDS if k in cell}
        for name, cell in (report.get("cells") or {}).items()
    }
    return out


def number(value: Any) -> float:
    """A score as the report gives it (number or exact text such as "7/2") as a float."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return float(Fraction(str(value)))
    except (ValueError, ZeroDivisionError):
        return 0.0


def marks(report: Mapping[str, Any] | None) -> dict[str, Any]:
    """Per cell: rows of entry statuses, the cell's status and its feedback (for the pages)."""
    if not report:
        return {}
    return {
        name: cell for name, cell in (report.get("cells") or {}).items() if isinstance(cell, dict)
    }


# --- gradebook --------------------------------------------------------------------------------


def latest(student: Student) -> Submission | None:
    return student.submissions[-1] if student.submissions else None


def best(student: Student) -> Submission | None:
    return max(student.submissions, key=lambda s: (s.score, -s.attempt), default=None)


def grades_csv(assignment: Assignment) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "student",
            "attempts",
            "best_score",
            "last_score",
            "max_score",
            "percent",
            "first_error",
            "last_submitted_utc",
        ]
    )
    for student in assignment.students:
        top, last = best(student), latest(student)
        if top is None or last is None:
            writer.writerow([_cell(student.name), 0, "", "", "", "", "", ""])
            continue
        percent = 100 * top.score / top.max_score if top.max_score else 0.0
        writer.writerow(
            [
                _cell(student.name),
                len(student.submissions),
                _num(top.score),
                _num(last.score),
                _num(top.max_score),
                f"{percent:.1f}",
                last.report.get("first_error") or "",
                last.created_at.isoformat(timespec="seconds"),
            ]
        )
    return out.getvalue()


def _num(x: float) -> str:
    return str(int(x)) if x == int(x) else f"{x:.4g}"


def _cell(text: str) -> str:
    # a spreadsheet runs a cell that starts like a formula
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def stats(assignment: Assignment, cell_order: Iterable[str]) -> dict[str, Any]:
    """Per cell, the share of students (their latest submission) at each status; the diagnoses
    that come up most often."""
    reports = [s.report for s in (latest(st) for st in assignment.students) if s is not None]
    counts: dict[str, Counter[str]] = {name: Counter() for name in cell_order}
    diagnoses: Counter[str] = Counter()
    where: dict[str, Counter[str]] = {}
    for report in reports:
        for name, cell in (report.get("cells") or {}).items():
            counts.setdefault(name, Counter())[cell.get("status", "missing")] += 1
            for code in cell.get("diagnosis") or ():
                diagnoses[code] += 1
                where.setdefault(code, Counter())[name] += 1
    n = len(reports)
    cells = {
        name: {status: (c[status] / n if n else 0.0) for status in STATUSES}
        for name, c in counts.items()
    }
    return {
        "assignment": assignment.id,
        "students": len(assignment.students),
        "submitted": n,
        "mean_percent": (
            100
            * sum(
                number(r.get("score")) / number(r.get("max_score"))
                for r in reports
                if number(r.get("max_score"))
            )
            / n
            if n
            else None
        ),
        "cells": cells,
        "diagnoses": [
            {"code": code, "count": count, "cells": dict(where[code].most_common())}
            for code, count in diagnoses.most_common(10)
        ],
    }
