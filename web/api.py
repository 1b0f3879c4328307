"""The public JSON API under ``/api/v1`` — its description, practice without an account, a
student's link — and ``/healthz``. The instructor's endpoints are ``instructor_api``'s."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import UnsupportedMediaType

from . import access, db, openapi
from .access import Practice
from .auth import practice_link, student_link
from .bodies import WITH_BODY, json_body, json_object, text, whole
from .gradebook import latest
from .inputs import read_answers
from .lti.status import status_of
from .models import Student
from .problems import DEFAULT_KIND, read_spec, student_copy
from .regrade import student_report
from .reports import public_json, report_of

health = Blueprint("health", __name__)
bp = Blueprint("api", __name__, url_prefix="/api/v1")


@health.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/openapi.json", endpoint="openapi")
def openapi_document() -> Response:
    return Response(openapi.document(current_app), mimetype="application/json")


def json_only() -> None:
    """415 for a body that does not say it is JSON: a form on any site may POST text/plain
    or a form encoding across sites without asking (a "simple" request), never JSON."""
    if request.method in WITH_BODY and request.mimetype != "application/json":
        raise UnsupportedMediaType(
            f"Content-Type: {request.mimetype or 'none'} is not accepted; send the body as "
            "JSON with Content-Type: application/json"
        )


bp.before_request(json_only)


# --- practice: no account ---------------------------------------------------------------------


@bp.post("/practice")
def practice_new() -> tuple[Response, int]:
    access.limit("practice", access.client())
    body = json_object(("spec", "seed", "kind"))
    kind = text(body.get("kind", DEFAULT_KIND), "kind", 40)
    spec = read_spec(body.get("spec"), kind)
    seed = body.get("seed")
    seed = secrets.randbelow(10**9) if seed is None else whole(seed, "seed", 0, 2**63 - 1)
    token, problem = access.new_practice(spec, seed, kind)
    return jsonify(
        token=token,
        problem=problem.to_dict(answers=False),
        links={"check": f"/api/v1/practice/{token}/check", "page": f"/p/{token}"},
    ), 201


@bp.post("/practice/<token>/check")
@practice_link
def practice_check(found: Practice, token: str) -> Response:
    access.limit("check", token)
    with access.cpu_budget():
        problem = found.problem
        report = report_of(problem, read_answers(json_body(), problem))
        return Response(public_json(report), mimetype="application/json")


# --- students: the token is the credential ----------------------------------------------------


def student_view(row: Student) -> dict[str, Any]:
    used = access.attempts_used(row)
    last = latest(db.session(), row.id) if used else None
    return {
        "assignment": {
            "id": row.assignment.id,
            "title": row.assignment.title,
            "max_attempts": row.assignment.max_attempts,
        },
        "student": row.name,
        "attempts": {"used": used, "left": max(0, row.assignment.max_attempts - used)},
        "problem": student_copy(access.student_problem(row)),
        "last": None
        if last is None
        else {
            "attempt": last.attempt,
            "submitted_at": last.created_at.isoformat() + "Z",
            "cells": last.answers.get("cells", {}),
            "report": student_report(row.assignment, last.report),
        },
        "gradebook": _gradebook(row),
    }


def _gradebook(row: Student) -> dict[str, Any] | None:
    """Whether the score of a student who came from a learning platform reached it."""
    found = status_of(db.session(), row.id)
    if found is None:
        return None
    sent = found["sent_at"]
    return {
        "status": found["status"],
        "platform": found["platform"],
        "sent_at": None if sent is None else sent.isoformat() + "Z",
    }


@bp.get("/s/<token>")
@student_link
def student_get(row: Student, token: str) -> Response:
    return jsonify(student_view(row))


@bp.post("/s/<token>/submissions")
@student_link
def student_submit(row: Student, token: str) -> tuple[Response, int]:
    answers = read_answers(json_body(), access.student_problem(row))
    submission = access.submit(row, token, answers)
    left = max(0, row.assignment.max_attempts - submission.attempt)
    return jsonify(
        id=submission.id,
        attempt=submission.attempt,
        attempts_left=left,
        report=student_report(row.assignment, submission.report),
    ), 201
