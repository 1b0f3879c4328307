"""Who may do what, as decorators on the views: the instructors (a bearer token on the API, a
signed-in session on the pages) and the holders of a student's or a practice session's link
(the view gets the student or the session the token names). A wrong credential is a 401, 403
or 404 with a message, or the sign-in page; each decorated view is marked with who may call it
(``view.authorised``), so a test can see that no instructor view lacks its check.

Instructors see their own courses only (:mod:`.courses`): the decorators put the caller in
``flask.g`` (``courses.who()``), and a view's ``assignment_id`` of an assignment outside the
caller's courses is a 404 before the view runs, the same 404 as for one that does not exist. A view
that finds an assignment another way (a job's, say) asks ``courses.assignment(id)`` or
``courses.who().sees(course_id)`` itself.

Credentials: the admin is the instructor token (``HANDCALC_INSTRUCTOR_TOKEN``: every course, on
the API as ``Authorization: Bearer <token>`` and on the sign-in page with an empty login); an
instructor signs in to the pages with login and password; a program holds a course's API token
(``handcalc admin token --course NAME``) as its bearer token.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, g, redirect, request, session, url_for
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import delete, update
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import TooManyRequests, Unauthorized

from . import access, courses, db
from .courses import ADMIN, WHO_KEY, Who
from .models import Instructor, InstructorSession, now

View = TypeVar("View", bound=Callable[..., Any])
#: the page session's key in the signed cookie
SESSION_KEY = "instructor"
#: how often a session's last use is written down (not on every page: fewer writes)
SEEN_EVERY = datetime.timedelta(minutes=1)


def _marked(wrapped: Callable[..., Any], who: str) -> Any:
    wrapped.authorised = who  # type: ignore[attr-defined]
    return wrapped


# --- decorators -------------------------------------------------------------------------------


def _as(who: Who, kwargs: dict[str, Any]) -> None:
    """The request is ``who``'s: a URL's assignment outside their courses is a 404 here."""
    setattr(g, WHO_KEY, who)
    if "assignment_id" in kwargs:
        courses.assignment(int(kwargs["assignment_id"]))


def instructor_token(view: View) -> View:
    """An instructor API view: 401 unless ``Authorization: Bearer <token>`` (the instructor token
    or a course's API token); 404 for an ``assignment_id`` outside the token's courses."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _as(bearer(), kwargs)
        return view(*args, **kwargs)

    return _marked(wrapped, "instructor")


def signed_in(view: View) -> View:
    """An instructor page: the sign-in page first, unless the session is one we started; 404
    for an ``assignment_id`` outside the signed-in instructor's courses."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        who = _session_who(session.get(SESSION_KEY))
        if who is None:
            session.pop(SESSION_KEY, None)
            return redirect(url_for("instructor.login", next=request.path))
        _as(who, kwargs)
        return view(*args, **kwargs)

    return _marked(wrapped, "instructor")


def student_link(view: View) -> View:
    """A view of a student's link ``…/<token>``: called with the student the token names, and
    the token (403 for a token that is not ours, 404 for a student no longer on the roster)."""

    @wraps(view)
    def wrapped(token: str, **kwargs: Any) -> Any:
        return view(access.student(token), token, **kwargs)

    return _marked(wrapped, "student")


def practice_link(view: View) -> View:
    """A view of a practice session's link: called with the session, and the token."""

    @wraps(view)
    def wrapped(token: str, **kwargs: Any) -> Any:
        return view(access.practice(token), token, **kwargs)

    return _marked(wrapped, "practice")


# --- the instructor token ---------------------------------------------------------------------


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


def instructor_token_ok(given: str | None) -> bool:
    """Whether ``given`` is the instructor token, in time independent of what was given (digests
    of equal length are compared, so not even the token's length shows)."""
    expected: str = current_app.config["INSTRUCTOR_TOKEN"]
    return bool(given) and hmac.compare_digest(_digest(str(given)), _digest(expected))


def wrong_instructor_token() -> None:
    """Count a wrong instructor token against this client; 429 once it has had too many this
    minute. Only failures count and only after the token was checked, so the right token is
    never refused, however many wrong ones anyone sent (a lock-out would be a denial of service)."""
    _count_login("too many wrong instructor tokens from your address this minute")


def password_attempt(login: str) -> None:
    """Count a sign-in with a password against this client, before its hash is checked; 429 once
    it has had too many this minute. Checking a password costs tens of milliseconds of CPU
    (argon2, on purpose), so attempts are counted before that work, not failures after it: an
    address that keeps guessing gets 429s that cost nothing. The instructor token is checked in
    microseconds and keeps its rule (failures only, never refused).

    A browser that signed in as ``login`` before carries a device cookie (OWASP's "device
    cookies"): its attempts count against that device, not the address, so someone guessing from
    the same address (a campus NAT) never locks the instructor out of their own browser."""
    device = _device(login)
    if device is not None:
        _count_login("too many sign-in attempts from this browser this minute", f"device {device}")
    else:
        _count_login("too many sign-in attempts from your address this minute")


def _count_login(said: str, key: str | None = None) -> None:
    limiter = current_app.extensions["handcalc.limits"]["login"]
    allowed, wait = limiter.allow(key or access.client())
    if not allowed:
        raise TooManyRequests(f"{said}; try again in {wait} s", retry_after=wait)


# --- device cookies -------------------------------------------------------------------------

#: the cookie a browser that signed in keeps (signed: login and a random id), and how long
DEVICE_COOKIE = "handcalc_device"
DEVICE_DAYS = 180


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(access.secret(), salt="handcalc.device")


def _device(login: str) -> str | None:
    """The id of this browser's device cookie for ``login``, if it has a good one."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or len(raw) > 500:
        return None
    try:
        value = _devices().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadData:
        return None
    if not isinstance(value, dict) or value.get("login") != login.casefold():
        return None
    device = value.get("id")
    return device if isinstance(device, str) else None


def remember_device(response: Any, login: str) -> Any:
    """Give this browser a device cookie for ``login`` (after a successful sign-in)."""
    value = _devices().dumps({"login": login.casefold(), "id": secrets.token_urlsafe(12)})
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=DEVICE_DAYS * 86400,
        path=url_for("instructor.login"),
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
    )
    return response


def bearer() -> Who:
    """Who the ``Authorization: Bearer <token>`` header names: the admin (the instructor token)
    or a course (its API token); 401 for anything else (429 after many wrong ones)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    given = value.strip() if scheme.lower() == "bearer" else ""
    if instructor_token_ok(given):
        return ADMIN
    course = courses.course_of_token(db.session(), given) if given else None
    if course is not None:
        return Who(frozenset({course}), label=f"course {course}")
    if given:
        wrong_instructor_token()
    raise Unauthorized(
        "instructor endpoints need the header Authorization: Bearer <token>: the instructor "
        "token (HANDCALC_INSTRUCTOR_TOKEN) or a course's API token (handcalc admin token)",
        www_authenticate=WWWAuthenticate("Bearer"),
    )


# --- the instructor's page sessions -----------------------------------------------------------


def start_session(instructor: Instructor | None = None) -> None:
    """Sign in, as ``instructor`` or (None) as the admin: a new session (nothing from before is
    kept: no fixation)."""
    end_session()
    session.clear()
    session[SESSION_KEY] = _start_session(instructor)


def end_session() -> None:
    """Sign out: the session's row goes, so a copy of the cookie is worth nothing afterwards."""
    _end_session(session.get(SESSION_KEY))
    session.clear()


def _fingerprint(instructor: Instructor | None = None) -> str:
    """An HMAC with the secret key of the instructor token (the admin) or of the instructor's
    password hash: kept with each session (in the database, never in the cookie) so that
    changing the token signs the admin out, and a new password the instructor."""
    if instructor is None:
        token: str = current_app.config["INSTRUCTOR_TOKEN"]
        message = b"handcalc.instructor\x00" + token.encode("utf-8", "surrogatepass")
    else:
        message = b"handcalc.password\x00" + instructor.password_hash.encode()
    return hmac.new(access.secret().encode(), message, hashlib.sha256).hexdigest()


def _row_id(session_id: str) -> str:
    # the table holds only hashes: reading it gives no cookie that works
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


def _limits() -> tuple[datetime.timedelta, datetime.timedelta]:
    config = current_app.config
    return (
        datetime.timedelta(hours=config["SESSION_HOURS"]),
        datetime.timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
    )


def _start_session(instructor: Instructor | None) -> str:
    """A new session: its row stored (and expired ones cleared away), its id for the cookie."""
    session_id = secrets.token_urlsafe(32)
    lifetime, idle = _limits()
    moment = now()
    rows = db.session()
    rows.execute(
        delete(InstructorSession).where(
            (InstructorSession.created_at < moment - lifetime)
            | (InstructorSession.seen_at < moment - idle)
        )
    )
    rows.add(
        InstructorSession(
            id=_row_id(session_id),
            token_mac=_fingerprint(instructor),
            instructor_id=None if instructor is None else instructor.id,
        )
    )
    rows.commit()
    return session_id


def _session_valid(session_id: object) -> bool:
    """Whether the cookie's session is one we started and still good (see ``_session_who``)."""
    return _session_who(session_id) is not None


def _session_who(session_id: object) -> Who | None:
    """Who the cookie's session is of, if it is one we started, not signed out, expired or idle
    too long, and of the current token (the admin) or of an active instructor's current
    password; a used one is marked seen (at most once a minute)."""
    if not isinstance(session_id, str) or not session_id:
        return None
    rows = db.session()
    row = rows.get(InstructorSession, _row_id(session_id))
    if row is None:
        return None
    instructor = None if row.instructor_id is None else rows.get(Instructor, row.instructor_id)
    lifetime, idle = _limits()
    moment = now()
    if (
        (row.instructor_id is not None and (instructor is None or not instructor.active))
        or not hmac.compare_digest(row.token_mac, _fingerprint(instructor))
        or moment - row.created_at >= lifetime
        or moment - row.seen_at >= idle
    ):
        _end_session(session_id)
        return None
    if moment - row.seen_at >= SEEN_EVERY:
        rows.execute(
            update(InstructorSession).where(InstructorSession.id == row.id).values(seen_at=moment)
        )
        rows.commit()
    if instructor is None:
        return ADMIN
    return Who(
        courses.instructor_courses(rows, instructor.id),
        instructor_id=instructor.id,
        label=instructor.login,
    )


def _end_session(session_id: object) -> None:
    if isinstance(session_id, str) and session_id:
        rows = db.session()
        rows.execute(delete(InstructorSession).where(InstructorSession.id == _row_id(session_id)))
        rows.commit()
