"""What the service keeps: courses, their instructors and API tokens, assignments, their
students, every submission, the regrades (old scores kept), practice sessions, instructors' page
sessions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


#: an instructor teaches a course: who may see and change its assignments
course_instructor = Table(
    "course_instructor",
    Base.metadata,
    Column("course_id", ForeignKey("course.id"), primary_key=True),
    Column("instructor_id", ForeignKey("instructor.id"), primary_key=True, index=True),
)


class Course(Base):
    """A course: its assignments are seen and changed by its instructors (and the admin) only."""

    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    instructors: Mapped[list[Instructor]] = relationship(
        secondary=course_instructor, back_populates="courses", order_by="Instructor.login"
    )


class Instructor(Base):
    """An instructor's account: a login (a name or an e-mail address) and an argon2 hash of the
    password (never the password); an inactive one cannot sign in."""

    __tablename__ = "instructor"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    courses: Mapped[list[Course]] = relationship(
        secondary=course_instructor, back_populates="instructors", order_by="Course.name"
    )


class CourseToken(Base):
    """An API token of one course (``Authorization: Bearer``): its SHA-256 only is kept (a random
    token of 192 bits needs no slow hash), so the table signs nobody in."""

    __tablename__ = "course_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=now)


#: the course of the assignments made before courses, and of those made without a course
DEFAULT_COURSE = "Default course"


class Assignment(Base):
    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the views always name it; a row made without one (a script, a test) is the default course's
    course_id: Mapped[int] = mapped_column(
        ForeignKey("course.id"),
        index=True,
        default=select(Course.id).where(Course.name == DEFAULT_COURSE).scalar_subquery(),
    )
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), default="mlp")
    spec_json: Mapped[str] = mapped_column(Text)
    max_attempts: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=now)
    #: the grading options (``{"tolerance", "carried_credit", "weights"}``, each optional) as JSON;
    #: None: the grader's defaults (``reports.GRADING_OPTIONS``, ``regrade.read_grading``)
    grading_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: when a student sees the per-cell marks: "immediate", "after_due" or "never" (exam mode;
    #: shown once released)
    feedback: Mapped[str] = mapped_column(
        String(20), default="immediate", server_default="immediate"
    )
    #: whether a student sees the score: "shown" or "hidden_until_release"
    score_visibility: Mapped[str] = mapped_column(
        String(30), default="shown", server_default="shown"
    )
    #: the due date (UTC, naive as every time here); "after_due" feedback shows from then on
    due_at: Mapped[datetime | None] = mapped_column(nullable=True)
    #: released by the instructor: the feedback and the score are shown, whatever the settings
    released: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    students: Mapped[list[Student]] = relationship(
        back_populates="assignment", order_by="Student.id"
    )

    @property
    def spec(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.spec_json)
        return value

    @property
    def grading(self) -> dict[str, Any]:
        """The stored grading options ({} for the grader's defaults)."""
        value: dict[str, Any] = json.loads(self.grading_json) if self.grading_json else {}
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


class Regrade(Base):
    """One regrade of an assignment: who asked, when, and what changed (every changed
    submission's score before and after, the class's mean before and after) as JSON, so the old
    scores are kept after the submissions' rows are rewritten."""

    __tablename__ = "regrade"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    summary_json: Mapped[str] = mapped_column(Text)

    @property
    def summary(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.summary_json)
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
    """A signed-in instructor (or the admin, with the instructor token). The cookie carries a random
    id and this row its SHA-256 (the table alone signs nobody in); signing out deletes the row,
    which every worker and server sharing the database sees at once."""

    __tablename__ = "instructor_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: an HMAC (with the secret key) of the token signed in with, or of the instructor's password
    #: hash: a new token or password ends old sessions
    token_mac: Mapped[str] = mapped_column(String(64))
    #: the instructor signed in; None: the admin (the instructor token)
    instructor_id: Mapped[int | None] = mapped_column(ForeignKey("instructor.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    seen_at: Mapped[datetime] = mapped_column(default=now)
