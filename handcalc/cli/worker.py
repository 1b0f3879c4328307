"""``handcalc worker``: a Celery worker for queued class PDFs (a thin wrapper over Celery's own)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from .types import Whole


@click.command("worker")
@click.option(
    "--queue",
    "queue",
    metavar="URL",
    envvar="HANDCALC_QUEUE_URL",
    required=True,
    help="The broker, e.g. redis://127.0.0.1:6379/0 [env HANDCALC_QUEUE_URL].",
)
@click.option(
    "--storage",
    metavar="URL",
    envvar="HANDCALC_STORAGE_URL",
    help="Where jobs' files live, the same for every worker and the web service "
    "[env HANDCALC_STORAGE_URL; default file:///TMP/handcalc-jobs].",
)
@click.option("--concurrency", type=Whole(1, 256), default=None, help="Processes [all cores].")
@click.option(
    "--max-tasks-per-child",
    type=Whole(1, 100_000),
    default=100,
    show_default=True,
    help="Tasks a process runs before it is replaced (WeasyPrint's memory grows).",
)
@click.option(
    "--loglevel",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
@click.option(
    "--cleanup",
    is_flag=True,
    help="Also remove jobs past HANDCALC_JOB_RETENTION_HOURS (24) every hour (Celery beat); "
    "run one worker with it.",
)
def worker(
    queue: str,
    storage: str | None,
    concurrency: int | None,
    max_tasks_per_child: int,
    loglevel: str,
    cleanup: bool,
) -> None:
    """A worker that renders the students' sheets of queued jobs (handcalc batch --queue, and
    the web service with HANDCALC_QUEUE_URL). Start as many as you like, on any machine that
    reaches the broker and mounts the storage; give them the web service's
    HANDCALC_SECRET_KEY.

    \b
    Example:
      export HANDCALC_SECRET_KEY=... HANDCALC_STORAGE_URL=file:///srv/handcalc/jobs
      handcalc worker --queue redis://127.0.0.1:6379/0 --concurrency 2
    """
    try:
        from ..tasks import configure, worker_argv
    except ImportError as e:
        raise click.ClickException(
            f"the worker needs Celery and the Redis client: pip install 'handcalc[scale]' ({e})"
        ) from None
    from ..storage import open_storage

    if storage:
        os.environ["HANDCALC_STORAGE_URL"] = storage  # the tasks read it, in every process
    open_storage()  # a bad URL fails now, not in every task
    schedule = None
    if cleanup:
        folder = Path(tempfile.mkdtemp(prefix="handcalc-beat-"))
        schedule = str(folder / "schedule")
    app = configure(queue)
    app.worker_main(worker_argv(concurrency, max_tasks_per_child, loglevel, schedule))
