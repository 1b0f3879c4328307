"""``handcalc db``: the service's database, its schema brought up to date (Alembic)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import click

database_option = click.option(
    "--database",
    metavar="URL",
    envvar="HANDCALC_DATABASE_URL",
    help="Database URL [env HANDCALC_DATABASE_URL; default: the SQLite file in the instance "
    "folder], e.g. postgresql+psycopg://user:pw@host/handcalc.",
)
instance_option = click.option(
    "--instance",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="HANDCALC_INSTANCE",
    help="Folder of the embedded SQLite file [env HANDCALC_INSTANCE].",
)


@click.group("db")
def db_group() -> None:
    """The grading service's database: its schema, brought up to date.

    \b
    Examples:
      handcalc db upgrade
      handcalc db upgrade --database postgresql+psycopg://handcalc@db-host/handcalc
      handcalc db current
    """


def _url(database: str | None, instance: Path | None) -> str:
    from ..web.config import database_url
    from ..web.serve import default_instance

    return database or database_url(instance or default_instance())


def _shown(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@contextlib.contextmanager
def _reached(url: str) -> Iterator[None]:
    """A database that cannot be reached, or a URL that is not one, said in one line."""
    from sqlalchemy.exc import ArgumentError, OperationalError

    try:
        yield
    except ArgumentError:
        raise click.ClickException(f"--database: {url!r} is not a database URL") from None
    except OperationalError as e:
        reason = str(e.orig or e).strip().splitlines()[0]
        raise click.ClickException(f"cannot reach the database {_shown(url)}: {reason}") from None


@db_group.command("upgrade")
@database_option
@instance_option
def upgrade(database: str | None, instance: Path | None) -> None:
    """Apply every schema change the database lacks (none: it says so). Safe to run again, and
    from several machines at once; the production start command runs it before the web
    processes start."""
    from ..web import migrate
    from ..web.db import make_engine

    url = _url(database, instance)
    with _reached(url):
        before, after = migrate.upgrade(make_engine(url))
    change = "up to date" if before == after else f"was {before or 'empty'}"
    click.echo(f"{_shown(url)}: at revision {after} ({change})")


@db_group.command("current")
@database_option
@instance_option
def current(database: str | None, instance: Path | None) -> None:
    """The revision the database is at, and the newest there is."""
    from ..web import migrate
    from ..web.db import make_engine

    url = _url(database, instance)
    with _reached(url):
        at = migrate.current(make_engine(url))
    newest = migrate.head()
    state = "up to date" if at == newest else f"behind: run handcalc db upgrade to reach {newest}"
    click.echo(f"{_shown(url)}: at revision {at or 'none'} ({state})")
