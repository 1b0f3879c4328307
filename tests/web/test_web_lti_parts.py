"""The LTI tool's parts one by one (the flow is tests/web/test_web_lti.py): the tool's key kept
in the instance folder and shared by processes, nonces good once, launch data that expires,
a send that keeps failing given up after three days and shown as failed, a newer score never
marked sent by an older send, and names and courses that collide."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
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
from web_support import SPEC

pytest.importorskip("pylti1p3")


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
        platform = registry.register(
            session,
            name="P",
            issuer="https://p.example",
            client_id="c",
            auth_login_url="https://p.example/auth",
            auth_token_url="http://127.0.0.1:9/token",  # nothing listens: every send fails
            key_set_url="https://p.example/jwks",
            deployments=["1"],
        )
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
