"""The instructor's pages: sign in (an instructor with login and password, the admin with the
instructor token), make assignments in one's courses, add students, read the gradebook and the
class's statistics, download grades and keys, set the grading options and what students see,
regrade. Each instructor sees their own courses only
(``courses``; the admin every course)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from . import access, auth, courses, db, forms, gradebook, handout, regrade, roster
from .auth import signed_in
from .errors import InputError, shown_on
from .lti import status as lti_status
from .models import Assignment, Student
from .problems import blanks, problem_for
from .tokens import student_token

bp = Blueprint("instructor", __name__, url_prefix="/instructor")
# the app's database is open by now (``db.init_app`` runs before the blueprints are registered)
bp.record_once(lambda state: courses.ensure_default_course(state.app))


def as_typed(form: str, said: str) -> Callable[[str], tuple[str, int]]:
    """A form of the assignment's page with an error: the page again (400), the error at its
    top, and that form (``form``: ``roster`` or ``settings``) as typed: nothing typed is lost."""

    def page(message: str) -> tuple[str, int]:
        aid = int((request.view_args or {})["assignment_id"])
        return _assignment_page(aid, {form: request.form}, said + message), 400

    return page


def _signed_in_to() -> BaseResponse:
    target = request.args.get("next", "")
    # only a path of this site, never another site, and nothing a header cannot carry
    if (
        not target.startswith("/instructor")
        or target.startswith("//")
        or any(ord(c) < 32 or ord(c) == 127 for c in target)
    ):
        target = url_for("instructor.dashboard")
    return redirect(target, code=303)


@bp.route("/login", methods=["GET", "POST"])
def login() -> BaseResponse | tuple[str, int]:
    """An instructor's login and password; or, with no login, the instructor token (the admin;
    the form field ``token`` is taken for the password too, as before courses)."""
    error = None
    login_name = ""
    if request.method == "POST":
        login_name = request.form.get("login", "").strip()[: courses.MAX_LOGIN_CHARS]
        given = (request.form.get("password") or request.form.get("token") or "").strip()
        if not login_name:
            # the token first, then the throttle: failures count, the right token always signs in
            if auth.instructor_token_ok(given):
                auth.start_session()
                return _signed_in_to()
            if given:
                auth.wrong_instructor_token()
            error = "That is not the instructor token."
        else:
            auth.password_attempt(login_name)  # counted before the (slow) hash is checked
            found = courses.signed_in_instructor(db.session(), login_name, given)
            if found is not None:
                auth.start_session(found)
                return auth.remember_device(_signed_in_to(), login_name)
            error = "Wrong login or password."
    page = render_template("instructor/login.html", error=error, login=login_name)
    return page, 401 if error else 200


@bp.post("/logout")
@signed_in
def logout() -> BaseResponse:
    auth.end_session()
    return redirect(url_for("practice.index"), code=303)


@bp.get("/")
@signed_in
def dashboard() -> str:
    """The assignments of the caller's courses, the form for a new one; the admin sees every
    course too."""
    return _dashboard(request.args)


def _dashboard(values: Any, error: str = "") -> str:
    """The dashboard, its new-assignment form showing ``values`` (as typed) and ``error``."""
    who = courses.who()
    session = db.session()
    rows = session.scalars(
        select(Assignment).where(who.where(Assignment.course_id)).order_by(Assignment.id.desc())
    ).all()
    counts = gradebook.roster_counts(session, [row.id for row in rows])
    mine = courses.visible_courses(session, who)
    names = {c.id: c.name for c in mine}
    summary = []
    for row in rows:
        students, submitted = counts.get(row.id, (0, 0))
        summary.append(
            {
                "row": row,
                "course": names.get(row.course_id, ""),
                "students": students,
                "submitted": submitted,
            }
        )
    kind = forms.kind_as_typed(values) if error else forms.kind_of(values.get("kind"))
    return render_template(
        "instructor/dashboard.html",
        who=who,
        courses=mine,
        course_lines=courses.course_lines(session) if who.admin else [],
        default_course=courses.DEFAULT_COURSE,
        assignments=summary,
        kind=kind,
        kinds=forms.kind_menu(),
        fields=forms.option_fields(kind, values if error else {}),
        typed=values if error else {},
        default_attempts=current_app.config["DEFAULT_MAX_ATTEMPTS"],
        error=error,
    )


@bp.post("/assignments")
@signed_in
@shown_on(lambda message: (_dashboard(request.form, message), 400))  # the form as typed
def create() -> BaseResponse:
    course = courses.course_for_new_assignment(
        db.session(), courses.who(), request.form.get("course")
    )
    row = forms.new_assignment(request.form, course.id)
    flash(f"Assignment {row.id} created; add students to get their links.")
    return redirect(url_for("instructor.assignment", assignment_id=row.id), code=303)


def page_number(raw: str | None, pages: int) -> int:
    """The gradebook page asked for (``?page=``, from 1): 404 past the last one."""
    return handout.numbered(raw, "page", pages, "the gradebook has")


@bp.get("/assignments/<int:assignment_id>")
@signed_in
def assignment(assignment_id: int) -> str:
    """The gradebook, ``gradebook.PAGE_SIZE`` students a page, and the class's statistics."""
    return _assignment_page(assignment_id)


def _assignment_page(
    assignment_id: int, typed: dict[str, Any] | None = None, error: str = ""
) -> str:
    """The assignment's page; ``typed``: a form sent back with ``error``, by its name."""
    typed = typed or {}
    row = courses.assignment(assignment_id)
    rows = db.session()
    sample = problem_for(row.kind, row.spec, 0)
    cells = blanks(sample)
    stats = gradebook.stats(rows, row, cells)
    size = gradebook.PAGE_SIZE
    pages = max(1, -(-stats["students"] // size))
    page = page_number(request.args.get("page"), pages)
    paper = handout.paper_of(request.args.get("paper"))
    book = gradebook.standings(rows, row.id, (page - 1) * size, size)
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
        settings=forms.settings_fields(row, typed.get("settings")),
        typed=typed,
        error=error,
        regrades=regrade.last_regrades(rows, row),
        platform_links=lti_status.links_of(rows, row),
        sends=lti_status.sends_of(rows, row),
    )


@bp.post("/assignments/<int:assignment_id>/roster", endpoint="roster")
@signed_in
@shown_on(as_typed("roster", "Nobody was added. "))
def add_roster(assignment_id: int) -> BaseResponse:
    """Names typed one a line, or a roster CSV (id and name columns, as ``handcalc batch``)."""
    row = courses.assignment(assignment_id)
    upload = request.files.get("roster")
    if request.form.get("source") != "csv":
        names = roster.names_from_text(request.form.get("students", ""))
    elif upload is None or not upload.filename:
        raise InputError("Choose a roster CSV file to upload.")
    else:
        names = roster.names_from_csv(upload.read(), upload.filename)
    flash(roster.add_to_roster(row, names))
    return redirect(url_for("instructor.assignment", assignment_id=row.id), code=303)


def _csv(text: str, name: str) -> Response:
    return Response(
        text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@bp.get("/assignments/<int:assignment_id>/grades.csv")
@signed_in
def grades(assignment_id: int) -> Response:
    row = courses.assignment(assignment_id)
    return _csv(gradebook.grades_csv(db.session(), row), f"assignment-{row.id}-grades.csv")


@bp.get("/assignments/<int:assignment_id>/links.csv")
@signed_in
def links(assignment_id: int) -> Response:
    """Every student's link (student_id, name, link), for a mail merge."""
    row = courses.assignment(assignment_id)
    return _csv(roster.links_csv(row), f"assignment-{row.id}-links.csv")


def _key(row: Assignment, student: Student) -> Response:
    problem = access.student_problem(student)
    return Response(
        problem.to_json(),
        mimetype="application/json",
        headers={"Content-Disposition": handout.student_file(row, student, "key.json")},
    )


@bp.get("/assignments/<int:assignment_id>/students/<int:student_id>/key")
@signed_in
def student_key(assignment_id: int, student_id: int) -> Response:
    row = courses.assignment(assignment_id)
    return _key(row, roster.roster_student_id(row, student_id))


@bp.get("/assignments/<int:assignment_id>/key/<path:student>")
@signed_in
def key(assignment_id: int, student: str) -> Response:
    """A student's key by name (links use the id, which works for every name)."""
    row = courses.assignment(assignment_id)
    return _key(row, roster.roster_student(row, student))


@bp.get("/assignments/<int:assignment_id>/students/<int:student_id>/<mode>.pdf")
@signed_in
def student_pdf(assignment_id: int, student_id: int, mode: str) -> Response:
    """A student's worksheet, answer key or worked solutions as PDF (``?paper=letter``)."""
    row = courses.assignment(assignment_id)
    student = roster.roster_student_id(row, student_id)
    mode = handout.mode_of(mode)
    paper = handout.paper_of(request.args.get("paper"))
    return Response(
        handout.student_pdf(row, student, mode, paper),
        mimetype="application/pdf",
        headers={"Content-Disposition": handout.student_file(row, student, f"{mode}.pdf")},
    )


@bp.post("/assignments/<int:assignment_id>/pdfs.zip")
@signed_in
def class_pdfs(assignment_id: int) -> Response:
    """The class's PDFs as one zip, made while it is sent (``handout.CLASS_PART`` students a
    part). A POST with the form's CSRF token: another site cannot start the work."""
    row = courses.assignment(assignment_id)
    part = handout.part_of(request.form.get("part"), handout.parts_of(row))
    found = handout.class_part(row, part, handout.paper_of(request.form.get("paper")))
    return Response(
        handout.class_zip(found),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{found.name}.zip"'},
    )


# --- grading and feedback settings, regrading (``regrade``) ----------------------------------


@bp.post("/assignments/<int:assignment_id>/settings", endpoint="settings")
@signed_in
@shown_on(as_typed("settings", "The settings were not changed. "))
def change_settings(assignment_id: int) -> BaseResponse:
    """The grading options and when students see their feedback and score."""
    row = courses.assignment(assignment_id)
    form = request.form
    regrade.change_settings(
        row,
        {
            "grading": forms.grading_from_form(form),
            "feedback": form.get("feedback", row.feedback),
            "score": form.get("score", row.score_visibility),
            "due_at": form.get("due_at", ""),
            "score_policy": form.get("score_policy", row.score_policy),
        },
    )
    db.session().commit()
    regrade.settings_saved(row)
    flash("Settings saved. Regrade to apply new grading options to the stored submissions.")
    return redirect(url_for("instructor.assignment", assignment_id=row.id), code=303)


@bp.post("/assignments/<int:assignment_id>/release", endpoint="release")
@signed_in
def release(assignment_id: int) -> BaseResponse:
    """Release (or withdraw) the feedback and scores to the students: ``released=1`` or ``0``."""
    row = courses.assignment(assignment_id)
    row.released = request.form.get("released", "1") == "1"
    db.session().commit()
    regrade.settings_saved(row)
    flash(
        "Feedback and scores released to the students."
        if row.released
        else "Release withdrawn: students see what the settings allow."
    )
    return redirect(url_for("instructor.assignment", assignment_id=row.id), code=303)


@bp.post("/assignments/<int:assignment_id>/regrade", endpoint="regrade")
@signed_in
def regrade_all(assignment_id: int) -> BaseResponse:
    """Every stored submission graded again; the summary flashed."""
    row = courses.assignment(assignment_id)
    summary = regrade.regrade(db.session(), row)
    mean = (
        ""
        if summary["mean_before"] is None
        else f" Mean best score {summary['mean_before']:g} → {summary['mean_after']:g}."
    )
    graded = summary["submissions"]
    flash(
        f"Regraded {graded} submission{'s' * (graded != 1)}: {summary['changed']} changed, "
        f"the best score of {summary['students_changed']} student"
        f"{'s' * (summary['students_changed'] != 1)} changed.{mean}"
    )
    return redirect(url_for("instructor.assignment", assignment_id=row.id), code=303)
