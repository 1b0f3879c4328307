"""The instructor's pages: sign in with the instructor token, make assignments, add students,
read the gradebook and the class's statistics, download grades and keys."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import secrets

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import delete, select, update
from werkzeug.wrappers import Response as BaseResponse

from handcalc import HandcalcError, Spec
from handcalc.values import parse_whole

from . import access, api, db, forms, handout, service
from .models import Assignment, InstructorSession, Student, now
from .practice import CHOICES
from .tokens import student_token

bp = Blueprint("instructor", __name__, url_prefix="/instructor")
SESSION_KEY = "instructor"
#: how often a session's last use is written down (not on every page: fewer writes)
SEEN_EVERY = datetime.timedelta(minutes=1)


def _fingerprint() -> str:
    """An HMAC of the instructor token with the secret key: kept with each session (in the
    database, never in the cookie) so that changing the token signs everyone out."""
    token: str = current_app.config["INSTRUCTOR_TOKEN"]
    message = b"handcalc.instructor\x00" + token.encode("utf-8", "surrogatepass")
    return hmac.new(access.secret().encode(), message, hashlib.sha256).hexdigest()


def _row_id(session_id: str) -> str:
    # the table holds only hashes: reading it gives no cookie that works
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


def _limits() -> tuple[datetime.timedelta, datetime.timedelta]:
    config = current_app.config
    return (
        datetime.timedelta(hours=config["SESSION_HOURS"]),
        datetime.timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
    )


def _start_session() -> str:
    """A new session: its row stored (and expired ones cleared away), its id for the cookie."""
    session_id = secrets.token_urlsafe(32)
    lifetime, idle = _limits()
    moment = now()
    rows = db.session()
    rows.execute(
        delete(InstructorSession).where(
            (InstructorSession.created_at < moment - lifetime)
            | (InstructorSession.seen_at < moment - idle)
        )
    )
    rows.add(InstructorSession(id=_row_id(session_id), token_mac=_fingerprint()))
    rows.commit()
    return session_id


def _session_valid(session_id: object) -> bool:
    """Whether the cookie's session is one we started, not signed out, expired or idle too long,
    and of the current token; a used one is marked seen (at most once a minute)."""
    if not isinstance(session_id, str) or not session_id:
        return False
    rows = db.session()
    row = rows.get(InstructorSession, _row_id(session_id))
    if row is None:
        return False
    lifetime, idle = _limits()
    moment = now()
    if (
        not hmac.compare_digest(row.token_mac, _fingerprint())
        or moment - row.created_at >= lifetime
        or moment - row.seen_at >= idle
    ):
        _end_session(session_id)
        return False
    if moment - row.seen_at >= SEEN_EVERY:
        rows.execute(
            update(InstructorSession).where(InstructorSession.id == row.id).values(seen_at=moment)
        )
        rows.commit()
    return True


def _end_session(session_id: object) -> None:
    if isinstance(session_id, str) and session_id:
        rows = db.session()
        rows.execute(delete(InstructorSession).where(InstructorSession.id == _row_id(session_id)))
        rows.commit()


@bp.before_request
def signed_in() -> BaseResponse | None:
    if request.endpoint in ("instructor.login",):
        return None
    if not _session_valid(session.get(SESSION_KEY)):
        session.pop(SESSION_KEY, None)
        return redirect(url_for("instructor.login", next=request.path))
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | tuple[str, int]:
    error = None
    if request.method == "POST":
        given = request.form.get("token", "").strip()
        # the token first, then the throttle: failures count, the right token always signs in
        if access.instructor_token_ok(given):
            _end_session(session.get(SESSION_KEY))
            session.clear()  # nothing from before signing in is kept (no fixation)
            session[SESSION_KEY] = _start_session()
            target = request.args.get("next", "")
            # only a path of this site, never another site, and nothing a header cannot carry
            if (
                not target.startswith("/instructor")
                or target.startswith("//")
                or any(ord(c) < 32 or ord(c) == 127 for c in target)
            ):
                target = url_for("instructor.dashboard")
            return redirect(target, code=303)
        if given:
            access.wrong_instructor_token()
        error = "That is not the instructor token."
    return render_template("instructor/login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout() -> BaseResponse:
    # the row goes: a copy of the cookie taken before this is worth nothing afterwards
    _end_session(session.get(SESSION_KEY))
    session.clear()
    return redirect(url_for("practice.index"), code=303)


@bp.get("/")
def dashboard() -> str:
    rows = db.session().scalars(select(Assignment).order_by(Assignment.id.desc())).all()
    counts = service.roster_counts(db.session())
    summary = []
    for row in rows:
        students, submitted = counts.get(row.id, (0, 0))
        summary.append({"row": row, "students": students, "submitted": submitted})
    return render_template(
        "instructor/dashboard.html",
        assignments=summary,
        choices=CHOICES,
        defaults=Spec().to_dict(),
        default_attempts=current_app.config["DEFAULT_MAX_ATTEMPTS"],
    )


@bp.post("/assignments")
def create() -> BaseResponse:
    title = request.form.get("title", "").strip()[: api.MAX_TITLE_CHARS]
    try:
        spec = Spec.from_options(forms.spec_from_form(request.form)).to_dict()
        attempts_text = request.form.get("max_attempts", "").strip()
        max_attempts = (
            parse_whole(attempts_text, "attempts", 1, api.MAX_ATTEMPTS)
            if attempts_text
            else int(current_app.config["DEFAULT_MAX_ATTEMPTS"])
        )
        if not title:
            raise HandcalcError("title: give the assignment a title")
        service.problem_for("mlp", spec, 0)
    except HandcalcError as e:
        flash(str(e), "error")
        return redirect(url_for("instructor.dashboard"), code=303)
    row = Assignment(
        title=title, kind="mlp", spec_json=service.canonical(spec), max_attempts=max_attempts
    )
    db.session().add(row)
    db.session().commit()
    flash(f"Assignment {row.id} created; add students to get their links.")
    return redirect(url_for("instructor.assignment", assignment_id=row.id), code=303)


def page_number(raw: str | None, pages: int) -> int:
    """The gradebook page asked for (``?page=``, from 1): 404 past the last one."""
    return handout.numbered(raw, "page", pages, "the gradebook has")


@bp.get("/assignments/<int:assignment_id>")
def assignment(assignment_id: int) -> str:
    """The gradebook, ``service.PAGE_SIZE`` students a page, and the class's statistics."""
    row = access.assignment(assignment_id)
    rows = db.session()
    sample = service.problem_for(row.kind, row.spec, 0)
    cells = service.blanks(sample)
    stats = service.stats(rows, row, cells)
    size = service.PAGE_SIZE
    pages = max(1, -(-stats["students"] // size))
    page = page_number(request.args.get("page"), pages)
    paper = handout.paper_of(request.args.get("paper"))
    book = service.standings(rows, row.id, (page - 1) * size, size)
    secret = access.secret()
    links = {
        line.id: url_for("student.sheet", token=student_token(secret, row.id, line.id))
        for line in book
    }
    return render_template(
        "instructor/assignment.html",
        row=row,
        book=book,
        links=links,
        page=page,
        pages=pages,
        first=(page - 1) * size + 1,
        cells=cells,
        stats=stats,
        spec=json.dumps(row.spec),
        describe=sample.describe(),
        paper=paper,
        # the paper of the PDF links, where it is not the default
        paper_arg={} if paper == "a4" else {"paper": paper},
        part_size=handout.CLASS_PART,
        parts=-(-stats["students"] // handout.CLASS_PART),
    )


@bp.post("/assignments/<int:assignment_id>/roster")
def roster(assignment_id: int) -> BaseResponse:
    """Names typed one a line, or a roster CSV (id and name columns, as ``handcalc batch``)."""
    row = access.assignment(assignment_id)
    upload = request.files.get("roster")
    try:
        if request.form.get("source") == "csv":
            if upload is None or not upload.filename:
                raise service.InputError("Choose a roster CSV file to upload.")
            names = handout.names_from_csv(upload.read(), upload.filename)
        else:
            names = handout.names_from_text(request.form.get("students", ""))
    except service.InputError as e:
        flash(f"Nobody was added. {e}", "error")
    else:
        flash(handout.add_to_roster(row, names))
    return redirect(url_for("instructor.assignment", assignment_id=row.id), code=303)


@bp.get("/assignments/<int:assignment_id>/grades.csv")
def grades(assignment_id: int) -> Response:
    row = access.assignment(assignment_id)
    return Response(
        service.grades_csv(db.session(), row),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="assignment-{row.id}-grades.csv"'},
    )


@bp.get("/assignments/<int:assignment_id>/links.csv")
def links(assignment_id: int) -> Response:
    """Every student's link (student_id, name, link), for a mail merge."""
    row = access.assignment(assignment_id)
    return Response(
        handout.links_csv(row),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="assignment-{row.id}-links.csv"'},
    )


def _key(row: Assignment, student: Student) -> Response:
    problem = access.student_problem(student)
    return Response(
        problem.to_json(),
        mimetype="application/json",
        headers={"Content-Disposition": handout.student_file(row, student, "key.json")},
    )


@bp.get("/assignments/<int:assignment_id>/students/<int:student_id>/key")
def student_key(assignment_id: int, student_id: int) -> Response:
    row = access.assignment(assignment_id)
    return _key(row, api.roster_student_id(row, student_id))


@bp.get("/assignments/<int:assignment_id>/key/<path:student>")
def key(assignment_id: int, student: str) -> Response:
    """A student's key by name (links use the id, which works for every name)."""
    row = access.assignment(assignment_id)
    return _key(row, api.roster_student(row, student))


@bp.get("/assignments/<int:assignment_id>/students/<int:student_id>/<mode>.pdf")
def student_pdf(assignment_id: int, student_id: int, mode: str) -> Response:
    """A student's worksheet, answer key or worked solutions as PDF (``?paper=letter``)."""
    row = access.assignment(assignment_id)
    student = api.roster_student_id(row, student_id)
    mode = handout.mode_of(mode)
    paper = handout.paper_of(request.args.get("paper"))
    return Response(
        handout.student_pdf(row, student, mode, paper),
        mimetype="application/pdf",
        headers={"Content-Disposition": handout.student_file(row, student, f"{mode}.pdf")},
    )


@bp.post("/assignments/<int:assignment_id>/pdfs.zip")
def class_pdfs(assignment_id: int) -> Response:
    """The class's PDFs as one zip, made while it is sent (``handout.CLASS_PART`` students a
    part). A POST with the form's CSRF token: another site cannot start the work."""
    row = access.assignment(assignment_id)
    part = handout.part_of(request.form.get("part"), handout.parts_of(row))
    found = handout.class_part(row, part, handout.paper_of(request.form.get("paper")))
    return Response(
        handout.class_zip(found),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{found.name}.zip"'},
    )
