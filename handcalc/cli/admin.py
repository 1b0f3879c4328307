"""``handcalc admin``: the grading service's courses, their instructors and API tokens.

Run on the server (or anywhere that reaches its database) by whoever holds the database: the
commands bring the schema up to date first, as every web process does on start. A password is
never an argument (it would sit in the shell's history and in ``ps``): it is asked for, or read
from standard input when that is not a terminal.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .database import _reached, _url, database_option, instance_option

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@click.group("admin")
def admin_group() -> None:
    """Courses, their instructors and API tokens of the grading service.

    \b
    Examples:
      handcalc admin create-course "ML 101"
      handcalc admin add-instructor ada@example.edu --course "ML 101"
      handcalc admin list-courses
      handcalc admin token --course "ML 101"
    """


@contextlib.contextmanager
def _database(database: str | None, instance: Path | None) -> Iterator[Session]:
    """A session on the service's database, its schema brought up to date."""
    from sqlalchemy.orm import Session

    from ..web import migrate
    from ..web.db import make_engine

    url = _url(database, instance)
    with _reached(url):
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
            with Session(engine, expire_on_commit=False) as session:
                yield session
        finally:
            engine.dispose()


def _password(login: str) -> str:
    """The new password: asked twice at a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        value: str = click.prompt(
            f"Password for {login}", hide_input=True, confirmation_prompt=True
        )
        return value
    line = sys.stdin.readline()
    if not line.strip():
        raise click.ClickException("no password on standard input (one line)")
    return line.rstrip("\r\n")


@admin_group.command("create-course")
@click.argument("name")
@database_option
@instance_option
def create_course(name: str, database: str | None, instance: Path | None) -> None:
    """Make a course NAME (its instructors are added with add-instructor)."""
    from ..web import courses

    with _database(database, instance) as session:
        course = courses.create_course(session, name)
        click.echo(f"course {course.id}: {course.name}")


@admin_group.command("add-instructor")
@click.argument("login")
@click.option("--course", "course_name", required=True, help="The course they teach.")
@click.option(
    "--new-password",
    is_flag=True,
    help="Give an existing instructor a new password (signs them out everywhere).",
)
@database_option
@instance_option
def add_instructor(
    login: str,
    course_name: str,
    new_password: bool,
    database: str | None,
    instance: Path | None,
) -> None:
    """Make LOGIN (a name or an e-mail address) an instructor of a course. A new instructor's
    password is asked for (at a terminal, twice) or read from standard input's first line, never
    given as an argument:

    \b
      handcalc admin add-instructor ada@example.edu --course "ML 101"
      printf '%s\\n' "$PASSWORD" | handcalc admin add-instructor ada --course "ML 101"
    """
    from ..web import courses

    with _database(database, instance) as session:
        course = courses.course_named(session, course_name)
        known = courses.instructor_named(session, login) is not None
        password = _password(login) if new_password or not known else None
        instructor, made = courses.add_instructor(session, login, course, password)
        state = "new account" if made else ("new password" if password else "existing account")
        click.echo(f"{instructor.login} teaches {course.name!r} ({state})")


@admin_group.command("remove-instructor")
@click.argument("login")
@click.option("--course", "course_name", help="Only from this course (else: close the account).")
@database_option
@instance_option
def remove_instructor(
    login: str, course_name: str | None, database: str | None, instance: Path | None
) -> None:
    """Take LOGIN off a course, or close their account (signed out at once, everywhere)."""
    from ..web import courses

    with _database(database, instance) as session:
        course = courses.course_named(session, course_name) if course_name else None
        click.echo(courses.remove_instructor(session, login, course))


@admin_group.command("list-courses")
@database_option
@instance_option
def list_courses(database: str | None, instance: Path | None) -> None:
    """Every course: its id, name, instructors, assignments and API tokens."""
    from ..web import courses

    with _database(database, instance) as session:
        lines = courses.course_lines(session)
    if not lines:
        click.echo("no courses")
    for line in lines:
        teachers = ", ".join(line.instructors) or "no instructor"
        click.echo(
            f"{line.id}\t{line.name}\t{teachers}\t{line.assignments} assignment"
            f"{'s' * (line.assignments != 1)}\t{line.tokens} API token{'s' * (line.tokens != 1)}"
        )


@admin_group.command("token")
@click.option("--course", "course_name", required=True, help="The course the token is for.")
@click.option("--revoke", is_flag=True, help="Remove every API token of the course instead.")
@database_option
@instance_option
def token(course_name: str, revoke: bool, database: str | None, instance: Path | None) -> None:
    """A new API token of a course, printed once (only its hash is kept): a program sends it as
    ``Authorization: Bearer <token>`` and sees that course's assignments only. Tokens made
    before stay valid until --revoke."""
    from ..web import courses

    with _database(database, instance) as session:
        course = courses.course_named(session, course_name)
        if revoke:
            gone = courses.revoke_tokens(session, course)
            click.echo(f"{gone} API token{'s' * (gone != 1)} of {course.name!r} revoked")
            return
        made = courses.new_token(session, course)
    click.echo(made)
    click.echo(f"(the API token of {course.name!r}; it is shown only now)", err=True)
