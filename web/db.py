"""The database: one SQLAlchemy engine per app, one session per request, the schema brought up to
date on start (:mod:`.migrate`)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from . import migrate

EXTENSION = "handcalc.db"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers and the one writer go on together; synchronous=FULL makes every commit
    # durable before we acknowledge it; a writer waits for the lock rather than failing.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _private_file(path: Path) -> None:
    """Make the database file readable and writable by us only, if it is not there yet (SQLite
    gives its -wal and -shm files the same mode; an empty file is an empty database). Students'
    answers and names are in it: it was made world-readable under the usual umask."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:" and not path.startswith("file:"):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            _private_file(Path(path))
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 10}, hide_parameters=True
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # hide_parameters: errors and logs never show a statement's values (students' answers)
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    migrate.upgrade(engine)  # a no-op once up to date (``handcalc db upgrade`` ran it)
    app.extensions[EXTENSION] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(close_session)


def engine_of(app: Flask) -> Engine:
    bind = app.extensions[EXTENSION].kw["bind"]
    assert isinstance(bind, Engine)
    return bind


def session() -> Session:
    """This request's session (opened on first use, closed when the request ends)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[EXTENSION]()
    db: Session = g.db_session
    return db


def close_session(_error: BaseException | None = None) -> None:
    db = g.pop("db_session", None)
    if db is not None:
        db.close()
