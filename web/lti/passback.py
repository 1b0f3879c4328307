"""Scores to the platform's gradebook (LTI Assignment and Grade Services), without losing one.

Every change of a student's score (a submission, a regrade, a release, a change of the
assignment's policy) sets the score their platform is to show: one ``ScoreSend`` row per student
and activity, per the assignment's policy (``best`` or ``last`` attempt), with the cell-level
feedback as the comment when the assignment shows feedback. Scores hidden until release are not
sent until then.

Sending happens after the response (the student never waits for the platform), and what fails is
retried: the row stays ``pending`` with the error and the time of the next try (backing off from
``RETRY_SECONDS[0]`` to an hour), a retrier thread in the process sends it then, and so do
``handcalc lti send`` and the instructor's "send again" button. After ``GIVE_UP_AFTER`` the row is
``failed``, listed on the instructor's page with its last error, until sent again. A sender
claims a row for a while first, so two processes never send one score at once; a newer score
replaces a row's while it is being sent, and that send does not mark the newer one sent.

The line item: the one the launch names (the platform made it, e.g. from our deep-linking answer),
else found by its tag or made once on the platform, and kept on the link (``LtiLink``); a send
that finds another making it waits for the next try rather than making a second one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from datetime import UTC, timedelta
from typing import Any, ClassVar

import requests
from flask import Flask, after_this_request, current_app, has_request_context
from flask.wrappers import Response
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.service_connector import ServiceConnector
from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .. import access, db, regrade
from ..models import Assignment, LtiLink, LtiUser, ScoreSend, Submission, now
from ..reports import feedback_shown, score_shown
from .keys import tool_key
from .registry import registration_of

SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
)
POLICIES = ("best", "last")
#: the waits before the 1st, 2nd, … retry (the last repeats); scaled by LTI_RETRY_SCALE
RETRY_SECONDS = (30, 120, 600, 1800, 3600)
#: after this long without success a send is ``failed`` (sent again by hand)
GIVE_UP_AFTER = timedelta(days=3)
#: how long a sender holds a row (longer than a send can take: a token, a line item and a score,
#: each within TIMEOUT; a sender that died lets go after this)
LEASE = timedelta(minutes=5)
#: seconds to connect, seconds to read: a platform that hangs costs a send this much at most
TIMEOUT = (5, 15)
#: seconds the retrier waits after a round that failed (the database busy or away)
ERROR_WAIT = 30.0
#: sends taken per round (the rest wait for the next round, a second later)
BATCH = 50
log = logging.getLogger(__name__)
#: what pylti1p3 raises on a platform's answer that is not what the specification says (it reads
#: the JSON as it should be: a token answer without a token is a KeyError): a failed try, whose
#: reason the instructor sees, not an error that leaves the send claimed and uncounted
NOT_UNDERSTOOD = (TypeError, KeyError, AttributeError, IndexError)
#: the longest comment sent (platforms cut theirs; this is Canvas's and Moodle's comfort)
MAX_COMMENT = 1000


#: the largest answer read from a platform (a key set, a roster page, a configuration, a token:
#: kilobytes); a larger one is refused, read no further
MAX_ANSWER_BYTES = 4 * 1024 * 1024


class TooLarge(requests.RequestException):
    """A platform's answer larger than ``MAX_ANSWER_BYTES``."""


class Platforms(requests.Session):
    """The HTTP session the tool talks to platforms with: every request has a timeout, and no
    answer is read past ``MAX_ANSWER_BYTES`` (a platform, or the URL a registration names,
    answering without end would fill the worker's memory)."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        kwargs["stream"] = True
        response = super().request(*args, **kwargs)
        body = bytearray()
        with response:
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > MAX_ANSWER_BYTES:
                    mib = MAX_ANSWER_BYTES / 2**20
                    raise TooLarge(f"the platform's answer is larger than {mib:g} MiB")
        response._content = bytes(body)  # read: as requests keeps a body read at once
        return response


class Connector(ServiceConnector):
    """pylti1p3's service connector with its access tokens kept per process (by platform and
    scopes) until a little before they expire."""

    tokens: ClassVar[dict[str, tuple[str, float]]] = {}

    def _get_cached_access_token(self, scope_key: str) -> str | None:
        found = self.tokens.get(scope_key + (self._registration.get_client_id() or ""))
        return found[0] if found and found[1] > time.monotonic() else None

    def _cache_access_token(self, scope_key: str, access_token: str, expires_in: float) -> None:
        key = scope_key + (self._registration.get_client_id() or "")
        self.tokens[key] = (access_token, time.monotonic() + float(expires_in or 0) - 30)


# --- what is to be sent -----------------------------------------------------------------------


def chosen_submission(session: Session, student_id: int, policy: str) -> Submission | None:
    """The attempt whose score the platform shows: the best (the first of equal ones) or the
    last."""
    query = select(Submission).where(Submission.student_id == student_id)
    if policy == "last":
        query = query.order_by(Submission.attempt.desc())
    else:
        query = query.order_by(Submission.score.desc(), Submission.attempt)
    return session.scalars(query.limit(1)).first()


def comment_of(row: Assignment, submission: Submission) -> str:
    """The cell-level feedback as one comment (none while the assignment hides feedback)."""
    if not feedback_shown(row.feedback, row.due_at, bool(row.released), now()):
        return ""
    cells = submission.report.get("cells") or {}
    right = [n for n, c in cells.items() if isinstance(c, dict) and c.get("status") == "correct"]
    lines = [f"Attempt {submission.attempt}: {len(right)} of {len(cells)} cells right."]
    for name, cell in cells.items():
        if not isinstance(cell, dict) or cell.get("status") in ("correct", "carried"):
            continue
        lines.append(f"{name} ({cell.get('status')}): {cell.get('feedback') or ''}".rstrip(": "))
    text = "\n".join(lines)
    return text if len(text) <= MAX_COMMENT else text[: MAX_COMMENT - 1] + "…"


def queue(session: Session, row: Assignment, student_ids: Iterable[int] | None = None) -> int:
    """Set the score each platform student of ``row`` (of ``student_ids``; None: all) is to see,
    where it differs from what was set; committed. How many sends are now due.

    Two requests setting a student's first score at one moment (two attempts from two tabs, a
    release while a submission arrives) both insert the student's send: the second's insert
    fails on the unique constraint, and it sets its score again on the row the first made (it
    was a 500 after the submission was stored, and that score was never sent)."""
    ids = None if student_ids is None else list(student_ids)
    for _ in range(2):
        try:
            return _queue(session, row, ids)
        except IntegrityError:
            session.rollback()
    return _queue(session, row, ids)


def _queue(session: Session, row: Assignment, student_ids: list[int] | None) -> int:
    if not score_shown(row.score_visibility, bool(row.released)):
        # scores hidden until release: what is not sent yet is withdrawn (it was sent at its
        # next try), and the release sets it again
        session.execute(
            delete(ScoreSend).where(
                ScoreSend.status != "sent",
                ScoreSend.link_id.in_(select(LtiLink.id).where(LtiLink.assignment_id == row.id)),
            )
        )
        session.commit()
        return 0
    query = select(LtiUser).where(LtiUser.assignment_id == row.id)
    if student_ids is not None:
        query = query.where(LtiUser.student_id.in_(student_ids))
    due = 0
    moment = now()
    for user in session.scalars(query).all():
        submission = chosen_submission(session, user.student_id, row.score_policy)
        if submission is None:
            continue
        comment = comment_of(row, submission)
        send = session.scalar(
            select(ScoreSend).where(
                ScoreSend.link_id == user.link_id, ScoreSend.student_id == user.student_id
            )
        )
        if send is None:
            send = ScoreSend(link_id=user.link_id, student_id=user.student_id, version=0)
            session.add(send)
        elif (send.score, send.max_score, send.comment) == (
            submission.score,
            submission.max_score,
            comment,
        ) and send.status != "failed":
            continue  # sent, or on its way
        send.score, send.max_score, send.comment = submission.score, submission.max_score, comment
        send.version = (send.version or 0) + 1
        send.status, send.tries, send.last_error = "pending", 0, None
        send.next_try_at = send.created_at = send.updated_at = moment
        send.sent_at = None
        due += 1
    session.commit()
    return due


# --- sending ----------------------------------------------------------------------------------


class SendError(Exception):
    """A send that did not arrive; the message says why, for the instructor's page."""


def _response(error: Exception) -> requests.Response | None:
    response = getattr(error, "response", None)
    if response is None and len(error.args) > 1:
        response = error.args[1]
    return response if isinstance(response, requests.Response) else None


def _status(error: Exception) -> int | None:
    response = _response(error)
    return None if response is None else response.status_code


def reason(error: Exception) -> str:
    """What went wrong, in a line an instructor can act on (without NUL characters: it quotes
    the platform's answer, and PostgreSQL refused to keep one, so the failed try went unkept)."""
    return _reason(error).replace("\x00", " ")


def _reason(error: Exception) -> str:
    if isinstance(error, requests.Timeout):
        return "the platform did not answer in time"
    if isinstance(error, requests.ConnectionError):
        return "the platform could not be reached"
    if isinstance(error, NOT_UNDERSTOOD):
        return f"the platform's answer was not understood ({type(error).__name__}: {error})"[:300]
    response = _response(error)
    if response is not None:
        body = " ".join(response.text.split())[:200]
        return f"the platform answered {response.status_code} {response.reason}: {body}".strip()
    return str(error)[:300] or type(error).__name__


def _lineitem(session: Session, link: LtiLink, ags: AssignmentsGradesService, top: float) -> str:
    """The link's line item, found or made once (see the module's doc)."""
    if link.lineitem_url:
        return link.lineitem_url
    if not link.lineitems_url:
        raise SendError("the platform gave this activity no gradebook column (no AGS endpoint)")
    moment = now()
    claimed = session.execute(
        update(LtiLink)
        .where(
            LtiLink.id == link.id,
            LtiLink.lineitem_url.is_(None),
            or_(LtiLink.creating_since.is_(None), LtiLink.creating_since < moment - LEASE),
        )
        .values(creating_since=moment)
    )
    session.commit()
    if not claimed.rowcount:  # type: ignore[attr-defined]
        session.refresh(link)
        if link.lineitem_url:
            return link.lineitem_url
        raise SendError("the gradebook column is being made by another send; retried")
    item = LineItem()
    item.set_tag(f"handcalc-link-{link.id}").set_label(link.title or "handcalc")
    item.set_resource_id(f"handcalc-assignment-{link.assignment_id}")
    item.set_resource_link_id(link.resource_link_id).set_score_maximum(top)
    try:
        made = ags.find_or_create_lineitem(item, find_by="tag")
    except Exception:
        link.creating_since = None
        session.commit()
        raise
    made_id = made.get_id()  # (the platform's answer: kept only if it can be, else asked again)
    usable = isinstance(made_id, str) and made_id and "\x00" not in made_id
    link.lineitem_url, link.creating_since = made_id if usable else None, None
    session.commit()
    if not link.lineitem_url:
        raise SendError("the platform made a gradebook column without an id (a URL)")
    return link.lineitem_url


def send(session: Session, row: ScoreSend, http: requests.Session | None = None) -> None:
    """Send one score (raises ``SendError`` or the transport's error when it did not arrive)."""
    link = row.link
    user = session.get(LtiUser, row.student_id)
    if user is None:
        raise SendError("the student has no platform identity")
    connector = Connector(registration_of(link.platform, tool_key()), http or Platforms())
    service = {"scope": list(SCOPES), "lineitems": link.lineitems_url, "lineitem": None}
    ags = AssignmentsGradesService(connector, service)  # type: ignore[arg-type]
    url = _lineitem(session, link, ags, row.max_score)
    grade = Grade()
    grade.set_score_given(row.score).set_score_maximum(row.max_score)
    grade.set_timestamp(row.updated_at.replace(tzinfo=UTC).isoformat(timespec="milliseconds"))
    grade.set_activity_progress("Completed").set_grading_progress("FullyGraded")
    grade.set_user_id(user.sub)
    if row.comment:
        grade.set_comment(row.comment)
    ags.put_grade(grade, LineItem({"id": url}))


def _retry_at(row: ScoreSend) -> tuple[str, Any]:
    scale = float(current_app.config.get("LTI_RETRY_SCALE") or 1.0)
    wait = RETRY_SECONDS[min(row.tries, len(RETRY_SECONDS)) - 1] * scale
    if now() - row.created_at > GIVE_UP_AFTER:
        return "failed", None
    return "pending", now() + timedelta(seconds=wait)


def _claim(session: Session) -> list[tuple[int, int]]:
    """Due sends claimed by this sender: (id, version) each."""
    moment = now()
    due = session.execute(
        select(ScoreSend.id, ScoreSend.version)
        .where(
            ScoreSend.status == "pending",
            ScoreSend.next_try_at <= moment,
            or_(ScoreSend.claimed_until.is_(None), ScoreSend.claimed_until < moment),
        )
        .order_by(ScoreSend.next_try_at)
        .limit(BATCH)
    ).all()
    mine = []
    for send_id, version in due:
        claimed = session.execute(  # still due: another sender may have sent it and let go
            update(ScoreSend)
            .where(
                ScoreSend.id == send_id,
                ScoreSend.status == "pending",
                ScoreSend.next_try_at <= moment,
                or_(ScoreSend.claimed_until.is_(None), ScoreSend.claimed_until < moment),
            )
            .values(claimed_until=moment + LEASE)
        )
        if claimed.rowcount:  # type: ignore[attr-defined]
            mine.append((send_id, version))
    session.commit()
    return mine


def _withheld() -> Any:
    """The due dates of the assignments whose feedback shows after them, with scores set
    without it (an empty comment: feedback was hidden then) that the platform may see: at the
    due date, their comments are set again, with the feedback (nothing else would set them)."""
    return (
        select(Assignment.id, Assignment.due_at)
        .join(LtiLink, LtiLink.assignment_id == Assignment.id)
        .join(ScoreSend, ScoreSend.link_id == LtiLink.id)
        .where(
            Assignment.feedback == "after_due",
            Assignment.due_at.is_not(None),
            or_(Assignment.score_visibility == "shown", Assignment.released.is_(True)),
            ScoreSend.comment == "",
        )
        .distinct()
    )


def _feedback_due(session: Session) -> None:
    """Set again the scores of assignments whose due date has passed since their feedback was
    withheld (see :func:`_withheld`): their comments now carry the feedback."""
    for assignment_id, _ in session.execute(_withheld().where(Assignment.due_at <= now())).all():
        row = session.get(Assignment, assignment_id)
        if row is not None:
            queue(session, row)


def deliver_due(http: requests.Session | None = None) -> dict[str, int]:
    """Send every due score (in the app's context); how many arrived and how many did not."""
    session = db.session()
    _feedback_due(session)
    sent = failed = 0
    for send_id, version in _claim(session):
        row = session.get(ScoreSend, send_id)
        if row is None:
            continue
        try:
            send(session, row, http)
        except (
            SendError,
            LtiException,
            requests.RequestException,
            ValueError,
            *NOT_UNDERSTOOD,
        ) as e:
            session.rollback()
            if _status(e) == 401:  # the platform forgot our token (restarted): ask anew
                Connector.tokens.clear()
            row = session.get(ScoreSend, send_id)
            if row is None:  # withdrawn meanwhile (the assignment's scores hidden)
                continue
            if row.version == version:  # (a newer score set meanwhile is due as it was set)
                row.tries += 1
                row.status, row.next_try_at = _retry_at(row)
                row.next_try_at = row.next_try_at or now()
                row.last_error = reason(e)
            row.claimed_until = None
            failed += 1
        else:
            session.execute(
                update(ScoreSend)
                .where(ScoreSend.id == send_id, ScoreSend.version == version)
                .values(status="sent", sent_at=now(), last_error=None, claimed_until=None)
            )
            session.execute(
                update(ScoreSend).where(ScoreSend.id == send_id).values(claimed_until=None)
            )
            sent += 1
        session.commit()
    return {"sent": sent, "failed": failed}


def send_again(session: Session, row: Assignment) -> int:
    """Make the assignment's unsent scores (pending or failed) due now; how many."""
    result = session.execute(
        update(ScoreSend)
        .where(
            ScoreSend.status.in_(("pending", "failed")),
            ScoreSend.link_id.in_(select(LtiLink.id).where(LtiLink.assignment_id == row.id)),
        )
        .values(status="pending", next_try_at=now(), created_at=now(), claimed_until=None)
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- when -------------------------------------------------------------------------------------


def soon(app: Flask) -> None:
    """Send what is due after this response (or now, outside a request), and keep a retrier
    running in this process while sends wait."""

    def run() -> None:
        try:
            with app.app_context():
                deliver_due()
        finally:  # (a round that failed on the database leaves its sends to the retrier)
            _retrier(app)

    if has_request_context():

        @after_this_request
        def later(response: Response) -> Response:
            response.call_on_close(run)
            return response

    else:
        run()


_RETRIERS: dict[int, threading.Thread] = {}
_LOCK = threading.Lock()


def _stopped(app: Flask) -> threading.Event:
    """Set when ``app``'s retrier is to end (see :func:`stop`)."""
    event: threading.Event = app.extensions.setdefault("lti_retrier_stop", threading.Event())
    return event


def stop(app: Flask) -> None:
    """End ``app``'s retrier at its next wait, and start none again: for an app that is done
    (a test's, whose database the next test empties and fills again: its retrier would take
    the next test's sends, with its own key), or a process shutting down."""
    _stopped(app).set()


def _retrier(app: Flask) -> None:
    """A daemon thread of this process that sends what falls due while anything waits."""
    with _LOCK:
        running = _RETRIERS.get(id(app))
        if (running is not None and running.is_alive()) or _stopped(app).is_set():
            return
        thread = threading.Thread(target=_retry_loop, args=(app,), daemon=True, name="lti-retry")
        _RETRIERS[id(app)] = thread
        thread.start()


def _retry_loop(app: Flask) -> None:
    """Rounds of sends while any waits. A round that fails (the database busy or away) is tried
    again after ``ERROR_WAIT``: a retrier that stopped left the sends waiting until the next
    submission or restart."""
    stopped = _stopped(app)
    while not stopped.is_set():
        try:
            if _retry_round(app, stopped):
                continue
            with _LOCK:  # a send that failed meanwhile found this thread alive: look again
                if _next_try(app) is None:
                    _RETRIERS.pop(id(app), None)
                    return
        except Exception:
            log.warning("a round of score sends failed; again in %g s", ERROR_WAIT, exc_info=True)
            stopped.wait(ERROR_WAIT)
    with _LOCK:
        _RETRIERS.pop(id(app), None)


def _next_try(app: Flask) -> Any:
    """When the next pending send can be taken: its next try, or the end of the lease of the
    sender holding it (a send held by another process is not due here before then: the retrier
    looked again every 50 ms while it was held); or the next due date that releases withheld
    feedback, whichever comes first."""
    takeable = case(
        (ScoreSend.claimed_until > ScoreSend.next_try_at, ScoreSend.claimed_until),
        else_=ScoreSend.next_try_at,
    )
    with app.app_context():
        session = db.session()
        send = session.scalar(
            select(takeable).where(ScoreSend.status == "pending").order_by(takeable).limit(1)
        )
        due = _next_release(session)
    return min((t for t in (send, due) if t is not None), default=None)


def _next_release(session: Session) -> Any:
    """The next due date (to come: one passed is :func:`_feedback_due`'s at the next round)
    that releases withheld feedback; None when none waits."""
    dates = _withheld().where(Assignment.due_at > now()).subquery()
    return session.scalar(select(func.min(dates.c.due_at)))


def _retry_round(app: Flask, stopped: threading.Event) -> bool:
    """Wait for the next pending send, then send what is due; False when nothing waits (or the
    retrier is stopped meanwhile)."""
    nxt = _next_try(app)
    if nxt is None:
        return False
    if stopped.wait(min(max((nxt - now()).total_seconds(), 0.05), 60.0)):
        return False
    with app.app_context():
        deliver_due()
    return True


# --- hooks ------------------------------------------------------------------------------------


def _submitted(submission: Submission) -> None:
    row = submission.student.assignment
    if queue(db.session(), row, [submission.student_id]):
        soon(current_app._get_current_object())  # type: ignore[attr-defined]


def _regraded(row: Assignment, scores: list[dict[str, Any]]) -> None:
    if queue(db.session(), row, [s["student_id"] for s in scores]):
        soon(current_app._get_current_object())  # type: ignore[attr-defined]


def _settings_saved(row: Assignment) -> None:
    if queue(db.session(), row):
        soon(current_app._get_current_object())  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    """Listen to submissions, regrades and settings; resume sends left waiting by a restart (at
    the process's first request: a thread started before gunicorn forks would not survive it)."""
    for hooks, hook in (
        (access.SUBMITTED, _submitted),
        (regrade.SCORE_LISTENERS, _regraded),
        (regrade.SETTINGS_SAVED, _settings_saved),
    ):
        if hook not in hooks:
            hooks.append(hook)  # type: ignore[arg-type]
    resumed: list[int] = []

    @app.before_request
    def resume() -> None:
        if resumed == [os.getpid()]:
            return
        session = db.session()
        _feedback_due(session)  # due dates passed while no process ran
        waiting = session.scalar(select(ScoreSend.id).where(ScoreSend.status == "pending").limit(1))
        release = _next_release(session)
        resumed[:] = [os.getpid()]  # (once looked: a look the database refused is made again)
        if waiting is not None or release is not None:
            _retrier(app)
