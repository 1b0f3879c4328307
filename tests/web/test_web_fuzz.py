"""No input makes the service answer 500: odd bodies, odd entries, odd tokens, odd paths."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_support import SPEC, TOKEN

from handcalc.cells import field_name

CELLS = [
    "Z1",
    "A1",
    "Z2",
    "loss",
    "dZ2",
    "dW2",
    "db2",
    "dA1",
    "dZ1",
    "dW1",
    "db1",
    "W1_new",
    "b1_new",
    "W2_new",
    "b2_new",
    "X",
    "A0",
    "lr",
    "A2",
]
ODD_TEXT = [
    "",
    " ",
    "1/0",
    "0/0",
    "-0",
    "1e999999",
    "-1e-999999",
    "nan",
    "inf",
    "-inf",
    "9" * 5000,
    "１２",
    "−3/4",
    "3//4",
    "1/2/3",
    "0x10",
    "1_000",
    "exp(2)",
    "__import__('os')",
    "E",
    "pi",
    "zoo",
    "I",
    "\x00",
    "\u202e1",
    "1e",
    ".",
    "-",
    "/",
    "1 2",
    "٣",
    "¾",
    "1.5e3",
    "Rational(1,2)",
    "lambda: 1",
    "[1]",
    "{}",
    "10**10**10",
    "1" * 400,
    "²",
    "\n",
]
#: text only JSON can carry: a lone surrogate (its escapes make one; no database holds it)
JSON_ONLY_TEXT = ["\ud800", "a\udfffb", "\udc00\ud800"]

QUIET = [HealthCheck.function_scoped_fixture]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=20)
    | st.sampled_from(ODD_TEXT + JSON_ONLY_TEXT),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(CELLS) | st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)
entries = (
    st.sampled_from(ODD_TEXT + JSON_ONLY_TEXT) | st.text(max_size=12) | st.integers() | st.floats()
)
matrices = st.lists(st.lists(entries, min_size=0, max_size=3), min_size=0, max_size=3)
answers = st.fixed_dictionaries(
    {"cells": st.dictionaries(st.sampled_from(CELLS), matrices | json_values, max_size=6)}
)
bodies = (
    json_values.map(lambda v: json.dumps(v).encode())
    | answers.map(lambda v: json.dumps(v).encode())
    | st.binary(max_size=64)
)


@pytest.fixture
def world(make_app: Any) -> tuple[FlaskClient, dict[str, str]]:
    # CSRF off here so that the forms reach the grader (test_web_pages tests CSRF)
    app: Flask = make_app(
        CHECKS_PER_MINUTE=10**6,
        PRACTICE_PER_MINUTE=10**6,
        PRACTICE_CPU_SECONDS=10**6,
        WTF_CSRF_ENABLED=False,
    )
    client = app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    aid = client.post(
        "/api/v1/assignments",
        headers=auth,
        json={"title": "F", "spec": SPEC, "max_attempts": 10**5},
    ).json["id"]
    link = client.post(
        f"/api/v1/assignments/{aid}/roster", headers=auth, json={"students": ["f"]}
    ).json["links"]["f"]
    practice = client.post("/api/v1/practice", json={"spec": SPEC, "seed": 1}).json["token"]
    return client, {"aid": str(aid), "student": link.removeprefix("/s/"), "practice": practice}


def _post_everywhere(client: FlaskClient, ids: dict[str, str], body: bytes) -> list[int]:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    targets = [
        ("/api/v1/practice", {}),
        (f"/api/v1/practice/{ids['practice']}/check", {}),
        (f"/api/v1/s/{ids['student']}/submissions", {}),
        ("/api/v1/assignments", auth),
        (f"/api/v1/assignments/{ids['aid']}/roster", auth),
    ]
    return [
        client.post(path, data=body, headers=headers, content_type="application/json").status_code
        for path, headers in targets
    ]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies)
def test_no_body_makes_a_500(world: tuple[FlaskClient, dict[str, str]], body: bytes) -> None:
    client, ids = world
    codes = _post_everywhere(client, ids, body)
    assert all(code < 500 for code in codes), (codes, body[:200])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cells=answers)
def test_no_answers_make_a_500(
    world: tuple[FlaskClient, dict[str, str]], cells: dict[str, Any]
) -> None:
    client, ids = world
    for path in (
        f"/api/v1/practice/{ids['practice']}/check",
        f"/api/v1/s/{ids['student']}/submissions",
    ):
        r = client.post(path, json=cells)
        assert r.status_code in (200, 201, 400), r.get_data(as_text=True)[:300]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    form=st.dictionaries(
        st.sampled_from(
            [field_name(c, i, j) for c in CELLS for i in range(3) for j in range(3)]
            + ["csrf_token", "x", "Z1[9][9]"]
        ),
        st.sampled_from(ODD_TEXT) | st.text(max_size=10),
        max_size=12,
    )
)
def test_no_form_makes_a_500(
    world: tuple[FlaskClient, dict[str, str]], form: dict[str, str]
) -> None:
    client, ids = world
    for path in (f"/p/{ids['practice']}", f"/s/{ids['student']}"):
        assert client.post(path, data=form).status_code < 500


SPEC_SPACE = st.fixed_dictionaries(
    {},
    optional={
        "sizes": st.lists(st.integers(0, 10), max_size=8) | json_values,
        "activation": st.sampled_from(["relu", "leaky_relu", "identity", "sigmoid", "tanh", "x"]),
        "loss": st.sampled_from(["softmax_ce", "sigmoid_bce", "mse", 3]),
        "batch": st.integers(-1, 10) | st.text(max_size=3),
        "reduction": st.sampled_from(["sum", "mean"]),
        "lr": st.sampled_from(["1/10", "0", "-1", "11", "abc", 0.5, None]),
        "transcendental": st.sampled_from(["table", "base", "exact", "other"]),
        "digits": st.integers(-1, 6),
        "base": st.integers(0, 12),
        "frozen": st.lists(st.integers(0, 7), max_size=3),
        "slope": st.sampled_from(["1/20", "1", "0", "x"]),
        "weight_max": st.integers(0, 10),
        "input_max": st.integers(0, 10),
    },
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=SPEC_SPACE, seed=st.none() | st.integers(-5, 2**64) | st.floats())
def test_no_spec_makes_a_500(
    world: tuple[FlaskClient, dict[str, str]], spec: dict[str, Any], seed: Any
) -> None:
    client, _ = world
    body = {"spec": spec} if seed is None else {"spec": spec, "seed": seed}
    r = client.post("/api/v1/practice", json=body)
    assert r.status_code in (201, 400), r.get_data(as_text=True)[:300]


@pytest.mark.parametrize(
    "path",
    [
        "/s/",
        "/s/%00",
        "/s/" + "a" * 5000,
        "/p/..%2f..%2fetc",
        "/api/v1/s/%ff%fe",
        "/api/v1/assignments/-1/stats",
        "/api/v1/practice/%20/check",
        "/instructor/assignments/1e9",
        "/api/v1/openapi.json?x=%ff",
    ],
)
def test_no_path_makes_a_500(world: tuple[FlaskClient, dict[str, str]], path: str) -> None:
    client, _ = world
    for method in (client.get, client.post):
        assert method(path).status_code < 500
