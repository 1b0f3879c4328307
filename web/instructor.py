"""The instructor's pages: sign in with the instructor token, make assignments, add students,
read the gradebook and the class's statistics, download grades and keys."""

from __future__ import annotations

import hashlib
import json

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
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from handcalc import HandcalcError, Spec

from . import access, api, db, forms, service
from .models import Assignment
from .practice import CHOICES

bp = Blueprint("instructor", __name__, url_prefix="/instructor")
SESSION_KEY = "instructor"


def _fingerprint() -> str:
    # kept in the session instead of a flag: changing the token signs everyone out
    token: str = current_app.config["INSTRUCTOR_TOKEN"]
    return hashlib.sha256(b"handcalc.instructor\x00" + token.encode()).hexdigest()


@bp.before_request
def signed_in() -> BaseResponse | None:
    if request.endpoint in ("instructor.login",):
        return None
    if session.get(SESSION_KEY) != _fingerprint():
        return redirect(url_for("instructor.login", next=request.path))
    return None


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | tuple[str, int]:
    error = None
    if request.method == "POST":
        access.limit("practice", "login:" + (request.remote_addr or "-"))
        if access.instructor_token_ok(request.form.get("token", "").strip()):
            session.clear()
            session[SESSION_KEY] = _fingerprint()
            target = request.args.get("next", "")
            # only a path of this site, never another site
            if not target.startswith("/instructor") or target.startswith("//"):
                target = url_for("instructor.dashboard")
            return redirect(target, code=303)
        error = "That is not the instructor token."
    return render_template("instructor/login.html", error=error), 401 if error else 200


@bp.post("/logout")
def logout() -> BaseResponse:
    session.pop(SESSION_KEY, None)
    return redirect(url_for("practice.index"), code=303)


@bp.get("/")
def dashboard() -> str:
    rows = db.session().scalars(select(Assignment).order_by(Assignment.id.desc())).all()
    summary = []
    for row in rows:
        submitted = [s for s in row.students if s.submissions]
        summary.append({"row": row, "students": len(row.students), "submitted": len(submitted)})
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
        attempts_text = request.form.get("max_attempts", "").strip() or str(
            current_app.config["DEFAULT_MAX_ATTEMPTS"]
        )
        if not attempts_text.isdigit() or not 1 <= int(attempts_text) <= api.MAX_ATTEMPTS:
            raise HandcalcError(f"attempts: a whole number from 1 to {api.MAX_ATTEMPTS}")
        if not title:
            raise HandcalcError("title: give the assignment a title")
        service.problem_for("mlp", spec, 0)
    except HandcalcError as e:
        flash(str(e), "error")
        return redirect(url_for("instructor.dashboard"), code=303)
    row = Assignment(
        title=title, kind="mlp", spec_json=service.canonical(spec), max_attempts=int(attempts_text)
    )
    db.session().add(row)
    db.session().commit()
    flash(f"Assignment {row.id} created; add students to get their links.")
    return redirect(url_for("instructor.assignment", assignment_id=row.id), code=303)


@bp.get("/assignments/<int:assignment_id>")
def assignment(assignment_id: int) -> str:
    row = access.assignment(assignment_id)
    sample = service.problem_for(row.kind, row.spec, 0)
    cells = service.blanks(sample)
    stats = service.stats(row, cells)
    secret = access.secret()
    from .tokens import student_token

    book = []
    for student in row.students:
        top, last = service.best(student), service.latest(student)
        book.append(
            {
                "name": student.name,
                "attempts": len(student.submissions),
                "best": top,
                "last": last,
                "link": url_for("student.sheet", token=student_token(secret, row.id, student.id)),
                "statuses": {
                    name: c.get("status") for name, c in (last.report.get("cells") or {}).items()
                }
                if last
                else {},
            }
        )
    return render_template(
        "instructor/assignment.html",
        row=row,
        book=book,
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
    if not names:
        flash("Type at least one student name (one a line).", "error")
    elif len(names) > api.MAX_ROSTER:
        flash(f"At most {api.MAX_ROSTER} names at once.", "error")
    else:
        api.add_students(row, list(dict.fromkeys(names)))
        flash(f"{len(set(names))} student(s) on the roster.")
    return redirect(url_for("instructor.assignment", assignment_id=row.id), code=303)


@bp.get("/assignments/<int:assignment_id>/grades.csv")
def grades(assignment_id: int) -> Response:
    row = access.assignment(assignment_id)
    return Response(
        service.grades_csv(row),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="assignment-{row.id}-grades.csv"'},
    )


@bp.get("/assignments/<int:assignment_id>/key/<path:student>")
def key(assignment_id: int, student: str) -> Response:
    row = access.assignment(assignment_id)
    problem = access.student_problem(api.roster_student(row, student))
    return Response(
        problem.to_json(),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="assignment-{row.id}-key.json"'},
    )
