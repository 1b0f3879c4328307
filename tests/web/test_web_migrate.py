"""The schema through Alembic: a new database gets every revision, a database made before
migrations is stamped and upgraded with its rows kept, a second upgrade changes nothing, and the
models never drift from the revisions (a model changed without a revision fails here)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from handcalc.web import migrate
from handcalc.web.db import make_engine
from handcalc.web.models import Assignment, Base
from sqlalchemy import create_engine, inspect, select, text

from handcalc.cli import cli


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'h.sqlite3'}"


def test_a_new_database_gets_every_revision_and_matches_the_models(tmp_path: Path) -> None:
    engine = make_engine(_url(tmp_path))
    assert migrate.upgrade(engine) == (None, migrate.head())
    assert migrate.upgrade(engine) == (migrate.head(), migrate.head())  # again: nothing to do
    with engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert drift == [], "the models changed without a revision (web/migrations/versions)"
    assert set(inspect(engine).get_table_names()) >= {"assignment", "submission", "student"}


def test_a_database_from_before_migrations_is_stamped_and_keeps_its_rows(tmp_path: Path) -> None:
    engine = create_engine(_url(tmp_path))
    # the tables the service made from its models until migrations: revision 0001's, unstamped
    with engine.begin() as connection:
        command.upgrade(migrate._config(connection), migrate.FIRST)
        connection.execute(text("DROP TABLE alembic_version"))
        connection.execute(
            text(
                "INSERT INTO assignment (title, kind, spec_json, max_attempts, created_at) "
                "VALUES ('Old', 'mlp', '{}', 2, '2026-01-01 00:00:00')"
            )
        )
    assert migrate.current(engine) is None
    before, after = migrate.upgrade(engine)
    assert (before, after) == (None, migrate.head()) and migrate.current(engine) == after
    with engine.connect() as connection:
        assert connection.execute(select(Assignment.title)).scalar_one() == "Old"


def test_the_command_line_upgrades_and_says_where_it_stands(tmp_path: Path) -> None:
    url = _url(tmp_path)
    first = CliRunner().invoke(cli, ["db", "upgrade", "--database", url])
    assert first.exit_code == 0, first.output
    assert f"at revision {migrate.head()} (was empty)" in first.output
    again = CliRunner().invoke(cli, ["db", "upgrade", "--database", url])
    assert "(up to date)" in again.output
    said = CliRunner().invoke(cli, ["db", "current", "--database", url]).output
    assert f"at revision {migrate.head()} (up to date)" in said
    shown = CliRunner().invoke(
        cli, ["db", "current", "--database", "postgresql+psycopg://u:secret@127.0.0.1:1/x"]
    )
    assert shown.exit_code == 1 and "cannot reach the database" in shown.output
    assert "secret" not in shown.output  # a password is never printed
