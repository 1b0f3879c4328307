"""The database's schema brought up to date with Alembic: by ``handcalc db upgrade`` (the production
start command runs it before the web processes start) and by every web process on start (a no-op
once up to date, and what makes the embedded SQLite default work with no command at all).

A database made before migrations existed (its tables created from the models, no
``alembic_version``) is stamped with the first revision, which is exactly that schema, and then
upgraded. Two processes starting together take turns: PostgreSQL serialises them with an advisory
lock, SQLite with its write lock (and a retry)."""

from __future__ import annotations

import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import OperationalError

LOCATION = Path(__file__).parent / "migrations"
#: the schema of the service before migrations (tables made from the models)
FIRST = "0001"
#: any number, the same in every process: PostgreSQL's advisory lock for schema changes
LOCK = 0x68616E64


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(LOCATION))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision there is."""
    config = Config()
    config.set_main_option("script_location", str(LOCATION))
    found = ScriptDirectory.from_config(config).get_current_head()
    assert found is not None
    return found


def current(engine: Engine) -> str | None:
    """The revision the database is at (None: none applied, or no tables yet)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, attempts: int = 5) -> tuple[str | None, str]:
    """Apply every revision the database lacks; (the revision before, the one after)."""
    for attempt in range(attempts):
        try:
            with engine.begin() as connection:
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK})
                before = MigrationContext.configure(connection).get_current_revision()
                if before is None and inspect(connection).has_table("assignment"):
                    command.stamp(_config(connection), FIRST)  # made before migrations
                command.upgrade(_config(connection), "head")
                after = MigrationContext.configure(connection).get_current_revision()
            assert after is not None
            return before, after
        except OperationalError:  # SQLite: another process holds the write lock
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")
