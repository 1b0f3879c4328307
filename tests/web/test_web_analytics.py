"""The class's mistakes as a picture (issue 16, item 8): the shares wrong, diagnoses and
discrimination of ``handcalc.web.analytics`` on crafted reports and on a crafted class submitted
through the API, compared with values worked by hand; the CSV and JSON exports; the page (legend,
hover titles), its PDF against a reviewed reference, and the heat map in a real browser."""

from __future__ import annotations

import csv
import io
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from handcalc.web.analytics import SCALE, analyse, heat_class, point_biserial
from pictures import assert_looks_like
from web_support import TOKEN, csrf_of, key_answers, negate, student_problem

AUTH = {"Authorization": f"Bearer {TOKEN}"}
CHROMIUM = Path("/usr/bin/chromium")


# --- the maths on its own --------------------------------------------------------------------


def _report(score: float, cells: dict[str, tuple[str, float, list[list[str]], list[str]]]) -> Any:
    return {
        "score": score,
        "max_score": 2,
        "cells": {
            name: {"status": s, "score": sc, "entries": e, "diagnosis": d}
            for name, (s, sc, e, d) in cells.items()
        },
    }


def test_analyse_on_crafted_reports() -> None:
    """Five reports of cells ``a`` (1×2) and ``b`` (1×1), worked by hand."""
    ok = ("correct", 1.0, [["correct", "correct"]], [])
    half = ("wrong", 0.5, [["correct", "wrong"]], ["transposed"])
    neg = ("wrong", 0.0, [["wrong", "wrong"]], ["negated"])
    carried = ("carried", 1.0, [["carried", "carried"]], [])
    b_ok = ("correct", 1.0, [["correct"]], [])
    b_bad = ("invalid", 0.0, [["invalid"]], [])
    reports = [
        _report(2, {"a": ok, "b": b_ok}),
        _report(1.5, {"a": half, "b": b_ok}),
        _report(0, {"a": neg, "b": b_bad}),
        _report(2, {"a": carried, "b": b_ok}),
        _report(0.5, {"a": half}),  # b missing: wrong
    ]
    found = analyse(reports, {"a": (1, 2), "b": (1, 1)})
    a, b = found.cells
    assert found.submissions == 5
    assert a.wrong == [[1, 3]] and a.share == [[0.2, 0.6]]
    assert a.cell_share == 0.6
    assert (a.diagnosis, a.diagnosis_count) == ("transposed", 2)
    assert b.wrong == [[2]] and b.cell_share == 0.4 and b.diagnosis is None
    # a right: 1,0,0,1,0; rest (total − a's score): 1, 1, 0, 1, 0; means 0.4 and 0.6:
    # Σ dx·dy = 0.24 − 0.16 + 0.24 + 0.24 + 0.24 = 0.8, Σ dx² = 1.2, Σ dy² = 1.2
    assert a.discrimination == pytest.approx(0.8 / math.sqrt(1.2 * 1.2))
    # b right: 1,1,0,1,0; rest: 1, 0.5, 0, 1, 0.5; means 0.6 and 0.6:
    # Σ dx·dy = 0.16 − 0.04 + 0.36 + 0.16 + 0.06 = 0.7, Σ dx² = 1.2, Σ dy² = 0.7
    assert b.discrimination == pytest.approx(0.7 / math.sqrt(1.2 * 0.7))


def test_discrimination_is_none_where_nothing_varies_and_ties_take_the_first_code() -> None:
    assert point_biserial([True, True], [1.0, 2.0]) is None
    assert point_biserial([True, False], [1.0, 1.0]) is None
    assert point_biserial([True], [1.0]) is None
    tie = [
        _report(0, {"a": ("wrong", 0, [["wrong"]], ["zeta"])}),
        _report(0, {"a": ("wrong", 0, [["wrong"]], ["alpha"])}),
    ]
    assert analyse(tie, {"a": (1, 1)}).cells[0].diagnosis == "alpha"
    assert analyse([], {"a": (1, 1)}).cells[0].share == [[0.0]]
    assert [heat_class(s) for s in (0, 0.01, 0.2, 0.21, 0.5, 0.8, 0.81, 1)] == [
        0,
        1,
        1,
        2,
        3,
        4,
        5,
        5,
    ]


# --- a crafted class through the API ---------------------------------------------------------

STUDENTS = ["ann", "bob", "cat", "dan"]


def _plus_one(rows: list[list[str]], i: int, j: int) -> list[list[str]]:
    out = [list(r) for r in rows]
    out[i][j] = str(Fraction(out[i][j]) + 1)
    return out


def crafted_class(client: FlaskClient) -> int:
    """ann all right; bob dW2 negated and db2[1,1] off by one; cat dW2 negated (attempt 1, her
    best) then nothing (attempt 2, her last); dan dW2[2,2] off by one and db2 left out."""
    r = client.post(
        "/api/v1/assignments",
        headers=AUTH,
        json={"title": "Crafted", "spec": {"sizes": [2, 2, 2]}, "max_attempts": 3},
    )
    assert r.status_code == 201, r.json
    aid = int(r.json["id"])
    r = client.post(f"/api/v1/assignments/{aid}/roster", headers=AUTH, json={"students": STUDENTS})
    links = r.json["links"]
    sends: dict[str, list[dict[str, Any]]] = {}
    for name in STUDENTS:
        problem = student_problem(aid, name, {"sizes": [2, 2, 2]})
        key = key_answers(problem)["cells"]
        # negating dW2 makes every entry wrong only where none is 0
        assert all(v != "0" for row in key["dW2"] for v in row), name
        sends[name] = [{"cells": dict(key)}]
    sends["bob"][0]["cells"]["dW2"] = negate(sends["bob"][0]["cells"]["dW2"])
    sends["bob"][0]["cells"]["db2"] = _plus_one(sends["bob"][0]["cells"]["db2"], 0, 0)
    sends["cat"][0]["cells"]["dW2"] = negate(sends["cat"][0]["cells"]["dW2"])
    sends["cat"].append({"cells": {}})
    sends["dan"][0]["cells"]["dW2"] = _plus_one(sends["dan"][0]["cells"]["dW2"], 1, 1)
    del sends["dan"][0]["cells"]["db2"]
    for name, answers in sends.items():
        token = links[name].removeprefix("/s/")
        for body in answers:
            r = client.post(f"/api/v1/s/{token}/submissions", json=body)
            assert r.status_code in (200, 201), r.json
    return aid


@pytest.fixture
def crafted(client: FlaskClient) -> int:
    return crafted_class(client)


#: worked by hand: dW2 wrong for bob, cat (every entry) and dan ([2,2]); db2[1,1] wrong for bob
#: and dan, db2[2,1] for dan. Scores (16 cells of 1 mark; a cell's marks shared by its entries):
#: ann 16, bob 14.5, cat 15 (her best), dan 14.75. dW2 right: 1,0,0,0 against the rest
#: 15, 14.5, 15, 14; db2 right: 1,0,1,0 against the rest 15, 14, 14, 14.75.
DW2 = 0.375 / math.sqrt(0.75 * 0.6875)
DB2 = 0.125 / math.sqrt(1.0 * 0.796875)


def test_a_crafted_class_gives_the_hand_worked_figures(client: FlaskClient, crafted: int) -> None:
    r = client.get(f"/api/v1/assignments/{crafted}/analytics.json", headers=AUTH)
    assert r.status_code == 200, r.json
    doc = r.json
    assert doc["attempt"] == "best" and doc["submissions"] == 4
    cells = {c["cell"]: c for c in doc["cells"]}
    dw2, db2 = cells["dW2"], cells["db2"]
    assert dw2["entries_wrong"] == [[2, 2], [2, 3]]
    assert dw2["entries_share_wrong"] == [[0.5, 0.5], [0.5, 0.75]]
    assert dw2["share_wrong"] == 0.75
    assert (dw2["diagnosis"], dw2["diagnosis_count"]) == ("negated", 2)
    assert dw2["discrimination"] == pytest.approx(DW2)
    assert db2["entries_wrong"] == [[2], [1]] and db2["share_wrong"] == 0.5
    assert db2["discrimination"] == pytest.approx(DB2)
    # every other cell right for everybody: nothing wrong, nothing to discriminate
    for name, c in cells.items():
        if name not in ("dW2", "db2"):
            assert c["share_wrong"] == 0 and c["discrimination"] is None, name

    r = client.get(f"/api/v1/assignments/{crafted}/analytics.csv", headers=AUTH)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    lines = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert len(lines) == sum(
        len(c["entries_wrong"]) * len(c["entries_wrong"][0]) for c in doc["cells"]
    )
    corner = next(x for x in lines if x["cell"] == "dW2" and x["row"] == "2" and x["column"] == "2")
    assert corner["wrong"] == "3" and corner["share_wrong"] == "0.7500"
    assert corner["diagnosis"] == "negated" and float(corner["discrimination"]) == pytest.approx(
        DW2, abs=1e-4
    )

    # the exports want the instructor token
    assert client.get(f"/api/v1/assignments/{crafted}/analytics.json").status_code == 401
    assert client.get(f"/api/v1/assignments/{crafted}/analytics.csv").status_code == 401
    assert client.get("/api/v1/assignments/999/analytics.json", headers=AUTH).status_code == 404


def test_an_assignment_nobody_submitted(client: FlaskClient) -> None:
    r = client.post("/api/v1/assignments", headers=AUTH, json={"title": "Empty"})
    aid = r.json["id"]
    doc = client.get(f"/api/v1/assignments/{aid}/analytics.json", headers=AUTH).json
    assert doc["submissions"] == 0
    assert all(c["share_wrong"] == 0 and c["discrimination"] is None for c in doc["cells"])
    html = _signed_in(client).get(f"/instructor/assignments/{aid}/analytics").get_data(as_text=True)
    assert "0 students with a submission" in html and 'class="mark-heat0"' in html


def _signed_in(client: FlaskClient) -> FlaskClient:
    page = client.get("/instructor/login").get_data(as_text=True)
    r = client.post("/instructor/login", data={"token": TOKEN, "csrf_token": csrf_of(page)})
    assert r.status_code == 303
    return client


def test_the_page_and_its_pdf(client: FlaskClient, crafted: int) -> None:
    path = f"/instructor/assignments/{crafted}/analytics"
    assert client.get(path).status_code == 302  # the sign-in page first
    _signed_in(client)
    assert path in client.get(f"/instructor/assignments/{crafted}").get_data(as_text=True)
    html = client.get(path).get_data(as_text=True)
    assert 'class="legend"' in html and all(colour in html for colour in SCALE)
    assert 'class="mark-heat4"' in html  # dW2[2,2]: 75 % wrong
    assert 'value="75"' in html
    assert "dW2[2,2]: 75 % wrong (3 of 4); most common diagnosis: negated (2 of 4)" in html
    assert "best</strong> attempt" in html and f"{DW2:.2f}" in html

    r = client.get(path + ".pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert_looks_like(r.data, "analytics-p1.png")


# --- in a real browser -----------------------------------------------------------------------


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (/usr/bin/chromium)")
def test_the_heat_map_in_a_browser(live: tuple[str, Any], tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    from PIL import Image

    base, app = live
    aid = crafted_class(app.test_client())
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/instructor/login")
            page.fill('input[name="password"]', TOKEN)
            page.click('button[type="submit"]')
            page.goto(f"{base}/instructor/assignments/{aid}/analytics")
            corner = page.locator('table[data-cell="dW2"] td').nth(3)
            assert "75 % wrong" in (corner.get_attribute("title") or "")
            # the colour the browser painted is the scale's class for 75 %
            painted = corner.evaluate("e => getComputedStyle(e).backgroundColor")
            assert painted == "rgb(217, 95, 14)"  # SCALE[4], #d95f0e
            shot = page.screenshot(full_page=True)
        finally:
            browser.close()
    image = Image.open(io.BytesIO(shot)).convert("RGB")
    (tmp_path / "analytics.png").write_bytes(shot)
    colours = {c for _, c in image.getcolors(maxcolors=1 << 20) or []}
    # the heat map's colours are on the screen (not only in the stylesheet)
    for hex_colour in (SCALE[0], SCALE[3], SCALE[4]):
        rgb = tuple(int(hex_colour[k : k + 2], 16) for k in (1, 3, 5))
        assert rgb in colours, hex_colour
