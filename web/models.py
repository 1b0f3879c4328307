"""What the service keeps: assignments, their students, every submission, practice sessions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Assignment(Base):
    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), default="mlp")
    spec_json: Mapped[str] = mapped_column(Text)
    max_attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=now)
    students: Mapped[list[Student]] = relationship(
        back_populates="assignment", order_by="Student.id"
    )

    @property
    def spec(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.spec_json)
        return value


class Student(Base):
    __tablename__ = "student"
    __table_args__ = (UniqueConstraint("assignment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=now)
    assignment: Mapped[Assignment] = relationship(back_populates="students")
    submissions: Mapped[list[Submission]] = relationship(
        back_populates="student", order_by="Submission.attempt"
    )


class Submission(Base):
    """One acknowledged submission: exactly what was sent and the report it got."""

    __tablename__ = "submission"
    __table_args__ = (
        # two concurrent submissions cannot both take the last attempt
        UniqueConstraint("student_id", "attempt"),
        # the gradebook's aggregates read this index only: a row's report and answers (KiBs each,
        # before these columns) are never read to find its score
        Index(
            "ix_submission_gradebook", "student_id", "attempt", "score", "max_score", "created_at"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    answers_json: Mapped[str] = mapped_column(Text)
    report_json: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column()
    max_score: Mapped[float] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=now)
    student: Mapped[Student] = relationship(back_populates="submissions")

    @property
    def answers(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.answers_json)
        return value

    @property
    def report(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.report_json)
        return value


class PracticeSession(Base):
    """A practice problem someone asked for: no account, the token is its only handle."""

    __tablename__ = "practice_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), default="mlp")
    spec_json: Mapped[str] = mapped_column(Text)
    seed: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=now)

    @property
    def spec(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.spec_json)
        return value


class InstructorSession(Base):
    """A signed-in instructor. The cookie carries a random id and this row its SHA-256 (the table
    alone signs nobody in); signing out deletes the row, which every worker and server sharing
    the database sees at once."""

    __tablename__ = "instructor_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: an HMAC (with the secret key) of the token signed in with: a new token ends old sessions
    token_mac: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=now)
    seen_at: Mapped[datetime] = mapped_column(default=now)
