"""Fixtures of the service's tests, one per resource (as in Flask's tutorial): an app on a fresh
SQLite file, its client, an assignment, a roster, a student's token, a practice session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from handcalc.web.app import create_app
from web_support import SECRET, SPEC, TOKEN

import handcalc


@pytest.fixture
def make_app(tmp_path: Any) -> Callable[..., Flask]:
    def make(**config: Any) -> Flask:
        settings = {
            "HANDCALC_MODE": "testing",
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'handcalc.sqlite3'}",
            "SECRET_KEY": SECRET,
            "INSTRUCTOR_TOKEN": TOKEN,
        }
        settings.update(config)
        return create_app(settings)

    return make


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
