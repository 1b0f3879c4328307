"""The service on PostgreSQL from end to end, in one test (every test of the service with an app
runs on PostgreSQL too: see conftest's ``database``). The cluster is the run's one (web_support's
``PostgresCluster``: a temporary folder, a Unix socket only, an unprivileged user); skipped where
PostgreSQL's server or psycopg is not installed (scripts/setup.sh installs both).

``BINARIES`` and ``_cluster`` are kept for tests that start a cluster of their own."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_support import (
    POSTGRES_BINARIES,
    SECRET,
    SPEC,
    TOKEN,
    PostgresCluster,
    key_answers,
    negate,
    student_problem,
)

BINARIES = POSTGRES_BINARIES


def _cluster(bin_dir: Path, root: Path) -> Iterator[str]:
    """A cluster in ``root`` while the generator runs; the URL of an empty migrated database."""
    cluster = PostgresCluster(root, bin_dir).start()
    try:
        yield cluster.database()
    finally:
        cluster.stop()


@pytest.fixture
def postgres(pg_cluster: PostgresCluster) -> str:
    return pg_cluster.database()


def test_the_service_on_postgresql(postgres: str) -> None:
    from handcalc.web.app import create_app

    app = create_app(
        {
            "HANDCALC_MODE": "testing",
            "DATABASE_URL": postgres,
            "SECRET_KEY": SECRET,
            "INSTRUCTOR_TOKEN": TOKEN,
        }
    )
    client = app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    aid = client.post(
        "/api/v1/assignments",
        headers=auth,
        json={"title": "On PostgreSQL", "spec": SPEC, "max_attempts": 1},
    ).json["id"]
    links = client.post(
        f"/api/v1/assignments/{aid}/roster", headers=auth, json={"students": ["ada", "alan"]}
    ).json["links"]
    for name in ("ada", "alan"):
        answers = key_answers(student_problem(aid, name))
        if name == "alan":
            answers["cells"]["dZ2"] = negate(answers["cells"]["dZ2"])
        r = client.post(f"/api/v1{links[name]}/submissions", json=answers)
        assert r.status_code == 201, r.json
    assert client.post(f"/api/v1{links['ada']}/submissions", json={"cells": {}}).status_code == 409
    stats = client.get(f"/api/v1/assignments/{aid}/stats", headers=auth).json
    assert stats["submitted"] == 2 and stats["cells"]["dZ2"]["wrong"] == 0.5
    grades = client.get(f"/api/v1/assignments/{aid}/grades.csv", headers=auth)
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(grades.get_data(as_text=True)))}
    assert rows["ada"]["percent"] == "100.0"
    # a practice session with a seed larger than 32 bits is kept exactly
    token = client.post("/api/v1/practice", json={"spec": SPEC, "seed": 2**62}).json["token"]
    assert client.post(f"/api/v1/practice/{token}/check", json={"cells": {}}).status_code == 200
