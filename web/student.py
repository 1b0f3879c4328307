"""The student page ``/s/<token>``: the worksheet grid, a submit button, then marks per cell and
the score as far as the assignment shows them (``regrade.student_report``)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from . import access, db, forms
from .auth import student_link
from .gradebook import latest
from .lti.status import status_of
from .models import Student
from .regrade import student_report

bp = Blueprint("student", __name__)


@bp.get("/s/<token>")
@student_link
def sheet(row: Student, token: str) -> str:
    problem = access.student_problem(row)
    used = access.attempts_used(row)
    last = latest(db.session(), row.id) if used else None
    report = student_report(row.assignment, last.report) if last else None
    return render_template(
        "worksheet.html",
        mode="student",
        token=token,
        student=row,
        used=used,
        left=max(0, row.assignment.max_attempts - used),
        attempt=last.attempt if last else None,
        report=report,
        gradebook=status_of(db.session(), row.id),
        sheet=forms.sheet(problem, row.assignment.title, last.answers if last else None, report),
    )


@bp.post("/s/<token>")
@student_link
def submit(row: Student, token: str) -> Response:
    answers = forms.answers_from_form(request.form, access.student_problem(row))
    submission = access.submit(row, token, answers)
    left = max(0, row.assignment.max_attempts - submission.attempt)
    flash(
        f"Attempt {submission.attempt} saved and graded. "
        + (f"{left} attempt{'s' * (left != 1)} left." if left else "No attempts left.")
    )
    # after a POST, a redirect: reloading the page does not send the answers again
    return redirect(url_for("student.sheet", token=token), code=303)
