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
    abort,
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

from . import access, api, db, forms, service
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
    if raw is None or not raw.strip():
        return 1
    try:
        page = parse_whole(raw, "page", 1, 10**6)
    except HandcalcError as e:
        abort(400, str(e))
    if page > pages:
        abort(404, f"no page {page}: the gradebook has {pages} page{'s' * (pages != 1)}")
    return page


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
    )


@bp.post("/assignments/<int:assignment_id>/roster")
def roster(assignment_id: int) -> BaseResponse:
    row = access.assignment(assignment_id)
    names = [
        n.strip()[: api.MAX_NAME_CHARS]
        for n in request.form.get("students", "").replace(",", "\n").splitlines()
        if n.strip()
    ]
    try:
        if not names:
            raise service.InputError("Type at least one student name (one a line).")
        if len(names) > api.MAX_ROSTER:
            raise service.InputError(f"At most {api.MAX_ROSTER} names at once.")
        for i, name in enumerate(names):
            service.check_name(name, f"name {i + 1}")
    except service.InputError as e:
        flash(f"Nobody was added. {e}", "error")
    else:
        api.add_students(row, list(dict.fromkeys(names)))
        flash(f"{len(set(names))} student(s) on the roster.")
    return redirect(url_for("instructor.assignment", assignment_id=row.id), code=303)


@bp.get("/assignments/<int:assignment_id>/grades.csv")
def grades(assignment_id: int) -> Response:
    row = access.assignment(assignment_id)
    return Response(
        service.grades_csv(db.session(), row),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="assignment-{row.id}-grades.csv"'},
    )


def _key(row: Assignment, student: Student) -> Response:
    problem = access.student_problem(student)
    return Response(
        problem.to_json(),
        mimetype="application/json",
        headers={
            "Content-Disposition": (
                f'attachment; filename="assignment-{row.id}-student-{student.id}-key.json"'
            )
        },
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
