"""The student page ``/s/<token>``: the worksheet grid, a submit button, then marks per cell and
the score as far as the assignment shows them (``regrade.student_report``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from . import access, db, forms
from .auth import student_link
from .gradebook import latest
from .lti.status import status_of
from .models import Student
from .regrade import student_report
from .reports import score_shown

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
        gradebook=_gradebook(row),
        sheet=forms.sheet(problem, row.assignment.title, last.answers if last else None, report),
    )


def _gradebook(row: Student) -> dict[str, Any] | None:
    """Whether the student's score reached their learning platform; the score itself only while
    the assignment shows it (one sent before the scores were hidden is not shown again)."""
    found = status_of(db.session(), row.id)
    shown = score_shown(row.assignment.score_visibility, bool(row.assignment.released))
    return found if found is None or shown else {**found, "score": None}


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
