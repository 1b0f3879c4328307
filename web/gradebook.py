"""The gradebook: each student's attempts, best and latest scores, the class's statistics per
cell, the grades as CSV.

Each function is a bounded number of queries however many students there are (a query per
student made a 600-student assignment's page take over a second), and reads the reports of the
latest submissions only: the rest are aggregated in SQL (SQLite and PostgreSQL alike).
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import and_, distinct, func, or_, select
from sqlalchemy.orm import Session, aliased

from .models import Assignment, Student, Submission
from .reports import STATUSES, number

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
    at a time.

    One query whose newest attempt is a correlated ``max`` per student (an index lookup on
    ``(student_id, attempt)``), not a join with the grouped newest: a CI run saw that join run
    for 17 minutes on PostgreSQL (the plan chosen for a freshly refilled table; not reproduced
    since), where this form has one sensible plan (23 ms for 800 students × 15 attempts)."""
    later = aliased(Submission)
    newest = (
        select(func.max(later.attempt))
        .where(later.student_id == Submission.student_id)
        .scalar_subquery()
    )
    found = session.scalars(
        select(Submission.report_json)
        .join(Student, Student.id == Submission.student_id)
        .where(Student.assignment_id == assignment_id, Submission.attempt == newest)
    )
    for text in found:
        yield orjson.loads(text)


def roster_counts(
    session: Session, assignment_ids: Iterable[int] | None = None
) -> dict[int, tuple[int, int]]:
    """Per assignment (of ``assignment_ids``, or every one): its students, and how many of them
    have submitted."""
    query = (
        select(
            Student.assignment_id,
            func.count(distinct(Student.id)),
            func.count(distinct(Submission.student_id)),
        )
        .outerjoin(Submission, Submission.student_id == Student.id)
        .group_by(Student.assignment_id)
    )
    if assignment_ids is not None:
        query = query.where(Student.assignment_id.in_(list(assignment_ids)))
    rows = session.execute(query)
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
