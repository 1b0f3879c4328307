"""The Celery app of queued jobs (``handcalc[scale]``): a task a student, the last step, and the
periodic removal of expired jobs. The work itself is :mod:`handcalc.jobs`'s, as in-process.

- ``acks_late`` (with ``task_reject_on_worker_lost``): a task's message is acknowledged when the
  task is over, so a worker killed in the middle of one leaves it to another worker (Redis gives
  it out again after the visibility timeout, ``HANDCALC_QUEUE_VISIBILITY_SECONDS``, 600 s by
  default: longer than any task may take).
- Retries with exponential backoff (1, 2, 4, 8 s…, at most 60, with jitter) for the storage's
  errors (``OSError``); a student's bad input is that student's failure, never retried.
- A soft time limit per task (the student is reported as failed) and a hard one (the process is
  killed and replaced).
- One prefetched task a process; ``handcalc worker`` starts Celery's worker with
  ``--max-tasks-per-child`` (WeasyPrint's memory grows with the sheets it renders).

Each worker takes the storage (``HANDCALC_STORAGE_URL``) and the secret key
(``HANDCALC_SECRET_KEY``) from its own environment; a message carries only a job id and a
student's place in it.
"""

from __future__ import annotations

import logging
import os
import random

from celery import Celery, Task
from celery.signals import worker_init

from . import jobs
from .storage import JobNotFound, open_storage

log = logging.getLogger(__name__)
# WeasyPrint tells each step of each PDF at INFO: thousands of lines a job in a worker's log
logging.getLogger("weasyprint").setLevel(logging.WARNING)

QUEUE = "handcalc"
VISIBILITY_ENV = "HANDCALC_QUEUE_VISIBILITY_SECONDS"
VISIBILITY_SECONDS = 600
#: a student's sheets take 0.2-2 s; the soft limit reports the student, the hard one kills
SOFT_SECONDS = 120
HARD_SECONDS = 180
#: the last step merges every key and zips every PDF (10 s for 1,000 students); both limits
#: stay below the visibility timeout, or a slow last step would be handed to a second worker
FINISH_SOFT_SECONDS = 500
FINISH_HARD_SECONDS = 560
MAX_RETRIES = 5
BACKOFF_MAX_SECONDS = 60
#: how often a worker started with --cleanup removes expired jobs
CLEANUP_SECONDS = 3600.0

app = Celery("handcalc")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,  # progress lives in the storage, not in a result backend
    task_default_queue=QUEUE,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    beat_schedule={
        "remove-expired-jobs": {"task": "handcalc.cleanup", "schedule": CLEANUP_SECONDS}
    },
)


@worker_init.connect
def _warm(**_: object) -> None:
    """The worker's main process loads sympy, the kinds and WeasyPrint (a tiny page rendered)
    before its pool forks: every process of the pool, and each one that replaces a process
    after ``--max-tasks-per-child`` tasks, starts warm (1-2 s a process otherwise)."""
    from . import api
    from .batch import _warm as render_a_tiny_page

    api.generate(seed=0)
    render_a_tiny_page()


def configure(url: str) -> Celery:
    """Point the app at the broker ``url`` (``redis://host:port/db``)."""
    visibility = int(os.environ.get(VISIBILITY_ENV) or VISIBILITY_SECONDS)
    app.conf.update(
        broker_url=url,
        broker_transport_options={
            "visibility_timeout": visibility,
            # look for tasks a dead worker held every few seconds (kombu's default: every
            # 10th look of one each 10 s)
            "unacked_restore_interval": max(1, min(10, visibility // 2)),
            "unacked_restore_throttle": 1,
        },
    )
    return app


def backoff(retries: int) -> float:
    """Seconds before retry ``retries`` + 1: 1, 2, 4, … at most 60, with up to 1 s of jitter."""
    return float(min(BACKOFF_MAX_SECONDS, 2**retries)) + random.random()


@app.task(
    bind=True,
    name="handcalc.student",
    acks_late=True,
    max_retries=MAX_RETRIES,
    soft_time_limit=SOFT_SECONDS,
    time_limit=HARD_SECONDS,
)
def student_task(self: Task, job_id: str, index: int) -> None:
    """One student's sheets; the student who completes the job starts its last step."""
    storage = open_storage()
    delivery = self.request.delivery_info or {}
    redelivered = bool(delivery.get("redelivered")) or bool(self.request.retries)
    try:
        again = storage.has_outcome(job_id, index)  # done before: a redelivered message
        if again:
            complete = jobs.is_complete(storage, job_id)
        else:
            complete = jobs.run_student(storage, job_id, index)
    except JobNotFound:
        log.error("job %s is not in %s: do the workers share the storage?", job_id, storage.url)
        return
    except OSError as e:
        if self.request.retries < MAX_RETRIES:
            raise self.retry(exc=e, countdown=backoff(self.request.retries)) from None
        jobs.fail(storage, job_id, index, f"the storage kept failing: {e}")
        complete = jobs.is_complete(storage, job_id)
        again = True
    # one claim starts the last step; a task that ran before (its worker died) may start it
    # again, which is harmless: the last step does nothing for a finished job
    if complete and (storage.claim(job_id, "finish") or again or redelivered):
        finish_task.apply_async((job_id,))


@app.task(
    bind=True,
    name="handcalc.finish",
    acks_late=True,
    max_retries=MAX_RETRIES,
    soft_time_limit=FINISH_SOFT_SECONDS,
    time_limit=FINISH_HARD_SECONDS,
)
def finish_task(self: Task, job_id: str) -> None:
    """The class key and the zip of a job whose students are all done or failed."""
    try:
        jobs.finish(open_storage(), job_id)
    except JobNotFound:
        log.error("job %s is gone before its last step", job_id)
    except OSError as e:
        raise self.retry(exc=e, countdown=backoff(self.request.retries)) from None


@app.task(name="handcalc.cleanup")
def cleanup_task() -> list[str]:
    """Remove the jobs past their retention time (``HANDCALC_JOB_RETENTION_HOURS``)."""
    removed = open_storage().remove_expired()
    if removed:
        log.info("removed %d expired job(s)", len(removed))
    return removed


def send_job(url: str, job_id: str, total: int) -> None:
    """Send the tasks of a job's ``total`` students to the broker at ``url``, on one connection
    of its own (the queue declared first: tasks sent before any worker started are kept)."""
    configure(url)
    with app.connection_for_write(url) as connection:
        # a broker that is down fails in about a second (the default retries for longer)
        connection.ensure_connection(max_retries=2, interval_start=0.2, interval_step=0.3)
        app.amqp.queues[QUEUE].bind(connection.default_channel).declare()
        producer = app.amqp.Producer(connection)
        for index in range(total):
            student_task.apply_async((job_id, index), producer=producer)


def worker_argv(
    concurrency: int | None, max_tasks_per_child: int, loglevel: str, schedule: str | None
) -> list[str]:
    """Celery's worker command line for ``handcalc worker``; with a ``schedule`` file, the
    worker runs Celery beat too, which removes expired jobs every hour."""
    argv = [
        "worker",
        "--queues",
        QUEUE,
        "--max-tasks-per-child",
        str(max_tasks_per_child),
        "--loglevel",
        loglevel,
        "--without-gossip",
        "--without-mingle",
    ]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    if schedule:
        argv += ["--beat", "--schedule", schedule]
    return argv
