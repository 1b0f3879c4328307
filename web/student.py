"""The student page ``/s/<token>``: the worksheet grid, a submit button, then marks per cell."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from handcalc import HandcalcError

from . import access, db, forms, service

bp = Blueprint("student", __name__)


@bp.get("/s/<token>")
def sheet(token: str) -> str:
    row = access.student(token)
    problem = access.student_problem(row)
    used = access.attempts_used(row)
    last = service.latest(db.session(), row.id) if used else None
    report = service.public_report(last.report) if last else None
    left = max(0, row.assignment.max_attempts - used)
    return render_template(
        "worksheet.html",
        mode="student",
        token=token,
        student=row,
        used=used,
        left=left,
        attempt=last.attempt if last else None,
        report=report,
        sheet=forms.sheet(problem, row.assignment.title, last.answers if last else None, report),
    )


@bp.post("/s/<token>")
def submit(token: str) -> Response:
    row = access.student(token)
    answers = forms.answers_from_form(request.form, access.student_problem(row))
    try:
        submission = access.submit(row, token, answers)
    except HandcalcError as e:
        abort(400, str(e))
    left = max(0, row.assignment.max_attempts - submission.attempt)
    flash(
        f"Attempt {submission.attempt} saved and graded. "
        + (f"{left} attempt{'s' * (left != 1)} left." if left else "No attempts left.")
    )
    # after a POST, a redirect: reloading the page does not send the answers again
    return redirect(url_for("student.sheet", token=token), code=303)
