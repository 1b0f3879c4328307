"""Fixtures of the service's tests, one per resource (as in Flask's tutorial): an app on a fresh
database, its client, an assignment, a roster, a student's token, a practice session.

Every test whose app has a database runs twice: on a new SQLite file and on the test database
of a real PostgreSQL cluster (one cluster for the whole run, started in a temporary folder; the
database set back for each test to what its migrations left: the rows, the ids).
``HANDCALC_TEST_DATABASES=sqlite`` runs the SQLite half only (a quick run; CI runs both). A test
about SQLite itself is listed in ``SQLITE_ONLY``, and modules whose subject is not the database
in ``SQLITE_ONLY_MODULES`` (they run on SQLite only)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from handcalc.web import db
from handcalc.web.app import create_app
from web_support import (
    SECRET,
    SPEC,
    TOKEN,
    PostgresCluster,
    postgres_cluster,
    postgres_missing,
    served,
)

import handcalc

try:  # the LTI tool (the ``lms`` extra): each test's app's score retrier is stopped after it
    from handcalc.web.lti import passback as lti
except ImportError:  # pragma: no cover - a bench without the extra
    lti = None  # type: ignore[assignment]

#: the databases every test with an app runs on (``HANDCALC_TEST_DATABASES``, comma-separated)
DATABASES = tuple(
    name.strip()
    for name in os.environ.get("HANDCALC_TEST_DATABASES", "sqlite,postgresql").split(",")
    if name.strip()
)
#: tests about SQLite itself: they make SQLite's own errors, or start a PostgreSQL of their own
SQLITE_ONLY = {
    # raises sqlite3.OperationalError, which only SQLite's dialect takes for a database error
    "test_web_security.py::test_a_database_error_logs_neither_the_token_nor_the_answers",
    # compares SQLite with a PostgreSQL cluster it starts itself
    "test_web_gradebook.py::test_the_queries_agree_on_postgresql",
}
#: modules whose subject is not the database (PDFs, figures, every kind's grading, grading's
#: speed): their statements (an assignment, a roster, a submission) are the ones the other
#: modules run on both databases, and running them twice would cost half a minute for nothing
SQLITE_ONLY_MODULES = {
    "test_web_class.py",
    "test_web_plots.py",
    "test_web_kinds.py",
    "test_web_check_fast.py",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database" not in metafunc.fixturenames:
        return
    module = metafunc.definition.path.name
    node = f"{module}::{metafunc.definition.originalname}"
    on_both = node not in SQLITE_ONLY and module not in SQLITE_ONLY_MODULES
    names = list(DATABASES) if on_both else ["sqlite"]
    metafunc.parametrize("database", names, indirect=True, scope="function")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """One PostgreSQL cluster for the whole run (skips where it cannot be started)."""
    why = postgres_missing()
    if why:
        pytest.skip(why)
    with postgres_cluster() as cluster:
        yield cluster


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """The URL of an empty database at the newest revision: a new SQLite file, or the test
    database of the run's PostgreSQL cluster, emptied."""
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'handcalc.sqlite3'}"
        return
    if kind != "postgresql":
        raise pytest.UsageError(f"HANDCALC_TEST_DATABASES: {kind!r}; accepted: sqlite, postgresql")
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    yield cluster.database()


@pytest.fixture
def make_app(database: str) -> Iterator[Callable[..., Flask]]:
    made: list[Flask] = []

    def make(**config: Any) -> Flask:
        settings = {
            "HANDCALC_MODE": "testing",
            "TESTING": True,
            "DATABASE_URL": database,
            "SECRET_KEY": SECRET,
            "INSTRUCTOR_TOKEN": TOKEN,
        }
        settings.update(config)
        app = create_app(settings)
        made.append(app)
        return app

    yield make
    for app in made:
        if lti is not None:  # its score retrier would take the next test's sends, with its key
            lti.stop(app)
        db.engine_of(app).dispose()  # the connections closed before the database is dropped


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def assignment(client: FlaskClient, auth: dict[str, str]) -> int:
    r = client.post(
        "/api/v1/assignments",
        headers=auth,
        json={"title": "Homework 1", "spec": SPEC, "max_attempts": 2},
    )
    assert r.status_code == 201, r.json
    return int(r.json["id"])


@pytest.fixture
def roster(client: FlaskClient, auth: dict[str, str], assignment: int) -> dict[str, str]:
    r = client.post(
        f"/api/v1/assignments/{assignment}/roster",
        headers=auth,
        json={"students": ["ada", "alan", "grace"]},
    )
    assert r.status_code == 200, r.json
    links: dict[str, str] = r.json["links"]
    return links


@pytest.fixture
def student_token(roster: dict[str, str]) -> str:
    return roster["ada"].removeprefix("/s/")


@pytest.fixture
def practice(client: FlaskClient) -> tuple[str, handcalc.Problem]:
    r = client.post("/api/v1/practice", json={"spec": SPEC, "seed": 7})
    assert r.status_code == 201, r.json
    return r.json["token"], handcalc.generate(seed=7, **SPEC)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """The app served on a loopback port by a thread (for a real browser): its URL and the app."""
    app = create_app(
        {
            "HANDCALC_MODE": "testing",
            "SECRET_KEY": SECRET,
            "INSTRUCTOR_TOKEN": TOKEN,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'live.sqlite3'}",
        }
    )
    with served(app) as url:
        yield url, app
