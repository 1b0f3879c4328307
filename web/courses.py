"""Courses and their instructors: who may see which assignments.

The admin (the instructor token, ``HANDCALC_INSTRUCTOR_TOKEN``) sees every course. An instructor
signs in to the pages with a login and a password (kept as an argon2 hash, ``argon2-cffi``) and
sees the courses they teach. A program uses the JSON API with a course's API token (made by
``handcalc admin token --course NAME``, kept as its SHA-256: a random 192-bit token needs no slow
hash) and sees that course. Accounts, courses and tokens are made by ``handcalc admin``, through
the functions here; the views ask :func:`assignment` for an assignment, which is a 404 for one
outside the caller's courses, exactly as for one that does not exist (no existence leak).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, g
from flask.sansio.app import App
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import access, db
from .errors import InputError
from .models import (
    DEFAULT_COURSE,
    Assignment,
    Course,
    CourseToken,
    Instructor,
    course_instructor,
)
from .problems import canonical, problem_for

MAX_COURSE_CHARS = 200
MAX_LOGIN_CHARS = 254
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
#: a course token's prefix: recognisable in a leaked file (secret scanners), never in a password
TOKEN_PREFIX = "hcc_"

_hasher = PasswordHasher()  # argon2id with the library's recommended costs


# --- who is asking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    """Who a request is from: the admin (every course), an instructor (the courses they teach)
    or a course's API token (that course)."""

    courses: frozenset[int] | None  # None: every course
    instructor_id: int | None = None
    label: str = "admin"

    @property
    def admin(self) -> bool:
        return self.courses is None

    def sees(self, course_id: int) -> bool:
        return self.courses is None or course_id in self.courses

    def where(self, column: Any) -> ColumnElement[bool]:
        """A query's condition: rows of the courses this caller sees."""
        if self.courses is None:
            return column.is_not(None)
        return column.in_(sorted(self.courses))


ADMIN = Who(None)
#: the key of ``flask.g`` the auth decorators put the caller under
WHO_KEY = "handcalc_who"


def who() -> Who:
    """The caller of this request, as the auth decorators found them (a view without one of
    them sees nothing)."""
    found = g.get(WHO_KEY)
    return found if isinstance(found, Who) else Who(frozenset(), label="nobody")


def assignment(assignment_id: int) -> Assignment:
    """The assignment, if the caller's courses hold it; else the 404 of one that does not exist."""
    row = access.assignment(assignment_id)
    if not who().sees(row.course_id):
        abort(404, f"no assignment {assignment_id}")
    return row


def instructor_courses(session: Session, instructor_id: int) -> frozenset[int]:
    found = session.scalars(
        select(course_instructor.c.course_id).where(
            course_instructor.c.instructor_id == instructor_id
        )
    )
    return frozenset(found)


def visible_courses(session: Session, caller: Who) -> list[Course]:
    """The courses the caller sees, by name."""
    return list(
        session.scalars(select(Course).where(caller.where(Course.id)).order_by(Course.name))
    )


def course_for_new_assignment(session: Session, caller: Who, raw: object) -> Course:
    """The course a new assignment goes into: the one asked for (by id), which must be one of the
    caller's (one they cannot see is "no course", as one that does not exist); without one, the
    caller's only course, or for the admin the default course."""
    if raw is None or raw == "":
        if caller.admin:
            return default_course(session)
        mine = visible_courses(session, caller)
        if len(mine) == 1:
            return mine[0]
        if not mine:
            raise InputError("course: you teach no course yet; ask the administrator to add you")
        raise InputError(f"course: say which of your {len(mine)} courses (its id)")
    try:
        course_id = int(str(raw).strip())
    except ValueError:
        raise InputError(f"course: expected a course id, got {str(raw)[:40]!r}") from None
    found = session.get(Course, course_id) if 0 < course_id < 2**31 else None
    if found is None or not caller.sees(found.id):
        raise InputError(f"course: no course {course_id} of yours")
    return found


# --- passwords --------------------------------------------------------------------------------


def check_password_rules(password: str) -> str:
    """The password, if it is one we accept (long enough; not absurdly long to hash)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise InputError(f"password: at least {MIN_PASSWORD_CHARS} characters, please")
    if len(password) > MAX_PASSWORD_CHARS:
        raise InputError(f"password: at most {MAX_PASSWORD_CHARS} characters")
    if len(set(password)) < 4:
        raise InputError("password: too repetitive")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_password_rules(password))


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def signed_in_instructor(session: Session, login: str, password: str) -> Instructor | None:
    """The active instructor whose login and password these are, or None. An unknown login costs
    as much time as a wrong password (a hash is checked either way), so the answer's time does not
    tell which logins exist; a hash made with older costs is made anew."""
    found = session.scalar(select(Instructor).where(Instructor.login == login.strip()))
    stored = found.password_hash if found is not None else _dummy_hash()
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if found is None or not found.active:
        return None
    if _hasher.check_needs_rehash(found.password_hash):
        found.password_hash = _hasher.hash(password)
        session.commit()
    return found


# --- course tokens ----------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def course_of_token(session: Session, token: str) -> int | None:
    """The course whose API token this is, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    found = session.scalar(
        select(CourseToken.course_id).where(CourseToken.token_hash == token_hash(token))
    )
    return None if found is None else int(found)


def new_token(session: Session, course: Course) -> str:
    """A new API token of ``course`` (shown once: only its hash is kept)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    session.add(CourseToken(course_id=course.id, token_hash=token_hash(token)))
    session.commit()
    return token


def revoke_tokens(session: Session, course: Course) -> int:
    """Remove every API token of ``course``; how many there were."""
    rows = list(session.scalars(select(CourseToken).where(CourseToken.course_id == course.id)))
    for row in rows:
        session.delete(row)
    session.commit()
    return len(rows)


# --- courses and instructors (``handcalc admin``) ---------------------------------------------


def _name(name: str) -> str:
    clean = " ".join(name.split())
    if not clean or len(clean) > MAX_COURSE_CHARS:
        raise InputError(f"course name: 1 to {MAX_COURSE_CHARS} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in clean):
        raise InputError("course name: no control characters")
    return clean


def create_course(session: Session, name: str) -> Course:
    clean = _name(name)
    if session.scalar(select(Course).where(Course.name == clean)) is not None:
        raise InputError(f"there is a course {clean!r} already")
    course = Course(name=clean)
    session.add(course)
    session.commit()
    return course


def course_named(session: Session, name: str) -> Course:
    clean = _name(name)
    found = session.scalar(select(Course).where(Course.name == clean))
    if found is None:
        known = ", ".join(repr(c) for c in session.scalars(select(Course.name).limit(10)))
        raise InputError(f"no course {clean!r} (there are: {known or 'none'})")
    return found


def default_course(session: Session) -> Course:
    """The default course (made again if it was renamed or removed)."""
    found = session.scalar(select(Course).where(Course.name == DEFAULT_COURSE))
    return found if found is not None else create_course(session, DEFAULT_COURSE)


def ensure_default_course(app: App) -> None:
    """On start: the default course is there (the migration made it; an admin may have renamed
    it, a test emptied the tables), so an assignment made without a course always has one. Two
    processes starting together may both make it: the second one's is refused, and it is there."""
    with app.extensions[db.EXTENSION]() as session:
        if session.scalar(select(Course.id).where(Course.name == DEFAULT_COURSE)) is None:
            session.add(Course(name=DEFAULT_COURSE))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()


def _login(login: str) -> str:
    clean = login.strip()
    if not clean or len(clean) > MAX_LOGIN_CHARS or any(c.isspace() for c in clean):
        raise InputError(f"login: 1 to {MAX_LOGIN_CHARS} characters without spaces")
    if any(ord(c) < 32 or ord(c) == 127 for c in clean):
        raise InputError("login: no control characters")
    return clean


def instructor_named(session: Session, login: str) -> Instructor | None:
    return session.scalar(select(Instructor).where(Instructor.login == _login(login)))


def add_instructor(
    session: Session, login: str, course: Course, password: str | None = None
) -> tuple[Instructor, bool]:
    """Make ``login`` an instructor of ``course``: a new account needs ``password``; an existing
    one keeps theirs unless a new one is given (which signs them out everywhere). The account,
    and whether it was made now."""
    found = instructor_named(session, login)
    made = found is None
    if found is None:
        if password is None:
            raise InputError(f"{login!r} is a new instructor: give them a password")
        found = Instructor(login=_login(login), password_hash=hash_password(password), active=True)
        session.add(found)
    elif password is not None:
        found.password_hash = hash_password(password)
    found.active = True
    if course not in found.courses:
        found.courses.append(course)
    session.commit()
    return found, made


def remove_instructor(session: Session, login: str, course: Course | None) -> str:
    """Take ``login`` off ``course``, or (``None``) off every course and sign them out for good."""
    found = instructor_named(session, login)
    if found is None:
        raise InputError(f"no instructor {login!r}")
    if course is None:
        found.active = False
        found.courses.clear()
        said = f"{found.login}: account closed"
    elif course in found.courses:
        found.courses.remove(course)
        said = f"{found.login}: no longer teaches {course.name!r}"
    else:
        raise InputError(f"{found.login} does not teach {course.name!r}")
    session.commit()
    return said


@dataclass(frozen=True)
class CourseLine:
    """A course as ``handcalc admin list-courses`` and the admin's dashboard show it."""

    id: int
    name: str
    instructors: list[str]
    assignments: int
    tokens: int


def course_lines(session: Session) -> list[CourseLine]:
    """Every course with its instructors, assignments and API tokens (three queries)."""
    courses = list(session.scalars(select(Course).order_by(Course.name)))
    assignments = dict(
        session.execute(
            select(Assignment.course_id, func.count()).group_by(Assignment.course_id)
        ).all()
    )
    tokens = dict(
        session.execute(
            select(CourseToken.course_id, func.count()).group_by(CourseToken.course_id)
        ).all()
    )
    teachers: dict[int, list[str]] = {}
    rows = session.execute(
        select(course_instructor.c.course_id, Instructor.login)
        .join(Instructor, Instructor.id == course_instructor.c.instructor_id)
        .order_by(Instructor.login)
    )
    for course_id, login in rows:
        teachers.setdefault(course_id, []).append(login)
    return [
        CourseLine(
            c.id, c.name, teachers.get(c.id, []), assignments.get(c.id, 0), tokens.get(c.id, 0)
        )
        for c in courses
    ]


def store_assignment(
    title: str, kind: str, spec: dict[str, Any], max_attempts: int, course_id: int
) -> Assignment:
    """A new assignment of ``course_id``, committed; options that cannot make a problem fail
    before anything is stored (the API's and the pages' new assignments, and the LTI picker's)."""
    problem_for(kind, spec, 0)
    row = Assignment(
        title=title,
        kind=kind,
        spec_json=canonical(spec),
        max_attempts=max_attempts,
        course_id=course_id,
    )
    session = db.session()
    session.add(row)
    session.commit()
    return row
