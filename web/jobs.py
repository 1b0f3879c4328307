"""An assignment's class PDFs as a job (:mod:`handcalc.jobs`): every student's worksheet, key and
worked solutions, the class key, one zip; asked for on the instructor API and pages, with a
progress that refreshes itself and the download when it is done.

With ``HANDCALC_QUEUE_URL`` the job's tasks go to the Celery workers (``handcalc worker``);
without it they run here, in a thread of this process that lets the other requests run between
students (one such job at a time a process). The job's files and its progress live in the
storage (``HANDCALC_STORAGE_URL``, a folder this process and every worker mount), never in the
database. A job's id is random, and it is reached under its own assignment only: another
assignment's URL with the id is a 404, as is an unknown or expired one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select
from werkzeug.exceptions import ServiceUnavailable
from werkzeug.wrappers import Response as BaseResponse

from handcalc import jobs
from handcalc.roster import Student as RosterStudent
from handcalc.storage import JobNotFound, Storage, open_storage

from . import access, db, handout
from .api import json_only
from .auth import instructor_token, signed_in
from .bodies import json_object
from .models import Assignment, Student
from .tokens import variant_seed

log = logging.getLogger(__name__)

api = Blueprint("jobs_api", __name__, url_prefix="/api/v1/assignments")
api.before_request(json_only)
pages = Blueprint("jobs", __name__, url_prefix="/instructor/assignments")

#: seconds between the job page's refreshes while it runs
REFRESH_SECONDS = 2
#: one in-process job at a time in each web process (without a queue): the others wait
_HERE = threading.BoundedSemaphore(1)
#: an in-process job's runner writes its heartbeat this often (between students, and while it
#: waits for its turn); one not heard of for STALE_SECONDS died with its process (a restart)
HEARTBEAT_SECONDS = 30
STALE_SECONDS = 600
HEARTBEAT = "heartbeat"
ABANDONED = "abandoned"


def init_app(app: Flask) -> None:
    """Register the API (CSRF-exempt: bearer tokens, never cookies) and the pages."""
    app.register_blueprint(api)
    app.register_blueprint(pages)
    app.extensions["csrf"].exempt(api)


# --- making a job -----------------------------------------------------------------------------


def storage() -> Storage:
    return open_storage(current_app.config.get("STORAGE_URL") or None)


def queue() -> str | None:
    return jobs.queue_url(current_app.config.get("QUEUE_URL") or None)


def owner(row: Assignment) -> str:
    return f"assignment:{row.id}"


def start(row: Assignment, paper: str) -> str:
    """A job of ``row``'s roster (every student's worksheet, key and worked solutions, as the
    gradebook's single downloads make them), sent to the queue or started here; its id."""
    students = (
        db.session()
        .execute(
            select(Student.id, Student.name)
            .where(Student.assignment_id == row.id)
            .order_by(Student.id)
        )
        .all()
    )
    if not students:
        abort(404, f"assignment {row.id} has no students yet: add them to the roster first")
    secret = access.secret()
    where = storage()
    job_id = jobs.new_job(
        where,
        [RosterStudent(str(sid), name) for sid, name in students],
        kind=row.kind,
        options=row.spec,
        secret=secret,
        paper=paper,
        solutions=True,
        seeds=[variant_seed(secret, row.id, name) for _, name in students],
        stems=[handout.stem(sid, name) for sid, name in students],
        title=row.title,
        owner=owner(row),
        class_key_title=f"{row.title} — class answer key",
        zip_root=f"assignment-{row.id}",
    )
    url = queue()
    if url:
        try:
            jobs.send(where, job_id, url)
        except jobs.QueueUnavailable:
            where.remove(job_id)
            log.exception("job %s: the queue cannot be reached", job_id)
            raise ServiceUnavailable(
                "the job queue cannot be reached; nothing was started, try again in a minute",
                retry_after=60,
            ) from None
    else:
        _beat(where, job_id)
        threading.Thread(
            target=_run_here, args=(where, job_id, secret), name="handcalc-job", daemon=True
        ).start()
    return job_id


def _beat(where: Storage, job_id: str) -> None:
    """The in-process runner is alive (the time, in the job's folder every process reads)."""
    (where.folder(job_id) / HEARTBEAT).write_text(f"{time.time()}\n", encoding="utf-8")


def _heard(where: Storage, job_id: str) -> float | None:
    try:
        return float((where.folder(job_id) / HEARTBEAT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _run_here(where: Storage, job_id: str, secret: str) -> None:
    while not _HERE.acquire(timeout=HEARTBEAT_SECONDS):  # another job's turn: still alive
        _beat(where, job_id)
    try:
        _run_turn(where, job_id, secret)
    finally:
        _HERE.release()


def _run_turn(where: Storage, job_id: str, secret: str) -> None:
    def between() -> None:
        handout.let_others_run()
        _beat(where, job_id)

    try:
        jobs.run_inline(where, job_id, secret, between=between)
    except Exception as e:  # the job must end, or its page would wait for ever
        log.exception("job %s failed", job_id)
        _end(where, job_id, secret, f"the service failed ({type(e).__name__})")


def _end(where: Storage, job_id: str, secret: str, why: str) -> None:
    """End a job that cannot go on: every student not done fails with ``why``, and the zip is
    made of the others."""
    try:
        total = len(where.manifest(job_id)["students"])
        for index in range(total):
            if not where.has_outcome(job_id, index):
                jobs.fail(where, job_id, index, why)
        jobs.finish(where, job_id, secret)
    except Exception:
        log.exception("job %s could not be ended", job_id)


def _abandon_if_stale(where: Storage, job_id: str, found: jobs.Progress) -> None:
    """An in-process job whose runner has not been heard of for ``STALE_SECONDS`` died with its
    process (a restart): ended once, by whichever process sees it first, in a thread of its own
    (its page says so at the next refresh) — rather than "running" for ever."""
    if found.finished or queue():
        return
    heard = _heard(where, job_id) or found.created
    if time.time() - heard < STALE_SECONDS:
        return
    try:
        fd = os.open(where.folder(job_id) / ABANDONED, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        return  # being ended already
    os.close(fd)
    why = "the web process making this job stopped (a restart?); start the job again"
    threading.Thread(target=_end, args=(where, job_id, access.secret(), why), daemon=True).start()


def job_of(row: Assignment, job_id: str) -> jobs.Progress:
    """The progress of ``row``'s job ``job_id``: 404 for an unknown, expired or other
    assignment's job (the same 404: nothing tells them apart)."""
    try:
        found = jobs.progress(storage(), job_id)
    except JobNotFound:
        found = None
    if found is None or found.owner != owner(row):
        abort(
            404,
            f"no job {job_id[:70]!r} of assignment {row.id} (jobs are removed a while "
            "after they finish)",
        )
    _abandon_if_stale(storage(), job_id, found)
    return found


def _download(row: Assignment, job_id: str) -> Response:
    found = job_of(row, job_id)
    path = storage().result(job_id)
    if not found.finished or not path.exists():
        abort(409, f"job {job_id} is not finished yet: {found.done} of {found.total} done")
    return send_file(
        path,
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"assignment-{row.id}-sheets.zip",
    )


# --- the API ----------------------------------------------------------------------------------


def _urls(row: Assignment, job_id: str) -> dict[str, str]:
    return {
        "status": url_for("jobs_api.status", assignment_id=row.id, job_id=job_id),
        "download": url_for("jobs_api.download", assignment_id=row.id, job_id=job_id),
        "page": url_for("jobs.page", assignment_id=row.id, job_id=job_id),
    }


@api.post("/<int:assignment_id>/sheets")
@instructor_token
def sheets(assignment_id: int) -> tuple[Response, int, dict[str, str]]:
    """Start a job making the class's PDFs: 202 with its id and where to follow it."""
    row = access.assignment(assignment_id)
    body: dict[str, Any] = json_object(("paper",)) if request.content_length else {}
    job_id = start(row, handout.paper_of(body.get("paper")))
    urls = _urls(row, job_id)
    found = jobs.progress(storage(), job_id)
    return jsonify(job=job_id, **found.to_dict(), **urls), 202, {"Location": urls["status"]}


@api.get("/<int:assignment_id>/jobs/<job_id>")
@instructor_token
def status(assignment_id: int, job_id: str) -> Response:
    """The job's progress: state, total, done, failed and each failure's student and error."""
    row = access.assignment(assignment_id)
    found = job_of(row, job_id)
    body = {"job": job_id, **found.to_dict(), **_urls(row, job_id)}
    if not found.finished:
        del body["download"]
    return jsonify(body)


@api.get("/<int:assignment_id>/jobs/<job_id>/download")
@instructor_token
def download(assignment_id: int, job_id: str) -> Response:
    """The zip: every PDF, the class key, and not-included.txt naming who failed (409 before
    the job is finished)."""
    return _download(access.assignment(assignment_id), job_id)


# --- the pages --------------------------------------------------------------------------------


@pages.post("/<int:assignment_id>/sheets")
@signed_in
def sheets_page(assignment_id: int) -> BaseResponse:
    row = access.assignment(assignment_id)
    job_id = start(row, handout.paper_of(request.form.get("paper")))
    return redirect(url_for("jobs.page", assignment_id=row.id, job_id=job_id), code=303)


@pages.get("/<int:assignment_id>/jobs/<job_id>")
@signed_in
def page(assignment_id: int, job_id: str) -> str:
    """The job's progress, refreshing itself (a meta refresh) until the download is there."""
    row = access.assignment(assignment_id)
    return render_template(
        "instructor/job.html",
        row=row,
        job=job_of(row, job_id),
        refresh=REFRESH_SECONDS,
        retention=os.environ.get("HANDCALC_JOB_RETENTION_HOURS") or "24",
    )


@pages.get("/<int:assignment_id>/jobs/<job_id>/download")
@signed_in
def page_download(assignment_id: int, job_id: str) -> Response:
    return _download(access.assignment(assignment_id), job_id)
