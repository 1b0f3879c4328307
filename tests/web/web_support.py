"""What the service's tests share: the test secrets, the spec, answers from a key, CSRF tokens,
and real servers started for a test run (a PostgreSQL cluster, a Redis)."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from handcalc.web.tokens import variant_seed

import handcalc

SECRET = "s" * 20 + "-test-secret-0123456789"
TOKEN = "instructor-token-for-tests"
SPEC = {"sizes": [2, 2, 2], "activation": "relu", "loss": "softmax_ce"}


def student_problem(
    assignment: int, name: str, spec: dict[str, Any] | None = None
) -> handcalc.Problem:
    """The problem the service gives ``name`` (its seed is an HMAC only the server can make)."""
    return handcalc.generate(seed=variant_seed(SECRET, assignment, name), **(spec or SPEC))


@contextmanager
def served(app: Any) -> Iterator[str]:
    """A WSGI app served by a thread on a loopback port while the block runs: its URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def key_answers(problem: handcalc.Problem) -> dict[str, Any]:
    tables = problem.tables
    return {"cells": {s.name: problem.text(s.name) for s in problem.steps if s.name not in tables}}


def negate(rows: list[list[str]]) -> list[list[str]]:
    return [
        [v[1:] if v.startswith("-") else ("0" if v == "0" else "-" + v) for v in row]
        for row in rows
    ]


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match[1]


# --- real servers: a throwaway PostgreSQL cluster, a throwaway Redis -----------------------------

#: Debian's PostgreSQL servers (scripts/setup.sh dev installs one)
POSTGRES_BINARIES = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
#: the port in the socket's file name (the cluster listens on a Unix socket of its own folder only)
POSTGRES_PORT = 54329


def postgres_missing() -> str | None:
    """Why a PostgreSQL cluster cannot be started here (None: it can)."""
    if not POSTGRES_BINARIES:
        return "needs Debian's postgresql (its initdb): bash scripts/setup.sh dev"
    if shutil.which("runuser") is None and os.geteuid() == 0:
        return "needs runuser to start PostgreSQL as a non-root user"
    if importlib.util.find_spec("psycopg") is None:
        return "needs psycopg: bash scripts/setup.sh dev"
    return None


class PostgresCluster:
    """A PostgreSQL cluster in a folder of its own, on a Unix socket only (no TCP), run as
    ``nobody`` when we are root (PostgreSQL refuses root), with fsync off: it is thrown away.

    ``database()`` gives the test database as new: made and migrated once, then set back to what
    the migrations left for each test, in a few milliseconds."""

    user = "handcalc"

    def __init__(self, root: Path, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or POSTGRES_BINARIES[-1].parent
        self.root, self.data, self.sockets = root, root / "data", root / "run"
        self._prefix: list[str] = []
        self._admin: Any = None
        self._test_database: str | None = None
        self._emptied = 0
        self._seed: dict[str, int] = {}  # table: rows the migrations wrote
        self._sequences: dict[str, int | None] = {}  # sequence: its value after the migrations

    def _run(self, *args: str) -> None:
        subprocess.run([*self._prefix, *args], check=True, capture_output=True, timeout=60)

    def start(self) -> PostgresCluster:
        self.sockets.mkdir()
        if os.geteuid() == 0:
            for path in (self.root, self.sockets):
                shutil.chown(path, "nobody")
            self.root.chmod(0o755)
            self._prefix = ["runuser", "-u", "nobody", "--"]
        self._run(
            str(self.bin_dir / "initdb"),
            *("-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8"),
        )
        options = f"-k {self.sockets} -c listen_addresses='' -p {POSTGRES_PORT} -c fsync=off"
        self._run(
            str(self.bin_dir / "pg_ctl"),
            *("-D", str(self.data), "-w", "-l", str(self.root / "log"), "-o", options, "start"),
        )
        return self

    def stop(self) -> None:
        if self._admin is not None:
            self._admin.close()
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

    def url(self, name: str, label: str = "handcalc") -> str:
        """The URL of database ``name``; ``label`` (its connections' application name) makes the
        URL of each test's database different, as the caches keyed by it expect of a new one."""
        return (
            f"postgresql+psycopg://{self.user}@/{name}?host={self.sockets}&port={POSTGRES_PORT}"
            f"&application_name={label}"
        )

    def execute(self, statement: str) -> None:
        """One statement on the maintenance database, outside a transaction (CREATE DATABASE)."""
        if self._admin is None:
            import psycopg

            self._admin = psycopg.connect(
                host=str(self.sockets),
                port=POSTGRES_PORT,
                user=self.user,
                dbname="postgres",
                autocommit=True,
            )
        self._admin.execute(statement)

    def empty_database(self, name: str) -> str:
        """A new database with nothing in it (not even the schema); its URL."""
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def _connect(self, name: str) -> Any:
        import psycopg

        return psycopg.connect(
            host=str(self.sockets), port=POSTGRES_PORT, user=self.user, dbname=name
        )

    def database(self) -> str:
        """The test database as a new one is at the newest revision (its URL): made and migrated
        on first use, what the migrations wrote kept aside (schema ``handcalc_seed``), then for
        each test every row deleted, what the migrations wrote put back and the sequences set
        back: a new database in milliseconds rather than the third of a second CREATE DATABASE
        takes."""
        name = "handcalc_test"
        if self._test_database is None:
            from handcalc.web import db, migrate

            engine = db.make_engine(self.empty_database(name))
            migrate.upgrade(engine)
            engine.dispose()
            with self._connect(name) as connection:
                connection.execute("CREATE SCHEMA handcalc_seed")
                for table in self._tables(connection):
                    connection.execute(
                        f'CREATE TABLE handcalc_seed."{table}" AS SELECT * FROM public."{table}"'
                    )
                    self._seed[table] = connection.execute(
                        f'SELECT count(*) FROM handcalc_seed."{table}"'
                    ).fetchone()[0]
                for sequence, last in connection.execute(
                    "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
                ).fetchall():
                    self._sequences[sequence] = last
            self._test_database = name
            return self.url(name, "test_0")
        # whatever a previous test left connected (an engine not disposed) would hold locks
        self.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        with self._connect(name) as connection:
            # DELETE, not TRUNCATE (which makes new files: five times slower on tables this
            # small), with the foreign keys' triggers off so any order will do
            connection.execute("SET session_replication_role = replica")
            for table in self._tables(connection):
                connection.execute(f'DELETE FROM public."{table}"')
                if self._seed.get(table):
                    connection.execute(
                        f'INSERT INTO public."{table}" SELECT * FROM handcalc_seed."{table}"'
                    )
            for sequence, last in self._sequences.items():
                if last is None:
                    connection.execute(f'ALTER SEQUENCE public."{sequence}" RESTART')
                else:
                    connection.execute(f"SELECT setval('public.\"{sequence}\"', {int(last)})")
        self._emptied += 1
        return self.url(name, f"test_{self._emptied}")

    @staticmethod
    def _tables(connection: Any) -> list[str]:
        return [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            ).fetchall()
        ]


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A started cluster, stopped and removed after the block."""
    # not under pytest's folder: that one is private to root, and the server runs as nobody
    with tempfile.TemporaryDirectory(prefix="handcalc-pg-") as folder:
        cluster = PostgresCluster(Path(folder)).start()
        try:
            yield cluster
        finally:
            cluster.stop()


def redis_missing() -> str | None:
    """Why a Redis server cannot be started and used here (None: it can)."""
    if shutil.which("redis-server") is None:
        return "needs Debian's redis-server: bash scripts/setup.sh dev"
    if importlib.util.find_spec("redis") is None or importlib.util.find_spec("limits") is None:
        return "needs the scale extra (limits[redis]): bash scripts/setup.sh dev"
    return None
