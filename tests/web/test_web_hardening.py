"""Attacks on the service from issue 7, reproduced, and what it does instead (never a 500):

- CPU and memory amplification: practice by cost (a CPU budget per address), small anonymous
  sheets, problems cached within a bound of bytes;
- inputs that gave 500: lone surrogates, superscript digits;
- headers and bodies: no-store, chunked bodies over the limit, JSON only as JSON, a private
  database file, students addressed by id.
"""

from __future__ import annotations

import gc
import io
import json
import os
import re
import socket
import stat
import time
import tracemalloc
import weakref
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from handcalc.web import db, forms, problems, reports
from handcalc.web.limits import BoundedCache
from handcalc.web.models import Assignment, PracticeSession, Student
from sqlalchemy import func, select
from test_web_serve import production_server
from web_support import SPEC, TOKEN, csrf_of, key_answers, negate

import handcalc

AUTH = {"Authorization": f"Bearer {TOKEN}"}
#: a practice spec within the anonymous size limit that no draw satisfies: 0.2-0.6 s of CPU
#: spent for a 400 (it was 0.6-1.2 s at the largest sizes, 7 s in exact mode)
FAILING = {"sizes": [8, 8], "batch": 4, "activation": "relu", "loss": "softmax_ce"}


def sign_in(client: FlaskClient) -> None:
    page = client.get("/instructor/login").get_data(as_text=True)
    r = client.post("/instructor/login", data={"token": TOKEN, "csrf_token": csrf_of(page)})
    assert r.status_code == 303


def practice_count(app: Flask) -> int:
    with app.app_context():
        return int(db.session().scalar(select(func.count()).select_from(PracticeSession)) or 0)


# --- 5. CPU and memory amplification ----------------------------------------------------------


def test_anonymous_practice_sheets_are_small(client: FlaskClient, auth: dict[str, str]) -> None:
    big = {"sizes": [8, 8, 8, 8, 8, 8, 8], "batch": 8}
    r = client.post("/api/v1/practice", json={"spec": big, "seed": 1})
    assert r.status_code == 400
    assert "practice sheets hold at most 400" in r.json["error"]["message"]
    exact = {"sizes": [4, 4, 4], "batch": 3, "transcendental": "exact"}
    r = client.post("/api/v1/practice", json={"spec": exact})
    assert r.status_code == 400 and "228 in exact mode" in r.json["error"]["message"]
    r = client.post(
        "/practice", data={"sizes": "8,8,8,8,8,8,8", "batch": "8", "csrf_token": _csrf(client)}
    )
    assert r.status_code == 400 and "practice sheets hold at most" in r.get_data(as_text=True)
    # the default sheet is well within; an instructor's assignment may be larger
    assert problems.sheet_numbers("mlp", handcalc.Spec()) == 228
    wide = {"sizes": [8, 8, 4], "batch": 2}
    assert client.post("/api/v1/practice", json={"spec": wide}).status_code == 400
    r = client.post("/api/v1/assignments", headers=auth, json={"title": "Wide", "spec": wide})
    assert r.status_code == 201


def _csrf(client: FlaskClient) -> str:
    return csrf_of(client.get("/").get_data(as_text=True))


def test_sheet_numbers_counts_every_value() -> None:
    for options in (SPEC, {}, {"sizes": [8, 8], "batch": 3}, {"sizes": [3, 5, 2, 4], "batch": 1}):
        problem = handcalc.generate(seed=1, **options)
        values = sum(r * c for r, c in (m.shape for m in problem.values.values()))
        assert problems.sheet_numbers("mlp", problem.spec) == values


def test_failing_max_size_specs_are_refused_after_a_cpu_budget(make_app: Any) -> None:
    """The attack: the costliest spec an address may send, again and again. Each costs a
    fraction of a second for a 400; once the address's CPU seconds are spent, it gets 429
    (with Retry-After) before anything is generated, while other addresses go on."""
    app = make_app(PRACTICE_CPU_SECONDS=0.01)
    client = app.test_client()
    started = time.thread_time()
    r = client.post("/api/v1/practice", json={"spec": FAILING, "seed": 1})
    assert r.status_code == 400 and "draws" in r.json["error"]["message"]
    spent = time.thread_time() - started
    codes = []
    for seed in range(2, 12):
        r = client.post("/api/v1/practice", json={"spec": FAILING, "seed": seed})
        codes.append(r.status_code)
    assert codes == [429] * 10
    assert int(r.headers["Retry-After"]) >= 1
    assert "used its share of the server's time" in r.json["error"]["message"]
    # ten refusals cost far less than the one generation (nothing was generated for them)
    assert time.thread_time() - started < 2 * spent
    other = {"REMOTE_ADDR": "192.0.2.7"}
    r = client.post("/api/v1/practice", json={"spec": SPEC, "seed": 1}, environ_base=other)
    assert r.status_code == 201
    assert practice_count(app) == 1


def test_the_budget_is_charged_what_generation_costs(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A budget of 1 s a minute (0.2 s at once) and generations that burn 0.05 s each and
    fail: about four get through, then every request of that address is refused, the page
    too."""
    calls = []

    def burn(**options: Any) -> handcalc.Problem:
        calls.append(options)
        end = time.thread_time() + 0.05
        while time.thread_time() < end:
            pass
        raise handcalc.HandcalcError("no problem with these options meets the budgets")

    app = make_app(PRACTICE_CPU_SECONDS=1.0)
    client = app.test_client()
    token = client.post("/api/v1/practice", json={"spec": SPEC, "seed": 1}).json["token"]
    monkeypatch.setattr(problems.handcalc, "generate", burn)
    codes = [
        client.post("/api/v1/practice", json={"spec": SPEC, "seed": seed}).status_code
        for seed in range(100, 110)
    ]
    assert 3 <= len(calls) <= 5, codes
    assert codes == [400] * len(calls) + [429] * (10 - len(calls))
    # checks and pages of the address's practice sessions wait too
    r = client.post(f"/api/v1/practice/{token}/check", json={"cells": {}})
    assert r.status_code == 429 and "Retry-After" in r.headers
    page = client.get(f"/p/{token}", headers={"Accept": "text/html"})
    assert page.status_code == 429 and "try again in" in page.get_data(as_text=True)


def test_the_problem_cache_never_exceeds_its_bound(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many practice problems from one client: the cache keeps what fits in 1 MiB (estimated),
    the least recently used leave, and their layouts with them."""
    monkeypatch.setattr(problems, "PROBLEMS", BoundedCache(10**9))
    app = make_app(PROBLEM_CACHE_MB=1, PRACTICE_CPU_SECONDS=10**6)
    assert problems.PROBLEMS.max_size == 2**20
    client = app.test_client()
    tokens = []
    made: dict[int, weakref.ref[handcalc.Problem]] = {}
    for seed in range(40):
        r = client.post("/api/v1/practice", json={"spec": SPEC, "seed": seed})
        assert r.status_code == 201
        tokens.append(r.json["token"])
        assert client.get(f"/p/{tokens[-1]}").status_code == 200  # its layout made too
        cache = problems.PROBLEMS
        assert cache.size <= cache.max_size
        assert cache.size == sum(problems.problem_bytes(p) for p, _ in cache._items.values())
        made.update((p.seed or 0, weakref.ref(p)) for p, _ in cache._items.values())
    assert 0 < len(problems.PROBLEMS) < 40
    # the evicted ones are gone: their layouts (and the grader's caches) did not keep them
    gc.collect()
    kept = {p.seed for p, _ in problems.PROBLEMS._items.values()}
    assert sorted(made) == list(range(40))
    assert {seed for seed, ref in made.items() if ref() is not None} == kept
    # an evicted problem is made again when asked for
    assert client.post(f"/api/v1/practice/{tokens[0]}/check", json={"cells": {}}).status_code == 200


def _first(seed: int, options: dict[str, Any]) -> handcalc.Problem:
    """The problem of the first seed from ``seed`` on that makes one."""
    for tried in range(seed, seed + 20):
        try:
            return handcalc.generate(seed=tried, **options)
        except handcalc.HandcalcError:
            continue
    raise AssertionError(f"no problem of {options} from seed {seed} on")


@pytest.mark.parametrize(
    "options",
    [{}, {"sizes": [8, 8, 8, 8, 8], "batch": 3}, {"sizes": [2, 2, 2]}, {"transcendental": "exact"}],
    ids=["default", "wide", "small", "exact"],
)
def test_a_problem_weighs_no_more_than_its_estimate(options: dict[str, Any]) -> None:
    """The bound is honest: what a problem holds alive (its values, its layout, the grader's
    caches after checks) is within ``problem_bytes``."""
    _first(100, options)  # the library's own caches warmed, not counted
    gc.collect()
    tracemalloc.start()
    try:
        problem = _first(1, options)
        forms.layout(problem)
        key = key_answers(problem)
        reports.grade(problem, key)
        reports.grade(problem, key)
        flipped = {n: negate(r) for n, r in key["cells"].items()}
        reports.grade(problem, {"cells": flipped})
        half = {n: (r if i % 2 else flipped[n]) for i, (n, r) in enumerate(key["cells"].items())}
        reports.grade(problem, {"cells": half})
        gc.collect()
        alive = tracemalloc.get_traced_memory()[0]
        estimate = problems.problem_bytes(problem)
        del problem, key, flipped, half
        gc.collect()
        held = alive - tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert 0 < held <= estimate, (held, estimate)


# --- 6. inputs that gave 500 ------------------------------------------------------------------


def _raw(client: FlaskClient, path: str, text: str, **kw: Any) -> Any:
    return client.post(path, data=text.encode(), content_type="application/json", **kw)


def test_lone_surrogates_are_refused(
    client: FlaskClient,
    auth: dict[str, str],
    assignment: int,
    student_token: str,
    practice: tuple[str, Any],
) -> None:
    # JSON's escapes can carry half a character, which no database or page can hold
    lone = r'{"cells": {"Z1": [["\ud800", "1"]]}}'
    for path in (f"/api/v1/practice/{practice[0]}/check", f"/api/v1/s/{student_token}/submissions"):
        r = _raw(client, path, lone)
        assert r.status_code == 400, r.json
        assert "lone UTF-16 surrogate" in r.json["error"]["message"]
        r = _raw(client, path, r'{"cells": {"\udfff": [["1"]]}}')
        assert r.status_code == 400
    assert client.get(f"/api/v1/s/{student_token}").json["attempts"]["used"] == 0
    r = _raw(client, "/api/v1/assignments", r'{"title": "Homework \udc00"}', headers=auth)
    assert r.status_code == 400 and "title" in r.json["error"]["message"]
    roster = f"/api/v1/assignments/{assignment}/roster"
    r = _raw(client, roster, r'{"students": ["ada", "gr\ud83dce"]}', headers=auth)
    assert r.status_code == 400 and "students" in r.json["error"]["message"]
    # a pair is a character like any other
    r = _raw(client, roster, r'{"students": ["Zo\u00eb \ud83d\ude00"]}', headers=auth)
    assert r.status_code == 200 and r.json["students"][0]["name"] == "Zoë 😀"


def test_forms_cannot_carry_lone_surrogates(
    client: FlaskClient, student_token: str, practice: tuple[str, Any]
) -> None:
    body = "Z1%5B0%5D%5B0%5D=%ED%A0%80&seed=%ED%A0%80&sizes=%ED%A0%80"
    for path in ("/practice", f"/p/{practice[0]}", f"/s/{student_token}"):
        r = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
        assert r.status_code < 500


@pytest.mark.parametrize(
    "spec",
    [{"batch": "²"}, {"sizes": "²,2"}, {"sizes": ["2", "²", "2"]}, {"digits": "²"}, {"batch": "¹"}],
)
def test_superscript_digits_in_a_spec_are_refused(
    client: FlaskClient, spec: dict[str, Any]
) -> None:
    r = client.post("/api/v1/practice", json={"spec": spec})
    assert r.status_code == 400, r.json
    assert "not accepted" in r.json["error"]["message"]


def test_one_rule_for_digits_on_the_practice_page(app: Flask, client: FlaskClient) -> None:
    for field in ("seed", "sizes", "batch", "digits"):
        values = {"sizes": "2,2,2", field: "²"}
        r = client.post("/practice", data={**values, "csrf_token": _csrf(client)})
        assert r.status_code == 400, field
        assert f"{field}: " in r.get_data(as_text=True)
    # decimal digits of any script are digits, as int() and the checker read them
    for seed, value in (("٣", 3), ("３", 3), (" 12 ", 12)):
        r = client.post(
            "/practice", data={"sizes": "2,2,2", "seed": seed, "csrf_token": _csrf(client)}
        )
        assert r.status_code == 302, seed
        page = client.get(r.headers["Location"]).get_data(as_text=True)
        assert f"seed {value}" in page, seed
    r = client.post(
        "/practice", data={"sizes": "2,2,2", "seed": "9" * 30, "csrf_token": _csrf(client)}
    )
    assert r.status_code == 400
    r = client.post("/api/v1/practice", json={"spec": SPEC, "seed": "²"})
    assert r.status_code == 400


def test_one_rule_for_digits_on_the_instructor_page(app: Flask, client: FlaskClient) -> None:
    sign_in(client)
    page = client.get("/instructor/").get_data(as_text=True)
    for attempts, stored in (("²", None), ("0", None), ("３", 3), ("٤", 4)):
        r = client.post(
            "/instructor/assignments",
            data={
                "title": f"Attempts {attempts}",
                "sizes": "2,2,2",
                "max_attempts": attempts,
                "csrf_token": csrf_of(page),
            },
        )
        assert r.status_code == (400 if stored is None else 303)
        with app.app_context():
            found = db.session().scalar(
                select(Assignment).where(Assignment.title == f"Attempts {attempts}")
            )
            assert (found.max_attempts if found else None) == stored
        if stored is None:
            said = r.get_data(as_text=True)
            assert "attempts: " in said and "not accepted" in said


# --- 9. headers and bodies --------------------------------------------------------------------


def test_student_data_is_never_cached(
    client: FlaskClient,
    auth: dict[str, str],
    assignment: int,
    roster: dict[str, str],
    practice: tuple[str, Any],
) -> None:
    token = roster["ada"].removeprefix("/s/")
    ids = client.post(
        f"/api/v1/assignments/{assignment}/roster", headers=auth, json={"students": ["ada"]}
    ).json["students"]
    answers = key_answers(handcalc.generate(seed=7, **SPEC))
    client.post(f"/api/v1/s/{token}/submissions", json=answers)
    sign_in(client)
    private = [
        (f"/api/v1/assignments/{assignment}/key/ada", auth),
        (f"/api/v1/assignments/{assignment}/students/{ids[0]['id']}/key", auth),
        (f"/api/v1/assignments/{assignment}/grades.csv", auth),
        (f"/api/v1/assignments/{assignment}/stats", auth),
        (f"/api/v1/s/{token}", {}),
        (f"/api/v1/assignments/{assignment}/stats", {}),  # the 401 too
        (f"/instructor/assignments/{assignment}/grades.csv", {}),
        (f"/instructor/assignments/{assignment}/students/{ids[0]['id']}/key", {}),
        (f"/instructor/assignments/{assignment}", {}),
        (f"/s/{token}", {}),
    ]
    for path, headers in private:
        r = client.get(path, headers=headers)
        assert r.status_code in (200, 401), path
        assert r.headers.get("Cache-Control") == "no-store", path
    r = client.post(f"/api/v1/practice/{practice[0]}/check", json=answers)
    assert r.headers.get("Cache-Control") == "no-store"
    r = client.post(f"/api/v1/s/{token}/submissions", json=answers)
    assert r.headers.get("Cache-Control") == "no-store"
    assert "no-store" not in client.get("/api/v1/openapi.json").headers.get("Cache-Control", "")
    assert "max-age" in client.get("/assets/grid.css").headers.get("Cache-Control", "")


def _chunked(client: FlaskClient, path: str, body: bytes) -> Any:
    """A body sent chunked, as a server that terminates the input (gunicorn) hands it over."""
    return client.post(
        path,
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_chunked_bodies_over_the_limit_are_refused(make_app: Any, student_token: str) -> None:
    app = make_app(MAX_CONTENT_LENGTH=4096)
    client = app.test_client()
    small = json.dumps({"spec": SPEC, "seed": 1}).encode()
    r = _chunked(client, "/api/v1/practice", small)
    assert r.status_code == 201, r.json
    # the same document padded past the limit: it was cut at 4096 bytes and read as that
    big = b'{"seed": 1, "spec": ' + json.dumps(SPEC).encode() + b"}" + b" " * 5000
    r = _chunked(client, "/api/v1/practice", big)
    assert r.status_code == 413, r.json
    assert "larger than 4096 bytes" in r.json["error"]["message"]
    r = _chunked(client, f"/api/v1/s/{student_token}/submissions", b'{"cells": {}}' + b" " * 5000)
    assert r.status_code == 413
    r = client.post(
        "/practice",
        input_stream=io.BytesIO(b"sizes=2%2C2%2C2&x=" + b"y" * 5000),
        content_type="application/x-www-form-urlencoded",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert r.status_code in (400, 413)  # refused: the form's CSRF token or its size
    assert practice_count(app) == 1


def _send(port: int, head: bytes, chunks: list[bytes]) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n")
        for chunk in chunks:
            s.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        s.sendall(b"0\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or not _whole(answer):
            part = s.recv(65536)
            if not part:
                break
            answer += part
        return answer


def _whole(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length: (\d+)", head)
    return length is not None and len(body) >= int(length[1])


def test_chunked_bodies_under_gunicorn(tmp_path: Path) -> None:
    """The production command: a chunked body over HANDCALC_MAX_BODY_BYTES gets 413, one
    under it is read whole."""
    with production_server(tmp_path, workers=1, HANDCALC_MAX_BODY_BYTES="4096") as port:
        head = (
            b"POST /api/v1/practice HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nConnection: close\r\n"
        )
        document = json.dumps({"spec": SPEC, "seed": 1}).encode()
        answer = _send(port, head, [document[:10], document[10:]])
        assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
        padded = document[:-1] + b" " * 6000 + b"}"
        answer = _send(port, head, [padded[i : i + 1000] for i in range(0, len(padded), 1000)])
        assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
        assert b"larger than 4096 bytes" in answer


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
def test_json_endpoints_take_json_only(
    app: Flask,
    client: FlaskClient,
    auth: dict[str, str],
    practice: tuple[str, Any],
    content_type: str | None,
) -> None:
    """What a form on another site can send without asking (a "simple" request) is not JSON:
    it used to be parsed as JSON and made practice sessions."""
    body = json.dumps({"spec": SPEC, "seed": 1}).encode()
    before = practice_count(app)
    headers = {} if content_type is None else {"Content-Type": content_type}
    for path, extra in (
        ("/api/v1/practice", {}),
        (f"/api/v1/practice/{practice[0]}/check", {}),
        ("/api/v1/assignments", auth),
    ):
        r = client.post(path, data=body, headers={**headers, **extra})
        assert r.status_code == 415, (path, r.status_code)
        assert "Content-Type: application/json" in r.json["error"]["message"]
    assert practice_count(app) == before
    r = client.post("/api/v1/practice", data=body, content_type="application/json; charset=utf-8")
    assert r.status_code == 201


def test_the_database_file_is_private(make_app: Any, tmp_path: Path) -> None:
    path = tmp_path / "private" / "handcalc.sqlite3"
    old = os.umask(0o022)
    try:
        app = make_app(DATABASE_URL=f"sqlite:///{path}")
    finally:
        os.umask(old)
    client = app.test_client()
    assert client.post("/api/v1/practice", json={"spec": SPEC}).status_code == 201
    for name in (path, Path(f"{path}-wal")):
        assert name.exists(), name
        assert stat.S_IMODE(name.stat().st_mode) == 0o600, (name, oct(name.stat().st_mode))


ODD_NAMES = ["..", ".", "a/b", "%2e%2e", "?x=1", "#top", " spaced", "ада", "x" * 100]


def test_students_are_addressed_by_id(
    app: Flask, client: FlaskClient, auth: dict[str, str], assignment: int
) -> None:
    r = client.post(
        f"/api/v1/assignments/{assignment}/roster", headers=auth, json={"students": ODD_NAMES}
    )
    assert r.status_code == 200
    students = r.json["students"]
    assert [s["name"] for s in students] == [n.strip() for n in ODD_NAMES]
    sign_in(client)
    page = client.get(f"/instructor/assignments/{assignment}").get_data(as_text=True)
    for student in students:
        key = client.get(student["key"], headers=auth)
        assert key.status_code == 200, student
        with app.app_context():
            row = db.session().get(Student, student["id"])
            assert row is not None
            want = handcalc.Problem.from_json(key.get_data())
            assert want == _problem_of(row)
        link = f"/instructor/assignments/{assignment}/students/{student['id']}/key"
        assert link in page
        assert client.get(link).status_code == 200
    # the old URLs by name still work where a name makes a path
    for name in ("ада", "a/b"):
        r = client.get(f"/api/v1/assignments/{assignment}/key/{name}", headers=auth)
        assert r.status_code == 200, name
        assert client.get(f"/instructor/assignments/{assignment}/key/{name}").status_code == 200
    # a student of another assignment, or none, is not found
    other = client.post("/api/v1/assignments", headers=auth, json={"title": "B", "spec": SPEC})
    path = f"/api/v1/assignments/{other.json['id']}/students/{students[0]['id']}/key"
    assert client.get(path, headers=auth).status_code == 404
    path = f"/api/v1/assignments/{assignment}/students/{2**40}/key"
    assert client.get(path, headers=auth).status_code == 404


def _problem_of(row: Student) -> handcalc.Problem:
    from handcalc.web import access

    return access.student_problem(row)


@pytest.mark.parametrize("name", ["a\nb", "tab\there", "nul\x00", "line\u2028sep", "bell\x07"])
def test_names_with_control_characters_are_refused(
    app: Flask, client: FlaskClient, auth: dict[str, str], assignment: int, name: str
) -> None:
    r = client.post(
        f"/api/v1/assignments/{assignment}/roster", headers=auth, json={"students": ["ok", name]}
    )
    assert r.status_code == 400
    assert "control character" in r.json["error"]["message"]
    sign_in(client)
    page = client.get(f"/instructor/assignments/{assignment}").get_data(as_text=True)
    r = client.post(
        f"/instructor/assignments/{assignment}/roster",
        data={"students": f"ok\n{name}", "csrf_token": csrf_of(page)},
    )
    with app.app_context():
        names = db.session().scalars(select(Student.name)).all()
    if "\n" not in name and "\u2028" not in name:  # a line break splits the names instead
        assert r.status_code == 400  # the page again, the names as typed
        assert "ok" not in names and name not in names
        assert "control character" in r.get_data(as_text=True)
    else:
        assert r.status_code == 303


# --- never a 500: a student whose own seed makes no problem -------------------------------------


def test_a_student_whose_seed_makes_no_problem_gets_the_next_one(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Creating an assignment checks one seed; near the generator's limits some students' own
    seeds make no problem (a 500 on their page). The next seed that makes one is theirs."""
    from handcalc.web import access
    from handcalc.web.tokens import variant_seed
    from web_support import SECRET

    app = make_app()
    client = app.test_client()
    spec = {"sizes": [6, 6], "batch": 5}
    r = client.post("/api/v1/assignments", headers=AUTH, json={"title": "T", "spec": spec})
    aid = r.json["id"]
    name = seed = None
    for i in range(40):
        seed = variant_seed(SECRET, aid, f"s{i}")
        try:
            handcalc.generate(seed=seed, **spec)
        except handcalc.HandcalcError:
            name = f"s{i}"
            break
    assert name is not None and seed is not None, "every seed made a problem"
    link = client.post(
        f"/api/v1/assignments/{aid}/roster", headers=AUTH, json={"students": [name]}
    ).json["students"][0]
    r = client.get(f"/api/v1{link['link']}")
    assert r.status_code == 200
    key = handcalc.Problem.from_json(client.get(link["key"], headers=AUTH).get_data())
    assert key.seed is not None and seed < key.seed <= seed + access.MORE_SEEDS
    assert key == handcalc.generate(seed=key.seed, **spec)
    assert client.get(link["link"]).status_code == 200
    # where no seed near theirs makes one: a message, not a 500
    monkeypatch.setattr(access, "MORE_SEEDS", 0)
    access._working_seed.cache_clear()
    r = client.get(f"/api/v1{link['link']}")
    assert r.status_code == 409 and "make no problem" in r.json["error"]["message"]
    access._working_seed.cache_clear()
