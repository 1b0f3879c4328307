"""The gradebook at scale: 600 students and about 9,000 submissions. Every page is a bounded number
of SQL queries (counted with a SQLAlchemy event listener), whatever the number of students, and
what the aggregating queries give equals the per-student computation they replaced."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import re
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from handcalc.web import db, gradebook, problems
from handcalc.web import reports as graded
from handcalc.web.models import Assignment, Student, Submission
from sqlalchemy import event, select
from web_support import SPEC, TOKEN, csrf_of, key_answers, negate

import handcalc

STUDENTS = 600
#: queries a page may make, whatever the number of students (the instructor's session, the
#: assignment, the statistics, the count, the page of students)
MOST_QUERIES = 12


def reports() -> list[dict[str, Any]]:
    """Real reports of one problem: all correct, all wrong, and some cells right."""
    problem = handcalc.generate(seed=3, **SPEC)
    key = key_answers(problem)
    wrong = {"cells": {name: negate(rows) for name, rows in key["cells"].items()}}
    half = {
        "cells": {
            name: rows if i % 2 else negate(rows)
            for i, (name, rows) in enumerate(key["cells"].items())
        }
    }
    return [graded.grade(problem, answers) for answers in (key, wrong, half, {"cells": {}})]


def fill(app: Flask, students: int = STUDENTS, seed: int = 1) -> int:
    """An assignment with ``students`` students, most of whom sent 1 to 30 submissions (one in
    ten none), with real reports and ties between scores; its id."""
    rng = random.Random(seed)
    samples = reports()
    with app.app_context():
        session = db.session()
        row = Assignment(
            title="At scale", kind="mlp", spec_json=problems.canonical(SPEC), max_attempts=100
        )
        session.add(row)
        session.flush()
        people = [Student(assignment_id=row.id, name=f"student {i:04d}") for i in range(students)]
        session.add_all(people)
        session.flush()
        start = datetime(2026, 1, 1)
        for person in people:
            if rng.random() < 0.1:
                continue
            for attempt in range(1, rng.randint(1, 30) + 1):
                report = rng.choice(samples)
                session.add(
                    Submission(
                        student_id=person.id,
                        attempt=attempt,
                        answers_json="{}",
                        report_json=json.dumps(report),
                        score=graded.number(report["score"]),
                        max_score=graded.number(report["max_score"]),
                        created_at=start + timedelta(minutes=rng.randint(0, 10**5)),
                    )
                )
        session.commit()
        return row.id


@contextmanager
def queries(app: Flask) -> Iterator[list[str]]:
    """The SQL statements run inside the block."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    engine = db.engine_of(app)
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.fixture
def big(make_app: Any) -> tuple[Flask, int]:
    app = make_app()
    return app, fill(app)


def sign_in(client: FlaskClient) -> None:
    page = client.get("/instructor/login").get_data(as_text=True)
    r = client.post("/instructor/login", data={"token": TOKEN, "csrf_token": csrf_of(page)})
    assert r.status_code == 303


# --- what the queries replaced: the per-student computation ----------------------------------


def expected(app: Flask, assignment_id: int) -> list[dict[str, Any]]:
    """Each student's line computed as before: from all their submissions, one student at a time."""
    lines = []
    with app.app_context():
        row = db.session().get(Assignment, assignment_id)
        assert row is not None
        for student in row.students:
            subs = student.submissions
            top = max(subs, key=lambda s: (s.score, -s.attempt), default=None)
            last = subs[-1] if subs else None
            lines.append(
                {
                    "id": student.id,
                    "name": student.name,
                    "attempts": len(subs),
                    "best_score": top.score if top else None,
                    "best_max": top.max_score if top else None,
                    "last_score": last.score if last else None,
                    "last_attempt": last.attempt if last else None,
                    "last_at": last.created_at if last else None,
                    "statuses": {n: c["status"] for n, c in last.report["cells"].items()}
                    if last
                    else {},
                    "first_error": last.report["first_error"] if last else None,
                    "report": last.report if last else None,
                }
            )
    return lines


def test_standings_equal_the_per_student_computation(big: tuple[Flask, int]) -> None:
    app, aid = big
    want = expected(app, aid)
    with app.app_context():
        session = db.session()
        got = [vars(line) for line in gradebook.standings(session, aid)]
        for line in want:
            del line["report"]
        assert got == want
        # a page is the same lines, in the same order
        page = gradebook.standings(session, aid, 100, 100)
        assert [vars(line) for line in page] == want[100:200]
        assert gradebook.standings(session, aid, STUDENTS, 100) == []
        assert gradebook.students_count(session, aid) == STUDENTS
    assert sum(line["attempts"] for line in want) > 5000
    assert sum(1 for line in want if not line["attempts"]) > 20  # some sent nothing


def test_stats_equal_the_per_student_computation(big: tuple[Flask, int]) -> None:
    app, aid = big
    latest = [line["report"] for line in expected(app, aid) if line["report"]]
    with app.app_context():
        session = db.session()
        row = session.get(Assignment, aid)
        assert row is not None
        cells = problems.blanks(problems.problem_for(row.kind, row.spec, 0))
        with queries(app) as seen:
            stats = gradebook.stats(session, row, cells)
        assert len(seen) <= 2
    assert stats["students"] == STUDENTS and stats["submitted"] == len(latest)
    for name in cells:
        counts = Counter(r["cells"][name]["status"] for r in latest)
        for status in graded.STATUSES:
            assert stats["cells"][name][status] == pytest.approx(counts[status] / len(latest))
    mean = 100 * sum(r["score"] / r["max_score"] for r in latest) / len(latest)
    assert stats["mean_percent"] == pytest.approx(mean)


def test_grades_csv_equals_the_per_student_computation(big: tuple[Flask, int]) -> None:
    app, aid = big
    client = app.test_client()
    with queries(app) as seen:
        r = client.get(
            f"/api/v1/assignments/{aid}/grades.csv", headers={"Authorization": f"Bearer {TOKEN}"}
        )
    assert r.status_code == 200
    assert len(seen) <= MOST_QUERIES, seen
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    want = expected(app, aid)
    assert [row["student"] for row in rows] == [line["name"] for line in want]
    for row, line in zip(rows, want, strict=True):
        assert int(row["attempts"]) == line["attempts"]
        if line["attempts"]:
            assert float(row["best_score"]) == pytest.approx(line["best_score"])
            assert float(row["last_score"]) == pytest.approx(line["last_score"])
            assert row["first_error"] == (line["first_error"] or "")
            assert row["last_submitted_utc"] == line["last_at"].isoformat(timespec="seconds")


def test_stats_endpoint_is_a_bounded_number_of_queries(big: tuple[Flask, int]) -> None:
    app, aid = big
    client = app.test_client()
    with queries(app) as seen:
        r = client.get(
            f"/api/v1/assignments/{aid}/stats", headers={"Authorization": f"Bearer {TOKEN}"}
        )
    assert r.status_code == 200 and r.json["students"] == STUDENTS
    assert len(seen) <= MOST_QUERIES, seen


def test_the_gradebook_page_is_paginated(big: tuple[Flask, int]) -> None:
    app, aid = big
    client = app.test_client()
    sign_in(client)
    want = expected(app, aid)
    pages = -(-STUDENTS // gradebook.PAGE_SIZE)
    shown = []
    for page in range(1, pages + 1):
        with queries(app) as seen:
            r = client.get(f"/instructor/assignments/{aid}?page={page}")
        assert r.status_code == 200
        assert len(seen) <= MOST_QUERIES, (page, len(seen))
        html = r.get_data(as_text=True)
        names = re.findall(r"<tr><td>(student \d{4})</td><td>(\d+)</td>", html)
        assert len(names) == gradebook.PAGE_SIZE
        shown += names
        assert f"page {page} of {pages}" in html
        if page < pages:
            assert f"?page={page + 1}" in html and 'rel="next"' in html
        # each student's key is addressed by id
        first = want[(page - 1) * gradebook.PAGE_SIZE]
        assert f"/instructor/assignments/{aid}/students/{first['id']}/key" in html
    assert shown == [(line["name"], str(line["attempts"])) for line in want]
    assert (
        client.get(f"/instructor/assignments/{aid}")
        .get_data(as_text=True)
        .count("<tr><td>student ")
        == gradebook.PAGE_SIZE
    )
    # past the last page, and pages that are not numbers
    assert client.get(f"/instructor/assignments/{aid}?page={pages + 1}").status_code == 404
    for odd in ("0", "-1", "x", "²", "1.5", "9" * 40):
        assert client.get(f"/instructor/assignments/{aid}?page={odd}").status_code in (400, 404)
    assert client.get(f"/instructor/assignments/{aid}?page=３").status_code == 200  # Nd digits


def test_the_number_of_queries_does_not_grow_with_the_class(make_app: Any) -> None:
    app = make_app()
    small, large = fill(app, students=5, seed=2), fill(app, students=250, seed=3)
    client = app.test_client()
    sign_in(client)
    counts = []
    for aid in (small, large):
        with queries(app) as seen:
            assert client.get(f"/instructor/assignments/{aid}").status_code == 200
            assert client.get(f"/instructor/assignments/{aid}/grades.csv").status_code == 200
            assert client.get("/instructor/").status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1]


def test_dashboard_counts(make_app: Any) -> None:
    app = make_app()
    aid = fill(app, students=40, seed=4)
    with app.app_context():
        session = db.session()
        students, submitted = gradebook.roster_counts(session)[aid]
        people = session.scalars(select(Student).where(Student.assignment_id == aid)).all()
        assert students == len(people) == 40
        assert submitted == sum(1 for p in people if p.submissions)


def test_the_queries_agree_on_postgresql(make_app: Any) -> None:
    """The window functions and the grouping as PostgreSQL runs them (NULLs sort first there)."""
    from test_web_postgres import BINARIES, _cluster

    if not BINARIES:
        pytest.skip("needs Debian's postgresql (its initdb)")
    pytest.importorskip("psycopg")
    if shutil.which("runuser") is None and os.geteuid() == 0:
        pytest.skip("needs runuser to start PostgreSQL as a non-root user")
    with tempfile.TemporaryDirectory(prefix="handcalc-pg-") as folder:
        for url in _cluster(BINARIES[-1].parent, Path(folder)):
            app = make_app(DATABASE_URL=url)
            aid = fill(app, students=150, seed=5)
            want = expected(app, aid)
            for line in want:
                del line["report"]
            with app.app_context():
                session = db.session()
                assert [vars(line) for line in gradebook.standings(session, aid)] == want
                assert [vars(x) for x in gradebook.standings(session, aid, 100, 100)] == want[100:]
                row = session.get(Assignment, aid)
                assert row is not None
                stats = gradebook.stats(session, row, [])
                assert stats["submitted"] == sum(1 for line in want if line["attempts"])
                assert gradebook.roster_counts(session)[aid] == (150, stats["submitted"])
            db.engine_of(app).dispose()
