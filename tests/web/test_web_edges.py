"""The service's edges (issue 11): errors turned into responses in one place, authorisation on
every view that needs it, form fields named and read by ``handcalc.cells`` only, option fields
and the OpenAPI schema of the options made from what the kinds declare."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from handcalc.web import db, forms, openapi
from handcalc.web.errors import NoAttemptsLeft
from handcalc.web.models import Assignment
from markupsafe import escape
from sqlalchemy import select
from web_support import SPEC, TOKEN, csrf_of

import handcalc
from handcalc import kinds
from handcalc.cells import field_name, read_field
from handcalc.errors import SpecError

WEB = Path(__file__).resolve().parents[2] / "web"


def sign_in(client: FlaskClient) -> None:
    page = client.get("/instructor/login").get_data(as_text=True)
    r = client.post("/instructor/login", data={"token": TOKEN, "csrf_token": csrf_of(page)})
    assert r.status_code == 303


# --- errors -----------------------------------------------------------------------------------


@pytest.fixture
def failing(make_app: Any) -> Flask:
    """An app with two views that raise what the library and the service raise."""
    app = make_app()

    def spec_error() -> str:
        raise SpecError("lr: 'x' is not a number")

    def no_attempts() -> str:
        raise NoAttemptsLeft("no attempts left: all 2 used")

    app.add_url_rule("/api/v1/test-spec", "spec_error", spec_error)
    app.add_url_rule("/test-spec", "spec_page", spec_error)
    app.add_url_rule("/api/v1/test-attempts", "no_attempts", no_attempts)
    return app


def test_library_errors_are_400_with_their_message(failing: Flask) -> None:
    client = failing.test_client()
    r = client.get("/api/v1/test-spec")
    assert r.status_code == 400
    assert r.json == {"error": {"code": 400, "message": "lr: 'x' is not a number"}}
    page = client.get("/test-spec")
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert "lr: &#39;x&#39; is not a number" in page.get_data(as_text=True)
    asked = client.get("/test-spec", headers={"Accept": "application/json"})
    assert asked.json["error"]["code"] == 400


def test_attempts_exhausted_is_409(failing: Flask) -> None:
    r = failing.test_client().get("/api/v1/test-attempts")
    assert r.status_code == 409
    assert r.json == {"error": {"code": 409, "message": "no attempts left: all 2 used"}}


def test_no_view_catches_library_errors_itself() -> None:
    """Views raise; ``errors`` answers (a form that shows its own error says ``shown_on``)."""
    for path in WEB.glob("*.py"):
        if path.name == "errors.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert "bad_input" not in text, path.name
        assert not re.search(r"except \(?HandcalcError.*\n\s+abort\(400", text), path.name


def test_every_module_is_small() -> None:
    for path in WEB.glob("*.py"):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        assert lines <= 400, (path.name, lines)


# --- authorisation ----------------------------------------------------------------------------


def test_every_instructor_view_checks_the_instructor(app: Flask) -> None:
    """A view added to the instructor's blueprints without its decorator fails here."""
    expected = {"instructor": "instructor", "instructor_api": "instructor", "student": "student"}
    seen = set()
    for endpoint, view in app.view_functions.items():
        blueprint = endpoint.partition(".")[0]
        if blueprint not in expected or endpoint == "instructor.login":
            continue
        assert getattr(view, "authorised", None) == expected[blueprint], endpoint
        seen.add(blueprint)
    assert seen == set(expected)
    assert app.view_functions["practice.sheet"].authorised == "practice"  # type: ignore[attr-defined]
    assert app.view_functions["api.practice_check"].authorised == "practice"  # type: ignore[attr-defined]


def test_instructor_api_needs_the_bearer_token(client: FlaskClient, assignment: int) -> None:
    for path in (
        f"/api/v1/assignments/{assignment}/stats",
        f"/api/v1/assignments/{assignment}/grades.csv",
        "/api/v1/assignments/999/stats",  # a missing one is not told apart without the token
    ):
        r = client.get(path)
        assert r.status_code == 401, path
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/instructor/").status_code == 302


# --- field names ------------------------------------------------------------------------------


def test_a_sectioned_cell_is_read_from_its_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    """``s1.dW2[0][1]`` was dropped by the web's own pattern (no dot in it)."""
    problem: Any = SimpleNamespace(values={"s1.dW2": SimpleNamespace(shape=(2, 2)), "Z1": None})
    monkeypatch.setattr(forms, "inputs", lambda problem: ["s1.dW2"])
    form = {field_name("s1.dW2", 0, 1): "3/4", "s1.dW2[2][0]": "9", "Z1[0][0]": "1"}
    assert forms.answers_from_form(form, problem) == {"cells": {"s1.dW2": [["", "3/4"], ["", ""]]}}


def test_every_box_of_the_page_is_a_field_the_form_reads(
    client: FlaskClient, practice: tuple[str, handcalc.Problem]
) -> None:
    token, problem = practice
    html = client.get(f"/p/{token}").get_data(as_text=True)
    names = re.findall(r'<input name="([^"]+)"', html)
    assert names
    inputs = set(forms.inputs(problem))
    for name in names:
        found = read_field(name)
        assert found is not None and found[0] in inputs, name
        assert field_name(*found) == name


# --- options from the kind --------------------------------------------------------------------


def test_practice_fields_are_the_kinds_practice_options() -> None:
    declared = list(kinds.get("mlp").Options.declared())
    fields = forms.option_fields("mlp", {}, practice=True)
    assert [f.name for f in fields] == [name for name, option, _ in declared if option.practice]
    for f, (_, option, default) in zip(fields, [d for d in declared if d[1].practice], strict=True):
        assert f.help == option.help
        assert f.choices == option.choices
        if not f.choices:
            text = option.text(default)
            assert f.value == (",".join(map(str, text)) if isinstance(text, list) else str(text))
    every = [f.name for f in forms.option_fields("mlp", {})]
    assert every == [name for name, _, _ in declared]


def test_the_practice_page_offers_the_options_and_ignores_the_others(
    client: FlaskClient,
) -> None:
    html = client.get("/").get_data(as_text=True)
    for name, option, _ in kinds.get("mlp").Options.declared():
        assert (f'name="{name}"' in html) == option.practice, name
        if option.practice:
            assert option.help.replace("'", "&#39;") in html
    r = client.post(
        "/practice",
        data={"csrf_token": csrf_of(html), "sizes": "2,2,2", "digits": "3", "base": "5"},
    )
    assert r.status_code == 302
    sheet = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Practice problem" in sheet
    bad = client.post("/practice", data={"csrf_token": csrf_of(html), "digits": "9"})
    assert bad.status_code == 400 and "digits: " in bad.get_data(as_text=True)
    assert client.get("/?kind=nope").status_code == 400


def test_the_assignment_form_has_the_kind_menu_and_every_option(
    app: Flask, client: FlaskClient
) -> None:
    sign_in(client)
    html = client.get("/instructor/").get_data(as_text=True)
    for name, kind in kinds.KINDS.items():
        chosen = " selected" if name == "mlp" else ""
        said = escape(f"{name}: {kind.description}")
        assert f'<option value="{name}"{chosen}>{said}</option>' in html
    for name, _, _ in kinds.get("mlp").Options.declared():
        assert f'name="{name}"' in html, name
    r = client.post(
        "/instructor/assignments",
        data={
            "csrf_token": csrf_of(html),
            "title": "Frozen",
            "kind": "mlp",
            "sizes": "2,2,2",
            "frozen": "1",
        },
    )
    assert r.status_code == 303 and "/instructor/assignments/" in r.headers["Location"]
    with app.app_context():
        row = db.session().scalars(select(Assignment)).one()
        assert (row.kind, row.spec["frozen"], row.spec["sizes"]) == ("mlp", [1], [2, 2, 2])
    bad = client.post(
        "/instructor/assignments",
        data={"csrf_token": csrf_of(html), "title": "T", "kind": "nope"},
    )
    assert bad.status_code == 400  # the form again, as typed, saying why
    assert "kind: unknown" in bad.get_data(as_text=True)


# --- the OpenAPI document ---------------------------------------------------------------------


def test_the_spec_schema_is_made_from_the_options(client: FlaskClient) -> None:
    doc = client.get("/api/v1/openapi.json").json
    schemas = doc["components"]["schemas"]
    assert schemas["Spec"] == openapi.spec_schema()
    assert schemas["Kind"]["enum"] == list(kinds.KINDS)
    # one schema a kind, in the registry's order
    assert len(schemas["Spec"]["anyOf"]) == len(kinds.KINDS)
    for schema, kind in zip(schemas["Spec"]["anyOf"], kinds.KINDS.values(), strict=True):
        spec = kind.Options
        properties = schema["properties"]
        assert list(properties) == list(spec.known())
        defaults = {name: option.text(default) for name, option, default in spec.declared()}
        assert {name: p["default"] for name, p in properties.items()} == defaults
        for name, option, _ in spec.declared():
            assert properties[name]["description"].startswith(option.help)
            if option.type == "whole":
                assert (properties[name]["minimum"], properties[name]["maximum"]) == (
                    option.low,
                    option.high,
                )
            if option.choices:
                assert properties[name]["enum"] == list(option.choices)
    # one source: the file written by hand leaves the options to the kinds
    written = json.loads(files("handcalc.web").joinpath("openapi.json").read_text("utf-8"))
    assert "Spec" not in written["components"]["schemas"]
    assert "Kind" not in written["components"]["schemas"]


def test_the_documented_spec_is_accepted(client: FlaskClient) -> None:
    """The document's defaults are a spec the service takes."""
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]["Spec"]["anyOf"]
    properties = schemas[list(kinds.KINDS).index("mlp")]["properties"]
    spec = {name: p["default"] for name, p in properties.items()}
    spec.update(SPEC)
    r = client.post("/api/v1/practice", json={"spec": spec, "seed": 3, "kind": "mlp"})
    assert r.status_code == 201, r.json
