"""Who may do what, as decorators on the views: the instructor (a bearer token on the API, a
signed-in session on the pages) and the holders of a student's or a practice session's link
(the view gets the student or the session the token names). A wrong credential is a 401, 403
or 404 with a message, or the sign-in page; each decorated view is marked with who may call it
(``view.authorised``), so a test can see that no instructor view lacks its check.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, redirect, request, session, url_for
from sqlalchemy import delete, update
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import TooManyRequests, Unauthorized

from . import access, db
from .models import InstructorSession, now

View = TypeVar("View", bound=Callable[..., Any])
#: the page session's key in the signed cookie
SESSION_KEY = "instructor"
#: how often a session's last use is written down (not on every page: fewer writes)
SEEN_EVERY = datetime.timedelta(minutes=1)


def _marked(wrapped: Callable[..., Any], who: str) -> Any:
    wrapped.authorised = who  # type: ignore[attr-defined]
    return wrapped


# --- decorators -------------------------------------------------------------------------------


def instructor_token(view: View) -> View:
    """An instructor API view: 401 unless ``Authorization: Bearer <instructor token>``."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        bearer()
        return view(*args, **kwargs)

    return _marked(wrapped, "instructor")


def signed_in(view: View) -> View:
    """An instructor page: the sign-in page first, unless the session is one we started."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not _session_valid(session.get(SESSION_KEY)):
            session.pop(SESSION_KEY, None)
            return redirect(url_for("instructor.login", next=request.path))
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
    allowed, wait = current_app.extensions["handcalc.limits"]["login"].allow(access.client())
    if not allowed:
        raise TooManyRequests(
            "too many wrong instructor tokens from your address this minute; try again in "
            f"{wait} s",
            retry_after=wait,
        )


def bearer() -> None:
    """401 unless ``Authorization: Bearer <instructor token>`` (429 after many wrong ones)."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    given = value.strip() if scheme.lower() == "bearer" else ""
    if instructor_token_ok(given):
        return
    if given:
        wrong_instructor_token()
    raise Unauthorized(
        "instructor endpoints need the header Authorization: Bearer <HANDCALC_INSTRUCTOR_TOKEN>",
        www_authenticate=WWWAuthenticate("Bearer"),
    )


# --- the instructor's page sessions -----------------------------------------------------------


def start_session() -> None:
    """Sign in: a new session (nothing from before is kept: no fixation)."""
    end_session()
    session.clear()
    session[SESSION_KEY] = _start_session()


def end_session() -> None:
    """Sign out: the session's row goes, so a copy of the cookie is worth nothing afterwards."""
    _end_session(session.get(SESSION_KEY))
    session.clear()


def _fingerprint() -> str:
    """An HMAC of the instructor token with the secret key: kept with each session (in the
    database, never in the cookie) so that changing the token signs everyone out."""
    token: str = current_app.config["INSTRUCTOR_TOKEN"]
    message = b"handcalc.instructor\x00" + token.encode("utf-8", "surrogatepass")
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


def _start_session() -> str:
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
    rows.add(InstructorSession(id=_row_id(session_id), token_mac=_fingerprint()))
    rows.commit()
    return session_id


def _session_valid(session_id: object) -> bool:
    """Whether the cookie's session is one we started, not signed out, expired or idle too long,
    and of the current token; a used one is marked seen (at most once a minute)."""
    if not isinstance(session_id, str) or not session_id:
        return False
    rows = db.session()
    row = rows.get(InstructorSession, _row_id(session_id))
    if row is None:
        return False
    lifetime, idle = _limits()
    moment = now()
    if (
        not hmac.compare_digest(row.token_mac, _fingerprint())
        or moment - row.created_at >= lifetime
        or moment - row.seen_at >= idle
    ):
        _end_session(session_id)
        return False
    if moment - row.seen_at >= SEEN_EVERY:
        rows.execute(
            update(InstructorSession).where(InstructorSession.id == row.id).values(seen_at=moment)
        )
        rows.commit()
    return True


def _end_session(session_id: object) -> None:
    if isinstance(session_id, str) and session_id:
        rows = db.session()
        rows.execute(delete(InstructorSession).where(InstructorSession.id == _row_id(session_id)))
        rows.commit()
