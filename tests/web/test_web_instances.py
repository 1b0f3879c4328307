"""Two web instances, one database, one Redis: two real gunicorn servers (README's production
command, two workers each) on two loopback ports, against one PostgreSQL database (brought up to
date by ``handcalc db upgrade --database URL`` first, as a production start does) and one real
``redis-server`` counting the rate limits. What one instance stores the other shows; a limit of N
a minute lets N through in total across both; SIGKILL of one instance under load loses no
acknowledged submission. Servers are started once for the module."""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from handcalc.web.tokens import variant_seed
from queue_support import free_port, redis_server
from web_support import SPEC, PostgresCluster, key_answers, negate, redis_missing

import handcalc

#: checks and submissions a token may make a minute, across both instances
LIMIT = 12
pytestmark = pytest.mark.skipif(bool(redis_missing()), reason=str(redis_missing()))


@dataclass
class Instance:
    """One gunicorn server (its master and workers in a process group of their own)."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once: the machine is gone."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start(env: dict[str, str], log: Path) -> Instance:
    """README's production command on a free loopback port; returns once /healthz answers."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "-c", "python:handcalc.web.gunicorn_config"),
                *("-w", "2", "-b", f"127.0.0.1:{port}", "handcalc.web.app:create_app()"),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed whole
        )
    instance = Instance(port, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn stopped: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{instance.base}/healthz", timeout=2):
                return instance
        except OSError:
            time.sleep(0.2)
    instance.stop()
    raise AssertionError(f"gunicorn did not answer within 60 s: {log.read_text()[-2000:]}")


@dataclass
class Deployment:
    one: Instance
    two: Instance
    database: str
    secret: str
    token: str
    instances: list[Instance] = field(default_factory=list)

    def call(
        self, instance: Instance, path: str, body: Any = None, instructor: bool = False
    ) -> tuple[int, Any, dict[str, str]]:
        """(status, body as JSON or text, headers) of one request."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if instructor:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(instance.base + path, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                status, raw, got = r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            status, raw, got = e.code, e.read(), dict(e.headers)
        text = raw.decode()
        return (
            status,
            json.loads(text)
            if got.get("Content-Type", "").startswith("application/json")
            else text,
            got,
        )

    def problem(self, assignment: int, name: str) -> handcalc.Problem:
        return handcalc.generate(seed=variant_seed(self.secret, assignment, name), **SPEC)

    def assignment(self, instance: Instance, students: list[str], attempts: int) -> dict[str, str]:
        """A new assignment made on ``instance``: its id and its students' links."""
        status, made, _ = self.call(
            instance,
            "/api/v1/assignments",
            {"title": "Shared", "spec": SPEC, "max_attempts": attempts},
            instructor=True,
        )
        assert status == 201, made
        status, roster, _ = self.call(
            instance,
            f"/api/v1/assignments/{made['id']}/roster",
            {"students": students},
            instructor=True,
        )
        assert status == 200, roster
        return {"id": str(made["id"]), **roster["links"]}


@pytest.fixture(scope="module")
def deployment(pg_cluster: PostgresCluster, tmp_path_factory: Any) -> Iterator[Deployment]:
    work = tmp_path_factory.mktemp("instances")
    database = pg_cluster.empty_database("two_instances")
    handcalc_command = Path(sys.executable).parent / "handcalc"
    upgraded = subprocess.run(
        [str(handcalc_command), "db", "upgrade", "--database", database],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    secret, token = secrets.token_urlsafe(32), secrets.token_urlsafe(18)
    with redis_server() as redis_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HANDCALC_")}
        env.update(
            HANDCALC_ENV="production",
            HANDCALC_SECRET_KEY=secret,
            HANDCALC_INSTRUCTOR_TOKEN=token,
            HANDCALC_DATABASE_URL=database,
            HANDCALC_REDIS_URL=redis_url,
            HANDCALC_INSTANCE=str(work),
            HANDCALC_CHECKS_PER_MINUTE=str(LIMIT),
        )
        instances: list[Instance] = []
        try:
            for name in ("one", "two"):
                instances.append(start(env, work / f"{name}.log"))
            yield Deployment(instances[0], instances[1], database, secret, token, instances)
        finally:
            for instance in instances:
                instance.stop()


def test_what_a_student_submits_on_one_the_instructor_sees_on_the_other(
    deployment: Deployment,
) -> None:
    d = deployment
    links = d.assignment(d.one, ["ada", "alan"], attempts=2)
    aid = int(links["id"])
    answers = key_answers(d.problem(aid, "alan"))
    answers["cells"]["dZ2"] = negate(answers["cells"]["dZ2"])
    for instance, name, body in (
        (d.one, "ada", key_answers(d.problem(aid, "ada"))),
        (d.two, "alan", answers),
    ):
        status, got, _ = d.call(instance, f"/api/v1{links[name]}/submissions", body)
        assert status == 201, got
    # the instructor asks the other instance for each one's
    status, grades, _ = d.call(d.two, f"/api/v1/assignments/{aid}/grades.csv", instructor=True)
    assert status == 200, grades
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(grades))}
    assert rows["ada"]["percent"] == "100.0" and rows["ada"]["attempts"] == "1"
    assert rows["alan"]["attempts"] == "1" and rows["alan"]["percent"] != "100.0"
    status, stats, _ = d.call(d.one, f"/api/v1/assignments/{aid}/stats", instructor=True)
    assert status == 200 and stats["submitted"] == 2 and stats["cells"]["dZ2"]["wrong"] == 0.5
    # and the student's own page on the other instance counts the attempt
    status, mine, _ = d.call(d.two, f"/api/v1{links['ada']}")
    assert status == 200 and mine["attempts"] == {"used": 1, "left": 1}


def test_a_limit_of_n_a_minute_lets_n_through_across_both_instances(
    deployment: Deployment,
) -> None:
    d = deployment
    status, made, _ = d.call(d.one, "/api/v1/practice", {"spec": SPEC})
    assert status == 201, made
    path = f"/api/v1/practice/{made['token']}/check"
    codes, waits = [], []
    for k in range(2 * LIMIT + 4):  # alternating instances, each with two workers
        status, _, headers = d.call((d.one, d.two)[k % 2], path, {"cells": {}})
        codes.append(status)
        if status == 429:
            waits.append(int(headers["Retry-After"]))
    assert codes.count(200) == LIMIT and codes[:LIMIT] == [200] * LIMIT, codes
    assert set(codes) == {200, 429} and all(1 <= w <= 60 for w in waits), (codes, waits)


def test_killing_one_instance_loses_no_acknowledged_submission(deployment: Deployment) -> None:
    """Submissions sent to both instances from 8 threads; one instance is SIGKILLed (master and
    workers) a moment in. Every 201 is a row in the database, and the survivor shows them all."""
    d = deployment
    names = [f"s{k:03d}" for k in range(120)]
    links = d.assignment(d.two, names, attempts=LIMIT)
    aid = int(links["id"])
    bodies = [key_answers(d.problem(aid, name)) for name in names[:4]]
    acked: list[tuple[str, int]] = []
    failed: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + 4

    def send(worker: int) -> None:
        k = worker
        while time.monotonic() < stop_at:
            name = names[k % len(names)]
            instance = (d.one, d.two)[k % 2]
            k += 8
            try:
                status, got, _ = d.call(
                    instance, f"/api/v1{links[name]}/submissions", bodies[k % len(bodies)]
                )
            except OSError as e:  # the killed instance: not acknowledged
                with lock:
                    failed.append(type(e).__name__)
                continue
            if status == 201:
                with lock:
                    acked.append((name, int(got["id"])))
            else:
                assert status in (409, 429), (status, got)

    threads = [threading.Thread(target=send, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    with lock:
        before_kill = len(acked)
    d.one.kill()
    for thread in threads:
        thread.join(60)
    assert before_kill > 0 and len(acked) > before_kill, (before_kill, len(acked))
    assert failed, "the killed instance answered on"

    import sqlalchemy

    engine = sqlalchemy.create_engine(d.database)
    with engine.connect() as connection:
        stored = dict(
            connection.execute(
                sqlalchemy.text(
                    "SELECT submission.id, student.name FROM submission JOIN student ON "
                    "student.id = submission.student_id WHERE student.assignment_id = :a"
                ),
                {"a": aid},
            ).all()
        )
    engine.dispose()
    missing = [(name, sid) for name, sid in acked if stored.get(sid) != name]
    assert not missing, f"acknowledged but not stored: {missing}"
    # the survivor shows every stored submission (and so every acknowledged one)
    status, grades, _ = d.call(d.two, f"/api/v1/assignments/{aid}/grades.csv", instructor=True)
    assert status == 200
    shown = {r["student"]: int(r["attempts"] or 0) for r in csv.DictReader(io.StringIO(grades))}
    per_student: dict[str, int] = {}
    for name in stored.values():
        per_student[name] = per_student.get(name, 0) + 1
    assert {n: c for n, c in shown.items() if c} == per_student
