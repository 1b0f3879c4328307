"""The ``handcalc`` command line. Heavy imports (sympy) wait inside commands: --help is fast.

group.py      the group: the library's errors become click's, once
types.py      parameter types: whole numbers, names, CELL=W, a registered kind
params.py     option groups: a kind's options (generated), how a sheet is written out
output.py     results to standard output or files, progress on standard error
problems.py   generate, solve, kinds
export.py     export (questions for quiz engines)
grading.py    grade
classroom.py  batch
admin.py      admin: courses, instructors, API tokens
worker.py     worker (queued class PDFs)
server.py     serve
training.py   trace, health
"""

from __future__ import annotations

import sys

import click

from .admin import admin_group
from .classroom import batch
from .database import db_group
from .export import export_command
from .grading import grade
from .group import HandcalcGroup
from .lti import lti_group
from .problems import generate, kinds_command, solve
from .server import serve
from .training import health_command, trace_command
from .worker import worker


@click.group(cls=HandcalcGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="handcalc")
def cli() -> None:
    """Backpropagation by hand: exact exercises, worksheets, answer keys and grading.

    \b
    handcalc generate --seed 7                    a problem and its answer key, as JSON
    handcalc generate --seed 7 --format pdf -o w.pdf      the worksheet (--key: the answer key)
    handcalc batch roster.csv --out sheets/       a worksheet and a key for every student
    handcalc export --format moodle --seed 7 -o q.xml      quiz questions (qti21, qti12, moodle)
    handcalc solve my_problem.json                solve a problem you typed yourself
    handcalc grade problem.json answers.json      grade a student's answers, cell by cell
    handcalc trace --seed 7 --out trace7/         every weight and bias over 200 epochs, plots
    handcalc health --out health/                 a deep network's health from three starts
    handcalc kinds                                the kinds of exercise --kind takes
    handcalc serve                                the grading site for a class
    handcalc db upgrade                           the site's database schema, brought up to date
    handcalc admin list-courses                   the site's courses, instructors, API tokens
    handcalc lti platforms                        the learning platforms it serves (LTI 1.3)
    handcalc COMMAND --help                       the options of a command
    """


for command in (
    generate,
    solve,
    kinds_command,
    export_command,
    grade,
    batch,
    serve,
    db_group,
    admin_group,
    lti_group,
    trace_command,
    health_command,
    worker,
):
    cli.add_command(command)


def main() -> None:
    """Entry point: user errors are one line and exit 1; nothing prints a traceback."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except OSError as e:
        click.echo(f"Error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), err=True)
        sys.exit(1)
    except Exception as e:  # a bug of ours: still one line, and a way to report it
        click.echo(f"Error: internal error ({type(e).__name__}: {e}); please report it", err=True)
        sys.exit(70)


__all__ = ["cli", "main"]
