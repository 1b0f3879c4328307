"""The LTI tool's parts one by one (the flow is tests/web/test_web_lti.py): the tool's key kept
in the instance folder and shared by processes, nonces good once, launch data that expires,
a send that keeps failing given up after three days and shown as failed, a newer score never
marked sent by an older send, and names and courses that collide."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from handcalc.web import db
from handcalc.web.lti import keys, links, passback, registry
from handcalc.web.lti.storage import DatabaseStorage
from handcalc.web.models import (
    Assignment,
    Course,
    LtiContext,
    LtiLaunchData,
    LtiLink,
    LtiUser,
    ScoreSend,
    Student,
    Submission,
    now,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_support import SPEC

pytest.importorskip("pylti1p3")


def register_platform(
    key_set_url: str = "https://p.example/jwks", auth_token_url: str = "https://p.example/token"
) -> Any:
    """Platform P (issuer https://p.example, client c, deployment 1) registered (in an app
    context): its keys and token endpoint where a test says."""
    return registry.register(
        db.session(),
        name="P",
        issuer="https://p.example",
        client_id="c",
        auth_login_url="https://p.example/auth",
        auth_token_url=auth_token_url,
        key_set_url=key_set_url,
        deployments=["1"],
    )


def test_the_tool_key_is_made_once_in_the_instance_folder(tmp_path: Path) -> None:
    from handcalc.web.app import create_app

    made = []
    for _ in range(2):  # two processes' apps on one instance folder
        app = create_app(
            {"HANDCALC_MODE": "testing", "DATABASE_URL": "sqlite://"}
        )  # testing: in memory
        app.config["HANDCALC_MODE"] = "local"
        app.instance_path = str(tmp_path)
        made.append(keys.tool_key(app))
    assert made[0] == made[1]
    path = tmp_path / keys.KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    jwk = made[0].jwk
    assert jwk["kty"] == "RSA" and jwk["alg"] == "RS256" and "d" not in jwk
    # a configured key file wins, and another key has another kid
    other = tmp_path / "other.pem"
    other.write_bytes(keys._new_pem())
    app = create_app({"HANDCALC_MODE": "testing", "DATABASE_URL": "sqlite://"})
    app.config["LTI_KEY_FILE"] = str(other)
    assert keys.tool_key(app).kid != made[0].kid


def test_a_nonce_is_good_once_and_launch_data_expires(app: Flask) -> None:
    with app.test_request_context():
        storage = DatabaseStorage()
        storage.set_value("lti1p3-nonce-abc", True, exp=60)
        assert storage.check_value("lti1p3-nonce-abc")
        assert storage.take("lti1p3-nonce-abc") is True
        assert storage.take("lti1p3-nonce-abc") is False  # a replay finds none
        storage.set_value("launch", {"a": 1}, exp=60)
        row = db.session().get(LtiLaunchData, "lti1p3-launch")
        assert row is not None and json.loads(row.value_json) == {"a": 1}
        row.expires_at = now() - timedelta(seconds=1)
        db.session().commit()
        assert storage.get_value("launch") is None
        assert storage.take("launch") is False
        storage.set_value("other", 1, exp=60)  # writing clears what expired
        assert db.session().get(LtiLaunchData, "lti1p3-launch") is None


@pytest.fixture
def linked(app: Flask) -> Callable[..., Any]:
    """A platform, a course, an assignment linked to an activity, a platform student with one
    submission of ``score`` out of 10."""

    def make(score: float = 7.0) -> dict[str, Any]:
        session = db.session()
        # nothing listens at the token endpoint: every send fails
        platform = register_platform(auth_token_url="http://127.0.0.1:9/token")
        data = {links.CLAIM + "context": {"id": "ctx", "title": "ML"}}
        context = links.context_of(session, platform, data)
        row = Assignment(
            course_id=context.course_id, title="A", spec_json=json.dumps(SPEC), max_attempts=3
        )
        session.add(row)
        session.flush()
        link = links.bind(session, platform, context, "rl", row, data)
        link.lineitem_url = "http://127.0.0.1:9/lineitems/1"
        student = links.student_of(session, link, "sub-1", "Ada")
        session.add(
            Submission(
                student_id=student.id,
                attempt=1,
                answers_json="{}",
                report_json=json.dumps({"cells": {}}),
                score=score,
                max_score=10.0,
            )
        )
        session.commit()
        return {"assignment": row, "student": student, "link": link}

    return make


def test_a_send_that_keeps_failing_is_retried_then_given_up_and_shown(
    app: Flask, linked: Callable[..., Any]
) -> None:
    from handcalc.web.lti.status import sends_of, status_of

    with app.test_request_context():
        made = linked()
        session = db.session()
        assert passback.queue(session, made["assignment"]) == 1
        assert passback.deliver_due() == {"sent": 0, "failed": 1}
        row = session.query(ScoreSend).one()
        assert row.status == "pending" and row.tries == 1
        assert row.last_error == "the platform could not be reached"
        wait = (row.next_try_at - now()).total_seconds()
        assert 25 < wait <= 30  # the first retry after 30 s
        assert passback.deliver_due() == {"sent": 0, "failed": 0}  # not due yet
        row.next_try_at = now() - timedelta(seconds=1)
        row.created_at = now() - passback.GIVE_UP_AFTER - timedelta(minutes=1)
        session.commit()
        assert passback.deliver_due() == {"sent": 0, "failed": 1}
        session.refresh(row)
        assert row.status == "failed" and row.tries == 2
        assert status_of(session, made["student"].id)["status"] == "failed"
        (listed,) = sends_of(session, made["assignment"])
        assert listed["status"] == "failed" and listed["student"] == "Ada"
        # the same score again changes nothing; sending again makes it due now
        assert passback.queue(session, made["assignment"]) == 1  # a failed one is set again
        assert passback.send_again(session, made["assignment"]) == 1


def test_a_newer_score_is_not_marked_sent_by_an_older_send(
    app: Flask, linked: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.test_request_context():
        made = linked()
        session = db.session()
        passback.queue(session, made["assignment"])

        def send_while_a_new_score_arrives(session: Any, row: ScoreSend, http: Any) -> None:
            other = db.session()  # the same session: a new score set meanwhile
            sub = other.query(Submission).one()
            sub.score = 9.0
            other.commit()
            passback.queue(other, made["assignment"])

        monkeypatch.setattr(passback, "send", send_while_a_new_score_arrives)
        assert passback.deliver_due() == {"sent": 1, "failed": 0}
        row = session.query(ScoreSend).one()
        assert row.score == 9.0 and row.status == "pending"  # the newer one is still to go


def test_the_policy_picks_the_best_or_the_last_attempt(app: Flask) -> None:
    with app.test_request_context():
        session = db.session()
        course = session.query(Course).first()
        row = Assignment(course_id=course.id, title="A", spec_json="{}", max_attempts=3)
        session.add(row)
        session.flush()
        student = Student(assignment_id=row.id, name="x")
        session.add(student)
        session.flush()
        for attempt, score in ((1, 5.0), (2, 8.0), (3, 8.0), (4, 2.0)):
            session.add(
                Submission(
                    student_id=student.id,
                    attempt=attempt,
                    answers_json="{}",
                    report_json="{}",
                    score=score,
                    max_score=10.0,
                )
            )
        session.commit()
        best = passback.chosen_submission(session, student.id, "best")
        last = passback.chosen_submission(session, student.id, "last")
        assert (best.attempt, best.score) == (2, 8.0)
        assert (last.attempt, last.score) == (4, 2.0)


def test_names_and_courses_that_collide(app: Flask, linked: Callable[..., Any]) -> None:
    with app.test_request_context():
        made = linked()
        session = db.session()
        link: LtiLink = made["link"]
        # another platform user called Ada gets a name of their own; the first keeps theirs
        other = links.student_of(session, link, "sub-2", "Ada")
        assert other.name.startswith("Ada (") and other.name != "Ada"
        assert links.student_of(session, link, "sub-1", "Ada Renamed").id == made["student"].id
        assert session.query(LtiUser).count() == 2
        # a second platform course of the same title gets a course name of its own
        platform = link.platform
        data = {links.CLAIM + "context": {"id": "ctx-2", "title": "ML"}}
        second = links.context_of(session, platform, data)
        names = {session.get(Course, c.course_id).name for c in session.query(LtiContext)}
        assert names == {"ML · P", "ML · P (2)"} and second.context_id == "ctx-2"
        # an activity copied with its course: the assignment is copied into the new course
        copied = links.link_of(
            session,
            platform,
            second,
            {
                links.CLAIM + "resource_link": {"id": "rl-copy"},
                links.CLAIM + "custom": {links.ASSIGNMENT_PARAM: str(made["assignment"].id)},
            },
        )
        assert copied is not None and copied.assignment_id != made["assignment"].id
        copy = session.get(Assignment, copied.assignment_id)
        assert copy.course_id == second.course_id and copy.spec_json == made["assignment"].spec_json
        # a made-up assignment id opens nothing
        assert (
            links.link_of(
                session,
                platform,
                second,
                {
                    links.CLAIM + "resource_link": {"id": "rl-x"},
                    links.CLAIM + "custom": {links.ASSIGNMENT_PARAM: "99999"},
                },
            )
            is None
        )


def test_the_registration_json_names_the_tool_s_own_urls(client: Any) -> None:
    """What Canvas's "Enter URL" reads: every URL on the host asked, each one a route that
    answers as the registration says (the keys as a JWKS, the login and launch as LTI)."""
    config = client.get("/lti/config", base_url="https://tool.example").json
    assert config["oidc_initiation_url"] == "https://tool.example/lti/login"
    assert config["target_link_uri"] == "https://tool.example/lti/launch"
    assert config["public_jwk_url"] == "https://tool.example/lti/jwks"
    (canvas,) = config["extensions"]
    assert canvas["domain"] == "tool.example"
    assert {p["placement"] for p in canvas["settings"]["placements"]} == {
        "link_selection",
        "assignment_selection",
    }
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in config["scopes"]
    jwks = client.get("/lti/jwks").json
    assert [k["kid"] for k in jwks["keys"]] == [keys.tool_key(client.application).kid]


def test_a_restarted_process_resumes_the_waiting_sends_at_its_first_request(
    make_app: Callable[..., Flask], linked: Callable[..., Any]
) -> None:
    import time

    first = make_app()
    with first.test_request_context():
        made = linked()
        passback.queue(db.session(), made["assignment"])  # waiting, never tried
    later = make_app(LTI_RETRY_SCALE=0.01)  # "after a restart": a new app on the database
    assert later.test_client().get("/healthz").status_code == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with later.app_context():
            row = db.session().query(ScoreSend).one()
            if row.tries:
                break
        time.sleep(0.05)
    assert row.tries >= 1 and row.last_error == "the platform could not be reached"


def test_a_picker_of_a_launch_that_is_not_kept_is_a_404(client: Any) -> None:
    for launch_id in ("lti1p3-launch-made-up", "x" * 300):
        assert client.get(f"/lti/pick/{launch_id}").status_code == 404
        assert client.post(f"/lti/pick/{launch_id}", data={"assignment": "1"}).status_code == 404


#: any JSON value, small
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
ROLES = [
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",
    "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",
]
#: a launch's claims: what pylti1p3 checks itself well-formed (its refusals of the rest are
#: quick and tested above), what our code reads after it either well-formed or anything at all
CLAIMS = st.fixed_dictionaries(
    {
        "sub": st.text(min_size=1, max_size=300),
        "name": st.text(max_size=300) | JSONISH,
        "given_name": JSONISH,
        "email": JSONISH,
        links.CLAIM + "message_type": st.sampled_from(
            ["LtiResourceLinkRequest", "LtiDeepLinkingRequest"]
        ),
        links.CLAIM + "version": st.just("1.3.0"),
        links.CLAIM + "deployment_id": st.just("1"),
        links.CLAIM + "roles": st.lists(st.sampled_from(ROLES), max_size=2)
        | st.lists(JSONISH, max_size=2),
        links.CLAIM + "context": st.fixed_dictionaries(
            {"id": st.text(max_size=300) | JSONISH, "title": st.text(max_size=300) | JSONISH}
        )
        | JSONISH,
        links.CLAIM + "resource_link": st.fixed_dictionaries(
            {"id": st.text(min_size=1, max_size=300), "title": st.text(max_size=300) | JSONISH}
        ),
        links.CLAIM + "custom": st.fixed_dictionaries(
            {links.ASSIGNMENT_PARAM: st.sampled_from(["1", "0", "-1", "1e9", "x"]) | JSONISH}
        )
        | JSONISH,
        links.CLAIM + "launch_presentation": JSONISH,
        links.AGS_CLAIM: st.fixed_dictionaries(
            {"lineitems": st.text(max_size=20) | JSONISH, "lineitem": JSONISH}
        )
        | JSONISH,
        links.NRPS_CLAIM: st.fixed_dictionaries({"context_memberships_url": JSONISH}) | JSONISH,
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": st.fixed_dictionaries(
            {"deep_link_return_url": st.text(max_size=30) | JSONISH}
        )
        | JSONISH,
    }
)


@pytest.fixture
def hostile(app: Flask) -> Iterator[tuple[Any, dict[str, Any]]]:
    """The app with a platform whose keys a test signs with (its JWKS served on loopback)."""
    from lti_platform import rsa_key
    from web_support import served

    pem, jwk, kid = rsa_key()
    keys_app = Flask("keys")
    keys_app.add_url_rule("/jwks", "jwks", lambda: {"keys": [jwk]})
    with served(keys_app) as url:
        with app.app_context():
            register_platform(key_set_url=url + "/jwks")
            course = db.session().query(Course).first()
            db.session().add(
                Assignment(
                    course_id=course.id, title="A", spec_json=json.dumps(SPEC), max_attempts=3
                )
            )
            db.session().commit()
        yield app, {"pem": pem, "kid": kid}


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(claims=CLAIMS, aud=st.sampled_from(["c", ["c"], ["c", "d"]]), azp=st.just("c") | JSONISH)
def test_no_signed_launch_makes_a_500(
    hostile: tuple[Any, dict[str, Any]], claims: dict[str, Any], aud: Any, azp: Any
) -> None:
    """Launches signed by a registered platform (so every check runs, and our own code past
    them) whose claims are anything at all: each a redirect or a 4xx, never a 500."""
    import time
    from urllib.parse import parse_qs, urlsplit

    import jwt

    app, key = hostile
    client = app.test_client()
    login = client.get(
        "/lti/login",
        query_string={"iss": "https://p.example", "client_id": "c", "login_hint": "h",
                      "target_link_uri": "http://localhost/lti/launch"},
    )  # fmt: skip
    asked = {k: v[0] for k, v in parse_qs(urlsplit(login.headers["Location"]).query).items()}
    body = {
        **claims,
        "iss": "https://p.example",
        "aud": aud,
        "azp": azp,
        "nonce": asked["nonce"],
        "iat": int(time.time()),
        "exp": int(time.time()) + 60,
    }
    token = jwt.encode(body, key["pem"], algorithm="RS256", headers={"kid": key["kid"]})
    r = client.post("/lti/launch", data={"id_token": token, "state": asked["state"]})
    assert r.status_code in (302, 303) or 400 <= r.status_code < 500, r.get_data(as_text=True)[
        -600:
    ]


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


#: what a hostile client may post as an id_token: text, three dotted parts of anything, or a
#: well-formed JWT (unsigned) whose header and claims are anything
TOKENS = (
    st.text(max_size=40)
    | st.lists(st.text(max_size=12), min_size=3, max_size=3).map(".".join)
    | st.tuples(
        st.fixed_dictionaries(
            {},
            optional={"kid": JSONISH, "alg": st.sampled_from(["RS256", "none", "HS256"]) | JSONISH},
        ),
        st.fixed_dictionaries(
            {},
            optional={
                "iss": st.sampled_from(["https://p.example", "x"]) | JSONISH,
                "aud": st.sampled_from(["c", ["c", "d"]]) | JSONISH,
                "nonce": JSONISH,
                "sub": JSONISH,
                "exp": JSONISH,
                links.CLAIM + "deployment_id": st.sampled_from(["1"]) | JSONISH,
                links.CLAIM + "message_type": JSONISH,
            },
        ),
    ).map(lambda hc: f"{_b64(json.dumps(hc[0]).encode())}.{_b64(json.dumps(hc[1]).encode())}.x")
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    token=TOKENS,
    state=st.text(max_size=20),
    params=st.dictionaries(
        st.sampled_from(
            [
                "iss",
                "login_hint",
                "client_id",
                "target_link_uri",
                "lti_message_hint",
                "lti_deployment_id",
            ]
        ),
        st.text(max_size=30) | st.sampled_from(["https://p.example", "c"]),
        max_size=6,
    ),
)
def test_no_launch_or_login_makes_a_500(
    app: Flask, token: str, state: str, params: dict[str, str]
) -> None:
    """Whatever a client sends to the LTI routes is refused with a 4xx, never a 500 (the state
    cookie set, so that the checks past it run too)."""
    with app.app_context():
        if not registry.platforms(db.session()):
            register_platform(key_set_url="http://127.0.0.1:9/jwks")  # nothing listens
    client = app.test_client()
    if state and state.isprintable() and ";" not in state and "," not in state:
        client.set_cookie(f"lti1p3-{state}", state)
    r = client.post("/lti/launch", data={"id_token": token, "state": state})
    assert r.status_code < 500, r.get_data(as_text=True)[:300]
    assert client.get("/lti/login", query_string=params).status_code < 500
    assert client.get(f"/lti/pick/{state or 'x'}").status_code < 500


def _login(client: Any) -> dict[str, str]:
    """An OIDC login at the tool, as anyone may start one: the nonce and state it hands out."""
    from urllib.parse import parse_qs, urlsplit

    login = client.get(
        "/lti/login",
        query_string={"iss": "https://p.example", "client_id": "c", "login_hint": "h",
                      "target_link_uri": "http://localhost/lti/launch"},
    )  # fmt: skip
    assert login.status_code == 302, login.get_data(as_text=True)[:300]
    return {k: v[0] for k, v in parse_qs(urlsplit(login.headers["Location"]).query).items()}


def test_a_picker_names_a_kept_launch_and_nothing_else_that_is_kept(client: Any) -> None:
    """The picker's address is a launch's id, read from the table that also keeps the logins'
    nonces and states (anyone gets theirs from /lti/login): naming one of those is a 404 (it
    was a 500, pylti1p3 reading the launch's claims from ``True``)."""
    with client.application.app_context():
        register_platform()
    asked = _login(client)
    for kept in (f"nonce-{asked['nonce']}", f"lti1p3-nonce-{asked['nonce']}", asked["state"]):
        assert client.get(f"/lti/pick/{kept}").status_code == 404, kept
        assert client.post(f"/lti/pick/{kept}", data={"assignment": "1"}).status_code == 404


def test_a_key_no_row_can_have_is_refused_not_a_500(client: Any) -> None:
    """A NUL in a state, a nonce, a launch id or a button's key finds nothing (PostgreSQL
    refuses NUL in text: every one of these was a 500 there)."""
    import jwt

    with client.application.app_context():
        register_platform()
    asked = _login(client)
    assert client.post("/lti/launch", data={"state": "a\x00b", "id_token": "x"}).status_code == 403
    token = jwt.encode({"nonce": "n\x00", "iss": "https://p.example", "aud": "c"}, "k" * 32)
    r = client.post("/lti/launch", data={"id_token": token, "state": asked["state"]})
    assert r.status_code == 403, r.get_data(as_text=True)[:300]
    assert client.get("/lti/pick/lti1p3-launch-a%00b").status_code == 404
    assert client.get("/lti/tab/a%00b").status_code == 404


def _signed(hostile: tuple[Any, dict[str, Any]], claims: dict[str, Any]) -> Any:
    """The tool's answer to a launch of ``claims`` signed by the hostile fixture's platform."""
    import time

    import jwt

    app, key = hostile
    client = app.test_client()
    asked = _login(client)
    body = {
        links.CLAIM + "message_type": "LtiResourceLinkRequest",
        links.CLAIM + "version": "1.3.0",
        links.CLAIM + "deployment_id": "1",
        links.CLAIM + "roles": [ROLES[0]],
        links.CLAIM + "resource_link": {"id": "rl-1"},
        links.CLAIM + "custom": {links.ASSIGNMENT_PARAM: "1"},
        "iss": "https://p.example",
        "aud": "c",
        "nonce": asked["nonce"],
        "iat": int(time.time()),
        "exp": int(time.time()) + 60,
        **claims,
    }
    token = jwt.encode(body, key["pem"], algorithm="RS256", headers={"kid": key["kid"]})
    return client.post("/lti/launch", data={"id_token": token, "state": asked["state"]})


def test_a_user_id_past_what_lti_allows_is_refused_not_a_500(
    hostile: tuple[Any, dict[str, Any]],
) -> None:
    """A ``sub`` is at most 255 characters (OpenID Connect); a longer one, or one with a NUL,
    was a 500 on PostgreSQL (the student's row did not fit); it is refused, saying why."""
    r = _signed(hostile, {"sub": "s" * 255})
    assert r.status_code == 303, r.get_data(as_text=True)[-400:]  # the longest: a student
    for sub in ("s" * 256, "a\x00b"):
        r = _signed(hostile, {"sub": sub})
        assert r.status_code == 403 and "user id" in r.get_data(as_text=True), sub[:20]


def test_service_urls_with_a_nul_are_not_kept(hostile: tuple[Any, dict[str, Any]]) -> None:
    """The AGS and NRPS endpoints a launch names are kept for later; one with a NUL (which
    PostgreSQL refuses in text: a 500) is left out, as one that is not text is."""
    app, _ = hostile
    bad = "https://p.example/x\x00"
    claims = {
        "sub": "s-1",
        links.AGS_CLAIM: {"lineitems": bad, "lineitem": bad},
        links.NRPS_CLAIM: {"context_memberships_url": bad},
    }
    assert _signed(hostile, claims).status_code == 303
    teacher = {**claims, links.CLAIM + "roles": [ROLES[1]], "sub": "t-1"}
    assert _signed(hostile, teacher).status_code == 303
    with app.app_context():
        (link,) = db.session().query(LtiLink).all()
        assert link.lineitems_url is None and link.lineitem_url is None
        assert db.session().query(LtiContext).one().memberships_url is None


@pytest.fixture
def answering(app: Flask) -> Iterator[tuple[dict[str, Any], list[str], Any]]:
    """A platform on loopback answering each path as the test says (``answers[path]``: a
    function of the request's URL, giving JSON or a response) and counting the requests
    (``asked``), and platform P registered with its token endpoint there; the app in a request
    context."""
    from flask import Response, request
    from web_support import served

    answers: dict[str, Any] = {}
    asked: list[str] = []
    fake = Flask("answering")

    @fake.route("/<path:path>", methods=["GET", "POST"])
    def answer(path: str) -> Any:
        asked.append(path)
        found = answers[path](request.url)
        return found if isinstance(found, Response) else fake.json.response(found)

    with served(fake) as url, app.test_request_context():
        register_platform(auth_token_url=url + "/token")
        yield answers, asked, url


def test_a_platform_answer_not_understood_is_a_failed_try_with_its_reason(
    linked: Callable[..., Any], answering: tuple[dict[str, Any], list[str], Any]
) -> None:
    """A token endpoint answering 200 without a token (pylti1p3: a KeyError) was not a failed
    send: the error left deliver_due, the row stayed claimed with no try counted and no reason
    shown (and the sends after it in the round unsent), and the retrier thread stopped."""
    answers, _, _ = answering
    made = linked()
    session = db.session()
    made["link"].platform.auth_token_url = answering[2] + "/token"
    session.commit()
    for body in ({}, [], {"access_token": ["x"]}):
        answers["token"] = lambda _url, body=body: body
        passback.Connector.tokens.clear()
        assert passback.queue(session, made["assignment"]) in (0, 1)
        session.query(ScoreSend).update({"next_try_at": now(), "status": "pending"})
        session.commit()
        assert passback.deliver_due() == {"sent": 0, "failed": 1}, body
        row = session.query(ScoreSend).one()
        assert row.claimed_until is None and row.tries >= 1
        assert "not understood" in row.last_error, row.last_error


def roster_at(linked: Callable[..., Any], url: str) -> tuple[Any, LtiLink]:
    """A linked activity whose platform's token endpoint and roster answer at ``url``."""
    made = linked()
    session = db.session()
    link = made["link"]
    link.platform.auth_token_url = url + "/token"
    session.get(LtiContext, link.context_id).memberships_url = url + "/members"
    session.commit()
    return session, link


def test_the_roster_from_the_platform_is_read_within_its_bounds(
    linked: Callable[..., Any],
    answering: tuple[dict[str, Any], list[str], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A platform's roster is read up to MAX_MEMBERS members, MAX_PAGES pages and
    ROSTER_SECONDS (pylti1p3's get_members read every page before the bound was looked at: a
    platform whose next page never ends held the instructor's launch forever); members that
    are not objects are left out, and an answer that is no roster is the platform not giving
    one (they were 500s)."""
    from handcalc.web.lti import members

    answers, asked, url = answering
    session, link = roster_at(linked, url)
    answers["token"] = lambda _url: {"access_token": "t", "expires_in": 3600}
    learner = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
    pages = iter(range(10**6))

    def endless(_url: str) -> Any:  # one new learner a page, and always a next page
        n = next(pages)
        return fake_page([{"user_id": f"u{n}", "roles": [learner]}], f"{url}/members?p={n}")

    def fake_page(found: list[Any], nxt: str) -> Any:
        from flask import make_response

        response = make_response({"members": found})
        response.headers["Link"] = f'<{nxt}>; rel="next"'
        return response

    answers["members"] = endless
    monkeypatch.setattr(members, "MAX_MEMBERS", 3)
    monkeypatch.setattr(members, "MAX_PAGES", 5)
    assert members.sync_quietly(session, link) == 3
    assert asked.count("members") == 3
    asked.clear()
    answers["members"] = lambda _url: fake_page([], f"{url}/members")  # empty pages, endless
    assert members.sync_quietly(session, link) == 0
    assert asked.count("members") == members.MAX_PAGES
    # a platform slow to give each page is read for ROSTER_SECONDS at most (each request's
    # own timeout let 500 slow pages hold the launch for hours)
    import time

    def slow(_url: str) -> Any:
        time.sleep(0.1)
        return fake_page([], f"{url}/members")

    asked.clear()
    answers["members"] = slow
    monkeypatch.setattr(members, "MAX_PAGES", 1000)
    monkeypatch.setattr(members, "ROSTER_SECONDS", 0.35)
    started = time.monotonic()
    assert members.sync_quietly(session, link) == 0
    assert time.monotonic() - started < 1.5 and asked.count("members") <= 5
    monkeypatch.setattr(members, "MAX_MEMBERS", 10)
    odd = ["x", 5, None, {"user_id": "w", "roles": 5}, {"user_id": "v", "roles": [learner]}]
    answers["members"] = lambda _url: {"members": odd}
    assert members.sync_quietly(session, link) == 1
    for junk in ([], {"members": {"a": 1}}, {"members": 5}, "text"):
        answers["members"] = lambda _url, junk=junk: junk
        assert members.sync_quietly(session, link) is None, junk


def test_two_requests_setting_a_new_score_at_once_both_succeed(
    app: Flask, linked: Callable[..., Any]
) -> None:
    """A student's first score set by two requests at the same moment (two attempts sent from
    two tabs, a release while a submission arrives): the one that inserts the send second used
    to fail with the unique constraint — a 500 after the submission was stored, and its score,
    perhaps the newer one, never sent. It now updates the row the other made."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    with app.test_request_context():
        made = linked(score=9.0)
        session = db.session()

        def meanwhile(*_: Any) -> None:  # another request's send of an older score, first
            with Session(db.engine_of(app)) as other:
                student_id, link_id = made["student"].id, made["link"].id
                other.add(ScoreSend(link_id=link_id, student_id=student_id, score=1.0,
                                    max_score=10.0, version=1, status="sent"))  # fmt: skip
                other.commit()

        event.listen(session, "before_flush", meanwhile, once=True)
        assert passback.queue(session, made["assignment"]) == 1
        row = session.query(ScoreSend).one()
        assert (row.score, row.status, row.version) == (9.0, "pending", 2)


def test_a_failed_send_of_an_older_score_does_not_delay_the_newer_one(
    app: Flask, linked: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A send that fails while a newer score replaces the row's: the newer score stays due now
    with its tries at 0 (the older send's failure was counted on it and put it off by the
    retry's wait)."""
    with app.test_request_context():
        made = linked()
        session = db.session()
        passback.queue(session, made["assignment"])

        def fails_while_a_new_score_arrives(session: Any, row: ScoreSend, http: Any) -> None:
            sub = session.query(Submission).one()
            sub.score = 9.0
            session.commit()
            passback.queue(session, made["assignment"])
            raise passback.SendError("the platform could not be reached")

        monkeypatch.setattr(passback, "send", fails_while_a_new_score_arrives)
        assert passback.deliver_due() == {"sent": 0, "failed": 1}
        row = session.query(ScoreSend).one()
        assert (row.score, row.status, row.tries, row.claimed_until) == (9.0, "pending", 0, None)
        assert row.next_try_at <= now()


def test_the_retrier_waits_for_a_send_another_process_holds(
    app: Flask, linked: Callable[..., Any]
) -> None:
    """A due send claimed by another process (sending it, or dead until its lease ends): the
    retrier waits for the lease, as for a send not due yet (it looked again every 50 ms, two
    queries each, for up to five minutes)."""
    with app.test_request_context():
        made = linked()
        session = db.session()
        passback.queue(session, made["assignment"])
        session.query(ScoreSend).update({"claimed_until": now() + passback.LEASE})
        session.commit()

    class Waits(list[float]):  # the retrier's stop event: its waits, none ended early
        def wait(self, seconds: float) -> bool:
            self.append(seconds)
            return False

    waits = Waits()
    assert passback._retry_round(app, waits) is True
    assert waits and waits[0] >= 59, waits


def test_an_issuer_or_client_id_with_a_nul_finds_no_platform(client: Any) -> None:
    """A login or launch naming an issuer or client id with a NUL finds no platform (PostgreSQL
    refuses a NUL in text: a 500 from anyone, before any signature is checked)."""
    import jwt

    with client.application.app_context():
        register_platform()
    for iss, client_id in (("https://p.example\x00", "c"), ("https://p.example", "c\x00")):
        login = {"iss": iss, "client_id": client_id, "login_hint": "h",
                 "target_link_uri": "http://localhost/lti/launch"}  # fmt: skip
        assert client.get("/lti/login", query_string=login).status_code == 400
        asked = _login(client)
        token = jwt.encode({"nonce": asked["nonce"], "iss": iss, "aud": client_id}, "k" * 32)
        r = client.post("/lti/launch", data={"id_token": token, "state": asked["state"]})
        assert r.status_code == 403, r.get_data(as_text=True)[-300:]


def test_a_platform_registered_with_what_does_not_fit_is_refused(app: Flask) -> None:
    """A registration (``handcalc lti register``, or a platform's answer to the dynamic one) with
    an issuer or client id over 255 characters, or a NUL anywhere, is an input error saying
    which (PostgreSQL refused the row: a 500 on /lti/register; SQLite kept what no launch can
    find)."""
    from handcalc.web.errors import InputError

    fine = {
        "name": "P",
        "issuer": "https://p.example",
        "client_id": "c",
        "auth_login_url": "https://p.example/auth",
        "auth_token_url": "https://p.example/token",
        "key_set_url": "https://p.example/jwks",
        "deployments": ["1"],
    }
    with app.app_context():
        for field, value in (
            ("issuer", "https://p.example/" + "i" * 240),
            ("client_id", "c" * 256),
            ("name", "P\x00"),
            ("client_id", "c\x00"),
            ("key_set_url", "https://p.example/jwks\x00"),
            ("deployments", ["1\x00"]),
        ):
            with pytest.raises(InputError):
                registry.register(db.session(), **{**fine, field: value})
            db.session().rollback()
        assert registry.platforms(db.session()) == []
        # a client id given with spaces is kept without them, and found again so (it was an
        # IntegrityError: looked up with its spaces, inserted a second time without them)
        registry.register(db.session(), **fine)
        registry.register(db.session(), **{**fine, "client_id": " c ", "deployments": ["2"]})
        (row,) = registry.platforms(db.session())
        assert row.deployments == ["1", "2"]


def test_one_instructor_launching_twice_at_once_gets_one_account(
    app: Flask, linked: Callable[..., Any]
) -> None:
    """Two launches of one platform instructor at the same moment (a double click on a new
    activity) both made their account, or both added the course to it: the second was a 500
    (the unique login, the course's row). It now finds what the first made."""
    import hashlib

    from handcalc.web.models import Instructor, course_instructor
    from sqlalchemy import event, insert
    from sqlalchemy.orm import Session

    with app.test_request_context():
        made = linked()
        session = db.session()
        platform = made["link"].platform
        course = session.get(Course, made["assignment"].course_id)

        def login(sub: str) -> str:
            return f"lti-{platform.id}-{hashlib.sha256(sub.encode()).hexdigest()[:32]}"

        def meanwhile(sub: str, account: bool) -> Callable[..., None]:
            def make(*_: Any) -> None:  # the other launch, first to commit
                with Session(db.engine_of(app)) as other:
                    if account:
                        other.add(Instructor(login=login(sub), password_hash="x"))
                        other.flush()
                    found = other.query(Instructor).filter_by(login=login(sub)).one()
                    other.execute(
                        insert(course_instructor).values(
                            course_id=course.id, instructor_id=found.id
                        )
                    )
                    other.commit()

            return make

        # the account made meanwhile
        event.listen(session, "before_flush", meanwhile("t-1", account=True), once=True)
        found = links.instructor_of(session, platform, "t-1", course)
        session.commit()
        assert found.login == login("t-1") and [c.id for c in found.courses] == [course.id]
        # the account there, the course added to it meanwhile
        session.add(Instructor(login=login("t-2"), password_hash="x"))
        session.commit()
        event.listen(session, "before_flush", meanwhile("t-2", account=False), once=True)
        found = links.instructor_of(session, platform, "t-2", course)
        session.commit()
        assert [c.id for c in found.courses] == [course.id]
        assert session.query(Instructor).filter(Instructor.login.like("lti-%")).count() == 2


def test_an_activity_bound_by_the_picker_opens_its_assignment_at_the_next_launch(
    hostile: tuple[Any, dict[str, Any]],
) -> None:
    """The picker bound an activity under its resource link id as sent, but launches look it up
    as kept (one line, at most 255 characters): an id with a trailing space or over 255
    characters was never found again — its students were told to come back later, and the
    instructor's next pick was a 500 (the id taken; on PostgreSQL the long one did not fit)."""
    from urllib.parse import urlsplit

    app, _ = hostile
    for resource_id in ("rl-space ", "rl-" + "x" * 300):
        claims = {"sub": "t-1", links.CLAIM + "roles": [ROLES[1]],
                  links.CLAIM + "resource_link": {"id": resource_id},
                  links.CLAIM + "custom": {}}  # fmt: skip
        r = _signed(hostile, claims)
        assert r.status_code == 303 and "/lti/pick/" in r.headers["Location"]
        picker = urlsplit(r.headers["Location"]).path
        form = {"assignment": "new", "title": "Backprop", "sizes": "2, 2, 2"}
        picked = app.test_client().post(picker, data=form)
        assert picked.status_code == 303, picked.get_data(as_text=True)[-300:]
        student = {**claims, "sub": "s-1", links.CLAIM + "roles": [ROLES[0]]}
        r = _signed(hostile, student)
        assert r.status_code == 303 and "/s/" in r.headers["Location"], r.status_code
    # an id that is no text, or blank, cannot be kept: refused at the launch (it went to the
    # picker, whose choice no launch found)
    for resource_id in (5, "  "):
        r = _signed(hostile, {**claims, links.CLAIM + "resource_link": {"id": resource_id}})
        assert r.status_code == 403 and "resource link" in r.get_data(as_text=True)


def test_platform_courses_of_one_title_get_names_of_their_own(app: Flask) -> None:
    """A second platform course titled with a backslash was a 500 on PostgreSQL (the backslash
    escaped a character of the LIKE pattern looking for the names taken, so the name taken was
    chosen again); and two courses of one title made at the same moment (sections opening the
    tool on the first day) were a 500 for the second: it now takes the next free name."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    with app.test_request_context():
        session = db.session()
        platform = register_platform()

        def course(context_id: str, title: str) -> str:
            data = {links.CLAIM + "context": {"id": context_id, "title": title}}
            made = links.context_of(session, platform, data)
            session.commit()
            return session.get(Course, made.course_id).name

        assert course("a", "C\\") == "C\\ · P"
        assert course("b", "C\\") == "C\\ · P (2)"

        def meanwhile(*_: Any) -> None:  # another section's first launch, committed first
            with Session(db.engine_of(app)) as other:
                other.add(Course(name="ML · P"))
                other.commit()

        event.listen(session, "before_flush", meanwhile, once=True)
        assert course("c", "ML") == "ML · P (2)"


def test_a_score_waiting_to_be_sent_is_held_back_once_scores_are_hidden(
    app: Flask, linked: Callable[..., Any]
) -> None:
    """A score waiting to be sent (the platform down) when the instructor hides scores until
    release was still sent at its next try: the gradebook got what the assignment hides (the
    README: nothing at all while it hides scores). Hiding withdraws what is unsent; the
    release sets it again."""
    with app.test_request_context():
        made = linked()
        session = db.session()
        row: Assignment = made["assignment"]
        assert passback.queue(session, row) == 1
        assert passback.deliver_due() == {"sent": 0, "failed": 1}  # the platform is down
        row.score_visibility = "hidden_until_release"
        session.commit()
        assert passback.queue(session, row) == 0  # (what saving the settings does)
        session.query(ScoreSend).update({"next_try_at": now()})
        session.commit()
        assert passback.deliver_due() == {"sent": 0, "failed": 0}  # nothing tried
        assert session.query(ScoreSend).filter(ScoreSend.status != "sent").count() == 0
        row.released = True
        session.commit()
        assert passback.queue(session, row) == 1


def test_feedback_shown_after_the_due_date_reaches_the_platform_then(
    app: Flask, linked: Callable[..., Any]
) -> None:
    """Feedback shown after the due date: the score is sent at once without it, and at the due
    date set again with it (nothing did: the gradebook never got the feedback). The retrier
    wakes at the due date; a process that starts after it sets them at its first request."""
    with app.test_request_context():
        made = linked()
        session = db.session()
        row: Assignment = made["assignment"]
        row.feedback, row.due_at = "after_due", now() + timedelta(hours=1)
        session.commit()
        assert passback.queue(session, row) == 1
        send = session.query(ScoreSend).one()
        assert send.comment == ""  # withheld until the due date
        send.status, send.sent_at = "sent", now()  # the platform took it
        session.commit()
        woken = passback._next_try(app)
        assert woken is not None and abs((woken - row.due_at).total_seconds()) < 1
        assert passback.deliver_due() == {"sent": 0, "failed": 0}  # not yet
        assert session.query(ScoreSend).one().comment == ""
        row.due_at = now() - timedelta(seconds=1)  # the due date passes
        session.commit()
        assert passback._next_try(app) is None  # (a passed one is the next round's to set)
    app.test_client().get("/")  # a process's first request after it
    with app.app_context():
        send = db.session().query(ScoreSend).one()
        assert send.comment.startswith("Attempt 1: 0 of 0 cells right")
        assert send.version == 2 and send.status == "pending"


def test_no_answer_from_a_platform_is_read_past_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """A platform (or the URL a registration names) answering without end would fill the
    worker's memory: an answer is read up to ``MAX_ANSWER_BYTES``, then refused; answers within
    it read as before."""
    from flask import Response
    from web_support import served

    monkeypatch.setattr(passback, "MAX_ANSWER_BYTES", 256 * 1024)
    sent: list[int] = []
    platform = Flask("endless")

    @platform.get("/endless")
    def endless() -> Response:
        def chunks() -> Iterator[bytes]:
            for _ in range(10_000):  # 640 MiB, were it all read
                sent.append(1)
                yield b"x" * 65536

        return Response(chunks(), mimetype="application/json")

    @platform.get("/keys")
    def small() -> Any:
        return {"keys": [{"kid": "k"}]}

    with served(platform) as url:
        http = passback.Platforms()
        assert http.get(url + "/keys").json() == {"keys": [{"kid": "k"}]}
        with pytest.raises(passback.TooLarge) as raised:
            http.get(url + "/endless")
        assert passback.reason(raised.value) == "the platform's answer is larger than 0.25 MiB"
    assert len(sent) < 1000  # stopped early (what the sockets buffer aside), not read to the end


def test_sends_are_retried_after_a_round_the_database_failed(
    app: Flask, linked: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A round of sends that failed on the database (SQLite busy past its timeout, PostgreSQL
    restarting) stopped the retrier, and a send after a response whose round failed started
    none: the scores waiting were not sent until the next submission or restart. Now the
    retrier starts anyway, and waits a little and goes on after a round that failed."""
    import time

    from sqlalchemy.exc import OperationalError

    with app.test_request_context():
        made = linked()
        passback.queue(db.session(), made["assignment"])
    deliver = passback.deliver_due
    rounds: list[int] = []

    def busy_twice(http: Any = None) -> dict[str, int]:
        rounds.append(1)
        if len(rounds) <= 2:  # the send after the response's, then the retrier's first
            raise OperationalError("SELECT", {}, Exception("database is locked"))
        return deliver(http)

    monkeypatch.setattr(passback, "deliver_due", busy_twice)
    monkeypatch.setattr(passback, "send", lambda session, row, http=None: None)  # arrives
    monkeypatch.setattr(passback, "ERROR_WAIT", 0.05)
    with pytest.raises(OperationalError):
        passback.soon(app)  # (outside a request: at once)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with app.app_context():
            if db.session().query(ScoreSend).one().status == "sent":
                break
        time.sleep(0.05)
    assert len(rounds) >= 3
    with app.app_context():
        assert db.session().query(ScoreSend).one().status == "sent"


def test_a_send_another_process_finished_meanwhile_is_not_claimed_again(
    app: Flask, linked: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sender reads the due sends, then claims each: one that another process claimed, sent
    and let go between the two was claimed again (the claim looked at the lease only) and its
    score sent a second time. A claim takes a send that is still due only."""
    from sqlalchemy import event, text

    with app.test_request_context():
        made = linked()
        passback.queue(db.session(), made["assignment"])
    sent: list[int] = []
    monkeypatch.setattr(passback, "send", lambda session, row, http=None: sent.append(row.id))
    engine = db.engine_of(app)
    done: list[int] = []

    def finished_meanwhile(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if not done and statement.startswith("UPDATE lti_score_send SET claimed_until"):
            done.append(1)
            with engine.connect() as other:  # the other process's send, done
                other.execute(text("UPDATE lti_score_send SET status = 'sent'"))
                other.commit()

    event.listen(engine, "before_cursor_execute", finished_meanwhile)
    with app.app_context():
        assert passback.deliver_due() == {"sent": 0, "failed": 0}
    event.remove(engine, "before_cursor_execute", finished_meanwhile)
    assert done and sent == []


def test_a_platform_error_page_with_a_nul_is_kept_as_the_send_s_reason(
    linked: Callable[..., Any], answering: tuple[dict[str, Any], list[str], Any]
) -> None:
    """The reason kept for the instructor quotes the platform's answer; one with a NUL could
    not be stored on PostgreSQL, so the failed try was never recorded: the round stopped there
    and the send was claimed again and again, never counted, never given up."""
    from flask import Response

    answers, _, url = answering
    made = linked()
    session = db.session()
    made["link"].platform.auth_token_url = url + "/token"
    session.commit()
    answers["token"] = lambda _url: Response("down\x00for maintenance", status=503)
    passback.Connector.tokens.clear()
    passback.queue(session, made["assignment"])
    assert passback.deliver_due() == {"sent": 0, "failed": 1}
    row = session.query(ScoreSend).one()
    assert row.tries == 1 and "down for maintenance" in row.last_error, row.last_error


def test_a_gradebook_column_made_with_an_id_that_is_no_url_is_a_failed_try(
    linked: Callable[..., Any], answering: tuple[dict[str, Any], list[str], Any]
) -> None:
    """A platform answering the column it made with an id that is not text, or has a NUL,
    could not be kept (PostgreSQL; SQLite kept a number): the error left deliver_due and the
    send went on failing unrecorded. It is a failed try saying why, and the next try looks the
    column up again."""
    from flask import request

    answers, _, url = answering
    made = linked()
    session = db.session()
    link: LtiLink = made["link"]
    link.platform.auth_token_url = url + "/token"
    link.lineitem_url, link.lineitems_url = None, url + "/lineitems"
    session.commit()
    answers["token"] = lambda _url: {"access_token": "t", "expires_in": 3600}
    passback.queue(session, made["assignment"])
    for made_id in ("https://p.example/items/1\x00", 5):
        answers["lineitems"] = lambda _url, made_id=made_id: (
            [] if request.method == "GET" else {"id": made_id}
        )
        session.query(ScoreSend).update({"next_try_at": now()})
        session.commit()
        assert passback.deliver_due() == {"sent": 0, "failed": 1}
        row = session.query(ScoreSend).one()
        assert "column" in row.last_error, row.last_error
        session.refresh(link)
        assert link.lineitem_url is None and link.creating_since is None


def test_a_process_whose_first_request_found_the_database_busy_resumes_at_the_next(
    make_app: Callable[..., Flask], linked: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sends left waiting by a restart are resumed at a process's first request; when that
    request's look found the database busy, the process counted itself resumed anyway and its
    retrier never started. The next request looks again."""
    from sqlalchemy.exc import OperationalError

    first = make_app()
    with first.test_request_context():
        made = linked()
        passback.queue(db.session(), made["assignment"])  # waiting, never tried
    later = make_app()
    started: list[Flask] = []
    monkeypatch.setattr(passback, "_retrier", started.append)
    real_select, calls = passback.select, []

    def busy_once(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT", {}, Exception("database is locked"))
        return real_select(*args)

    monkeypatch.setattr(passback, "select", busy_once)
    client = later.test_client()
    assert client.get("/healthz").status_code == 503  # (the database busy: send again)
    assert client.get("/healthz").status_code == 200
    assert started == [later]


def test_a_token_answer_not_understood_is_the_platform_not_giving_its_roster(
    linked: Callable[..., Any], answering: tuple[dict[str, Any], list[str], Any]
) -> None:
    """A token endpoint answering 200 without a token (pylti1p3: a KeyError, a TypeError) when
    the roster is read: the instructor's launch and the roster button were a 500; it is the
    platform not giving its roster (logged), as a platform that does not answer is."""
    from handcalc.web.lti import members

    answers, _, url = answering
    session, link = roster_at(linked, url)
    for body in ({}, [], {"access_token": ["t"]}):
        answers["token"] = lambda _url, body=body: body
        passback.Connector.tokens.clear()
        assert members.sync_quietly(session, link) is None, body
