"""The JSON API: every endpoint, every error it promises, and that students never see a key."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from handcalc.web import reports
from sqlalchemy import create_engine, text
from web_support import SPEC, TOKEN, key_answers, negate, student_problem

import handcalc

# --- health and the OpenAPI document ----------------------------------------------------------


def test_healthz(client: FlaskClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json == {"status": "ok"}


def _template(rule: str) -> str:
    return re.sub(r"<[^>]*>|\{[^}]*\}", "{}", rule)


def test_openapi_documents_every_endpoint(app: Flask, client: FlaskClient) -> None:
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.json
    assert doc["openapi"].startswith("3.")
    documented = {
        (_template(path), method.upper()) for path, ops in doc["paths"].items() for method in ops
    }
    served = {
        (_template(rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/api/", "/healthz"))
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert served == documented
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert op["responses"], path
            if path.startswith("/api/v1/assignments"):
                assert op["security"] == [{"instructor": []}]


# --- practice ---------------------------------------------------------------------------------


def test_practice_with_seed_is_the_generated_problem(client: FlaskClient) -> None:
    r = client.post("/api/v1/practice", json={"spec": SPEC, "seed": 11})
    assert r.status_code == 201
    assert r.json["problem"] == handcalc.generate(seed=11, **SPEC).to_dict(answers=False)
    assert r.json["links"]["check"] == f"/api/v1/practice/{r.json['token']}/check"
    for step in r.json["problem"]["steps"]:
        assert "value" not in step and "approx" not in step


def test_practice_hands_out_lookup_tables_not_a_cells(client: FlaskClient) -> None:
    """The tables are keyed by their argument: no A cell in them (A is an answer, graded)."""
    spec = {"sizes": [2, 3, 2], "activation": "sigmoid", "loss": "softmax_ce", "digits": 1}
    r = client.post("/api/v1/practice", json={"spec": spec, "seed": 5})
    assert r.status_code == 201
    problem = handcalc.generate(seed=5, **spec)
    tables = r.json["problem"]["tables"]
    assert set(tables) == {"sigmoid(Z1)", "softmax(Z2)"}
    assert all("value" not in step for step in r.json["problem"]["steps"])
    for name in ("A1", "A2"):
        a = problem.text(name)
        for table in tables.values():
            values = [row["a"] for row in table["rows"]]
            assert a not in (values, [values], [list(c) for c in zip(*values, strict=True)])
    answers = {"cells": {s.name: problem.text(s.name) for s in problem.steps}}
    checked = client.post(r.json["links"]["check"], json=answers).json
    assert checked["cells"]["A1"]["status"] == checked["cells"]["A2"]["status"] == "correct"
    assert checked["score"] == checked["max_score"]


def test_practice_without_seed_or_spec(client: FlaskClient) -> None:
    r = client.post("/api/v1/practice", json={})
    assert r.status_code == 201
    assert r.json["problem"]["spec"]["sizes"] == [4, 3, 4, 3]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"spec": {"size": [2, 2]}}, "known options"),
        ({"spec": {"activation": "swish"}}, "activation"),
        ({"spec": [1, 2]}, "spec"),
        ({"spec": SPEC, "seed": -1}, "seed"),
        ({"spec": SPEC, "seed": True}, "seed"),
        ({"spec": SPEC, "seed": "7"}, "seed"),
        ({"spec": SPEC, "colour": "red"}, "unknown field 'colour'"),
        ({"spec": SPEC, "kind": "cnn"}, "cnn"),
        ([1, 2, 3], "JSON object"),
    ],
)
def test_practice_refuses_bad_requests(client: FlaskClient, body: Any, message: str) -> None:
    r = client.post("/api/v1/practice", json=body)
    assert r.status_code == 400
    assert message in r.json["error"]["message"]


def test_practice_check_grades(client: FlaskClient, practice: tuple[str, Any]) -> None:
    token, problem = practice
    r = client.post(f"/api/v1/practice/{token}/check", json=key_answers(problem))
    assert r.status_code == 200
    assert r.json["score"] == r.json["max_score"] > 0
    assert r.json["first_error"] is None
    assert {c["status"] for c in r.json["cells"].values()} == {"correct"}


def test_practice_check_carries_credit_and_diagnoses(
    client: FlaskClient, practice: tuple[str, Any]
) -> None:
    token, problem = practice
    answers = key_answers(problem)
    # Y − A instead of A − Y, and dW2 worked on correctly from that
    for name in ("dZ2", "dW2"):
        answers["cells"][name] = negate(answers["cells"][name])
    answers["cells"]["Z1"][0][0] = "abc"
    r = client.post(f"/api/v1/practice/{token}/check", json=answers)
    assert r.status_code == 200
    cells = r.json["cells"]
    assert cells["Z1"]["status"] == "invalid"
    assert cells["dZ2"]["status"] == "wrong"
    assert "sign_flipped" in cells["dZ2"]["diagnosis"]
    assert cells["dW2"]["status"] == "carried"
    assert r.json["first_error"] == "dZ2"


def test_exact_mode_takes_decimals_within_the_tolerance(client: FlaskClient) -> None:
    spec = {"sizes": [2, 2], "activation": "relu", "loss": "sigmoid_bce", "transcendental": "exact"}
    r = client.post("/api/v1/practice", json={"spec": spec, "seed": 3})
    token = r.json["token"]
    problem = handcalc.generate(seed=3, **spec)
    doc = problem.to_dict()
    cells = {s["name"]: [[f"{x:.4f}" for x in row] for row in s["approx"]] for s in doc["steps"]}
    r = client.post(f"/api/v1/practice/{token}/check", json={"cells": cells})
    assert r.status_code == 200
    assert r.json["score"] == r.json["max_score"]
    assert r.json["tolerance"] > 0
    a1 = doc["steps"][1]
    assert a1["name"] == "A1"
    cells["A1"] = [[f"{x * 1.5 + 0.3:.4f}" for x in row] for row in a1["approx"]]
    r = client.post(f"/api/v1/practice/{token}/check", json={"cells": cells})
    assert r.json["cells"]["A1"]["status"] == "wrong"


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"",
        b"null",
        b'"text"',
        b"[1]",
        b"\xff\xfe",
        b'{"cells": [1]}',
        b'{"cells": {"Q9": [["1"]]}}',
        b'{"answers": {}}',
        b"[" * 50_000 + b"]" * 50_000,
    ],
)
def test_check_refuses_malformed_bodies_with_a_message(
    client: FlaskClient, practice: Any, body: bytes
) -> None:
    r = client.post(
        f"/api/v1/practice/{practice[0]}/check", data=body, content_type="application/json"
    )
    assert r.status_code == 400
    assert r.json["error"]["code"] == 400
    assert r.json["error"]["message"]


def test_tampered_tokens_are_refused(
    client: FlaskClient, practice: Any, student_token: str
) -> None:
    for token, path in (
        (practice[0], "/api/v1/practice/{}/check"),
        (student_token, "/api/v1/s/{}/submissions"),
    ):
        flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
        r = client.post(path.format(flipped), json={"cells": {}})
        assert r.status_code == 403
        assert "not one of ours" in r.json["error"]["message"]
    # a practice token is not a student token, though both are signed with the same secret
    assert client.get(f"/api/v1/s/{practice[0]}").status_code == 403
    assert client.get("/api/v1/s/x" * 100).status_code in (403, 404)


def test_bodies_over_the_limit_get_413(make_app: Any) -> None:
    client = make_app(MAX_CONTENT_LENGTH=2000).test_client()
    r = client.post(
        "/api/v1/practice", data=b"{" + b" " * 5000 + b"}", content_type="application/json"
    )
    assert r.status_code == 413
    assert "larger than 2000 bytes" in r.json["error"]["message"]


def test_too_many_checks_a_minute_get_429(make_app: Any) -> None:
    client = make_app(CHECKS_PER_MINUTE=3).test_client()
    token = client.post("/api/v1/practice", json={"spec": SPEC, "seed": 1}).json["token"]
    codes = [
        client.post(f"/api/v1/practice/{token}/check", json={"cells": {}}).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    r = client.post(f"/api/v1/practice/{token}/check", json={"cells": {}})
    assert int(r.headers["Retry-After"]) > 0
    assert "too many requests" in r.json["error"]["message"]
    # the limit is per token: another worksheet behind the same address goes on
    other = client.post("/api/v1/practice", json={"spec": SPEC, "seed": 2}).json["token"]
    assert client.post(f"/api/v1/practice/{other}/check", json={"cells": {}}).status_code == 200


def test_default_limit_lets_a_class_check_often(client: FlaskClient, practice: Any) -> None:
    for _ in range(60):
        r = client.post(f"/api/v1/practice/{practice[0]}/check", json={"cells": {}})
        assert r.status_code == 200


# --- instructor -------------------------------------------------------------------------------


INSTRUCTOR_ENDPOINTS = [
    ("post", "/api/v1/assignments"),
    ("post", "/api/v1/assignments/1/roster"),
    ("get", "/api/v1/assignments/1/key/ada"),
    ("get", "/api/v1/assignments/1/grades.csv"),
    ("get", "/api/v1/assignments/1/stats"),
]


@pytest.mark.parametrize(("method", "path"), INSTRUCTOR_ENDPOINTS)
@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer"])
def test_instructor_endpoints_need_the_token(
    client: FlaskClient, assignment: int, roster: Any, method: str, path: str, header: str | None
) -> None:
    headers = {"Authorization": header} if header else {}
    r = getattr(client, method)(path, headers=headers, json={"title": "x"})
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].lower().startswith("bearer")
    assert "Authorization: Bearer" in r.json["error"]["message"]


def test_create_assignment(client: FlaskClient, auth: dict[str, str]) -> None:
    r = client.post("/api/v1/assignments", headers=auth, json={"title": " HW ", "spec": SPEC})
    assert r.status_code == 201
    assert r.json["title"] == "HW"
    assert r.json["max_attempts"] == 3  # the default
    assert isinstance(r.json["id"], int)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"spec": SPEC}, "title"),
        ({"title": "", "spec": SPEC}, "title"),
        ({"title": "x" * 201, "spec": SPEC}, "title"),
        ({"title": "HW", "spec": {"sizes": [2, 2, 2], "loss": "hinge"}}, "loss"),
        ({"title": "HW", "spec": {"sizes": [2, 9]}}, "sizes"),
        ({"title": "HW", "spec": SPEC, "max_attempts": 0}, "max_attempts"),
        ({"title": "HW", "spec": SPEC, "max_attempts": 2.5}, "max_attempts"),
        ({"title": "HW", "spec": SPEC, "due": "friday"}, "unknown field 'due'"),
    ],
)
def test_create_assignment_refuses(
    client: FlaskClient, auth: dict[str, str], body: Any, message: str
) -> None:
    r = client.post("/api/v1/assignments", headers=auth, json=body)
    assert r.status_code == 400
    assert message in r.json["error"]["message"]


def test_roster_links(
    client: FlaskClient, auth: dict[str, str], assignment: int, roster: dict[str, str]
) -> None:
    assert set(roster) == {"ada", "alan", "grace"}
    assert all(link.startswith("/s/") for link in roster.values())
    assert len(set(roster.values())) == 3
    # adding again keeps the links; a new name gets its own
    r = client.post(
        f"/api/v1/assignments/{assignment}/roster",
        headers=auth,
        json={"students": ["ada", "linus", "ada"]},
    )
    assert r.json["links"] == {"ada": roster["ada"], "linus": r.json["links"]["linus"]}


@pytest.mark.parametrize(
    "body",
    [
        {"students": []},
        {"students": "ada"},
        {"students": [1]},
        {"students": [""]},
        {"students": ["x" * 101]},
        {},
    ],
)
def test_roster_refuses(
    client: FlaskClient, auth: dict[str, str], assignment: int, body: Any
) -> None:
    r = client.post(f"/api/v1/assignments/{assignment}/roster", headers=auth, json=body)
    assert r.status_code == 400
    assert "students" in r.json["error"]["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/assignments/99/roster",
        "/api/v1/assignments/99/stats",
        "/api/v1/assignments/99999999999999999999/stats",
        "/api/v1/assignments/0/grades.csv",
        "/api/v1/assignments/1/key/nobody",
    ],
)
def test_unknown_assignment_or_student_is_404(
    client: FlaskClient, auth: dict[str, str], assignment: int, path: str
) -> None:
    method = client.post if path.endswith("roster") else client.get
    r = method(path, headers=auth, json={"students": ["a"]})
    assert r.status_code == 404
    assert r.json["error"]["message"]


def test_key_of_each_student(
    client: FlaskClient, auth: dict[str, str], assignment: int, roster: Any
) -> None:
    keys = {}
    for name in roster:
        r = client.get(f"/api/v1/assignments/{assignment}/key/{name}", headers=auth)
        assert r.status_code == 200
        keys[name] = r.json
        assert r.json == json.loads(student_problem(assignment, name).to_json())
        assert all("value" in s for s in r.json["steps"])
    # each student has their own numbers
    assert len({json.dumps(k["given"]) for k in keys.values()}) == 3
    # any name works, slashes and spaces included
    client.post(
        f"/api/v1/assignments/{assignment}/roster", headers=auth, json={"students": ["class 2/ada"]}
    )
    r = client.get(f"/api/v1/assignments/{assignment}/key/class 2/ada", headers=auth)
    assert r.status_code == 200
    assert r.json["given"] == student_problem(assignment, "class 2/ada").to_dict()["given"]


# --- students ---------------------------------------------------------------------------------


def _key_texts(problem: handcalc.Problem) -> set[str]:
    """Values of the key that a student copy does not contain anyway (given and tables)."""
    shown = json.dumps(problem.to_dict(answers=False))
    values = {v for s in problem.steps for row in problem.text(s.name) for v in row}
    return {v for v in values if f'"{v}"' not in shown and len(v) > 2}


def test_student_get(client: FlaskClient, assignment: int, student_token: str) -> None:
    r = client.get(f"/api/v1/s/{student_token}")
    assert r.status_code == 200
    body = r.json
    assert body["student"] == "ada"
    assert body["assignment"] == {"id": assignment, "title": "Homework 1", "max_attempts": 2}
    assert body["attempts"] == {"used": 0, "left": 2}
    assert body["last"] is None
    assert body["gradebook"] is None  # not from a learning platform
    problem = student_problem(assignment, "ada")
    expected = problem.to_dict(answers=False)
    expected.pop("seed")
    assert body["problem"] == expected
    assert "seed" not in body["problem"]


def test_submission_is_stored_before_the_response(
    app: Flask, client: FlaskClient, assignment: int, student_token: str
) -> None:
    problem = student_problem(assignment, "ada")
    answers = key_answers(problem)
    answers["cells"]["Z2"] = negate(answers["cells"]["Z2"])
    r = client.post(f"/api/v1/s/{student_token}/submissions", json=answers)
    assert r.status_code == 201
    assert r.json["attempt"] == 1 and r.json["attempts_left"] == 1
    assert r.json["report"]["cells"]["Z2"]["status"] == "wrong"
    # read back through a connection of its own: committed, with the full JSON sent
    engine = create_engine(app.config["DATABASE_URL"])
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, attempt, answers_json, report_json, score FROM submission")
        ).one()
    engine.dispose()
    assert row.id == r.json["id"]
    assert json.loads(row.answers_json) == answers
    assert json.loads(row.report_json)["score"] == r.json["report"]["score"] == row.score
    got = client.get(f"/api/v1/s/{student_token}").json
    assert got["attempts"] == {"used": 1, "left": 1}
    assert got["last"]["cells"] == answers["cells"]
    assert got["last"]["report"] == r.json["report"]


def test_attempts_are_limited(client: FlaskClient, student_token: str) -> None:
    path = f"/api/v1/s/{student_token}/submissions"
    assert client.post(path, json={"cells": {}}).status_code == 201
    assert client.post(path, json={"cells": {}}).status_code == 201
    r = client.post(path, json={"cells": {}})
    assert r.status_code == 409
    assert "no attempts left" in r.json["error"]["message"]
    # a malformed submission is refused without using an attempt
    assert client.post(path, data=b"{", content_type="application/json").status_code == 400


def test_malformed_submission_uses_no_attempt(client: FlaskClient, student_token: str) -> None:
    path = f"/api/v1/s/{student_token}/submissions"
    for body in (b"{", b"[]", b'{"cells": {"nope": []}}'):
        assert client.post(path, data=body, content_type="application/json").status_code == 400
    assert client.get(f"/api/v1/s/{student_token}").json["attempts"]["used"] == 0


def test_submissions_are_rate_limited(make_app: Any, auth: dict[str, str]) -> None:
    client = make_app(CHECKS_PER_MINUTE=2).test_client()
    aid = client.post(
        "/api/v1/assignments", headers=auth, json={"title": "T", "spec": SPEC, "max_attempts": 10}
    ).json["id"]
    link = client.post(
        f"/api/v1/assignments/{aid}/roster", headers=auth, json={"students": ["a"]}
    ).json["links"]["a"]
    codes = [
        client.post(f"/api/v1{link}/submissions", json={"cells": {}}).status_code for _ in range(3)
    ]
    assert codes == [201, 201, 429]


def test_students_never_see_a_key(client: FlaskClient, assignment: int, student_token: str) -> None:
    problem = student_problem(assignment, "ada")
    secret_values = _key_texts(problem)
    assert secret_values, "the test needs key values that the sheet does not print"
    answers = {
        "cells": {
            name: [["1000" for _ in row] for row in rows]
            for name, rows in key_answers(problem)["cells"].items()
        }
    }
    responses = [
        client.post(f"/api/v1/s/{student_token}/submissions", json=answers),
        client.get(f"/api/v1/s/{student_token}"),
        client.get(f"/s/{student_token}"),
    ]
    for r in responses:
        body = r.get_data(as_text=True)
        assert r.status_code in (200, 201)
        leaked = [
            v for v in secret_values if re.search(rf"(?<![\w/.-]){re.escape(v)}(?![\w/.])", body)
        ]
        assert not leaked
        assert '"value"' not in body and '"approx"' not in body


# --- gradebook --------------------------------------------------------------------------------


def test_grades_csv(
    client: FlaskClient, auth: dict[str, str], assignment: int, roster: dict[str, str]
) -> None:
    problem = student_problem(assignment, "ada")
    ada = roster["ada"]
    client.post(f"/api/v1{ada}/submissions", json={"cells": {}})
    client.post(f"/api/v1{ada}/submissions", json=key_answers(problem))
    client.post(
        f"/api/v1/assignments/{assignment}/roster",
        headers=auth,
        json={"students": ["=HYPERLINK(1)"]},
    )
    r = client.get(f"/api/v1/assignments/{assignment}/grades.csv", headers=auth)
    assert r.status_code == 200
    assert r.mimetype == "text/csv"
    rows = {row["student"]: row for row in csv.DictReader(io.StringIO(r.get_data(as_text=True)))}
    assert rows["ada"]["attempts"] == "2"
    assert rows["ada"]["best_score"] == rows["ada"]["max_score"] == rows["ada"]["last_score"]
    assert rows["ada"]["percent"] == "100.0"
    assert rows["alan"]["attempts"] == "0" and rows["alan"]["best_score"] == ""
    assert "'=HYPERLINK(1)" in rows  # a spreadsheet does not run it


def test_stats(
    client: FlaskClient, auth: dict[str, str], assignment: int, roster: dict[str, str]
) -> None:
    for name, wrong in (("ada", ()), ("alan", ("dZ2", "dW2")), ("grace", ("dZ2", "dW2"))):
        answers = key_answers(student_problem(assignment, name))
        for cell in wrong:
            answers["cells"][cell] = negate(answers["cells"][cell])
        r = client.post(f"/api/v1{roster[name]}/submissions", json=answers)
        assert r.status_code == 201
    r = client.get(f"/api/v1/assignments/{assignment}/stats", headers=auth)
    assert r.status_code == 200
    stats = r.json
    assert stats["students"] == stats["submitted"] == 3
    assert stats["cells"]["Z1"]["correct"] == 1.0
    assert stats["cells"]["dZ2"]["wrong"] == pytest.approx(2 / 3)
    assert stats["cells"]["dZ2"]["correct"] == pytest.approx(1 / 3)
    assert stats["cells"]["dW2"]["carried"] == pytest.approx(2 / 3)
    assert stats["diagnoses"][0]["code"] == "sign_flipped"
    assert stats["diagnoses"][0]["count"] == 2
    assert stats["diagnoses"][0]["cells"] == {"dZ2": 2}
    assert next(iter(stats["cells"])) == "Z1"


def test_public_report_drops_unknown_fields() -> None:
    report = {
        "score": 1,
        "max_score": 2,
        "first_error": None,
        "expected": [["3"]],
        "cells": {"Z1": {"status": "wrong", "entries": [["wrong"]], "key": [["3"]]}},
    }
    assert reports.public_report(report) == {
        "score": 1,
        "max_score": 2,
        "first_error": None,
        "cells": {"Z1": {"status": "wrong", "entries": [["wrong"]]}},
    }


def test_a_busy_database_is_503_and_nothing_is_acknowledged(
    app: Flask, client: FlaskClient, student_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    def locked(self: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("database is locked"))

    monkeypatch.setattr(Session, "commit", locked)
    r = client.post(f"/api/v1/s/{student_token}/submissions", json={"cells": {}})
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "2"
    assert "nothing was stored" in r.json["error"]["message"]
    monkeypatch.undo()
    assert client.get(f"/api/v1/s/{student_token}").json["attempts"]["used"] == 0
