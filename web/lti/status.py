"""What people see of the score sends (no LTI library needed: the pages import it whether or not
the ``lms`` extra is installed): whether a student's score reached their platform, and the
assignment's sends for the instructor, unsent first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Assignment, LtiLink, ScoreSend, Student


def status_of(session: Session, student_id: int) -> dict[str, Any] | None:
    """Whether a platform student's score reached their platform: None for a student who did
    not come from one, or who has no score to send yet."""
    row = session.scalar(select(ScoreSend).where(ScoreSend.student_id == student_id).limit(1))
    if row is None:
        return None
    return {
        "status": row.status,
        "platform": row.link.platform.name,
        "sent_at": row.sent_at,
        "next_try_at": row.next_try_at,
        "score": row.score,
        "max_score": row.max_score,
    }


def sends_of(session: Session, row: Assignment) -> list[dict[str, Any]]:
    """The assignment's sends, unsent first (the instructor's page lists them)."""
    rows = session.execute(
        select(ScoreSend, Student.name)
        .join(Student, Student.id == ScoreSend.student_id)
        .join(LtiLink, LtiLink.id == ScoreSend.link_id)
        .where(LtiLink.assignment_id == row.id)
        .order_by((ScoreSend.status == "sent"), ScoreSend.updated_at.desc())
    ).all()
    return [
        {
            "student": name,
            "status": send.status,
            "score": send.score,
            "max_score": send.max_score,
            "tries": send.tries,
            "last_error": send.last_error,
            "next_try_at": send.next_try_at,
            "sent_at": send.sent_at,
            "platform": send.link.platform.name,
        }
        for send, name in rows
    ]


def links_of(session: Session, row: Assignment) -> list[LtiLink]:
    return list(session.scalars(select(LtiLink).where(LtiLink.assignment_id == row.id)).all())
