"""handcalc as an LTI 1.3 tool, against a platform of the tests' own (tests/lti_platform.py): real
RSA keys and JWKS on loopback, signed launches and service tokens, both servers threads of this
process. The whole flow (deep linking → the student's launch → their own variant → a submission
→ the score at the platform's AGS endpoint, through a platform down for the first send), the
refusals (forged, expired, replayed, wrong audience, unknown deployment), the roster from NRPS,
a line item made once, and the best/last policy."""

from __future__ import annotations

import html
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from handcalc.web import db
from handcalc.web.lti import registry
from handcalc.web.models import LtiLink, ScoreSend
from lti_platform import CLAIM, INSTRUCTOR, LEARNER, Platform, rsa_key, running
from web_support import SPEC, TOKEN, key_answers, negate, served, student_problem

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def tool(make_app: Callable[..., Flask]) -> Iterator[tuple[str, Flask]]:
    """The service on a loopback port (retries a hundred times sooner than in production)."""
    app = make_app(LTI_RETRY_SCALE=0.01)
    with served(app) as url:
        yield url, app


@pytest.fixture
def platform(tool: tuple[str, Flask]) -> Iterator[Platform]:
    url, app = tool
    with running(url) as found:
        with app.app_context():
            registry.register(db.session(), **found.registration())
        yield found


def new_assignment(url: str, title: str = "Backprop 1", attempts: int = 3) -> int:
    r = requests.post(
        url + "/api/v1/assignments",
        headers=AUTH,
        json={"title": title, "spec": SPEC, "max_attempts": attempts},
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def until(check: Callable[[], Any], seconds: float = 15) -> Any:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("not within the time")


def form_fields(page: str) -> dict[str, str]:
    return {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'name="([^"]+)"[^>]*value="([^"]*)"', page)
    }


#: the picker's form for a new assignment of SPEC's options
NEW = {
    "assignment": "new",
    "title": "Backprop 1",
    "kind": "mlp",
    "max_attempts": "3",
    **{k: ",".join(map(str, v)) if isinstance(v, list) else v for k, v in SPEC.items()},
}


def framed_by_the_platform(page: requests.Response, platform: Platform) -> None:
    """The platform's deep-linking dialog is a frame: the page lets the platform (only) frame
    it and post its form there."""
    policy = page.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {platform.url}" in policy
    assert f"form-action 'self' {platform.url}" in policy
    assert "X-Frame-Options" not in page.headers


def deep_link(platform: Platform, url: str) -> tuple[dict[str, Any], requests.Session]:
    """An instructor adds the activity from inside the platform: the picker, a new assignment,
    the signed answer posted back; the platform's content item."""
    teacher = requests.Session()
    answer, _ = platform.launch(
        teacher,
        platform.claims("teacher-1", roles=(INSTRUCTOR,), message_type="LtiDeepLinkingRequest"),
    )
    assert answer.status_code == 303, answer.text
    picker = teacher.get(url + answer.headers["Location"], timeout=30)
    assert picker.status_code == 200 and "A new assignment" in picker.text
    framed_by_the_platform(picker, platform)
    chosen = teacher.post(picker.url, data=NEW, timeout=30)
    assert chosen.status_code == 200
    framed_by_the_platform(chosen, platform)
    fields = form_fields(chosen.text)
    action = html.unescape(re.search(r'<form[^>]*action="([^"]+)"', chosen.text)[1])
    assert action == platform.url + "/deep_link_return"
    back = requests.post(action, data={"JWT": fields["JWT"]}, timeout=30)
    assert back.status_code == 200, back.text
    claims = platform.deep_links[-1]
    items = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert len(items) == 1
    return dict(items[0]), teacher


def test_deep_linking_a_student_launch_and_the_score_at_the_platform_through_a_failed_send(
    tool: tuple[str, Flask], platform: Platform
) -> None:
    url, app = tool
    item, _ = deep_link(platform, url)
    assignment = int(item["custom"]["handcalc_assignment"])
    assert item["url"] == url + "/lti/launch"
    top = item["lineItem"]["scoreMaximum"]
    assert top > 0
    # the platform makes the gradebook column the answer declared, and names it in launches
    column = f"{platform.url}/{platform.context_id}/lineitems/1"
    platform.lineitems[column] = {**item["lineItem"], "id": column, "context": platform.context_id}

    student = requests.Session()
    answer, _ = platform.launch(
        student,
        platform.claims("student-ada", name="Ada Lovelace", custom=item["custom"], lineitem=column),
    )
    assert answer.status_code == 303, answer.text
    page = answer.headers["Location"]
    assert page.startswith("/s/")
    sheet = student.get(url + page, timeout=30)
    assert sheet.status_code == 200 and "Ada Lovelace" in sheet.text
    # a second launch finds the same student (the same link: the same variant, the same attempts)
    again, _ = platform.launch(
        requests.Session(),
        platform.claims("student-ada", name="Ada L.", custom=item["custom"], lineitem=column),
    )
    assert again.headers["Location"] == page

    # the platform is down for the first send: the score waits, is retried, and arrives
    platform.fail_scores = 1
    problem = student_problem(assignment, "Ada Lovelace")
    answers = key_answers(problem)
    wrong = next(iter(answers["cells"]))
    answers["cells"][wrong] = negate(answers["cells"][wrong])
    r = student.post(url + "/api/v1" + page + "/submissions", json=answers, timeout=30)
    assert r.status_code == 201, r.text
    score = r.json()["report"]["score"]
    assert 0 < score < r.json()["report"]["max_score"] == top
    until(lambda: platform.scores)
    assert platform.failed == 1
    (sent,) = platform.scores
    assert sent["userId"] == "student-ada"
    assert sent["lineitem"] == column
    assert sent["scoreGiven"] == score and sent["scoreMaximum"] == top
    assert sent["gradingProgress"] == "FullyGraded"
    assert sent["comment"].startswith(f"Attempt 1: {len(answers['cells']) - 1} of ")
    assert f"\n{wrong} (wrong): " in sent["comment"] and "sign" in sent["comment"]
    assert len(platform.lineitems) == 1  # the platform's own column: none made by the tool
    until(lambda: "reached Test platform" in student.get(url + page, timeout=30).text)
    with app.app_context():
        row = db.session().query(ScoreSend).one()
        assert row.status == "sent" and row.tries == 1 and row.last_error is None
    seen = student.get(url + "/api/v1" + page, timeout=30).json()["gradebook"]
    assert seen["status"] == "sent" and seen["platform"] == "Test platform"
    assert seen["sent_at"].endswith("Z")
    said = f"Your score {score:g} / {top:g} reached Test platform"
    assert said in student.get(url + page, timeout=30).text
    # scores hidden afterwards: the page says the score went, not what it was
    r = requests.post(
        f"{url}/api/v1/assignments/{assignment}/settings",
        headers=AUTH,
        json={"score": "hidden_until_release"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    shown = student.get(url + page, timeout=30).text
    assert "Your score reached Test platform" in shown and f"{score:g} / {top:g}" not in shown


def test_a_class_launching_asks_the_platform_for_its_keys_once(
    tool: tuple[str, Flask], platform: Platform
) -> None:
    """The platform's key set is kept: the launches after the first do not fetch it again; a
    platform that changed its key is asked again, and the new key's launch is accepted; forged
    launches naming keys nobody has make us ask at most once in ``KEY_SET_AGAIN``."""
    from handcalc.web.models import LtiLaunchData

    url, app = tool
    item, _ = deep_link(platform, url)
    assert platform.jwks_reads == 1  # the instructor's deep-linking launch
    for n in range(3):
        claims = platform.claims(f"s-{n}", name=f"Student {n}", custom=item["custom"])
        answer, _ = platform.launch(requests.Session(), claims)
        assert answer.status_code == 303, answer.text
    assert platform.jwks_reads == 1
    nobody = {"key": rsa_key()[0], "kid": "nobody"}
    forged, _ = platform.launch(requests.Session(), claims, **nobody)
    assert forged.status_code == 403 and platform.jwks_reads == 1  # fetched just now

    with app.app_context():  # KEY_SET_AGAIN later
        session = db.session()
        session.query(LtiLaunchData).filter(LtiLaunchData.key.like("%-fresh")).delete(
            synchronize_session=False
        )
        session.commit()
    platform.pem, platform.jwk, platform.kid = rsa_key()  # the platform's new key
    answer, _ = platform.launch(requests.Session(), claims)
    assert answer.status_code == 303, answer.text
    assert platform.jwks_reads == 2
    forged, _ = platform.launch(requests.Session(), claims, **nobody)
    assert forged.status_code == 403 and platform.jwks_reads == 2


def test_a_lecture_hall_behind_one_address_launches_at_once(
    make_app: Callable[..., Flask],
) -> None:
    """LTI logins and launches have a per-address limit of their own (``LTI_PER_MINUTE``, 3000
    by default: 1500 students' launches a minute behind one campus address); past it, 429."""
    app = make_app(LTI_PER_MINUTE=4)  # two launches of a login and a launch each
    assert make_app().config["LTI_PER_MINUTE"] == 3000
    with served(app) as url, running(url) as platform:
        with app.app_context():
            registry.register(db.session(), **platform.registration())
        assignment = new_assignment(url)
        custom = {"handcalc_assignment": str(assignment)}
        for n in range(2):
            claims = platform.claims(f"s-{n}", custom=custom)
            answer, _ = platform.launch(requests.Session(), claims)
            assert answer.status_code == 303, answer.text
        r = requests.get(url + "/lti/login", params=platform.login("h"), timeout=30)
        assert r.status_code == 429 and "Retry-After" in r.headers
        # the practice pages' limit is another one
        assert requests.get(url + "/", timeout=30).status_code == 200


def test_refused_launches(tool: tuple[str, Flask], platform: Platform) -> None:
    url, _ = tool
    assignment = new_assignment(url)
    custom = {"handcalc_assignment": str(assignment)}
    claims = platform.claims("student-1", name="Grace", custom=custom)
    other_pem, _, _ = rsa_key()
    now = int(time.time())
    refusals = {
        "forged": {"key": other_pem},  # signed with another key under the platform's kid
        "unknown key": {"key": other_pem, "kid": "not-a-platform-key"},
        "expired": {"iat": now - 900, "exp": now - 600},
        "wrong audience": {"aud": "another-tool"},
        "several audiences, no azp": {"aud": ["handcalc-test-client", "another-tool"]},
        "unknown nonce": {"nonce": "made-up"},
    }
    for what, changes in refusals.items():
        answer, _ = platform.launch(requests.Session(), claims, **changes)
        assert answer.status_code == 403, what
        assert "not accepted" in answer.text, what
    bad_deployment = {
        **claims,
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "elsewhere",
    }
    answer, _ = platform.launch(requests.Session(), bad_deployment)
    assert answer.status_code == 403 and "deployment" in answer.text
    # a launch accepted once is refused when replayed (its nonce is used up)
    browser = requests.Session()
    answer, form = platform.launch(browser, claims)
    assert answer.status_code == 303
    replay = browser.post(url + "/lti/launch", data=form, allow_redirects=False, timeout=30)
    assert replay.status_code == 403 and "Nonce" in replay.text
    # an unknown platform's login is refused before anything is kept
    r = requests.get(
        url + "/lti/login",
        params={
            "iss": "https://elsewhere.example",
            "login_hint": "x",
            "client_id": "c",
            "target_link_uri": url + "/lti/launch",
        },
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 400 and "registration" in r.text
    # the login's cookie lost on its way back (a frame whose cookies the browser blocks, another
    # browser): refused, saying why and what to do
    for where, said in (("iframe", "open the activity in a new window"), ("document", "again")):
        platform.pending["lost"] = claims
        login = platform.login("lost")
        r = requests.get(url + "/lti/login", params=login, allow_redirects=False, timeout=30)
        asked = {k: v[0] for k, v in parse_qs(urlsplit(r.headers["Location"]).query).items()}
        answer = requests.post(
            asked["redirect_uri"],
            data=platform.signed_launch(asked),
            headers={"Sec-Fetch-Dest": where},
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 403 and "State not found" not in answer.text
        assert said in html.unescape(answer.text), where


def test_roster_from_the_platform_a_line_item_made_once_and_the_score_policy(
    tool: tuple[str, Flask], platform: Platform
) -> None:
    url, app = tool
    platform.members = [
        {"user_id": "s-ada", "name": "Ada Lovelace", "status": "Active", "roles": [LEARNER]},
        {"user_id": "s-alan", "name": "Alan Turing", "status": "Active", "roles": [LEARNER]},
        {"user_id": "s-gone", "name": "Left Early", "status": "Inactive", "roles": [LEARNER]},
        {"user_id": "t-1", "name": "The Teacher", "status": "Active", "roles": [INSTRUCTOR]},
    ]
    # an activity made without deep linking: the instructor's first launch binds it
    teacher = requests.Session()
    answer, _ = platform.launch(teacher, platform.claims("t-1", roles=(INSTRUCTOR,)))
    assert answer.status_code == 303 and "/lti/pick/" in answer.headers["Location"]
    picker = teacher.get(url + answer.headers["Location"], timeout=30)
    for odd in ("²", "9" * 5000, "-1", "0", "99999"):  # no such assignment: a 404, never a 500
        assert teacher.post(picker.url, data={"assignment": odd}, timeout=30).status_code == 404
    # options that make no problem: the picker again, saying why, with what was typed
    typo = teacher.post(picker.url, data={**NEW, "sizes": "2,x,2"}, timeout=30)
    assert typo.status_code == 400 and "This launch was not accepted" not in typo.text
    assert 'role="alert"' in typo.text and "sizes" in typo.text
    assert 'value="2,x,2"' in typo.text and f'value="{html.escape(NEW["title"])}"' in typo.text
    framed_by_the_platform(typo, platform)
    odd_kind = teacher.post(picker.url, data={**NEW, "kind": "nope"}, timeout=30)
    assert odd_kind.status_code == 400 and "nope" in html.unescape(odd_kind.text)
    bound = teacher.post(picker.url, data=NEW, timeout=30)
    assert bound.status_code == 200, bound.text
    assignment = int(bound.url.rsplit("/", 1)[1])
    # the next instructor launch brings the roster: the active learners only
    answer, _ = platform.launch(teacher, platform.claims("t-1", roles=(INSTRUCTOR,)))
    assert answer.headers["Location"].endswith(f"/instructor/assignments/{assignment}")
    links = requests.get(
        f"{url}/api/v1/assignments/{assignment}/links.csv", headers=AUTH, timeout=30
    ).text
    names = sorted(line.split(",")[1] for line in links.splitlines()[1:] if line)
    assert names == ["Ada Lovelace", "Alan Turing"]

    # a learner who joins later comes with the button on the assignment's page
    platform.members.append(
        {"user_id": "s-grace", "name": "Grace Hopper", "status": "Active", "roles": [LEARNER]}
    )
    mine = teacher.get(f"{url}/instructor/assignments/{assignment}", timeout=30).text
    csrf = re.search(
        r'lti/assignments/\d+/roster"[^<]*<input type="hidden" name="csrf_token" value="([^"]+)"',
        mine,
    )
    assert csrf
    brought = teacher.post(
        f"{url}/lti/assignments/{assignment}/roster", data={"csrf_token": csrf[1]}, timeout=30
    )
    assert "Roster from the platform: 1 new student." in brought.text
    assert "Grace Hopper" in brought.text

    # two students submit at the same moment: one gradebook column is made, both scores in it
    pages = {}
    for sub, name in (("s-ada", "Ada Lovelace"), ("s-alan", "Alan Turing")):
        answer, _ = platform.launch(requests.Session(), platform.claims(sub, name=name))
        pages[sub] = (name, answer.headers["Location"])

    def submit(sub: str, right: bool) -> float:
        name, page = pages[sub]
        answers = key_answers(student_problem(assignment, name))
        if not right:
            for cell in list(answers["cells"])[:3]:
                answers["cells"][cell] = negate(answers["cells"][cell])
        r = requests.post(url + "/api/v1" + page + "/submissions", json=answers, timeout=30)
        assert r.status_code == 201, r.text
        return float(r.json()["report"]["score"])

    done: list[float] = []
    threads = [threading.Thread(target=lambda s=s: done.append(submit(s, True))) for s in pages]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    until(lambda: len(platform.scores) == 2)
    assert len(platform.lineitems) == 1
    (column,) = platform.lineitems
    assert {s["lineitem"] for s in platform.scores} == {column}
    assert {s["userId"] for s in platform.scores} == {"s-ada", "s-alan"}
    best = platform.scores[0]["scoreGiven"]

    # policy "best": a worse attempt sends nothing new; "last": the worse one is sent
    worse = submit("s-ada", False)
    assert worse < best
    time.sleep(0.5)
    assert len(platform.scores) == 2
    r = requests.post(
        f"{url}/api/v1/assignments/{assignment}/settings",
        headers=AUTH,
        json={"score_policy": "last"},
        timeout=30,
    )
    assert r.status_code == 200 and r.json()["score_policy"] == "last"
    until(lambda: len(platform.scores) == 3)
    assert platform.scores[-1]["userId"] == "s-ada"
    assert platform.scores[-1]["scoreGiven"] == worse
    # a regrade on new weights sends the new scores (here: the cells Ada got wrong count 0)
    wrong = list(key_answers(student_problem(assignment, "Ada Lovelace"))["cells"])[:3]
    r = requests.post(
        f"{url}/api/v1/assignments/{assignment}/settings",
        headers=AUTH,
        json={"grading": {"weights": {cell: 0 for cell in wrong}}},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    summary = requests.post(
        f"{url}/api/v1/assignments/{assignment}/regrade", headers=AUTH, json={}, timeout=30
    ).json()
    assert summary["students_changed"] == 2
    until(lambda: len(platform.scores) == 5)
    latest = {s["userId"]: s for s in platform.scores[-2:]}
    assert latest["s-ada"]["scoreGiven"] == latest["s-ada"]["scoreMaximum"]
    with app.app_context():
        (link,) = db.session().query(LtiLink).all()
        assert link.lineitem_url == column


def test_the_instructor_sees_why_a_score_was_not_sent_and_sends_it_again(
    tool: tuple[str, Flask], platform: Platform
) -> None:
    url, _ = tool
    item, teacher = deep_link(platform, url)
    assignment = int(item["custom"]["handcalc_assignment"])
    student = requests.Session()
    answer, _ = platform.launch(
        student, platform.claims("s-grace", name="Grace Hopper", custom=item["custom"])
    )
    page = answer.headers["Location"]
    platform.fail_scores = 10**6  # down until further notice
    answers = key_answers(student_problem(assignment, "Grace Hopper"))
    r = student.post(url + "/api/v1" + page + "/submissions", json=answers, timeout=30)
    assert r.status_code == 201
    mine = f"{url}/instructor/assignments/{assignment}"

    # the platform answers before the tool records its answer: wait for the record, not the call
    def failure_shown() -> str | None:
        text = teacher.get(mine, timeout=30).text
        return text if "503 SERVICE UNAVAILABLE" in text else None

    shown = until(failure_shown)
    assert platform.failed
    assert "Learning platform" in shown and "0 of 1 scores reached the platform" in shown
    assert "Grace Hopper" in shown and "503 SERVICE UNAVAILABLE" in shown
    assert "platform down for maintenance" in shown
    assert "on its way to Test platform" in student.get(url + page, timeout=30).text
    platform.fail_scores = 0
    csrf = re.search(
        r'send-again"[^<]*<input type="hidden" name="csrf_token" value="([^"]+)"', shown
    )
    assert csrf
    again = teacher.post(
        f"{url}/lti/assignments/{assignment}/send-again", data={"csrf_token": csrf[1]}, timeout=30
    )
    assert again.status_code == 200 and "to be sent again now" in again.text
    until(lambda: "1 of 1 scores reached the platform" in teacher.get(mine, timeout=30).text)
    assert platform.scores[-1]["userId"] == "s-grace"
    # the form without its CSRF token is refused (the instructor's cookie alone is not enough)
    forged = teacher.post(f"{url}/lti/assignments/{assignment}/send-again", timeout=30)
    assert forged.status_code == 400


def test_a_launch_in_the_platforms_frame_opens_a_tab_of_its_own(
    tool: tuple[str, Flask], platform: Platform
) -> None:
    """Our pages refuse frames and a frame's cookies are a third party's: a framed launch answers
    with a page the platform may frame, whose button opens the page in a tab of its own: the
    student's own link; for an instructor, a link that signs them in once."""
    url, _ = tool
    item, _ = deep_link(platform, url)
    assignment = int(item["custom"]["handcalc_assignment"])
    framed = requests.Session()
    framed.headers["Sec-Fetch-Dest"] = "iframe"  # as a browser says of a frame's navigation
    answer, _ = platform.launch(
        framed, platform.claims("s-ada", name="Ada Lovelace", custom=item["custom"])
    )
    assert answer.status_code == 200, answer.text
    framed_by_the_platform(answer, platform)
    href = html.unescape(
        re.search(r'href="([^"]+)" target="_blank" rel="noopener"', answer.text)[1]
    )
    assert href.startswith("/s/") and "Open your worksheet" in answer.text
    # the same student at the top level goes straight there
    top, _ = platform.launch(
        requests.Session(), platform.claims("s-ada", name="Ada Lovelace", custom=item["custom"])
    )
    assert top.status_code == 303 and top.headers["Location"] == href
    tab = requests.get(url + href, timeout=30)  # a new tab: no cookie from the frame
    assert tab.status_code == 200 and "Ada Lovelace" in tab.text

    # an instructor: the button signs them in, in the new tab, once
    teacher = platform.claims("t-1", roles=(INSTRUCTOR,), custom=item["custom"])
    answer, _ = platform.launch(framed, teacher)
    assert answer.status_code == 200, answer.text
    framed_by_the_platform(answer, platform)
    href = html.unescape(
        re.search(r'href="([^"]+)" target="_blank" rel="noopener"', answer.text)[1]
    )
    assert href.startswith("/lti/tab/") and "Open the assignment's page" in html.unescape(
        answer.text
    )
    browser = requests.Session()
    opened = browser.get(url + href, allow_redirects=False, timeout=30)
    assert opened.status_code == 303
    assert opened.headers["Location"] == f"/instructor/assignments/{assignment}"
    page = browser.get(url + opened.headers["Location"], allow_redirects=False, timeout=30)
    assert page.status_code == 200 and "Export to a quiz engine" in page.text
    again = requests.get(url + href, allow_redirects=False, timeout=30)
    assert again.status_code == 404 and "open the activity again" in again.text
    assert requests.get(url + "/lti/tab/made-up", timeout=30).status_code == 404

    # a browser that does not say: the platform's launch presentation decides
    told = {**teacher, CLAIM + "launch_presentation": {"document_target": "iframe"}}
    answer, _ = platform.launch(requests.Session(), told)
    assert answer.status_code == 200 and "/lti/tab/" in answer.text
    # ... unless the browser says otherwise (the platform's claim is its default, not a fact)
    window = requests.Session()
    window.headers["Sec-Fetch-Dest"] = "document"
    answer, _ = platform.launch(window, told)
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/instructor/assignments/{assignment}"

    # an activity without an exercise yet: the picker in the frame, then the same button
    unbound = platform.claims("t-1", roles=(INSTRUCTOR,), resource_link="activity-2")
    answer, _ = platform.launch(framed, unbound)
    assert answer.status_code == 303 and "/lti/pick/" in answer.headers["Location"]
    picker = framed.get(url + answer.headers["Location"], timeout=30)
    framed_by_the_platform(picker, platform)
    assert 'class="top"' not in picker.text  # no site links in the frame
    chosen = framed.post(picker.url, data={"assignment": str(assignment)}, timeout=30)
    assert chosen.status_code == 200 and "/lti/tab/" in chosen.text
    framed_by_the_platform(chosen, platform)
    # a refused launch says why in the frame (any site may frame that page: it has no form)
    refused, _ = platform.launch(framed, teacher, aud="another-tool")
    assert refused.status_code == 403 and "X-Frame-Options" not in refused.headers
    assert "frame-ancestors *" in refused.headers["Content-Security-Policy"]
    assert "<form" not in refused.text


def test_the_service_runs_without_the_lms_extra(tmp_path: Path) -> None:
    """The quick start installs no LTI library: the app starts, its pages work, /lti is a 404."""
    import subprocess

    script = f"""
import sys
sys.modules["pylti1p3"] = None  # as if the lms extra were not installed
from handcalc.web.app import create_app
app = create_app({{"HANDCALC_MODE": "testing", "DATABASE_URL": "sqlite:///{tmp_path}/x.db",
                   "INSTRUCTOR_TOKEN": "{TOKEN}"}})
c = app.test_client()
H = {{"Authorization": "Bearer {TOKEN}"}}
r = c.post("/api/v1/assignments", headers=H, json={{"title": "t", "spec": {SPEC!r}}})
links = c.post(f"/api/v1/assignments/{{r.json['id']}}/roster", headers=H,
               json={{"students": ["ada"]}}).json["links"]
print(c.get(links["ada"]).status_code, c.get("/lti/jwks").status_code)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.stdout.split() == ["200", "404"], done.stderr[-2000:]


def test_the_deep_linking_answer_goes_back_by_itself_in_a_browser(
    tool: tuple[str, Flask], platform: Platform
) -> None:
    """Chromium, the page's policy in force: the picker's choice reaches the platform (the
    answer page's form posts itself there; an inline script would have been refused)."""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("needs Debian's chromium (/usr/bin/chromium); scripts/setup.sh installs it")
    sync_api = pytest.importorskip("playwright.sync_api")
    url, _ = tool
    answer, _ = platform.launch(
        requests.Session(),
        platform.claims("teacher-1", roles=(INSTRUCTOR,), message_type="LtiDeepLinkingRequest"),
    )
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(url + answer.headers["Location"])
            page.fill("input[name=title]", "Made in the dialog")
            page.click("text=Make it and use it")
            page.wait_for_url(platform.url + "/deep_link_return", timeout=15_000)
            assert "deep link received" in page.content()
        finally:
            browser.close()
    (claims,) = platform.deep_links
    (item,) = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["title"] == "Made in the dialog"


def test_in_the_platforms_frame_a_button_opens_the_page_in_a_tab(
    tool: tuple[str, Flask], platform: Platform
) -> None:
    """Chromium on a course page of the platform that embeds the activity in a frame: the frame
    shows our page (not the browser's refusal), and its button opens the student's worksheet,
    then the instructor's page signed in, in tabs of their own. (On loopback both are one site,
    over http: the state cookie of pylti1p3's login is SameSite=None only over https.)"""
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("needs Debian's chromium (/usr/bin/chromium); scripts/setup.sh installs it")
    sync_api = pytest.importorskip("playwright.sync_api")
    url, _ = tool
    item, _ = deep_link(platform, url)
    student = platform.claims("s-ada", name="Ada Lovelace", custom=item["custom"])
    teacher = platform.claims("t-1", roles=(INSTRUCTOR,), custom=item["custom"])
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            opened = {}
            for who, claims, button, shows in (
                ("student", student, "Open your worksheet", "Ada Lovelace"),
                ("instructor", teacher, "Open the assignment's page", "Export to a quiz engine"),
            ):
                page.goto(platform.course_page(claims))
                link = page.frame_locator("iframe").get_by_role("link", name=button)
                with page.context.expect_page(timeout=15_000) as new:
                    link.click(timeout=15_000)
                tab = new.value
                tab.wait_for_load_state()
                assert shows in tab.content(), who
                opened[who] = tab.url
                tab.close()
        finally:
            browser.close()
    assert opened["student"].startswith(url + "/s/")
    assert (
        opened["instructor"]
        == f"{url}/instructor/assignments/{item['custom']['handcalc_assignment']}"
    )


def test_dynamic_registration_with_one_url_then_a_launch(tool: tuple[str, Flask]) -> None:
    """The platform opens /lti/register with its configuration's URL and a token: nothing is
    read from that URL before the instructor token is typed; then the tool registers with the
    platform (our URLs, keys, scopes, deep linking) and the platform here, and launches work."""
    url, _ = tool
    with running(url) as platform:  # not registered by hand
        asked = {
            "openid_configuration": platform.url + "/.well-known/openid-configuration",
            "registration_token": platform.registration_token,
        }
        page = requests.get(url + "/lti/register", params=asked, timeout=30)
        assert page.status_code == 200 and platform.url in page.text
        assert f"frame-ancestors 'self' {platform.url}" in page.headers["Content-Security-Policy"]
        wrong = requests.post(
            url + "/lti/register", data={**asked, "instructor_token": "guess"}, timeout=30
        )
        assert wrong.status_code == 401 and "not the instructor token" in wrong.text
        assert platform.config_reads == 0 and not platform.tool_registrations
        done = requests.post(
            url + "/lti/register", data={**asked, "instructor_token": TOKEN}, timeout=30
        )
        assert done.status_code == 200, done.text
        assert "registered with testplatform" in done.text and "lti-close.js" in done.text
        (sent,) = platform.tool_registrations
        assert sent["initiate_login_uri"] == url + "/lti/login"
        assert sent["jwks_uri"] == url + "/lti/jwks"
        assert sent["redirect_uris"] == [url + "/lti/launch"]
        assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in sent["scope"].split()
        tool_config = sent["https://purl.imsglobal.org/spec/lti-tool-configuration"]
        assert tool_config["messages"][0]["type"] == "LtiDeepLinkingRequest"
        item, _ = deep_link(platform, url)  # the registration is the one launches are checked by
        assert item["custom"]["handcalc_assignment"]


def test_dynamic_registration_refuses_a_configuration_naming_another_issuer(
    tool: tuple[str, Flask],
) -> None:
    url, app = tool
    with running(url) as platform:
        platform.claimed_issuer = "https://moodle.example.edu"  # not where the config came from
        asked = {
            "openid_configuration": platform.url + "/.well-known/openid-configuration",
            "registration_token": platform.registration_token,
        }
        r = requests.post(
            url + "/lti/register", data={**asked, "instructor_token": TOKEN}, timeout=30
        )
        assert r.status_code == 400 and "is not the origin of" in r.text
        assert not platform.tool_registrations  # refused before anything was sent to it
        with app.app_context():
            assert registry.platforms(db.session()) == []
    # a "platform" that answers anything at all: refused with a reason, never a 500
    junk = Flask("junk")
    junk.add_url_rule("/list", "list", lambda: "[1, 2]")
    junk.add_url_rule("/text", "text", lambda: "not json")
    junk.add_url_rule("/dict", "dict", lambda: {"issuer": 3})
    with served(junk) as elsewhere:
        for path in ("/list", "/text", "/dict", "/missing"):
            r = requests.post(
                url + "/lti/register",
                data={"openid_configuration": elsewhere + path, "instructor_token": TOKEN},
                timeout=30,
            )
            assert r.status_code == 400 and "did not go through" in r.text, path
    for bad in ("", "file:///etc/passwd", "javascript:alert(1)", "x" * 3000):
        r = requests.get(url + "/lti/register", params={"openid_configuration": bad}, timeout=30)
        assert r.status_code == 400, bad


def test_a_class_opening_a_new_activity_at_once_gets_one_link(
    tool: tuple[str, Flask], platform: Platform
) -> None:
    """The first launches of a new activity (its link made from the deep-linked parameter) come
    together when a class clicks it: every student lands on their sheet, one link is made."""
    url, app = tool
    item, _ = deep_link(platform, url)
    answers: list[int] = []

    def launch(n: int) -> None:
        claims = platform.claims(f"s{n}", name=f"Student {n}", custom=item["custom"])
        answers.append(platform.launch(requests.Session(), claims)[0].status_code)

    threads = [threading.Thread(target=launch, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [303] * 8
    with app.app_context():
        assert db.session().query(LtiLink).count() == 1
