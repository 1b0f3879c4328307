"""What the views share: problems by seed (cached), answers read and checked, grading, gradebook.

Views stay thin: they read the request, call these, and shape the response. The one call into the
grading library is :func:`grade`.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from itertools import pairwise
from typing import Any

import orjson
from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.orm import Session, aliased

import handcalc
from handcalc import Problem, Spec
from handcalc.grading import REPORT_FORMAT, Report

from .limits import BoundedCache
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


#: problems kept in memory (per process), bounded by their estimated size, not their number: an
#: lru_cache of 1024 problems could hold a gigabyte of maximum-size ones, made anonymously
PROBLEM_CACHE_MB = 128  # unless the configuration's PROBLEM_CACHE_MB says otherwise
PROBLEMS: BoundedCache[tuple[str, str, int], Problem] = BoundedCache(PROBLEM_CACHE_MB * 2**20)
#: a problem's estimated bytes: a base, and so much per number it holds (measured with
#: tracemalloc: the problem, its sheet's layout and the grader's caches after checks, 0.5-1.1
#: KiB a number; exact expressions 1.4 KiB; test_web_hardening keeps the estimate above it)
PROBLEM_BASE_BYTES = 64 * 1024
ENTRY_BYTES = 1200
EXACT_ENTRY_BYTES = 1600
#: anonymous practice makes sheets of at most so many numbers (given and asked): the default
#: 4-3-4-3 sheet with a batch of 2 has 228; an instructor's assignment may be larger
MAX_PRACTICE_NUMBERS = 400
#: exact mode costs far more per number (sympy): its default sheet takes 0.3-0.8 s to make, a
#: 4-4-4 sheet with a batch of 3 (230 numbers) 3 s
MAX_PRACTICE_EXACT_NUMBERS = 228


def problem_bytes(problem: Problem) -> int:
    """What ``problem`` is estimated to take in memory (with its layout and grading caches)."""
    numbers = sum(rows * cols for rows, cols in (m.shape for m in problem.values.values()))
    # the lookup tables the sheet prints (their distractor rows are not cells): each entry is
    # kept as a number, its text and its place in a row, about three numbers' worth
    numbers += 3 * sum(
        len(row.argument) + len(row.value) for t in problem.tables.values() for row in t.rows
    )
    per = EXACT_ENTRY_BYTES if problem.spec.transcendental == "exact" else ENTRY_BYTES
    return PROBLEM_BASE_BYTES + per * numbers


def _problem(kind: str, spec_json: str, seed: int) -> Problem:
    key = (kind, spec_json, seed)
    found = PROBLEMS.get(key)
    if found is None:
        found = handcalc.generate(kind=kind, seed=seed, **json.loads(spec_json))
        PROBLEMS.put(key, found, problem_bytes(found))
    return found


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


def sheet_numbers(spec: Spec) -> int:
    """How many numbers an MLP sheet of ``spec`` holds, given and asked (fewer with frozen
    layers): X and Y, and per layer W, b, Z, A, dZ, dW, db, the updates, and dA below it."""
    sizes, batch = spec.sizes, spec.batch
    total = sizes[0] * batch + sizes[-1] * batch + 2  # X, Y, the loss and lr
    for below, units in pairwise(sizes):
        total += 3 * units * below + 3 * units + 3 * units * batch
    return total + sum(units * batch for units in sizes[1:-1])  # dA1 … dA(L-1)


def check_practice_size(spec: Spec) -> None:
    """Anonymous practice makes small sheets only: a big one costs up to seconds of CPU to make
    (or to fail to make) and a megabyte of memory to keep."""
    exact = spec.transcendental == "exact"
    most = MAX_PRACTICE_EXACT_NUMBERS if exact else MAX_PRACTICE_NUMBERS
    numbers = sheet_numbers(spec)
    if numbers > most:
        raise InputError(
            f"spec: this sheet would hold {numbers} numbers; practice sheets hold at most "
            f"{most}{' in exact mode' if exact else ''} (fewer or narrower layers, or a smaller "
            "batch); an instructor's assignment may be larger"
        )


def student_copy(problem: Problem) -> dict[str, Any]:
    """The problem as a student sees it: no values of steps, no seed."""
    doc = problem.to_dict(answers=False)
    doc.pop("seed", None)
    return doc


def blanks(problem: Problem) -> list[str]:
    """The cells a student fills in: every step (a value read from a lookup table too: the
    tables are keyed by Z, and the student copy holds no A)."""
    return [s.name for s in problem.steps]


def check_unicode(value: Any, where: str = "") -> None:
    """Refuse text that is not Unicode: a lone UTF-16 surrogate, which JSON's ``"\\ud800"``
    escape can carry but neither UTF-8 (the pages) nor the database can hold (it failed at the
    commit, after the grading). ``where`` names ``value`` in the message (a field of the body
    when empty)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as e:
        found = _lone_surrogate(value, where) or "body"
        raise InputError(
            f"{found}: text with a lone UTF-16 surrogate (U+{ord(e.object[e.start]):04X}, an "
            "unpaired \\ud800-\\udfff escape) is not text; send Unicode text"
        ) from None


def _is_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _lone_surrogate(value: Any, where: str) -> str | None:
    """Where in ``value`` (a field, an item, a name) the first text that is not Unicode is."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, at = stack.pop()
        if isinstance(item, str) and not _is_text(item):
            return at
        if isinstance(item, dict):
            for name, inner in reversed(item.items()):
                if isinstance(name, str) and not _is_text(name):
                    return f"{at} (a name in it)" if at else "a field's name"
                stack.append((inner, f"{at}.{name}" if at else str(name)))
        elif isinstance(item, list):
            stack.extend((inner, f"{at}[{i}]") for i, inner in reversed(list(enumerate(item))))
    return None


#: characters a name may not hold: controls (a newline, a tab, NUL), lone surrogates, and the
#: line and paragraph separators
NOT_IN_NAMES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def check_name(name: str, where: str) -> str:
    """``name`` if it is one line of printable text, else an ``InputError`` saying why."""
    bad = next((c for c in name if unicodedata.category(c) in NOT_IN_NAMES), None)
    if bad is not None:
        raise InputError(
            f"{where}: {name[:40]!r} holds the control character U+{ord(bad):04X}; a name is "
            "one line of text"
        )
    return name


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
    check_unicode(body)
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
# Each function is a bounded number of queries however many students there are (a query per
# student made a 600-student assignment's page take over a second), and reads the reports of the
# latest submissions only: the rest are aggregated in SQL (SQLite and PostgreSQL alike).

#: students on one page of the gradebook
PAGE_SIZE = 100


@dataclass(frozen=True)
class Standing:
    """A student's line of the gradebook: attempts, the best and the latest submission (of its
    report, the statuses of the cells and the first error only)."""

    id: int
    name: str
    attempts: int = 0
    best_score: float | None = None
    best_max: float | None = None
    last_score: float | None = None
    last_attempt: int | None = None
    last_at: datetime | None = None
    statuses: dict[str, str] = field(default_factory=dict)
    first_error: str | None = None


def summary(report_json: str) -> tuple[dict[str, str], str | None]:
    """A stored report's statuses by cell and its first error. Only these are kept: 600 whole
    reports alive at once cost the collector more than reading them."""
    report = orjson.loads(report_json)
    cells = report.get("cells") or {}
    statuses = {name: str(c.get("status")) for name, c in cells.items() if isinstance(c, dict)}
    return statuses, (str(report["first_error"]) if report.get("first_error") else None)


def latest(session: Session, student_id: int) -> Submission | None:
    """A student's latest submission."""
    return session.scalar(
        select(Submission)
        .where(Submission.student_id == student_id)
        .order_by(Submission.attempt.desc())
        .limit(1)
    )


def students_count(session: Session, assignment_id: int) -> int:
    found = session.scalar(
        select(func.count()).select_from(Student).where(Student.assignment_id == assignment_id)
    )
    return int(found or 0)


def standings(
    session: Session, assignment_id: int, offset: int = 0, limit: int | None = None
) -> list[Standing]:
    """The gradebook's lines of the students by id from ``offset`` (at most ``limit``), from one
    query: attempts, best (the highest score, the first attempt that reached it) and latest."""
    page = (
        select(Student.id, Student.name)
        .where(Student.assignment_id == assignment_id)
        .order_by(Student.id)
        .offset(offset)
        .limit(limit)
        .cte("page")
    )
    # one row per submission (one with nothing for a student who sent none), ranked within each
    # student; the rows that matter are the newest and the best (highest score, first attempt)
    student = page.c.id
    ranked = (
        select(
            page.c.id,
            page.c.name,
            Submission.attempt,
            Submission.score,
            Submission.max_score,
            Submission.created_at,
            func.count(Submission.attempt).over(partition_by=student).label("attempts"),
            func.row_number()
            .over(partition_by=student, order_by=Submission.attempt.desc())
            .label("newest"),
            func.row_number()
            .over(partition_by=student, order_by=(Submission.score.desc(), Submission.attempt))
            .label("top"),
        )
        .select_from(page)
        .outerjoin(Submission, Submission.student_id == page.c.id)
        .subquery("ranked")
    )
    last = aliased(Submission)
    rows = session.execute(
        select(ranked, last.report_json)
        .outerjoin(
            last,
            and_(
                ranked.c.newest == 1,
                last.student_id == ranked.c.id,
                last.attempt == ranked.c.attempt,
            ),
        )
        .where(or_(ranked.c.newest == 1, ranked.c.top == 1))
        .order_by(ranked.c.id)
    )
    lines: dict[int, dict[str, Any]] = {}
    for row in rows:
        line = lines.setdefault(row.id, {"id": row.id, "name": row.name})
        if row.attempt is None:  # sent nothing
            continue
        line["attempts"] = int(row.attempts)
        if row.newest == 1:
            line["last_score"] = row.score
            line["last_attempt"] = row.attempt
            line["last_at"] = row.created_at
            line["statuses"], line["first_error"] = summary(row.report_json)
        if row.top == 1:
            line["best_score"] = row.score
            line["best_max"] = row.max_score
    return [Standing(**line) for line in lines.values()]


def latest_reports(session: Session, assignment_id: int) -> Iterator[dict[str, Any]]:
    """The report of each student's latest submission (students who sent none have none), one
    at a time."""
    newest = (
        select(Submission.student_id, func.max(Submission.attempt).label("attempt"))
        .join(Student, Student.id == Submission.student_id)
        .where(Student.assignment_id == assignment_id)
        .group_by(Submission.student_id)
        .subquery("newest")
    )
    found = session.scalars(
        select(Submission.report_json).join(
            newest,
            and_(
                Submission.student_id == newest.c.student_id,
                Submission.attempt == newest.c.attempt,
            ),
        )
    )
    for text in found:
        yield orjson.loads(text)


def roster_counts(session: Session) -> dict[int, tuple[int, int]]:
    """Per assignment: its students, and how many of them have submitted."""
    rows = session.execute(
        select(
            Student.assignment_id,
            func.count(distinct(Student.id)),
            func.count(distinct(Submission.student_id)),
        )
        .outerjoin(Submission, Submission.student_id == Student.id)
        .group_by(Student.assignment_id)
    )
    return {int(a): (int(students), int(submitted)) for a, students, submitted in rows}


def grades_csv(session: Session, assignment: Assignment) -> str:
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
    for line in standings(session, assignment.id):
        if line.best_score is None or line.last_score is None or line.last_at is None:
            writer.writerow([safe_cell(line.name), 0, "", "", "", "", "", ""])
            continue
        best_max = line.best_max or 0.0
        percent = 100 * line.best_score / best_max if best_max else 0.0
        writer.writerow(
            [
                safe_cell(line.name),
                line.attempts,
                _num(line.best_score),
                _num(line.last_score),
                _num(best_max),
                f"{percent:.1f}",
                line.first_error or "",
                line.last_at.isoformat(timespec="seconds"),
            ]
        )
    return out.getvalue()


def _num(x: float) -> str:
    return str(int(x)) if x == int(x) else f"{x:.4g}"


def safe_cell(text: str) -> str:
    """``text`` for a CSV cell: a leading apostrophe on text a spreadsheet would run as a
    formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def stats(session: Session, assignment: Assignment, cell_order: Iterable[str]) -> dict[str, Any]:
    """Per cell, the share of students (their latest submission) at each status; the diagnoses
    that come up most often."""
    counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for name in cell_order:
        counts[name] = Counter()
    diagnoses: Counter[str] = Counter()
    where: defaultdict[str, Counter[str]] = defaultdict(Counter)
    n = 0
    percents = 0.0
    for report in latest_reports(session, assignment.id):
        n += 1
        most = number(report.get("max_score"))
        percents += number(report.get("score")) / most if most else 0.0
        for name, cell in (report.get("cells") or {}).items():
            counts[name][cell.get("status", "missing")] += 1
            for code in cell.get("diagnosis") or ():
                diagnoses[code] += 1
                where[code][name] += 1
    cells = {
        name: {status: (c[status] / n if n else 0.0) for status in STATUSES}
        for name, c in counts.items()
    }
    return {
        "assignment": assignment.id,
        "students": students_count(session, assignment.id),
        "submitted": n,
        "mean_percent": 100 * percents / n if n else None,
        "cells": cells,
        "diagnoses": [
            {"code": code, "count": count, "cells": dict(where[code].most_common())}
            for code, count in diagnoses.most_common(10)
        ],
    }
