"""Attacks of issue 7 on the service, each reproduced and met: the instructor cannot be locked out
(item 3), a signed-out session stays signed out and the cookie holds nothing from the token
(item 8), and logs carry neither link tokens nor students' answers (item 8)."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import logging
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from handcalc.web import auth, db
from handcalc.web.models import InstructorSession
from sqlalchemy import event, select
from web_support import SECRET, SPEC, TOKEN, csrf_of, key_answers, served, student_problem

WRONG = "not-the-instructor-token"
PROXY = "10.0.0.1"
ATTACKER = "203.0.113.5"
TEACHER = "198.51.100.7"


def login(
    client: FlaskClient, token: str, **kwargs: Any
) -> Any:  # werkzeug's TestResponse, untyped here
    return client.post("/instructor/login", data={"token": token}, **kwargs)


@pytest.fixture
def open_app(make_app: Callable[..., Flask]) -> Flask:
    """The app without CSRF, so that thousands of logins need no form each."""
    return make_app(WTF_CSRF_ENABLED=False)


# --- item 3: the instructor cannot be locked out ----------------------------------------------


def test_wrong_logins_never_lock_out_the_right_token(open_app: Flask) -> None:
    """1,300 wrong logins from one address made the right token answer 429 for a minute."""
    client = open_app.test_client()
    codes = [login(client, f"{WRONG}-{i}").status_code for i in range(1300)]
    limit = open_app.config["LOGIN_FAILURES_PER_MINUTE"]
    assert codes[:limit] == [401] * limit
    assert set(codes[limit:]) == {429}  # failures are throttled …
    r = login(client, TOKEN)
    assert r.status_code == 303  # … the right token is not
    assert client.get("/instructor/").status_code == 200
    for _ in range(50):  # and successes are not counted
        assert login(client, TOKEN).status_code == 303


def test_the_login_page_with_csrf_still_says_what_is_wrong(client: FlaskClient) -> None:
    page = client.get("/instructor/login").get_data(as_text=True)
    csrf = csrf_of(page)
    for _ in range(10):
        r = client.post("/instructor/login", data={"token": WRONG, "csrf_token": csrf})
        assert r.status_code == 401
    r = client.post("/instructor/login", data={"token": WRONG, "csrf_token": csrf})
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert "too many wrong instructor tokens" in r.get_data(as_text=True)
    r = client.post("/instructor/login", data={"token": TOKEN, "csrf_token": csrf})
    assert r.status_code == 303


def test_wrong_bearer_tokens_never_lock_out_the_right_one(app: Flask, auth: dict[str, str]) -> None:
    client = app.test_client()
    wrong = {"Authorization": f"Bearer {WRONG}"}
    codes = [
        client.get("/api/v1/assignments/1/stats", headers=wrong).status_code for _ in range(1300)
    ]
    limit = app.config["LOGIN_FAILURES_PER_MINUTE"]
    assert codes[:limit] == [401] * limit and set(codes[limit:]) == {429}
    r = client.post("/api/v1/assignments", headers=auth, json={"title": "T", "spec": SPEC})
    assert r.status_code == 201, r.json
    # no credential at all is not a guess: still told what to send
    assert client.get("/api/v1/assignments/1/stats").status_code == 401


def test_behind_a_proxy_each_client_has_its_own_count(make_app: Callable[..., Flask]) -> None:
    """Behind a proxy every client had the proxy's address: one guesser throttled the class."""
    app = make_app(WTF_CSRF_ENABLED=False, TRUSTED_PROXIES=1)
    client = app.test_client()

    def via_proxy(token: str, forwarded: str) -> int:
        return int(
            login(
                client,
                token,
                environ_base={"REMOTE_ADDR": PROXY},
                headers={"X-Forwarded-For": forwarded},
            ).status_code
        )

    codes = [via_proxy(WRONG, ATTACKER) for _ in range(30)]
    assert codes[-1] == 429
    # what the attacker writes into X-Forwarded-For is left of what the proxy appends: ignored
    assert via_proxy(WRONG, f"{TEACHER}, {ATTACKER}") == 429
    assert via_proxy(WRONG, TEACHER) == 401  # the teacher's mistake is their own
    assert via_proxy(TOKEN, TEACHER) == 303
    assert via_proxy(TOKEN, ATTACKER) == 303  # and even from the throttled address


def test_without_trusted_proxies_forwarded_headers_are_ignored(open_app: Flask) -> None:
    client = open_app.test_client()
    for i in range(30):  # a client cannot pick a fresh address for every guess
        r = login(client, WRONG, headers={"X-Forwarded-For": f"192.0.2.{i}"})
    assert r.status_code == 429
    assert login(client, TOKEN, headers={"X-Forwarded-For": "192.0.2.99"}).status_code == 303


def test_trusted_proxies_come_from_the_environment(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HANDCALC_TRUSTED_PROXIES", "1")
    from handcalc.web.app import create_app

    app = create_app(
        {
            "HANDCALC_MODE": "testing",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'env.sqlite3'}",
            "SECRET_KEY": SECRET,
            "INSTRUCTOR_TOKEN": TOKEN,
        }
    )
    seen: list[str | None] = []
    app.before_request(lambda: seen.append(__import__("flask").request.remote_addr))
    app.test_client().get(
        "/healthz", environ_base={"REMOTE_ADDR": PROXY}, headers={"X-Forwarded-For": TEACHER}
    )
    assert seen == [TEACHER]


# --- item 8: sessions -------------------------------------------------------------------------


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_a_cookie_copied_before_sign_out_is_refused_after_it(
    make_app: Callable[..., Flask],
) -> None:
    """A copy of the instructor's cookie worked for 31 days after signing out; now signing out
    ends the session for every worker and server that shares the database."""
    first, second = make_app(WTF_CSRF_ENABLED=False), make_app(WTF_CSRF_ENABLED=False)
    teacher = first.test_client()
    assert login(teacher, TOKEN).status_code == 303
    copy = second.test_client()  # another worker (another app, the same database)
    copy.set_cookie("session", session_cookie(teacher))
    assert copy.get("/instructor/").status_code == 200
    assert teacher.post("/instructor/logout").status_code == 303
    r = copy.get("/instructor/")
    assert r.status_code == 302 and "/instructor/login" in r.headers["Location"]
    assert teacher.get("/instructor/").status_code == 302


def test_the_cookie_holds_nothing_derived_from_the_token(open_app: Flask) -> None:
    client = open_app.test_client()
    login(client, TOKEN)
    raw = session_cookie(client)
    serializer = open_app.session_interface.get_signing_serializer(open_app)  # type: ignore[attr-defined]
    content = serializer.loads(raw)
    session_id = content[auth.SESSION_KEY]
    old_fingerprint = hashlib.sha256(b"handcalc.instructor\x00" + TOKEN.encode()).hexdigest()
    for derived in (TOKEN, old_fingerprint, hashlib.sha256(TOKEN.encode()).hexdigest()):
        assert derived not in raw and derived not in str(content)
    again = open_app.test_client()
    login(again, TOKEN)
    assert (
        open_app.session_interface.get_signing_serializer(open_app).loads(  # type: ignore[attr-defined]
            session_cookie(again)
        )[auth.SESSION_KEY]
        != session_id
    )
    with open_app.app_context():
        ids = set(db.session().scalars(select(InstructorSession.id)))
    assert session_id not in ids  # the table alone signs nobody in
    assert hashlib.sha256(session_id.encode()).hexdigest() in ids


@pytest.mark.parametrize(
    ("later", "use_in_between", "signed_in"),
    [
        (datetime.timedelta(hours=1), False, True),
        (datetime.timedelta(hours=2, minutes=1), False, False),  # idle too long
        (datetime.timedelta(hours=11, minutes=59), True, True),
        (datetime.timedelta(hours=12, minutes=1), True, False),  # older than its lifetime
    ],
)
def test_sessions_end_when_idle_or_old(
    open_app: Flask,
    monkeypatch: pytest.MonkeyPatch,
    later: datetime.timedelta,
    use_in_between: bool,
    signed_in: bool,
) -> None:
    client = open_app.test_client()
    login(client, TOKEN)
    start = auth.now()
    if use_in_between:  # used every 90 minutes: never idle
        steps = int((later - datetime.timedelta(minutes=5)) / datetime.timedelta(minutes=90))
        for k in range(1, steps + 1):
            moment = start + k * datetime.timedelta(minutes=90)
            monkeypatch.setattr(auth, "now", lambda moment=moment: moment)
            assert client.get("/instructor/").status_code == 200
    monkeypatch.setattr(auth, "now", lambda: start + later)
    assert (client.get("/instructor/").status_code == 200) is signed_in


def test_a_new_instructor_token_ends_every_session(make_app: Callable[..., Flask]) -> None:
    before = make_app(WTF_CSRF_ENABLED=False)
    teacher = before.test_client()
    login(teacher, TOKEN)
    after = make_app(INSTRUCTOR_TOKEN=TOKEN + "-rotated")
    copy = after.test_client()
    copy.set_cookie("session", session_cookie(teacher))
    assert copy.get("/instructor/").status_code == 302


# --- item 8: logs -----------------------------------------------------------------------------


@pytest.fixture
def live(app: Flask) -> Iterator[str]:
    with served(app) as url:
        yield url


def test_access_logs_carry_no_link_tokens(
    live: str,
    student_token: str,
    practice: tuple[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    practice_token = practice[0]
    caplog.set_level(logging.INFO)
    for path in (
        f"/s/{student_token}",
        f"/api/v1/s/{student_token}",
        f"/p/{practice_token}",
        f"/api/v1/practice/{practice_token}/check",
        f"/s/{student_token}x",  # a tampered one (403) is not logged either
    ):
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(live + path, timeout=10).close()
    # gunicorn's access log, as gunicorn writes it (a format and a dict of atoms)
    logging.getLogger("gunicorn.access").info(
        '%(h)s "%(r)s" %(s)s', {"h": "192.0.2.1", "r": f"GET /s/{student_token} HTTP/1.1", "s": 200}
    )
    werkzeug_lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    assert len(werkzeug_lines) >= 5, caplog.text
    for token in (student_token, practice_token):
        assert token not in caplog.text
        assert token[:12] not in caplog.text
    assert "/s/[token]" in caplog.text and "/api/v1/practice/[token]/check" in caplog.text


def test_a_database_error_logs_neither_the_token_nor_the_answers(
    app: Flask,
    client: FlaskClient,
    assignment: int,
    student_token: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """On a 503 the log had the SQL parameters: the student's answers."""
    answers = key_answers(student_problem(assignment, "ada"))
    marker = "987654321"
    answers["cells"]["Z1"][0][0] = marker  # wrong, but a number: graded and then stored

    def locked(cursor: Any, statement: str, parameters: Any, context: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO SUBMISSION"):
            raise sqlite3.OperationalError("database is locked")

    engine = db.engine_of(app)
    event.listen(engine, "do_execute", locked)
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # as with echo=True
    try:
        r = client.post(f"/api/v1/s/{student_token}/submissions", json=answers)
    finally:
        event.remove(engine, "do_execute", locked)
    assert r.status_code == 503, r.json
    assert r.headers["Retry-After"] == "2"
    assert "database unavailable" in caplog.text, caplog.text
    assert "INSERT INTO submission" in caplog.text  # the statement is logged, its values not
    assert marker not in caplog.text
    assert student_token not in caplog.text
    assert "/api/v1/s/[token]/submissions" in caplog.text
    # nothing was stored: the attempt is still there
    assert client.get(f"/api/v1/s/{student_token}").json["attempts"]["used"] == 0


def test_a_logged_exception_is_redacted_too(
    app: Flask, student_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    try:
        raise RuntimeError(f"failed on /s/{student_token} [parameters: ('{TOKEN}',)]")
    except RuntimeError:
        logging.getLogger("handcalc.web.app").exception("internal error")
    assert student_token not in caplog.text and TOKEN not in caplog.text
    assert "/s/[token]" in caplog.text and "[parameters: hidden]" in caplog.text
