"""The service on PostgreSQL (``HANDCALC_DATABASE_URL``): a throwaway cluster in a temporary
folder, on a Unix socket only, run as an unprivileged user; skipped where PostgreSQL's server or
psycopg is not installed (scripts/setup.sh installs both)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from web_support import SECRET, SPEC, TOKEN, key_answers, negate, student_problem

BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
pytestmark = [
    pytest.mark.skipif(not BINARIES, reason="needs Debian's postgresql (its initdb)"),
    pytest.mark.skipif(
        shutil.which("runuser") is None and os.geteuid() == 0,
        reason="needs runuser to start PostgreSQL as a non-root user",
    ),
]


@pytest.fixture
def postgres() -> Iterator[str]:
    pytest.importorskip("psycopg")
    bin_dir = BINARIES[-1].parent
    # not under pytest's folder: that one is private to root, and the server runs as nobody
    with tempfile.TemporaryDirectory(prefix="handcalc-pg-") as folder:
        yield from _cluster(bin_dir, Path(folder))


def _cluster(bin_dir: Path, root: Path) -> Iterator[str]:
    data, sockets = root / "data", root / "run"
    sockets.mkdir()
    prefix: list[str] = []
    user = "handcalc"
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(root, "nobody")
        shutil.chown(sockets, "nobody")
        root.chmod(0o755)
        prefix = ["runuser", "-u", "nobody", "--"]

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=60)

    run(str(bin_dir / "initdb"), "-D", str(data), "-U", user, "--auth=trust", "-E", "UTF8")
    run(
        str(bin_dir / "pg_ctl"),
        "-D",
        str(data),
        "-w",
        "-l",
        str(root / "log"),
        "-o",
        f"-k {sockets} -c listen_addresses='' -p 54329 -c fsync=off",
        "start",
    )
    try:
        run(str(bin_dir / "createdb"), "-h", str(sockets), "-p", "54329", "-U", user, "handcalc")
        yield f"postgresql+psycopg://{user}@/handcalc?host={sockets}&port=54329"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")


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
