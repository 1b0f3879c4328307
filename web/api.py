"""The JSON API under ``/api/v1`` (documented in ``openapi.json``) and ``/healthz``."""

from __future__ import annotations

import json
import secrets
from functools import cache
from importlib.resources import files
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType
from werkzeug.wsgi import LimitedStream

from handcalc import HandcalcError

from . import access, db, service
from .bodies import WITH_BODY
from .models import Assignment, Student
from .tokens import student_token

health = Blueprint("health", __name__)
bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_TITLE_CHARS = 200
MAX_NAME_CHARS = 100
MAX_ROSTER = 2000
MAX_ATTEMPTS = 100_000


@health.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@cache
def _openapi() -> str:
    return files("handcalc.web").joinpath("openapi.json").read_text(encoding="utf-8")


@bp.get("/openapi.json")
def openapi() -> Response:
    return Response(_openapi(), mimetype="application/json")


def json_body() -> Any:
    """The request's JSON (400 with what is wrong, NaN and Infinity included; 413 past the size
    limit), read by the library's one strict reader."""
    from handcalc.jsondoc import loads

    raw = request.get_data(cache=False)
    if not raw.strip():
        abort(400, "body: empty; expected a JSON object")
    try:
        return loads(raw, "body")
    except HandcalcError as e:
        abort(400, str(e))


def json_object(accepted: tuple[str, ...]) -> dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        abort(400, f"body: expected a JSON object with {', '.join(accepted)}")
    extra = sorted(set(body) - set(accepted))
    if extra:
        abort(400, f"body: unknown field {extra[0]!r}; accepted: {', '.join(accepted)}")
    bad_input(service.check_unicode, body)
    return body


@health.before_app_request
def whole_body() -> None:
    """413 for a body of unknown length (chunked) that reached the size limit: werkzeug reads
    such a body up to ``MAX_CONTENT_LENGTH`` and stops there without a word, so the request went
    on with a truncated body (``Content-Length`` bodies over the limit are refused before they
    are read). Runs after the body was read (``bodies.read_body``)."""
    stream = request.stream
    if (
        request.method in WITH_BODY
        and request.content_length is None
        and isinstance(stream, LimitedStream)
        and stream.is_exhausted
    ):
        raise RequestEntityTooLarge()


def bad_input(call: Any, *args: Any) -> Any:
    """``call(*args)``, with the library's and our input errors as 400 and their message."""
    try:
        return call(*args)
    except (HandcalcError, service.InputError) as e:
        abort(400, str(e))


def whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        abort(
            400,
            f"{name}: {json.dumps(value)[:40]} is not accepted; accepted: a whole number "
            f"from {low} to {high}",
        )
    return int(value)


def text(value: Any, name: str, most: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > most:
        abort(400, f"{name}: expected text of 1 to {most} characters")
    bad_input(service.check_unicode, value, name)
    return value.strip()


# --- practice: no account ---------------------------------------------------------------------


@bp.post("/practice")
def practice_new() -> tuple[Response, int]:
    access.limit("practice", access.client())
    body = json_object(("spec", "seed", "kind"))
    spec = bad_input(service.read_spec, body.get("spec"))
    seed = body.get("seed")
    seed = secrets.randbelow(10**9) if seed is None else whole(seed, "seed", 0, 2**63 - 1)
    kind = text(body.get("kind", "mlp"), "kind", 40)
    token, problem = bad_input(access.new_practice, spec, seed, kind)
    return jsonify(
        token=token,
        problem=problem.to_dict(answers=False),
        links={"check": f"/api/v1/practice/{token}/check", "page": f"/p/{token}"},
    ), 201


@bp.post("/practice/<token>/check")
def practice_check(token: str) -> Response:
    found = access.practice(token)
    access.limit("check", token)
    with access.cpu_budget():
        problem = found.problem
        answers = bad_input(service.read_answers, json_body(), problem)
        report = bad_input(service.report_of, problem, answers)
        return Response(service.public_json(report), mimetype="application/json")


# --- students: the token is the credential ----------------------------------------------------


def student_view(row: Student) -> dict[str, Any]:
    used = access.attempts_used(row)
    last = service.latest(db.session(), row.id) if used else None
    return {
        "assignment": {
            "id": row.assignment.id,
            "title": row.assignment.title,
            "max_attempts": row.assignment.max_attempts,
        },
        "student": row.name,
        "attempts": {"used": used, "left": max(0, row.assignment.max_attempts - used)},
        "problem": service.student_copy(access.student_problem(row)),
        "last": None
        if last is None
        else {
            "attempt": last.attempt,
            "submitted_at": last.created_at.isoformat() + "Z",
            "cells": last.answers.get("cells", {}),
            "report": service.public_report(last.report),
        },
    }


@bp.get("/s/<token>")
def student_get(token: str) -> Response:
    return jsonify(student_view(access.student(token)))


@bp.post("/s/<token>/submissions")
def student_submit(token: str) -> tuple[Response, int]:
    row = access.student(token)
    answers = bad_input(service.read_answers, json_body(), access.student_problem(row))
    submission = access.submit(row, token, answers)
    left = max(0, row.assignment.max_attempts - submission.attempt)
    return jsonify(
        id=submission.id,
        attempt=submission.attempt,
        attempts_left=left,
        report=service.public_report(submission.report),
    ), 201


# --- instructor: Authorization: Bearer <token> ------------------------------------------------


@bp.record_once
def _problem_cache(state: BlueprintSetupState) -> None:
    megabytes = state.app.config.get("PROBLEM_CACHE_MB") or service.PROBLEM_CACHE_MB
    service.PROBLEMS.resize(int(megabytes) * 2**20)


@bp.before_request
def instructor_only() -> None:
    if request.endpoint and request.endpoint.startswith("api.assignment"):
        access.bearer()


@bp.before_request
def json_only() -> None:
    """415 for a body that does not say it is JSON: a form on any site may POST text/plain
    or a form encoding across sites without asking (a "simple" request), never JSON."""
    if request.method in WITH_BODY and request.mimetype != "application/json":
        raise UnsupportedMediaType(
            f"Content-Type: {request.mimetype or 'none'} is not accepted; send the body as "
            "JSON with Content-Type: application/json"
        )


@bp.post("/assignments")
def assignment_new() -> tuple[Response, int]:
    body = json_object(("title", "spec", "max_attempts", "kind"))
    title = text(body.get("title"), "title", MAX_TITLE_CHARS)
    spec = bad_input(service.read_spec, body.get("spec"))
    kind = text(body.get("kind", "mlp"), "kind", 40)
    max_attempts = body.get("max_attempts")
    max_attempts = (
        current_app.config["DEFAULT_MAX_ATTEMPTS"]
        if max_attempts is None
        else whole(max_attempts, "max_attempts", 1, MAX_ATTEMPTS)
    )
    bad_input(service.problem_for, kind, spec, 0)  # options that cannot make a problem fail now
    row = Assignment(
        title=title, kind=kind, spec_json=service.canonical(spec), max_attempts=max_attempts
    )
    session = db.session()
    session.add(row)
    session.commit()
    return jsonify(id=row.id, title=row.title, max_attempts=row.max_attempts, spec=row.spec), 201


def add_students(row: Assignment, names: list[str]) -> list[Student]:
    """Put ``names`` on the roster (those already there keep their links); their rows."""
    session = db.session()
    existing = {
        s.name: s
        for s in session.scalars(
            select(Student).where(Student.assignment_id == row.id, Student.name.in_(names))
        )
    }
    for name in names:
        if name not in existing:
            existing[name] = Student(assignment_id=row.id, name=name)
            session.add(existing[name])
    session.commit()
    return [existing[name] for name in names]


def student_link(row: Assignment, student: Student) -> str:
    return f"/s/{student_token(access.secret(), row.id, student.id)}"


def roster_names(raw: Any) -> list[str]:
    if not isinstance(raw, list) or not raw or len(raw) > MAX_ROSTER:
        abort(400, f"students: expected a list of 1 to {MAX_ROSTER} student names")
    names = [
        bad_input(service.check_name, text(n, f"students[{i}]", MAX_NAME_CHARS), f"students[{i}]")
        for i, n in enumerate(raw)
    ]
    return list(dict.fromkeys(names))


@bp.post("/assignments/<int:assignment_id>/roster")
def assignment_roster(assignment_id: int) -> Response:
    row = access.assignment(assignment_id)
    body = json_object(("students",))
    students = add_students(row, roster_names(body.get("students")))
    return jsonify(
        links={s.name: student_link(row, s) for s in students},
        students=[
            {
                "id": s.id,
                "name": s.name,
                "link": student_link(row, s),
                "key": f"/api/v1/assignments/{row.id}/students/{s.id}/key",
            }
            for s in students
        ],
    )


def roster_student(row: Assignment, name: str) -> Student:
    found = db.session().scalar(
        select(Student).where(Student.assignment_id == row.id, Student.name == name)
    )
    if found is None:
        abort(404, f"no student {name[:MAX_NAME_CHARS]!r} on the roster of assignment {row.id}")
    return found


def roster_student_id(row: Assignment, student_id: int) -> Student:
    found = db.session().get(Student, student_id) if 0 < student_id < 2**31 else None
    if found is None or found.assignment_id != row.id:
        abort(404, f"no student {student_id} on the roster of assignment {row.id}")
    return found


@bp.get("/assignments/<int:assignment_id>/students/<int:student_id>/key")
def assignment_student_key(assignment_id: int, student_id: int) -> Response:
    row = access.assignment(assignment_id)
    problem = access.student_problem(roster_student_id(row, student_id))
    return Response(problem.to_json(), mimetype="application/json")


@bp.get("/assignments/<int:assignment_id>/key/<path:student>")
def assignment_key(assignment_id: int, student: str) -> Response:
    """The key of a student by name (the id's URL above works for every name)."""
    row = access.assignment(assignment_id)
    problem = access.student_problem(roster_student(row, student))
    return Response(problem.to_json(), mimetype="application/json")


@bp.get("/assignments/<int:assignment_id>/grades.csv")
def assignment_grades(assignment_id: int) -> Response:
    row = access.assignment(assignment_id)
    return Response(
        service.grades_csv(db.session(), row),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="assignment-{row.id}-grades.csv"'},
    )


@bp.get("/assignments/<int:assignment_id>/links.csv")
def assignment_links(assignment_id: int) -> Response:
    """Every student's link as a full URL (student_id, name, link), for a mail merge."""
    from . import handout  # it builds on this module's roster functions

    row = access.assignment(assignment_id)
    return Response(
        handout.links_csv(row),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="assignment-{row.id}-links.csv"'},
    )


@bp.get("/assignments/<int:assignment_id>/stats")
def assignment_stats(assignment_id: int) -> Response:
    row = access.assignment(assignment_id)
    sample = service.problem_for(row.kind, row.spec, 0)
    return jsonify(service.stats(db.session(), row, service.blanks(sample)))
