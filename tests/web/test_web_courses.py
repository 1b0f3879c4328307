"""Courses with their own instructors (issue 15, item 6): an instructor signs in with login and
password and sees their own courses only; a course's API token sees its course only; the
instructor token is the admin and sees every course. Every instructor route, taken from the
app's URL map (those added later too), is tried with another course's assignment: 404, exactly
as for an assignment that does not exist."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from flask.testing import FlaskClient
from handcalc.web import courses, db, migrate
from handcalc.web.db import make_engine
from handcalc.web.models import Assignment, Base, Course, InstructorSession
from sqlalchemy import inspect, select, text
from web_support import SPEC, TOKEN

ALICE, BOB = "alice@physics.example", "bob@biology.example"
PASSWORDS = {ALICE: "alice-horse-battery-17", BOB: "bob-staple-correct-42"}
#: views that name no assignment: each is tested on its own below
UNSCOPED = {
    "instructor.login",
    "instructor.logout",
    "instructor.dashboard",
    "instructor.create",
    "instructor_api.assignment_new",
}
#: where every instructor page and API lives (a route there must be an instructor's view)
INSTRUCTOR_PATHS = ("/instructor", "/api/v1/assignments", "/api/v1/jobs")
#: the biggest id an assignment of the test has not reached
MISSING = 987654


@dataclass
class World:
    """Two courses, each with an instructor, an API token, an assignment and a student."""

    app: Flask
    course_a: int
    course_b: int
    token_a: str
    token_b: str
    mine: int  # alice's assignment (course A)
    mine_student: int
    theirs: int  # bob's assignment (course B)
    theirs_student: int


@pytest.fixture
def world(make_app: Callable[..., Flask]) -> World:
    app = make_app(WTF_CSRF_ENABLED=False)
    with app.app_context():
        rows = db.session()
        a = courses.create_course(rows, "Physics 1")
        b = courses.create_course(rows, "Biology 2")
        courses.add_instructor(rows, ALICE, a, PASSWORDS[ALICE])
        courses.add_instructor(rows, BOB, b, PASSWORDS[BOB])
        token_a, token_b = courses.new_token(rows, a), courses.new_token(rows, b)
        ids = (a.id, b.id)
    client = app.test_client()
    made = []
    for token, student in ((token_a, "ada"), (token_b, "bea")):
        r = client.post(
            "/api/v1/assignments",
            headers=_bearer(token),
            json={"title": f"Homework of {student}", "spec": SPEC},
        )
        assert r.status_code == 201, r.json
        aid = r.json["id"]
        r = client.post(
            f"/api/v1/assignments/{aid}/roster",
            headers=_bearer(token),
            json={"students": [student]},
        )
        made += [aid, r.json["students"][0]["id"]]
    return World(app, *ids, token_a, token_b, *made)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(app: Flask, login: str, password: str) -> FlaskClient:
    client = app.test_client()
    r = client.post("/instructor/login", data={"login": login, "password": password})
    assert r.status_code == 303, r.get_data(as_text=True)
    return client


# --- every route, from another course ---------------------------------------------------------


def _fills(w: World, own: bool) -> dict[str, Any]:
    """A value for each argument an instructor route takes: another course's (or one's own)."""
    return {
        "assignment_id": w.mine if own else w.theirs,
        "student_id": w.mine_student if own else w.theirs_student,
        "student": "ada" if own else "bea",
        "mode": "worksheet",
        "job_id": uuid.uuid4().hex,  # the assignment's check comes first: any id will do
    }


def _instructor_rules(app: Flask) -> list[Any]:
    found = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        marked = getattr(view, "authorised", None) == "instructor"
        if rule.rule.startswith(INSTRUCTOR_PATHS) and rule.endpoint != "instructor.login":
            assert marked, f"{rule.rule} is not an instructor's view (auth.signed_in or …)"
        if marked:
            found.append(rule)
    return found


def _path(rule: Any, values: dict[str, Any]) -> str:
    path: str = rule.rule
    for name in rule.arguments:
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(values[name]), path)
    return path


def _said(response: Any) -> str:
    if response.is_json and isinstance(response.json, dict) and "error" in response.json:
        return str(response.json["error"]["message"])
    return response.get_data(as_text=True)


def test_every_instructor_route_is_closed_to_another_course(world: World) -> None:
    """Alice (course A) signed in on the pages and holding A's API token, on every instructor
    route with course B's assignment: 404 with the words of a missing assignment, the same
    answer as for an id nobody has (no existence leak); with her own, never that 404."""
    app = world.app
    alice = sign_in(app, ALICE, PASSWORDS[ALICE])
    alice.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {world.token_a}"
    rules = _instructor_rules(app)
    assert {r.endpoint for r in rules} >= UNSCOPED - {"instructor.login"}
    tried = 0
    for rule in rules:
        if rule.endpoint in UNSCOPED:
            continue
        unknown = set(rule.arguments) - set(_fills(world, False))
        assert not unknown, f"{rule.rule}: this test cannot fill in {sorted(unknown)}; add them"
        assert "assignment_id" in rule.arguments, (
            f"{rule.rule} names no assignment: add how this test reaches another course's one"
        )
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            theirs = _path(rule, _fills(world, own=False))
            # a POST with an (empty) JSON body, as the API takes; the pages read it as no form
            body = {"json": {}} if method == "POST" else {}
            r = alice.open(theirs, method=method, **body)
            assert r.status_code == 404, (method, theirs, r.status_code)
            assert f"no assignment {world.theirs}" in _said(r), (method, theirs)
            missing = _path(rule, {**_fills(world, False), "assignment_id": MISSING})
            nobody = alice.open(missing, method=method, **body)
            assert nobody.status_code == 404
            assert _said(r).replace(str(world.theirs), "N") == _said(nobody).replace(
                str(MISSING), "N"
            ), (method, theirs)
            tried += 1
            if method == "GET":  # the control: her own assignment is hers
                own = alice.open(_path(rule, _fills(world, own=True)), method=method)
                assert own.status_code not in (401, 403), (method, rule.rule)
                if own.status_code == 404:  # a job of hers that does not exist, say
                    assert f"no assignment {world.mine}" not in _said(own), (method, rule.rule)
                own.close()
    assert tried >= 12


def test_bob_and_a_course_token_see_their_own_course_only(world: World) -> None:
    app = world.app
    bob = sign_in(app, BOB, PASSWORDS[BOB])
    assert bob.get(f"/instructor/assignments/{world.theirs}").status_code == 200
    assert bob.get(f"/instructor/assignments/{world.mine}").status_code == 404
    api = app.test_client()
    for token, own, other in (
        (world.token_a, world.mine, world.theirs),
        (world.token_b, world.theirs, world.mine),
    ):
        assert (
            api.get(f"/api/v1/assignments/{own}/stats", headers=_bearer(token)).status_code == 200
        )
        r = api.get(f"/api/v1/assignments/{other}/grades.csv", headers=_bearer(token))
        assert r.status_code == 404 and r.json["error"]["message"] == f"no assignment {other}"
    for aid in (world.mine, world.theirs):  # the admin sees every course
        assert (
            api.get(f"/api/v1/assignments/{aid}/stats", headers=_bearer(TOKEN)).status_code == 200
        )
    # a token that is no course's is a wrong token: 401, counted like any other
    r = api.get(f"/api/v1/assignments/{world.mine}/stats", headers=_bearer("hcc_" + "x" * 32))
    assert r.status_code == 401


def test_the_dashboard_lists_ones_own_courses_and_the_admin_every_course(world: World) -> None:
    app = world.app
    page = sign_in(app, ALICE, PASSWORDS[ALICE]).get("/instructor/").get_data(as_text=True)
    assert "Homework of ada" in page and "Homework of bea" not in page
    assert f"Signed in as {ALICE}: Physics 1" in page and "Biology 2" not in page
    admin = app.test_client()
    assert admin.post("/instructor/login", data={"token": TOKEN}).status_code == 303
    page = admin.get("/instructor/").get_data(as_text=True)
    assert "Homework of ada" in page and "Homework of bea" in page
    # the admin's list of courses: each with its instructors, assignments and tokens
    assert re.search(r"<td>Physics 1</td><td>alice@physics\.example</td><td>1</td><td>1</td>", page)
    assert "Default course" in page


def test_a_new_assignment_goes_into_one_of_ones_own_courses(world: World) -> None:
    app = world.app
    with app.app_context():
        rows = db.session()
        third = courses.create_course(rows, "Physics 2")
        courses.add_instructor(rows, ALICE, third)  # her second course: no new password
        third_id = third.id
    alice = sign_in(app, ALICE, PASSWORDS[ALICE])
    form = {"title": "HW 2", "kind": "mlp", "sizes": "2,2,2", "max_attempts": "2"}
    r = alice.post("/instructor/assignments", data=form, follow_redirects=True)
    assert "say which of your 2 courses" in r.get_data(as_text=True)
    r = alice.post(
        "/instructor/assignments", data={**form, "course": world.course_b}, follow_redirects=True
    )
    assert f"no course {world.course_b} of yours" in r.get_data(as_text=True)
    page = alice.get("/instructor/").get_data(as_text=True)
    assert f'<option value="{third_id}">Physics 2</option>' in page
    assert "Biology 2" not in page
    r = alice.post("/instructor/assignments", data={**form, "course": third_id})
    assert r.status_code == 303
    made = int(r.headers["Location"].rsplit("/", 1)[1])
    # on the API: a course token's own course; another course is no course of its
    api = app.test_client()
    body = {"title": "HW 3", "spec": SPEC}
    r = api.post("/api/v1/assignments", headers=_bearer(world.token_a), json=body)
    assert r.status_code == 201 and r.json["course"] == world.course_a
    r = api.post(
        "/api/v1/assignments",
        headers=_bearer(world.token_a),
        json={**body, "course": world.course_b},
    )
    assert r.status_code == 400 and "no course" in r.json["error"]["message"]
    r = api.post("/api/v1/assignments", headers=_bearer(TOKEN), json=body)  # the admin: default
    with app.app_context():
        rows = db.session()
        assert rows.get(Assignment, made).course_id == third_id  # type: ignore[union-attr]
        default = courses.default_course(rows).id
        assert rows.get(Assignment, r.json["id"]).course_id == default  # type: ignore[union-attr]


def test_sign_in_with_a_password_and_its_limits(world: World) -> None:
    app = world.app
    client = app.test_client()
    wrong = {"login": ALICE, "password": "not-her-password"}
    r = client.post("/instructor/login", data=wrong)
    assert r.status_code == 401 and "Wrong login or password" in r.get_data(as_text=True)
    r = client.post("/instructor/login", data={**wrong, "login": "nobody@example"})
    assert r.status_code == 401 and "Wrong login or password" in r.get_data(as_text=True)
    assert client.get("/instructor/").status_code == 302
    # attempts are counted before the hash is checked: then 429, with no hash computed
    limit = app.config["LOGIN_FAILURES_PER_MINUTE"]
    codes = [client.post("/instructor/login", data=wrong).status_code for _ in range(limit)]
    assert codes[-1] == 429 and set(codes) <= {401, 429}
    # … while the instructor token is still never refused (its rule: failures only)
    assert client.post("/instructor/login", data={"token": TOKEN}).status_code == 303


def test_a_browser_that_signed_in_before_is_not_locked_out_by_its_address(world: World) -> None:
    """Someone guessing Alice's password from her address (a campus NAT) uses up the address's
    sign-ins; her own browser, which signed in before, keeps its own count (a device cookie)."""
    app = world.app
    hers = sign_in(app, ALICE, PASSWORDS[ALICE])
    cookie = hers.get_cookie("handcalc_device", path="/instructor/login")
    assert cookie is not None and cookie.http_only and ALICE not in cookie.value
    hers.post("/instructor/logout")
    guesser = app.test_client()
    limit = app.config["LOGIN_FAILURES_PER_MINUTE"]
    wrong = {"login": ALICE, "password": "a-guess"}
    codes = [guesser.post("/instructor/login", data=wrong).status_code for _ in range(limit + 1)]
    assert codes[-1] == 429
    # a new browser at the address, even with the right password: the address's limit
    fresh = app.test_client()
    assert (
        fresh.post(
            "/instructor/login", data={"login": ALICE, "password": PASSWORDS[ALICE]}
        ).status_code
        == 429
    )
    # her browser signs in; the cookie is hers only (another login, a forged one: the address)
    assert (
        hers.post(
            "/instructor/login", data={"login": ALICE, "password": PASSWORDS[ALICE]}
        ).status_code
        == 303
    )
    assert (
        hers.post("/instructor/login", data={"login": BOB, "password": PASSWORDS[BOB]}).status_code
        == 429
    )
    forged = app.test_client()
    forged.set_cookie("handcalc_device", cookie.value[:-2] + "xx", path="/instructor/login")
    assert (
        forged.post(
            "/instructor/login", data={"login": ALICE, "password": PASSWORDS[ALICE]}
        ).status_code
        == 429
    )


def test_a_new_password_or_a_closed_account_signs_the_instructor_out(world: World) -> None:
    app = world.app
    alice = sign_in(app, ALICE, PASSWORDS[ALICE])
    assert alice.get("/instructor/").status_code == 200
    with app.app_context():
        rows = db.session()
        stored = rows.scalars(select(InstructorSession.instructor_id)).all()
        assert any(stored)  # the session remembers who signed in
        course = rows.get(Course, world.course_a)
        courses.add_instructor(rows, ALICE, course, "a-brand-new-password-99")  # type: ignore[arg-type]
    assert alice.get("/instructor/").status_code == 302
    alice = sign_in(app, ALICE, "a-brand-new-password-99")
    with app.app_context():
        courses.remove_instructor(db.session(), ALICE, None)
    assert alice.get("/instructor/").status_code == 302
    r = app.test_client().post(
        "/instructor/login", data={"login": ALICE, "password": "a-brand-new-password-99"}
    )
    assert r.status_code == 401


# --- the migration: a database of one instructor, upgraded ------------------------------------


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_revision_0002_puts_every_assignment_in_the_default_course(
    dialect: str, tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    """A database at 0001 with an assignment, a student, a submission and a signed-in session:
    upgraded, every row is kept, the assignment in "Default course", the foreign keys whole, the
    schema the models'; down again and up again keep the rows too."""
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        try:
            cluster = request.getfixturevalue("pg_cluster")  # conftest's: one for the run
        except pytest.FixtureLookupError:
            pytest.skip("no PostgreSQL cluster fixture (pg_cluster) in this test run")
        url = cluster.empty_database("handcalc_courses_0002")
    engine = make_engine(url)
    config = "INSERT INTO {} VALUES {}"
    with engine.begin() as connection:
        command.upgrade(migrate._config(connection), "0001")
        for table, values in (
            ("assignment", "(7, 'Old HW', 'mlp', '{}', 2, '2026-01-01 00:00:00')"),
            ("student", "(3, 7, 'ada', '2026-01-01 00:00:00')"),
            ("submission", "(1, 3, 1, '{}', '{}', 1.0, 2.0, '2026-01-01 00:00:00')"),
            (
                "instructor_session",
                "('" + "a" * 64 + "', '" + "b" * 64 + "', '2026-01-01', '2026-01-01')",
            ),
        ):
            connection.execute(text(config.format(table, values)))
    try:
        assert migrate.upgrade(engine) == ("0001", migrate.head())
        with engine.connect() as connection:
            found = connection.execute(
                text(
                    "SELECT a.id, a.title, c.name FROM assignment a JOIN course c "
                    "ON c.id = a.course_id"
                )
            ).all()
            assert [tuple(row) for row in found] == [(7, "Old HW", "Default course")]
            assert connection.execute(text("SELECT count(*) FROM submission")).scalar() == 1
            assert connection.execute(
                text("SELECT instructor_id FROM instructor_session")
            ).all() == [(None,)]  # the admin's session, as all were
            if dialect == "sqlite":
                assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
            drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
            assert drift == []
        with engine.begin() as connection:
            command.downgrade(migrate._config(connection), "0001")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT title FROM assignment")).scalar() == "Old HW"
            assert not inspect(connection).has_table("course")
        assert migrate.upgrade(engine) == ("0001", migrate.head())
    finally:
        engine.dispose()
