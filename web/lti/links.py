"""A launch's platform course, activity and user as ours: the platform's course (its context) is
a course of ours, made at its first launch; the activity (its resource link) opens one
assignment; a student is a roster row of that assignment, found again by the platform's user id
(``sub``) at every launch; an instructor is an account of ours that teaches the course.

Names come from the platform and may change there; a student's roster name is chosen once (their
variant's seed depends on it), so a later change of name in the platform changes nothing here."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Callable
from typing import Any, TypeGuard, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..courses import hash_password
from ..errors import InputError
from ..inputs import NOT_IN_NAMES
from ..models import (
    Assignment,
    Course,
    Instructor,
    LtiContext,
    LtiLink,
    LtiPlatform,
    LtiUser,
    Student,
)
from ..roster import MAX_NAME_CHARS

T = TypeVar("T")
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
#: the custom parameter a deep-linked activity carries: the assignment it opens
ASSIGNMENT_PARAM = "handcalc_assignment"
#: the longest platform user id (``sub``: OpenID Connect's limit, and ``LtiUser.sub``'s column)
MAX_SUB = 255


def claim(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(CLAIM + name)
    return value if isinstance(value, dict) else {}


def usable_sub(sub: Any) -> TypeGuard[str]:
    """Whether ``sub`` (a launch's user id, or a roster member's) can be kept: text of 1 to
    ``MAX_SUB`` characters without a NUL (PostgreSQL refuses a longer one for the column, and a
    NUL in any text)."""
    return isinstance(sub, str) and 0 < len(sub) <= MAX_SUB and "\x00" not in sub


def _url(value: Any) -> str | None:
    """A service URL a launch names, as kept: text without a NUL (PostgreSQL refuses one)."""
    return value if isinstance(value, str) and "\x00" not in value else None


def _clean(text: Any, limit: int) -> str:
    """One line of printable text of at most ``limit`` characters."""
    raw = text if isinstance(text, str) else ""
    kept = "".join(" " if unicodedata.category(c) in NOT_IN_NAMES else c for c in raw)
    return " ".join(kept.split())[:limit]


def person_name(data: dict[str, Any]) -> str:
    """What the platform calls the user: name, given and family name, e-mail, or a short id."""
    name = _clean(data.get("name"), MAX_NAME_CHARS)
    if not name:
        name = _clean(f"{data.get('given_name') or ''} {data.get('family_name') or ''}", 100)
    if not name:
        name = _clean(data.get("email"), MAX_NAME_CHARS)
    return name or f"Student {_short(str(data.get('sub', '')))}"


def _short(sub: str) -> str:
    return hashlib.sha256(sub.encode()).hexdigest()[:8]


# --- courses ----------------------------------------------------------------------------------


def context_of(session: Session, platform: LtiPlatform, data: dict[str, Any]) -> LtiContext:
    """The launch's platform course as ours, made at its first launch (named after its title and
    the platform); its NRPS endpoint kept up to date."""
    context = claim(data, "context")
    deployment = data.get(CLAIM + "deployment_id")
    context_id = _clean(context.get("id"), 255) or f"deployment {deployment}"[:255]

    def find() -> LtiContext | None:
        return session.scalar(
            select(LtiContext).where(
                LtiContext.platform_id == platform.id, LtiContext.context_id == context_id
            )
        )

    def make() -> LtiContext:
        title = _clean(context.get("title") or context.get("label"), 120) or "Course"
        course = Course(name=_free_course_name(session, f"{title} · {platform.name}"[:190]))
        session.add(course)
        session.flush()
        made = LtiContext(platform_id=platform.id, context_id=context_id, course_id=course.id)
        session.add(made)
        return made

    row = find() or _made_once(session, make, find)
    nrps = data.get(NRPS_CLAIM)
    if isinstance(nrps, dict) and _url(nrps.get("context_memberships_url")):
        row.memberships_url = nrps["context_memberships_url"]
    session.flush()
    return row


def _made_once(session: Session, make: Callable[[], T], find: Callable[[], T | None]) -> T:
    """``make()`` committed, or — when another request made the same row at the same moment
    (the class clicking a new activity at once) — the row it made. A clash that made no such
    row (another platform course of the same title took the name chosen) makes it again."""
    for _ in range(3):
        try:
            made = make()
            session.commit()
            return made
        except IntegrityError:
            session.rollback()
            found = find()
            if found is not None:
                return found
    raise InputError("this activity's course could not be made here; open it again")


def _free_course_name(session: Session, name: str) -> str:
    # (autoescape: a backslash in a title escaped the pattern's next character on PostgreSQL)
    like = Course.name.startswith(name, autoescape=True)
    taken = set(session.scalars(select(Course.name).where(like)).all())
    if name not in taken:
        return name
    return next(f"{name} ({n})" for n in range(2, 10_000) if f"{name} ({n})" not in taken)


# --- activities -------------------------------------------------------------------------------


def link_of(
    session: Session, platform: LtiPlatform, context: LtiContext, data: dict[str, Any]
) -> LtiLink | None:
    """The assignment the launch's activity opens: its link as kept, or made now from the
    custom parameter a deep-linked activity carries. None: the activity has no assignment yet.

    A custom parameter naming an assignment of another course (the platform's course was copied,
    with its activities) gets a copy of that assignment in this course, so two courses never share
    one gradebook."""
    resource_id = resource_link_id(data)
    if not resource_id:
        return None

    def find() -> LtiLink | None:
        return session.scalar(
            select(LtiLink).where(
                LtiLink.platform_id == platform.id, LtiLink.resource_link_id == resource_id
            )
        )

    row = find()
    if row is None:
        assignment = _assignment_param(session, claim(data, "custom").get(ASSIGNMENT_PARAM))
        if assignment is None:
            return None

        def make() -> LtiLink:
            opened = assignment
            if opened.course_id != context.course_id:
                opened = copy_assignment(session, opened, context.course_id)
            return bind(session, platform, context, resource_id, opened, data)

        row = _made_once(session, make, find)
    _keep_ags(row, data)
    session.flush()
    return row


def resource_link_id(data: dict[str, Any]) -> str:
    """The launch's activity (its resource link id) as kept and looked up: one line of at most
    255 characters ("" without one)."""
    return _clean(claim(data, "resource_link").get("id"), 255)


def bind(
    session: Session,
    platform: LtiPlatform,
    context: LtiContext,
    resource_id: str,
    assignment: Assignment,
    data: dict[str, Any],
) -> LtiLink:
    """Make the activity ``resource_id`` open ``assignment``."""
    title = _clean(claim(data, "resource_link").get("title"), 255) or assignment.title
    row = LtiLink(
        platform_id=platform.id,
        resource_link_id=resource_id,
        context_id=context.id,
        assignment_id=assignment.id,
        title=title,
    )
    session.add(row)
    _keep_ags(row, data)
    session.flush()
    return row


def _assignment_param(session: Session, raw: Any) -> Assignment | None:
    try:
        assignment_id = int(str(raw))
    except ValueError:
        return None
    return session.get(Assignment, assignment_id) if 0 < assignment_id < 2**31 else None


def _keep_ags(row: LtiLink, data: dict[str, Any]) -> None:
    """The line items' endpoints the launch names (the platform may move them)."""
    ags = data.get(AGS_CLAIM)
    if not isinstance(ags, dict):
        return
    if _url(ags.get("lineitems")):
        row.lineitems_url = ags["lineitems"]
    if _url(ags.get("lineitem")):
        row.lineitem_url = ags["lineitem"]


def copy_assignment(session: Session, source: Assignment, course_id: int) -> Assignment:
    """A copy of ``source`` (its options and settings, no roster) in the course ``course_id``."""
    copy = Assignment(
        course_id=course_id,
        title=source.title,
        kind=source.kind,
        spec_json=source.spec_json,
        max_attempts=source.max_attempts,
        grading_json=source.grading_json,
        feedback=source.feedback,
        score_visibility=source.score_visibility,
        due_at=source.due_at,
        score_policy=source.score_policy,
    )
    session.add(copy)
    session.flush()
    return copy


# --- people -----------------------------------------------------------------------------------


def student_of(session: Session, link: LtiLink, sub: str, name: str) -> Student:
    """The platform user ``sub``'s roster row on the link's assignment, made at their first
    launch (or when the roster came from the platform) under a name free on that roster;
    committed. Two launches making the same row at one moment: the second finds the first's."""
    for _ in range(3):
        found = session.scalar(
            select(LtiUser).where(
                LtiUser.platform_id == link.platform_id,
                LtiUser.assignment_id == link.assignment_id,
                LtiUser.sub == sub,
            )
        )
        if found is not None:
            student = session.get(Student, found.student_id)
            assert student is not None
            return student
        taken = set(
            session.scalars(
                select(Student.name).where(Student.assignment_id == link.assignment_id)
            ).all()
        )
        chosen = name if name not in taken else f"{name[: MAX_NAME_CHARS - 11]} ({_short(sub)})"
        student = Student(assignment_id=link.assignment_id, name=chosen)
        try:
            session.add(student)
            session.flush()
            session.add(
                LtiUser(
                    student_id=student.id,
                    platform_id=link.platform_id,
                    assignment_id=link.assignment_id,
                    sub=sub,
                    link_id=link.id,
                )
            )
            session.commit()
        except IntegrityError:  # made by another launch, or the name taken meanwhile
            session.rollback()
            continue
        return student
    raise InputError("your roster entry could not be made; open the activity again")


def instructor_of(session: Session, platform: LtiPlatform, sub: str, course: Course) -> Instructor:
    """The account of the platform's staff member ``sub``, made at their first launch with an
    unusable password (they sign in through the platform), teaching ``course``; committed. Two
    launches of one person at one moment (a double click) both make the account, or add the
    course to it: the second finds what the first made (it was a 500)."""
    login = f"lti-{platform.id}-{hashlib.sha256(sub.encode()).hexdigest()[:32]}"
    for _ in range(3):
        found = session.scalar(select(Instructor).where(Instructor.login == login))
        if found is None:
            found = Instructor(login=login, password_hash=hash_password(secrets.token_urlsafe(32)))
            session.add(found)
        found.active = True
        if course not in found.courses:
            found.courses.append(course)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            continue
        return found
    raise InputError("your account could not be made; open the activity again")
