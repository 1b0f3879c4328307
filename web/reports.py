"""The grader's report, for whoever reads it: the whole report (what a submission stores), what
a student may see of it (statuses, scores and words, never the key's values) as a dict or as JSON
made straight from the report, and the marks the pages show. The one call into the grading
library is :func:`report_of`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from fractions import Fraction
from typing import Any

import orjson

import handcalc
from handcalc import Problem
from handcalc.grading import REPORT_FORMAT, Report

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


#: an assignment's grading options (``Assignment.grading``), each optional: the grader's own
GRADING_OPTIONS = ("tolerance", "carried_credit", "weights")


def report_of(
    problem: Problem, answers: Mapping[str, Any], options: Mapping[str, Any] | None = None
) -> Report:
    """The grading library's report (the only call into it), on an assignment's grading options
    (``GRADING_OPTIONS``; none given: the grader's defaults)."""
    return handcalc.grade(problem, answers, **dict(options or {}))


def grade(
    problem: Problem, answers: Mapping[str, Any], options: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The grading library's report as JSON (what a submission stores)."""
    report: dict[str, Any] = report_of(problem, answers, options).to_dict()
    return report


# --- what a student may see: the assignment's feedback and score settings ---------------------

FEEDBACK = ("immediate", "after_due", "never")
SCORE = ("shown", "hidden_until_release")


def feedback_shown(feedback: str, due_at: datetime | None, released: bool, at: datetime) -> bool:
    """Whether a student sees the per-cell marks now: at once; after the due date (none set:
    only once released); never (exam mode) until the instructor releases them."""
    if released or feedback == "immediate":
        return True
    return feedback == "after_due" and due_at is not None and at >= due_at


def score_shown(score: str, released: bool) -> bool:
    return released or score == "shown"


def visible_report(report: Mapping[str, Any], feedback: bool, score: bool) -> dict[str, Any]:
    """``public_report(report)`` less what the assignment does not show yet: without feedback, no
    cell at all (no status, entries, words, diagnosis) and no first error or notes; without the
    score, no score anywhere. ``hidden`` says what was left out, for the page and the client."""
    out = public_report(report)
    hidden = []
    if not feedback:
        out["cells"] = {}
        out.pop("first_error", None)
        out.pop("notes", None)
        hidden.append("feedback")
    if not score:
        out.pop("score", None)
        out.pop("max_score", None)
        for cell in out["cells"].values():
            cell.pop("score", None)
            cell.pop("max_score", None)
        hidden.append("score")
    out["hidden"] = hidden
    return out


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
