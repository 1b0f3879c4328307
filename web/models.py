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
    #: which attempt's score a learning platform's gradebook gets (``lti.passback``): "best"
    #: or "last"
    score_policy: Mapped[str] = mapped_column(String(10), default="best", server_default="best")
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


# --- learning platforms (LTI 1.3: web/lti) ------------------------------------------------------


class LtiPlatform(Base):
    """A learning platform registered with the tool (``handcalc lti register``): who signs its
    launches (the issuer, its keys at ``key_set_url``), the tool's client id there, where the OIDC
    login and the service tokens are asked for, and the deployments it may launch from."""

    __tablename__ = "lti_platform"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(Text)
    auth_token_url: Mapped[str] = mapped_column(Text)
    key_set_url: Mapped[str] = mapped_column(Text)
    #: the deployment ids it may launch from, as a JSON list
    deployments_json: Mapped[str] = mapped_column(Text, default="[]")
    created_at: Mapped[datetime] = mapped_column(default=now)

    @property
    def deployments(self) -> list[str]:
        value: list[str] = json.loads(self.deployments_json)
        return value


class LtiContext(Base):
    """A platform's course, and the course of ours it is (made at its first launch)."""

    __tablename__ = "lti_context"
    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id"))
    context_id: Mapped[str] = mapped_column(String(255))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    #: the Names and Role Provisioning Service's URL of its members (None: not offered)
    memberships_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    platform: Mapped[LtiPlatform] = relationship()


class LtiLink(Base):
    """A platform's resource link (an activity in a course) and the assignment it opens; the
    line item its scores go to, found or made once and kept (never made twice)."""

    __tablename__ = "lti_link"
    __table_args__ = (UniqueConstraint("platform_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id"))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[int] = mapped_column(ForeignKey("lti_context.id"), index=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), index=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    #: the AGS endpoint of the context's line items, and the link's own line item (None: the
    #: platform offers no AGS, or the line item is not found or made yet)
    lineitems_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    lineitem_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: when a sender began making the line item (others wait: it is made once)
    creating_since: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    platform: Mapped[LtiPlatform] = relationship()
    context: Mapped[LtiContext] = relationship()


class LtiUser(Base):
    """A student's platform identity: the platform's user id (``sub``) on one assignment, and the
    link its scores go back through."""

    __tablename__ = "lti_user"
    __table_args__ = (UniqueConstraint("platform_id", "assignment_id", "sub"),)

    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("lti_platform.id"))
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), index=True)
    sub: Mapped[str] = mapped_column(String(255))
    link_id: Mapped[int] = mapped_column(ForeignKey("lti_link.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=now)


class ScoreSend(Base):
    """The score a platform's gradebook is to show for one student of one link, and how sending
    it went: ``pending`` (to be sent, now or at ``next_try_at``), ``sent``, or ``failed`` (given up
    after ``passback.GIVE_UP_AFTER``; sent again from the instructor's page). A newer score
    replaces the row's and bumps ``version``, so a send that raced it never marks it sent."""

    __tablename__ = "lti_score_send"
    __table_args__ = (UniqueConstraint("link_id", "student_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("lti_link.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("student.id"), index=True)
    score: Mapped[float] = mapped_column()
    max_score: Mapped[float] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    next_try_at: Mapped[datetime] = mapped_column(default=now)
    #: when a sender claimed it (others leave it alone until the lease ends)
    claimed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=now)
    updated_at: Mapped[datetime] = mapped_column(default=now)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    link: Mapped[LtiLink] = relationship()


class LtiLaunchData(Base):
    """What the OIDC login hands to the launch (the nonce, the state's parameters) and a launch
    keeps for its deep-linking answer, shared by every worker; each row expires, and a nonce is
    deleted by the launch that uses it (a replayed launch finds none)."""

    __tablename__ = "lti_launch_data"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value_json: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(index=True)
