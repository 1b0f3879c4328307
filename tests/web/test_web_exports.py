"""An assignment as a question bank (web/exports.py): the page's and the API's downloads read back
with lxml, a variant per roster student titled with their name, every answer their own key's
(``test_export.held``: each entry once, within the tolerance of the exact value); the sample
problem while the roster is empty; a roster too large for one request refused with its parts,
and the parts; another course's instructor gets the 404 of a missing assignment; the regrade
records read back, newest first, with the numbers the regrade answered."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from handcalc.web import courses, db, exports
from handcalc.web.problems import canonical
from test_export import CLOZE, IMSCP, QTI12, QTI21, held
from web_support import SPEC, TOKEN, csrf_of, key_answers, negate, student_problem

import handcalc

etree = pytest.importorskip("lxml.etree")

Found = dict[tuple[str, int, int], tuple[str, float]]
EXTENSIONS = {"qti21": "zip", "qti12": "zip", "moodle": "xml"}


# --- reading a bank back: per variant (its title), every entry's decimal and tolerance -------


def read_moodle(data: bytes) -> dict[str, Found]:
    quiz = etree.fromstring(data)
    banks: dict[str, Found] = {}
    current: Found = {}
    for q in quiz.findall("question"):
        if q.get("type") == "category":
            current = banks.setdefault(q.findtext("category/text").rsplit("/", 1)[1], {})
            continue
        cell = q.findtext("name/text").split(" ", 1)[1]
        if q.get("type") == "numerical":
            (answer,) = q.findall("answer")
            current[(cell, 0, 0)] = (answer.findtext("text"), float(answer.findtext("tolerance")))
            continue
        stem = q.findtext("questiontext/text")
        grid = stem[stem.index(f"<caption>{cell}<") :].split("</table>")[0]
        for i, row in enumerate(grid.split("<tr>")[1:]):
            for j, (text, tolerance) in enumerate(CLOZE.findall(row)):
                assert (cell, i, j) not in current
                current[(cell, i, j)] = (text, float(tolerance))
    return banks


def read_qti21(data: bytes) -> dict[str, Found]:
    package = zipfile.ZipFile(io.BytesIO(data))
    manifest = etree.fromstring(package.read("imsmanifest.xml"))
    assert {r.get("href") for r in manifest.iter(f"{IMSCP}resource")} == set(package.namelist()) - {
        "imsmanifest.xml"
    }
    test = etree.fromstring(package.read("test.xml"))
    banks: dict[str, Found] = {}
    for section in test.iter(f"{QTI21}assessmentSection"):
        found = banks.setdefault(section.get("title"), {})
        for ref in section.iter(f"{QTI21}assessmentItemRef"):
            item = etree.fromstring(package.read(ref.get("href")))
            cell = item.get("title").split(" — ", 1)[0]
            declared = item.findall(f"{QTI21}responseDeclaration")
            conditions = item.findall(f"{QTI21}responseProcessing/{QTI21}responseCondition")
            for declaration, condition in zip(declared, conditions, strict=True):
                response = declaration.get("identifier")
                text = declaration.findtext(f"{QTI21}correctResponse/{QTI21}value")
                equal = condition.find(f"{QTI21}responseIf/{QTI21}equal")
                tolerance = (
                    0.0
                    if equal.get("toleranceMode") == "exact"
                    else float(equal.get("tolerance").split()[0])
                )
                i, j = (int(n) - 1 for n in response.removeprefix("RESPONSE_").split("_"))
                assert (cell, i, j) not in found
                found[(cell, i, j)] = (text, tolerance)
    return banks


def read_qti12(data: bytes) -> dict[str, Found]:
    package = zipfile.ZipFile(io.BytesIO(data))
    manifest = etree.fromstring(package.read("imsmanifest.xml"))
    banks: dict[str, Found] = {}
    for resource in manifest.iter(f"{IMSCP}resource"):
        (bank,) = etree.fromstring(package.read(resource.get("href"))).findall(f"{QTI12}objectbank")
        found = banks.setdefault(bank.findtext(f"{QTI12}qtimetadata//{QTI12}fieldentry"), {})
        for item in bank.findall(f"{QTI12}item"):
            cell, at = item.get("title").rstrip("]").split("[")
            i, j = (int(n) - 1 for n in at.split(","))
            condition = item.find(f".//{QTI12}conditionvar/{QTI12}or")
            low = condition.findtext(f"{QTI12}and/{QTI12}vargte")
            high = condition.findtext(f"{QTI12}and/{QTI12}varlte")
            tolerance = 0.0 if low is None else (float(high) - float(low)) / 2
            assert (cell, i, j) not in found
            found[(cell, i, j)] = (condition.findtext(f"{QTI12}varequal"), tolerance)
    return banks


READERS: dict[str, Callable[[bytes], dict[str, Found]]] = {
    "qti21": read_qti21,
    "qti12": read_qti12,
    "moodle": read_moodle,
}


def texts(data: bytes) -> list[bytes]:
    """Every file of a bank (a zip's files, or the XML)."""
    if data[:2] != b"PK":
        return [data]
    package = zipfile.ZipFile(io.BytesIO(data))
    return [package.read(name) for name in package.namelist()]


def holds_keys(data: bytes, fmt: str, title: str, problems: dict[str, handcalc.Problem]) -> None:
    """The bank of ``data`` holds exactly a variant per name of ``problems``, titled
    ``title: name``, each answer that problem's key; no stem names a seed."""
    banks = READERS[fmt](data)
    assert set(banks) == {f"{title}: {name}" for name in problems}
    for name, problem in problems.items():
        held(banks[f"{title}: {name}"], problem)
    assert not any(b"(seed " in text for text in texts(data))


def signed_in(client: FlaskClient) -> FlaskClient:
    page = client.get("/instructor/login").get_data(as_text=True)
    r = client.post("/instructor/login", data={"token": TOKEN, "csrf_token": csrf_of(page)})
    assert r.status_code == 303
    return client


def said(r: Any) -> str:
    return str(r.json["error"]["message"]) if r.is_json else r.get_data(as_text=True)


# --- the bank ---------------------------------------------------------------------------------


def test_the_page_and_the_api_give_a_variant_per_student_with_their_key(
    client: FlaskClient, auth: dict[str, str], assignment: int, roster: dict[str, str]
) -> None:
    problems = {name: student_problem(assignment, name) for name in roster}
    page = signed_in(client).get(f"/instructor/assignments/{assignment}").get_data(as_text=True)
    assert "Export to a quiz engine" in page
    for fmt in exports.FORMATS:
        path = f"/instructor/assignments/{assignment}/export.{fmt}"
        assert f'formaction="{path}"' in page
    form = {"csrf_token": csrf_of(page)}
    nobody = client.application.test_client()  # no session, no token
    for fmt in exports.FORMATS:
        name = f"assignment-{assignment}-{fmt}.{EXTENSIONS[fmt]}"
        page_url = f"/instructor/assignments/{assignment}/export.{fmt}"
        api_url = f"/api/v1/assignments/{assignment}/export.{fmt}"
        # the page's export is a CSRF-checked POST: a link from another site starts nothing
        assert nobody.post(page_url).status_code == 400
        assert client.post(page_url).status_code == 400  # signed in, but no token
        assert client.get(page_url).status_code == 405
        assert nobody.get(api_url).status_code == 401
        for r in (client.post(page_url, data=form), nobody.get(api_url, headers=auth)):
            assert r.status_code == 200, said(r)
            assert r.headers["Content-Disposition"] == f'attachment; filename="{name}"'
            assert r.headers["X-Handcalc-Bank"].startswith("roster; students 1-3 of 3")
            assert "no-store" in r.headers["Cache-Control"]
            holds_keys(r.data, fmt, "Homework 1", problems)


def test_with_no_roster_the_bank_is_the_sample_problem(
    client: FlaskClient, auth: dict[str, str], assignment: int
) -> None:
    sample = handcalc.generate(seed=0, **SPEC)
    r = client.get(f"/api/v1/assignments/{assignment}/export.moodle", headers=auth)
    assert r.status_code == 200, said(r)
    assert r.headers["X-Handcalc-Bank"].startswith("sample; no roster yet")
    assert r.headers["Content-Disposition"] == (
        f'attachment; filename="assignment-{assignment}-moodle.xml"'
    )
    holds_keys(r.data, "moodle", "Homework 1", {"sample problem (no roster yet)": sample})
    r = client.get(f"/api/v1/assignments/{assignment}/export.moodle?part=2", headers=auth)
    assert r.status_code == 404


def test_a_roster_too_large_is_refused_and_comes_in_parts(
    client: FlaskClient,
    auth: dict[str, str],
    assignment: int,
    roster: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a budget of two students' work for this sheet in QTI 1.2: the class of 3 is two parts
    with client.application.app_context():
        cost = exports.cost("mlp", canonical(SPEC), "qti12")
    monkeypatch.setattr(exports, "EXPORT_SECONDS", 2.5 * cost.ms / 1000)
    api = f"/api/v1/assignments/{assignment}/export.qti12"
    r = client.get(api, headers=auth)
    assert r.status_code == 409
    message = said(r)
    assert "too large for one request" in message
    assert "at most 2 students of this sheet" in message
    assert "download it in 2 parts, ?part=1 to ?part=2" in message
    assert "Moodle XML" in message  # a format that holds more of this sheet a request
    page = signed_in(client)
    html = page.get(f"/instructor/assignments/{assignment}").get_data(as_text=True)
    r = page.post(
        f"/instructor/assignments/{assignment}/export.qti12", data={"csrf_token": csrf_of(html)}
    )
    assert r.status_code == 409 and "download it in 2 parts" in said(r)
    assert "QTI 1.2 (Canvas) in 2 parts" in html
    assert f'formaction="/instructor/assignments/{assignment}/export.qti12?part=2"' in html

    problems = {name: student_problem(assignment, name) for name in roster}
    first = client.get(f"{api}?part=1", headers=auth)
    assert first.headers["X-Handcalc-Bank"] == "roster; students 1-2 of 3, one variant each; " + (
        "part 1 of 2"
    )
    assert first.headers["Content-Disposition"] == (
        f'attachment; filename="assignment-{assignment}-qti12-part1.zip"'
    )
    holds_keys(first.data, "qti12", "Homework 1", {n: problems[n] for n in ("ada", "alan")})
    second = client.get(f"{api}?part=2", headers=auth)
    holds_keys(second.data, "qti12", "Homework 1", {"grace": problems["grace"]})
    # the variants keep their numbers across parts: imported parts never collide
    assert zipfile.ZipFile(io.BytesIO(second.data)).namelist() == ["imsmanifest.xml", "v3/v3.xml"]
    assert client.get(f"{api}?part=3", headers=auth).status_code == 404
    r = client.get(f"{api}?part=two", headers=auth)
    assert r.status_code == 400 and "part" in said(r)


def test_another_courses_instructor_gets_404(
    make_app: Callable[..., Flask], auth: dict[str, str]
) -> None:
    app = make_app(WTF_CSRF_ENABLED=False)
    client = app.test_client()
    r = client.post("/api/v1/assignments", headers=auth, json={"title": "Theirs", "spec": SPEC})
    theirs = r.json["id"]
    client.post(f"/api/v1/assignments/{theirs}/roster", headers=auth, json={"students": ["bea"]})
    with app.app_context():
        rows = db.session()
        mine = courses.create_course(rows, "Physics 1")
        courses.add_instructor(rows, "alice@example.org", mine, "alice-horse-battery-17")
        token = courses.new_token(rows, mine)
    alice = app.test_client()
    r = alice.post(
        "/instructor/login",
        data={"login": "alice@example.org", "password": "alice-horse-battery-17"},
    )
    assert r.status_code == 303
    bearer = {"Authorization": f"Bearer {token}"}
    for fmt in exports.FORMATS:
        r = alice.post(f"/instructor/assignments/{theirs}/export.{fmt}")  # CSRF off here
        assert r.status_code == 404 and f"no assignment {theirs}" in said(r)
        r = alice.get(f"/api/v1/assignments/{theirs}/export.{fmt}", headers=bearer)
        assert r.status_code == 404 and said(r) == f"no assignment {theirs}"
    r = alice.get(f"/api/v1/assignments/{theirs}/regrades", headers=bearer)
    assert r.status_code == 404 and said(r) == f"no assignment {theirs}"


# --- regrade records --------------------------------------------------------------------------


def _regrade(client: FlaskClient, auth: dict[str, str], aid: int, grading: dict[str, Any]) -> Any:
    r = client.post(f"/api/v1/assignments/{aid}/settings", headers=auth, json={"grading": grading})
    assert r.status_code == 200, r.json
    r = client.post(f"/api/v1/assignments/{aid}/regrade", headers=auth, json={})
    assert r.status_code == 200, r.json
    return r.json


def test_regrade_records_come_back_newest_first(
    client: FlaskClient, auth: dict[str, str], assignment: int, roster: dict[str, str]
) -> None:
    url = f"/api/v1/assignments/{assignment}/regrades"
    assert client.get(url, headers=auth).json == {
        "assignment": assignment,
        "regrades": [],
        "next": None,
    }
    ada = student_problem(assignment, "ada")
    answers = key_answers(ada)
    wrong = next(s.name for s in ada.steps if s.name.startswith("dZ"))
    answers["cells"][wrong] = negate(answers["cells"][wrong])
    for name, sent in (
        ("ada", answers),
        ("alan", key_answers(student_problem(assignment, "alan"))),
    ):
        token = roster[name].removeprefix("/s/")
        assert client.post(f"/api/v1/s/{token}/submissions", json=sent).status_code == 201

    first = _regrade(client, auth, assignment, {"weights": {wrong: 3}, "carried_credit": 0})
    second = _regrade(client, auth, assignment, {"weights": {wrong: 2}})
    assert first["regrade"] and second["regrade"] and first["changed"] and second["changed"]

    r = client.get(url, headers=auth)
    assert r.status_code == 200 and r.json["next"] is None
    records = r.json["regrades"]
    assert [x["id"] for x in records] == [second["regrade"], first["regrade"]]
    for record, answered in zip(records, (second, first), strict=True):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["created_at"])
        summary = record["summary"]
        for field in ("submissions", "changed", "students_changed", "mean_before", "mean_after"):
            assert summary[field] == answered[field], field
        assert summary["students"] == answered["students"]  # each student's before and after
        assert len(summary["submissions_changed"]) == answered["changed"]

    # a page at a time, the next one's address given
    r = client.get(f"{url}?limit=1", headers=auth)
    assert [x["id"] for x in r.json["regrades"]] == [second["regrade"]]
    older = client.get(r.json["next"], headers=auth)
    assert [x["id"] for x in older.json["regrades"]] == [first["regrade"]]
    assert older.json["next"] is None
    for bad in ("limit=0", "limit=101", "limit=x", "before=-1", "before=1.5"):
        r = client.get(f"{url}?{bad}", headers=auth)
        assert r.status_code == 400, bad
        assert bad.split("=")[0] in said(r)

    # the page lists them at the end of "How the class did"
    page = signed_in(client).get(f"/instructor/assignments/{assignment}").get_data(as_text=True)
    listed = page[page.index("<h3>Past regrades</h3>") :]
    assert listed.index(f"→ {second['mean_after']:g}") < listed.index(f"→ {first['mean_after']:g}")
    assert f"mean best {first['mean_before']:g} → {first['mean_after']:g}" in listed
