"""A class's PDFs as a job: one task a student, then a last step that writes the class key and
one zip of every PDF.

A job is made in a storage location (:mod:`handcalc.storage`) and then either sent to a queue
(Celery on Redis, :mod:`handcalc.tasks`: ``HANDCALC_QUEUE_URL``) or run here, in this process,
by the same functions (``run_inline``): one machine needs no Redis. The work of one student is
``handcalc.batch.render_student``, the same that ``handcalc batch`` runs in its process pool, so
a job writes the same files.

A student whose options make no problem (or whose sheets fail for another reason of their own)
is recorded as that student's failure, with the error, and the others go on; errors of the
storage (``OSError``) are left to the caller, which retries (the task, with backoff). The
process that records the last student's outcome starts the last step (``finish``). Progress
(total / done / failed, with each failing student's error) is read from the storage by any
process: the web service, ``handcalc batch --queue``, a worker.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
import os
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .batch import StudentJob, redraw_duplicates, render_student
from .class_key import CLASS_KEY, CLASS_KEY_TITLE, write_class_key
from .errors import HandcalcError
from .roster import Sheets, Student
from .storage import RESULT, Storage, write_json
from .storage import JobNotFound as JobNotFound
from .verify import secret_key

log = logging.getLogger(__name__)

QUEUE_ENV = "HANDCALC_QUEUE_URL"
VERSION = 1
MODES = ("worksheet", "key", "solutions")


def queue_url(url: str | None = None) -> str | None:
    """The queue in force: ``url``, else ``HANDCALC_QUEUE_URL``, else none (run in-process)."""
    return url or os.environ.get(QUEUE_ENV) or None


def secret_check(secret: bytes) -> str:
    """What a job keeps of its secret: enough for a worker to tell that it has the same one,
    nothing that gives the secret away (an HMAC of a fixed message)."""
    return hmac.new(secret, b"handcalc.jobs.secret-check", hashlib.sha256).hexdigest()[:32]


# --- making a job -----------------------------------------------------------------------------


def new_job(
    storage: Storage,
    students: Sequence[Student],
    *,
    kind: str = "mlp",
    options: dict[str, Any] | None = None,
    secret: str | bytes | None = None,
    paper: str = "a4",
    date: str | None = None,
    solutions: bool = False,
    orientation: str = "auto",
    mono: bool = False,
    seeds: Sequence[int] | None = None,
    stems: Sequence[str] | None = None,
    title: str | None = None,
    owner: str | None = None,
    class_key_title: str = CLASS_KEY_TITLE,
    zip_root: str = "sheets",
) -> str:
    """A new job in ``storage`` for ``students`` (nothing runs yet: ``send`` or ``run_inline``);
    its id. Options are checked here, once. ``seeds``, ``stems`` and ``title`` make the web
    service's sheets (its seeds, file names and titles); ``owner`` is the caller's tag (the web
    keeps the assignment there). Jobs past their retention time are removed first."""
    from . import kinds

    options = dict(options or {})
    kinds.get(kind).Options.from_options(options)  # a bad option fails here, not in every task
    if not students:
        raise HandcalcError("a job needs at least one student")
    try:
        storage.remove_expired()
    except OSError as e:  # another process removing the same folder: not this job's business
        log.warning("removing expired jobs: %s", e)
    rows: list[dict[str, Any]] = []
    for i, s in enumerate(students):
        row: dict[str, Any] = {"id": s.id, "name": s.name}
        if seeds is not None:
            row["seed"] = int(seeds[i])
        if stems is not None:
            row["stem"] = stems[i]
        rows.append(row)
    job_id = storage.new_job_id()
    storage.create(
        job_id,
        {
            "version": VERSION,
            "id": job_id,
            "created": time.time(),
            "owner": owner,
            "kind": kind,
            "options": options,
            "paper": paper,
            "date": date,
            "solutions": solutions,
            "orientation": orientation,
            "mono": mono,
            "title": title,
            "class_key_title": class_key_title,
            "zip_root": zip_root,
            "secret_check": secret_check(secret_key(secret)),
            "students": rows,
        },
    )
    return job_id


class QueueUnavailable(HandcalcError):
    """The broker cannot be reached: nothing was sent (or not all of it)."""


def send(storage: Storage, job_id: str, url: str) -> None:
    """Send every student's task of the job to the queue at ``url`` (needs ``handcalc[scale]``);
    ``QueueUnavailable`` when the broker cannot be reached."""
    try:
        from kombu.exceptions import OperationalError

        from .tasks import send_job
    except ImportError as e:
        raise HandcalcError(
            f"a queue needs Celery and the Redis client: pip install 'handcalc[scale]' ({e})"
        ) from None
    try:
        send_job(url, job_id, len(storage.manifest(job_id)["students"]))
    except (OperationalError, OSError) as e:
        raise QueueUnavailable(
            f"the job queue cannot be reached ({e}); is its Redis server running?"
        ) from None


def run_inline(
    storage: Storage,
    job_id: str,
    secret: str | bytes | None = None,
    between: Callable[[], None] | None = None,
) -> None:
    """Run the job here: every student not done yet, then the last step. ``between`` is called
    after each student (the web service lets its other requests run there)."""
    total = len(storage.manifest(job_id)["students"])
    for index in range(total):
        if not storage.has_outcome(job_id, index):
            run_student(storage, job_id, index, secret)
        if between:
            between()
    finish(storage, job_id, secret)


# --- one student ------------------------------------------------------------------------------


def _student_job(manifest: dict[str, Any], index: int, out: Path, secret: bytes) -> StudentJob:
    row = manifest["students"][index]
    return StudentJob(
        Student(row["id"], row["name"]),
        out,
        manifest["kind"],
        dict(manifest["options"]),
        secret,
        manifest["paper"],
        manifest["date"],
        0,
        manifest["solutions"],
        manifest["orientation"],
        manifest["mono"],
        row.get("seed"),
        manifest["title"],
        row.get("stem"),
    )


def _failure_text(e: Exception) -> str:
    if type(e).__name__ == "SoftTimeLimitExceeded":
        return "making the sheets took longer than the task's time limit"
    if isinstance(e, HandcalcError):
        return str(e)
    return f"internal error ({type(e).__name__}: {e})"


def run_student(
    storage: Storage, job_id: str, index: int, secret: str | bytes | None = None
) -> bool:
    """Make student ``index``'s sheets and record the outcome (done, or failed with the error);
    True when every student of the job has an outcome now. ``OSError`` (the storage) is raised
    for the caller to retry; ``secret`` is this process's (``HANDCALC_SECRET_KEY`` unless
    given), which must be the job's."""
    manifest = storage.manifest(job_id)
    key = secret_key(secret)
    job = _student_job(manifest, index, storage.files(job_id), key)
    if not hmac.compare_digest(secret_check(key), manifest["secret_check"]):
        fail(
            storage,
            job_id,
            index,
            "this worker's secret key (HANDCALC_SECRET_KEY) is not the "
            "one the job was made with: give the workers the same secret as the web service",
        )
        return is_complete(storage, job_id, len(manifest["students"]))
    try:
        sheets = render_student(job)
    except OSError:
        raise
    except Exception as e:  # the student's own failure: reported, and the others go on
        if not isinstance(e, HandcalcError):
            log.exception("job %s: the sheets of student %d failed", job_id, index)
        for mode in MODES:
            job.path(mode).unlink(missing_ok=True)
        fail(storage, job_id, index, _failure_text(e))
    else:
        storage.put_outcome(
            job_id,
            index,
            True,
            {
                "seed": sheets.seed,
                "code": sheets.code,
                "fingerprint": sheets.fingerprint,
                "key_pages": sheets.key_pages,
                "files": [p.name for p in (sheets.worksheet, sheets.key, sheets.solutions) if p],
            },
        )
    return is_complete(storage, job_id, len(manifest["students"]))


def fail(storage: Storage, job_id: str, index: int, error: str) -> None:
    """Record student ``index``'s failure (the others go on)."""
    row = storage.manifest(job_id)["students"][index]
    entry = {"id": row["id"], "name": row["name"], "error": error}
    storage.put_outcome(job_id, index, False, entry)


def is_complete(storage: Storage, job_id: str, total: int | None = None) -> bool:
    """Whether every student of the job (``total``, read from its manifest unless given) has an
    outcome."""
    if total is None:
        total = len(storage.manifest(job_id)["students"])
    return len({n[:5] for n in storage.outcome_names(job_id)}) >= total


# --- the last step ----------------------------------------------------------------------------


def finish(storage: Storage, job_id: str, secret: str | bytes | None = None) -> None:
    """The class key of the students done, one zip of every PDF and the class key, and the mark
    that the job is finished (done again, it changes nothing: a redelivered task)."""
    if storage.finished(job_id) is not None:
        return
    manifest = storage.manifest(job_id)
    files = storage.files(job_id)
    key = secret_key(secret)
    jobs: list[StudentJob] = []
    done: list[Sheets] = []
    failed: list[int] = []
    for index, row in enumerate(manifest["students"]):
        try:
            outcome = storage.outcome(job_id, f"{index:05d}.ok.json")
        except FileNotFoundError:
            failed.append(index)
            continue
        job = _student_job(manifest, index, files, key)
        jobs.append(job)
        done.append(
            Sheets(
                Student(row["id"], row["name"]),
                outcome["seed"],
                outcome["code"],
                job.path("worksheet"),
                job.path("key"),
                outcome["fingerprint"],
                job.path("solutions") if manifest["solutions"] else None,
                outcome["key_pages"],
            )
        )
    redraw_duplicates(done, jobs, render_student)  # as handcalc batch does: the same files
    day = manifest["date"] or datetime.date.today().isoformat()
    if done:
        write_class_key(
            done,
            files / CLASS_KEY,
            paper=manifest["paper"],
            date=day,
            title=manifest["class_key_title"],
        )
    root = manifest["zip_root"]
    fd, tmp = tempfile.mkstemp(dir=storage.folder(job_id), prefix=".tmp-", suffix=".zip")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            for sheets in done:
                for path in (sheets.worksheet, sheets.key, sheets.solutions):
                    if path is not None:
                        archive.write(path, f"{root}/{path.name}")
            if done:
                archive.write(files / CLASS_KEY, f"{root}/{CLASS_KEY}")
            if failed:
                lines = [
                    f"{e['name'] or e['id']} (id {e['id']}): {e['error']}"
                    for e in progress(storage, job_id).failed
                ]
                text = "Not in this zip:\n" + "\n".join(lines) + "\n"
                archive.writestr(f"{root}/not-included.txt", text)
        os.replace(tmp, storage.result(job_id))
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    write_json(
        storage.folder(job_id) / "finished.json",
        {"finished": time.time(), "done": len(done), "failed": len(failed), "result": RESULT},
    )


# --- progress ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """Where a job stands: read from its storage by any process."""

    id: str
    total: int
    done: int
    #: the students who failed, in roster order: ``{"index", "id", "name", "error"}``
    failed: list[dict[str, Any]] = field(default_factory=list)
    finished: bool = False
    owner: str | None = None
    created: float = 0.0

    @property
    def state(self) -> str:
        """``running`` until the last step is done, then ``finished``."""
        return "finished" if self.finished else "running"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "total": self.total,
            "done": self.done,
            "failed": len(self.failed),
            "failures": [
                {"student": f["id"], "name": f["name"], "error": f["error"]} for f in self.failed
            ],
        }


def progress(storage: Storage, job_id: str) -> Progress:
    """The job's progress (``JobNotFound`` for an unknown or removed job)."""
    manifest = storage.manifest(job_id)
    names = storage.outcome_names(job_id)
    ok = {n[:5] for n in names if n.endswith(".ok.json")}
    failed = []
    for name in sorted(n for n in names if n.endswith(".failed.json")):
        if name[:5] in ok:
            continue  # replaced by a later success (a retried task)
        try:
            entry = storage.outcome(job_id, name)
        except (FileNotFoundError, ValueError):
            continue  # replaced while we looked
        failed.append({"index": int(name[:5]), **entry})
    return Progress(
        job_id,
        len(manifest["students"]),
        len(ok),
        failed,
        storage.finished(job_id) is not None,
        manifest.get("owner"),
        float(manifest.get("created", 0)),
    )


def wait(
    storage: Storage,
    job_id: str,
    on_progress: Callable[[Progress], None] | None = None,
    poll: float = 0.25,
    timeout: float | None = None,
) -> Progress:
    """Wait until the job is finished, calling ``on_progress`` at each look; the last progress.
    ``TimeoutError`` after ``timeout`` seconds (none: wait for as long as it takes)."""
    start = time.monotonic()
    while True:
        now = progress(storage, job_id)
        if on_progress:
            on_progress(now)
        if now.finished:
            return now
        if timeout is not None and time.monotonic() - start > timeout:
            raise TimeoutError(
                f"job {job_id}: {now.done + len(now.failed)} of {now.total} students after "
                f"{timeout:g} s; are workers running on the same queue and storage?"
            )
        time.sleep(poll)
