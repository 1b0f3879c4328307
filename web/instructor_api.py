"""The instructor's JSON API under ``/api/v1/assignments`` (``Authorization: Bearer <token>``: the
instructor token for every course, or a course's API token for that course): make an assignment,
put students on its roster, read keys, grades and statistics, change its grading and feedback
settings and regrade its submissions."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from . import access, courses, db, gradebook, regrade, roster
from .api import json_only
from .auth import instructor_token
from .bodies import json_object, text, whole
from .errors import InputError
from .problems import DEFAULT_KIND, blanks, problem_for, read_spec

bp = Blueprint("instructor_api", __name__, url_prefix="/api/v1/assignments")
bp.before_request(json_only)

MAX_TITLE_CHARS = 200
MAX_ATTEMPTS = 100_000


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("")
@instructor_token
def assignment_new() -> tuple[Response, int]:
    body = json_object(("title", "spec", "max_attempts", "kind", "course"))
    title = text(body.get("title"), "title", MAX_TITLE_CHARS)
    kind = text(body.get("kind", DEFAULT_KIND), "kind", 40)
    spec = read_spec(body.get("spec"), kind)
    max_attempts = body.get("max_attempts")
    max_attempts = (
        current_app.config["DEFAULT_MAX_ATTEMPTS"]
        if max_attempts is None
        else whole(max_attempts, "max_attempts", 1, MAX_ATTEMPTS)
    )
    raw_course = body.get("course")
    if raw_course is not None and (not isinstance(raw_course, int) or isinstance(raw_course, bool)):
        raise InputError("course: expected a course id (a whole number)")
    course = courses.course_for_new_assignment(db.session(), courses.who(), raw_course)
    row = courses.store_assignment(title, kind, spec, max_attempts, course.id)
    return jsonify(
        id=row.id,
        title=row.title,
        max_attempts=row.max_attempts,
        spec=row.spec,
        course=course.id,
    ), 201


@bp.post("/<int:assignment_id>/roster")
@instructor_token
def assignment_roster(assignment_id: int) -> Response:
    row = courses.assignment(assignment_id)
    names = roster.names_from_json(json_object(("students",)).get("students"))
    students = roster.add_students(row, names)
    return jsonify(
        links={s.name: roster.student_link(row, s) for s in students},
        students=[
            {
                "id": s.id,
                "name": s.name,
                "link": roster.student_link(row, s),
                "key": f"/api/v1/assignments/{row.id}/students/{s.id}/key",
            }
            for s in students
        ],
    )


@bp.get("/<int:assignment_id>/students/<int:student_id>/key")
@instructor_token
def assignment_student_key(assignment_id: int, student_id: int) -> Response:
    row = courses.assignment(assignment_id)
    problem = access.student_problem(roster.roster_student_id(row, student_id))
    return Response(problem.to_json(), mimetype="application/json")


@bp.get("/<int:assignment_id>/key/<path:student>")
@instructor_token
def assignment_key(assignment_id: int, student: str) -> Response:
    """The key of a student by name (the id's URL above works for every name)."""
    row = courses.assignment(assignment_id)
    problem = access.student_problem(roster.roster_student(row, student))
    return Response(problem.to_json(), mimetype="application/json")


@bp.get("/<int:assignment_id>/grades.csv")
@instructor_token
def assignment_grades(assignment_id: int) -> Response:
    row = courses.assignment(assignment_id)
    return _csv(gradebook.grades_csv(db.session(), row), f"assignment-{row.id}-grades.csv")


@bp.get("/<int:assignment_id>/links.csv")
@instructor_token
def assignment_links(assignment_id: int) -> Response:
    """Every student's link as a full URL (student_id, name, link), for a mail merge."""
    row = courses.assignment(assignment_id)
    return _csv(roster.links_csv(row), f"assignment-{row.id}-links.csv")


@bp.get("/<int:assignment_id>/stats")
@instructor_token
def assignment_stats(assignment_id: int) -> Response:
    row = courses.assignment(assignment_id)
    sample = problem_for(row.kind, row.spec, 0)
    return jsonify(gradebook.stats(db.session(), row, blanks(sample)))


@bp.get("/<int:assignment_id>/settings")
@instructor_token
def assignment_settings(assignment_id: int) -> Response:
    """The grading options and what students see (``regrade.settings_of``)."""
    return jsonify(regrade.settings_of(courses.assignment(assignment_id)))


@bp.post("/<int:assignment_id>/settings")
@instructor_token
def assignment_settings_change(assignment_id: int) -> Response:
    """Change the settings the body names (the others stay). New grading options grade new
    submissions; the stored ones change with ``POST …/regrade``."""
    row = courses.assignment(assignment_id)
    regrade.change_settings(row, json_object(regrade.SETTINGS))
    db.session().commit()
    regrade.settings_saved(row)
    return jsonify(regrade.settings_of(row))


@bp.post("/<int:assignment_id>/regrade")
@instructor_token
def assignment_regrade(assignment_id: int) -> Response:
    """Every stored submission graded again from its answers on the current options (one
    transaction): the before/after summary."""
    row = courses.assignment(assignment_id)
    return jsonify(regrade.regrade(db.session(), row))
