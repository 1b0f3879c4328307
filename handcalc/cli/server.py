"""``handcalc serve``: the grading site for a class, on this machine."""

from __future__ import annotations

from pathlib import Path

import click

from .types import Whole


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 lets the class's machines reach it.",
)
@click.option(
    "--port",
    type=Whole(1, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--db",
    metavar="URL",
    envvar="HANDCALC_DATABASE_URL",
    help="Database URL [env HANDCALC_DATABASE_URL; default: an SQLite file in the "
    "instance folder], e.g. postgresql+psycopg://user:pw@host/handcalc.",
)
@click.option(
    "--workers", type=Whole(1, 64), default=2, show_default=True, help="Worker processes."
)
@click.option(
    "--instance",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="HANDCALC_INSTANCE",
    help="Folder for the SQLite file, the secret key and the instructor token "
    "[env HANDCALC_INSTANCE].",
)
def serve(host: str, port: int, db: str | None, workers: int, instance: Path | None) -> None:
    """Run the grading site for a class on this machine (gunicorn).

    The secret key and the instructor token are made on first start and kept in the instance
    folder, so students' links keep working after a restart; the token is printed at start.
    For a production server use gunicorn directly (see the README).

    \b
    Examples:
      handcalc serve
      handcalc serve --host 0.0.0.0 --port 8080
      handcalc serve --db postgresql+psycopg://handcalc@localhost/handcalc
    """
    from ..web.config import ConfigError
    from ..web.serve import run

    try:
        run(host, port, db, workers, instance)
    except ConfigError as e:  # the site's settings, not a HandcalcError: said here
        raise click.ClickException(str(e)) from None
