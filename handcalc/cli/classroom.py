"""``handcalc batch``: a worksheet and a key for every student of a roster, and a class key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .output import count, stderr_console
from .params import ORIENTATIONS, PAPERS, chosen, kind_option, kind_options
from .types import Whole


@click.command()
@click.argument("roster", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for the PDFs (created if missing).",
)
@kind_option
@kind_options
@click.option(
    "--paper", type=click.Choice(PAPERS), default="a4", show_default=True, help="Paper size."
)
@click.option(
    "--secret",
    envvar="HANDCALC_SECRET_KEY",
    metavar="TEXT",
    help="Secret that derives each student's variant and code [env HANDCALC_SECRET_KEY].",
)
@click.option("--workers", type=Whole(1, 256), default=None, help="Processes [all cores].")
@click.option(
    "--solutions",
    is_flag=True,
    help="Worked solutions for every student too (OUT/ID-solutions.pdf).",
)
@click.option(
    "--orientation",
    type=click.Choice(ORIENTATIONS),
    default="auto",
    show_default=True,
    help="Page orientation; auto: whichever takes fewer pages.",
)
@click.option("--mono", is_flag=True, help="Black and grey instead of colour (photocopiers).")
@click.option(
    "--queue",
    metavar="URL",
    envvar="HANDCALC_QUEUE_URL",
    help="Send the work to the Celery workers of this broker (redis://HOST:PORT/DB; see "
    "handcalc worker) and wait for it [env HANDCALC_QUEUE_URL; default: this machine's "
    "processes].",
)
@click.option(
    "--storage",
    metavar="URL",
    envvar="HANDCALC_STORAGE_URL",
    help="With --queue: where the workers put the files, a folder they all mount "
    "[env HANDCALC_STORAGE_URL; default file:///TMP/handcalc-jobs].",
)
def batch(
    roster: Path,
    out: Path,
    kind: str,
    paper: str,
    secret: str | None,
    workers: int | None,
    solutions: bool,
    orientation: str,
    mono: bool,
    queue: str | None,
    storage: str | None,
    **options: Any,
) -> None:
    """A worksheet and an answer key for every student of ROSTER, and one class key.

    ROSTER is a CSV file (UTF-8) with a header line naming an "id" column and, optionally, a
    "name" column. Each student gets their own variant, derived from their ID and the secret
    (HMAC), so the same roster and secret give the same sheets again and nobody can guess a
    classmate's problem. Every sheet prints the student's name and ID. Writes
    OUT/ID-worksheet.pdf, OUT/ID-key.pdf (with --solutions OUT/ID-solutions.pdf too) and
    OUT/class-key.pdf: an index of the class (name, ID, code, page) sorted by name, then the keys.

    \b
    Examples:
      python3 -c 'import secrets; print(secrets.token_urlsafe(32))' > ~/.handcalc-secret
      export HANDCALC_SECRET_KEY="$(cat ~/.handcalc-secret)"   # keep it: same sheets again
      handcalc batch roster.csv --out sheets/
      handcalc batch roster.csv --out sheets/ --sizes 2,3,2 --reduction mean --paper letter
      handcalc batch roster.csv --out sheets/ --solutions --mono
      handcalc batch roster.csv --out sheets/ --queue redis://127.0.0.1:6379/0
    """
    from ..batch import make_batch, read_roster

    warn_about_secret(secret)
    students = read_roster(roster)
    if queue:
        queued(
            students,
            out,
            queue,
            storage,
            kind,
            secret,
            paper,
            solutions,
            orientation,
            mono,
            chosen(options),
        )
        return
    # refreshed by hand, not by rich's thread: the worker processes are forked from here
    with _bar() as bar:
        task = bar.add_task("sheets", total=len(students))

        def advance(_: Any) -> None:
            bar.advance(task)
            bar.refresh()

        done = make_batch(
            students,
            out,
            kind=kind,
            secret=secret,
            paper=paper,
            workers=workers,
            progress=advance,
            solutions=solutions,
            orientation=orientation,
            mono=mono,
            **chosen(options),
        )
    click.echo(
        f"wrote {(3 if solutions else 2) * len(done)} sheets for "
        f"{count(len(done), 'student')} and {out / 'class-key.pdf'}",
        err=True,
    )


def _bar() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=stderr_console(),
        auto_refresh=False,
    )


#: seconds without a single student done before the batch says what it waits for
NO_WORKER_SECONDS = 60


def queued(
    students: list[Any],
    out: Path,
    queue: str,
    storage: str | None,
    kind: str,
    secret: str | None,
    paper: str,
    solutions: bool,
    orientation: str,
    mono: bool,
    options: dict[str, Any],
) -> None:
    """The batch as a job on the queue: sent, waited for with a progress bar, its files copied
    to ``out`` (the same files as without the queue) and removed from the storage."""
    import datetime
    import shutil
    import time

    from ..errors import HandcalcError
    from ..jobs import Progress as JobProgress
    from ..jobs import new_job, send, wait
    from ..storage import open_storage

    store = open_storage(storage)
    job_id = new_job(
        store,
        students,
        kind=kind,
        options=options,
        secret=secret,
        paper=paper,
        date=datetime.date.today().isoformat(),
        solutions=solutions,
        orientation=orientation,
        mono=mono,
    )
    try:
        send(store, job_id, queue)
    except HandcalcError:
        store.remove(job_id)
        raise
    started, told = time.monotonic(), False
    with _bar() as bar:
        task = bar.add_task("sheets", total=len(students))

        def show(now: JobProgress) -> None:
            nonlocal told
            seen = now.done + len(now.failed)
            bar.update(task, completed=seen)
            bar.refresh()
            if not seen and not told and time.monotonic() - started > NO_WORKER_SECONDS:
                told = True
                bar.console.print(
                    f"no student done after {NO_WORKER_SECONDS} s: is a worker running "
                    "(handcalc worker --queue URL, with the same storage)?"
                )

        last = wait(store, job_id, show)
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(store.files(job_id).iterdir()):
        if not path.name.startswith("."):
            shutil.copyfile(path, out / path.name)
    store.remove(job_id)
    for f in last.failed:
        click.echo(f"failed: {f['name'] or f['id']} (id {f['id']}): {f['error']}", err=True)
    if last.failed:
        raise click.ClickException(
            f"{count(len(last.failed), 'student')} failed (above); the sheets of the other "
            f"{last.done} and {out / 'class-key.pdf'} are written"
        )
    click.echo(
        f"wrote {(3 if solutions else 2) * last.done} sheets for "
        f"{count(last.done, 'student')} and {out / 'class-key.pdf'}",
        err=True,
    )


def warn_about_secret(secret: str | None) -> None:
    """A warning on standard error when there is no secret, or a weak one."""
    if not secret:
        click.echo(
            "warning: no secret (set HANDCALC_SECRET_KEY or --secret); variants and codes "
            "use the development key, which anyone can reproduce",
            err=True,
        )
        return
    from ..strength import MIN_SECRET_BITS, MIN_SECRET_CHARS, weakness

    why = weakness(secret, MIN_SECRET_CHARS, MIN_SECRET_BITS)
    if why:
        click.echo(
            f"warning: the secret is weak ({why}): whoever guesses it can compute every "
            "student's variant and forge codes; make one with python3 -c 'import secrets; "
            "print(secrets.token_urlsafe(32))' (sheets made with the old one stay as they are)",
            err=True,
        )
