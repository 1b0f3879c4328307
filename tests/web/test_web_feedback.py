"""Feedback visibility: in exam mode a student sees neither per-cell marks (statuses, feedback,
diagnosis) nor, with the score hidden, the score, in the page or the JSON, until the instructor
releases them; "after_due" shows them from the due date on; the instructor sees everything. And
revision 0003 upgrades a database of 0002 with its rows kept and today's behaviour."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask.testing import FlaskClient
from handcalc.web import migrate
from handcalc.web.db import make_engine
from handcalc.web.models import Base
from sqlalchemy import text
from web_support import TOKEN, csrf_of, key_answers, negate, student_problem


def _wrong(assignment: int) -> tuple[dict[str, Any], str]:
    answers = key_answers(student_problem(assignment, "ada"))
    cell = next(name for name in answers["cells"] if name.startswith("dZ"))
    answers["cells"][cell] = negate(answers["cells"][cell])
    return answers, cell


def _settings(client: FlaskClient, auth: dict[str, str], assignment: int, **body: Any) -> None:
    r = client.post(f"/api/v1/assignments/{assignment}/settings", headers=auth, json=body)
    assert r.status_code == 200, r.json


def _seen(client: FlaskClient, token: str) -> tuple[dict[str, Any], str]:
    """What the student sees: the API's report of the last submission, and the page."""
    report = client.get(f"/api/v1/s/{token}").json["last"]["report"]
    return report, client.get(f"/s/{token}").get_data(as_text=True)


def test_exam_mode_hides_marks_and_score_until_release(
    client: FlaskClient, auth: dict[str, str], assignment: int, student_token: str
) -> None:
    _settings(client, auth, assignment, feedback="never", score="hidden_until_release")
    answers, wrong = _wrong(assignment)
    r = client.post(f"/api/v1/s/{student_token}/submissions", json=answers)
    assert r.status_code == 201
    # the instructor sees everything: the stored report's words, to look for below
    stats = client.get(f"/api/v1/assignments/{assignment}/stats", headers=auth).json
    assert stats["cells"][wrong]["wrong"] == 1 and stats["diagnoses"]
    code = stats["diagnoses"][0]["code"]
    page = client.get("/instructor/login").get_data(as_text=True)
    client.post("/instructor/login", data={"token": TOKEN, "csrf_token": csrf_of(page)})
    book = client.get(f"/instructor/assignments/{assignment}").get_data(as_text=True)
    assert f'title="{wrong}: wrong"' in book
    client.post("/instructor/logout", data={"csrf_token": csrf_of(book)})

    for report in (r.json["report"], _seen(client, student_token)[0]):
        assert report["cells"] == {} and report["hidden"] == ["feedback", "score"]
        assert not {"score", "max_score", "first_error", "notes"} & set(report)
    html = _seen(client, student_token)[1]
    assert "badge-wrong" not in html and "mark-wrong" not in html and code not in html
    assert "First error" not in html and 'class="score-num"' not in html
    assert "once the instructor releases them" in html
    assert r.json["attempts_left"] == 1  # the attempt itself is told

    # the score shown, the feedback still not
    _settings(client, auth, assignment, score="shown")
    report, html = _seen(client, student_token)
    assert report["hidden"] == ["feedback"] and report["max_score"] > report["score"] > 0
    assert report["cells"] == {} and 'class="score-num"' in html and "badge-wrong" not in html

    # released: everything, never the key
    _settings(client, auth, assignment, score="hidden_until_release", released=True)
    report, html = _seen(client, student_token)
    assert report["hidden"] == [] and report["first_error"] == wrong
    assert report["cells"][wrong]["status"] == "wrong"
    assert code in report["cells"][wrong]["diagnosis"] and report["cells"][wrong]["feedback"]
    assert "value" not in report["cells"][wrong]
    assert "badge-wrong" in html and 'class="score-num"' in html
    assert report["cells"][wrong]["feedback"].split(".")[0] in html


def test_after_due_shows_marks_from_the_due_date_on(
    client: FlaskClient, auth: dict[str, str], assignment: int, student_token: str
) -> None:
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    _settings(client, auth, assignment, feedback="after_due", due_at=later)
    answers, wrong = _wrong(assignment)
    sent = client.post(f"/api/v1/s/{student_token}/submissions", json=answers).json["report"]
    assert sent["cells"] == {} and sent["hidden"] == ["feedback"] and "score" in sent
    html = _seen(client, student_token)[1]
    assert "after the due date" in html and "badge-wrong" not in html
    earlier = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _settings(client, auth, assignment, due_at=earlier)
    report, html = _seen(client, student_token)
    assert report["cells"][wrong]["status"] == "wrong" and "badge-wrong" in html
    # no due date: after_due waits for the release
    _settings(client, auth, assignment, due_at=None)
    assert _seen(client, student_token)[0]["cells"] == {}


def test_immediate_feedback_is_todays_behaviour(
    client: FlaskClient, auth: dict[str, str], assignment: int, student_token: str
) -> None:
    answers, wrong = _wrong(assignment)
    report = client.post(f"/api/v1/s/{student_token}/submissions", json=answers).json["report"]
    assert report["hidden"] == [] and report["cells"][wrong]["status"] == "wrong"
    assert "badge-wrong" in _seen(client, student_token)[1]


# --- the migration: a database of 0002, upgraded ----------------------------------------------


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_revision_0003_keeps_rows_and_todays_behaviour(
    dialect: str, tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        try:
            cluster = request.getfixturevalue("pg_cluster")
        except pytest.FixtureLookupError:
            pytest.skip("no PostgreSQL cluster fixture (pg_cluster) in this test run")
        url = cluster.empty_database("handcalc_feedback_0003")
    engine = make_engine(url)
    with engine.begin() as connection:
        command.upgrade(migrate._config(connection), "0002")
        course = connection.execute(text("SELECT id FROM course")).scalar_one()
        connection.execute(
            text(
                "INSERT INTO assignment (id, course_id, title, kind, spec_json, max_attempts, "
                f"created_at) VALUES (7, {course}, 'Old HW', 'mlp', '{{}}', 2, '2026-01-01')"
            )
        )
        connection.execute(text("INSERT INTO student VALUES (3, 7, 'ada', '2026-01-01')"))
        connection.execute(
            text("INSERT INTO submission VALUES (1, 3, 1, '{}', '{}', 1.0, 2.0, '2026-01-01')")
        )
    try:
        assert migrate.upgrade(engine) == ("0002", migrate.head())
        with engine.connect() as connection:
            found = connection.execute(
                text(
                    "SELECT title, grading_json, feedback, score_visibility, due_at, released "
                    "FROM assignment"
                )
            ).all()
            assert [tuple(row) for row in found] == [
                ("Old HW", None, "immediate", "shown", None, False)
            ]
            assert connection.execute(text("SELECT score FROM submission")).scalar() == 1.0
            if dialect == "sqlite":
                assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
            drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            assert drift == []
        with engine.begin() as connection:
            command.downgrade(migrate._config(connection), "0002")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT title FROM assignment")).scalar() == "Old HW"
            assert connection.execute(text("SELECT count(*) FROM submission")).scalar() == 1
        assert migrate.upgrade(engine) == ("0002", migrate.head())
    finally:
        engine.dispose()
