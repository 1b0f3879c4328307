"""An assignment's grading and feedback settings, what a student sees of a report under them,
and regrading: every stored submission graded again from its stored answers.

Settings: the grading options (``reports.GRADING_OPTIONS``: tolerance, carried credit, weights;
a weight of 0 takes a cell out of the score), when the per-cell feedback shows (``immediate``,
``after_due``, ``never`` = exam mode), whether the score shows (``shown``,
``hidden_until_release``), the due date and the release flag. The instructor sees everything.

A regrade recomputes every submission's report and score in one transaction, keeps each changed
submission's old score in a ``Regrade`` row, and answers a before/after summary. It is
idempotent: a second regrade on the same options finds nothing to change. The new scores are
handed to :data:`SCORE_LISTENERS` after the commit: the hook where a learning platform's grade
passback (LTI AGS) plugs in."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handcalc import HandcalcError, Problem
from handcalc.grading.scheme import Scheme, weights_of

from . import access
from .errors import InputError
from .models import Assignment, Regrade, Student, Submission, now
from .problems import blanks, problem_for
from .reports import (
    FEEDBACK,
    GRADING_OPTIONS,
    SCORE,
    feedback_shown,
    grade,
    number,
    score_shown,
    visible_report,
)

#: called after a regrade's commit with the assignment and the changed students' new scores
#: (``[{"student_id", "student", "score", "max_score"}]``, the best attempt's): where the grade
#: passback to a learning platform (``lti.passback``) listens
SCORE_LISTENERS: list[Callable[[Assignment, list[dict[str, Any]]], None]] = []

#: called with an assignment once changed settings are committed (``settings_saved``): a release
#: or a new score policy changes what a learning platform's gradebook is to show
SETTINGS_SAVED: list[Callable[[Assignment], None]] = []

SETTINGS = ("grading", "feedback", "score", "due_at", "released", "score_policy")
#: which attempt's score a learning platform's gradebook shows
SCORE_POLICIES = ("best", "last")


# --- settings ---------------------------------------------------------------------------------


def settings_of(row: Assignment) -> dict[str, Any]:
    """An assignment's settings as the API shows them."""
    return {
        "grading": row.grading,
        "feedback": row.feedback,
        "score": row.score_visibility,
        "due_at": None if row.due_at is None else row.due_at.isoformat() + "Z",
        "released": bool(row.released),
        "score_policy": row.score_policy,
    }


def read_grading(value: Any, row: Assignment) -> dict[str, Any]:
    """Grading options checked against the grader's rules and the assignment's graded cells
    (``InputError`` naming what is not accepted); {} for the defaults."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(f"grading: expected an object with {', '.join(GRADING_OPTIONS)}")
    extra = sorted(set(value) - set(GRADING_OPTIONS))
    if extra:
        raise InputError(
            f"grading: {', '.join(extra)} not accepted; accepted: {', '.join(GRADING_OPTIONS)}"
        )
    try:
        Scheme.of(value.get("tolerance", 0.01), value.get("carried_credit", 1.0))
        weights = value.get("weights")
        if weights is not None:
            if not isinstance(weights, dict):
                raise InputError("grading.weights: expected an object of cell names to weights")
            weights_of(weights, blanks(problem_for(row.kind, row.spec, 0)))
    except InputError:
        raise
    except HandcalcError as e:
        raise InputError(f"grading: {e}") from None
    return {k: value[k] for k in GRADING_OPTIONS if k in value}


def read_due(value: Any) -> datetime | None:
    """An ISO 8601 date and time (a zone or UTC), or None: naive UTC as the database keeps it."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise InputError("due_at: expected an ISO 8601 date and time, such as 2026-12-01T09:00Z")
    try:
        found = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        if found.tzinfo is not None:
            found = found.astimezone(UTC).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise InputError(
            f"due_at: {value[:40]!r} is not accepted; accepted: an ISO 8601 date and time, "
            "such as 2026-12-01T09:00Z"
        ) from None
    return found


def change_settings(row: Assignment, given: Mapping[str, Any]) -> None:
    """Set the settings ``given`` names (the others stay); checked whole before any is set."""
    new: dict[str, Any] = {}
    if "grading" in given:
        grading = read_grading(given["grading"], row)
        new["grading_json"] = json.dumps(grading, sort_keys=True) if grading else None
    if "feedback" in given:
        if given["feedback"] not in FEEDBACK:
            raise InputError(f"feedback: expected one of {', '.join(FEEDBACK)}")
        new["feedback"] = given["feedback"]
    if "score" in given:
        if given["score"] not in SCORE:
            raise InputError(f"score: expected one of {', '.join(SCORE)}")
        new["score_visibility"] = given["score"]
    if "due_at" in given:
        new["due_at"] = read_due(given["due_at"])
    if "released" in given:
        if not isinstance(given["released"], bool):
            raise InputError("released: expected true or false")
        new["released"] = given["released"]
    if "score_policy" in given:
        if given["score_policy"] not in SCORE_POLICIES:
            raise InputError(f"score_policy: expected one of {', '.join(SCORE_POLICIES)}")
        new["score_policy"] = given["score_policy"]
    for name, value in new.items():
        setattr(row, name, value)


def settings_saved(row: Assignment) -> None:
    """Tell :data:`SETTINGS_SAVED` that ``row``'s settings were committed."""
    for listener in SETTINGS_SAVED:
        listener(row)


def student_report(row: Assignment, report: Mapping[str, Any]) -> dict[str, Any]:
    """What a student of ``row`` sees of a stored report now (never the key's values)."""
    return visible_report(
        report,
        feedback=feedback_shown(row.feedback, row.due_at, bool(row.released), now()),
        score=score_shown(row.score_visibility, bool(row.released)),
    )


# --- regrading --------------------------------------------------------------------------------


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 6) if values else None


def _best(scores: Mapping[int, tuple[float, float]]) -> tuple[float, float] | None:
    """A student's best (score, max) over their attempts, as the gradebook counts it."""
    return max(scores.values(), key=lambda s: s[0]) if scores else None


def regrade(session: Session, row: Assignment) -> dict[str, Any]:
    """Grade every submission of ``row`` again from its stored answers on the assignment's
    current options, in one transaction; the summary (kept in a ``Regrade`` row when anything
    changed): submissions graded and changed, per student the best score before and after, the
    class's mean of best scores before and after."""
    students = session.scalars(
        select(Student).where(Student.assignment_id == row.id).order_by(Student.id)
    ).all()
    options = row.grading
    changed: list[dict[str, Any]] = []
    per_student: list[dict[str, Any]] = []
    befores: list[float] = []
    afters: list[float] = []
    graded = 0
    for student in students:
        subs = session.scalars(select(Submission).where(Submission.student_id == student.id)).all()
        if not subs:
            continue
        problem: Problem = access.student_problem(student)
        before = {s.attempt: (s.score, s.max_score) for s in subs}
        for sub in subs:
            graded += 1
            report = grade(problem, sub.answers, options)
            text = json.dumps(report, ensure_ascii=False)
            if text == sub.report_json:
                continue
            score, most = number(report.get("score")), number(report.get("max_score"))
            changed.append(
                {
                    "submission": sub.id,
                    "student_id": student.id,
                    "attempt": sub.attempt,
                    "before": {"score": sub.score, "max_score": sub.max_score},
                    "after": {"score": score, "max_score": most},
                }
            )
            sub.report_json, sub.score, sub.max_score = text, score, most
        after = {s.attempt: (s.score, s.max_score) for s in subs}
        old, new = _best(before), _best(after)
        assert old is not None and new is not None
        befores.append(old[0])
        afters.append(new[0])
        if old != new:
            per_student.append(
                {
                    "student_id": student.id,
                    "student": student.name,
                    "before": old[0],
                    "after": new[0],
                    "max_score": new[1],
                    "delta": round(new[0] - old[0], 6),
                }
            )
    summary: dict[str, Any] = {
        "assignment": row.id,
        "grading": options,
        "submissions": graded,
        "changed": len(changed),
        "students_changed": len(per_student),
        "mean_before": _mean(befores),
        "mean_after": _mean(afters),
        "students": per_student,
    }
    if changed:
        record = Regrade(
            assignment_id=row.id,
            summary_json=json.dumps({**summary, "submissions_changed": changed}),
        )
        session.add(record)
        session.flush()
        summary["regrade"] = record.id
    else:
        summary["regrade"] = None
    session.commit()
    if per_student:
        scores = [
            {k: s[k] for k in ("student_id", "student", "max_score")} | {"score": s["after"]}
            for s in per_student
        ]
        for listener in SCORE_LISTENERS:
            listener(row, scores)
    return summary


def last_regrades(session: Session, row: Assignment, count: int = 5) -> list[Regrade]:
    """The assignment's latest regrades, newest first (the assignment page lists them)."""
    return list(
        session.scalars(
            select(Regrade)
            .where(Regrade.assignment_id == row.id)
            .order_by(Regrade.id.desc())
            .limit(count)
        ).all()
    )
