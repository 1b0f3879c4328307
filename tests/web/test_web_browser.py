"""In a real browser (Debian's Chromium, driven by Playwright) against a live server on
127.0.0.1: a student fills the worksheet, submits, and sees every cell marked."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_support import SPEC, TOKEN, key_answers, negate, student_problem

from handcalc.cells import field_name

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium (/usr/bin/chromium); scripts/setup.sh installs it",
)


@pytest.fixture
def page(live: tuple[str, Any]) -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def ada_in(app: Any, title: str) -> tuple[int, str]:
    """A new assignment ``title`` with Ada on its roster: its id and her link."""
    client = app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    aid = client.post("/api/v1/assignments", headers=auth, json={"title": title, "spec": SPEC})
    roster = client.post(
        f"/api/v1/assignments/{aid.json['id']}/roster", headers=auth, json={"students": ["ada"]}
    )
    return int(aid.json["id"]), str(roster.json["links"]["ada"])


def test_student_fills_submits_and_sees_marks(live: tuple[str, Any], page: Any) -> None:
    base, app = live
    aid, link = ada_in(app, "Browser homework")
    answers = key_answers(student_problem(aid, "ada"))
    for cell in ("dZ2", "dW2"):  # Y − A, then dW2 worked on correctly from it
        answers["cells"][cell] = negate(answers["cells"][cell])
    answers["cells"]["Z1"][0][0] = "two"

    page.goto(base + link)
    assert page.title().startswith("Browser homework")
    for name, rows in answers["cells"].items():
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                page.fill(f'input[name="{field_name(name, i, j)}"]', value)
    page.click("button[type=submit]")
    page.wait_for_selector("#summary")

    def status(cell: str) -> str:
        classes: str = page.get_attribute(f"#mark-{cell}", "class")
        return classes.split("mark-")[-1]

    assert status("Z2") == "correct"
    assert status("Z1") == "invalid"
    assert status("dZ2") == "wrong"
    assert status("dW2") == "carried"
    assert "Y − A instead of A − Y" in page.inner_text("#mark-dZ2")
    # the boxes of the grid carry the marks, in the colours of the statuses
    assert page.locator('td.mark-wrong input[name^="dZ2["]').count() >= 1
    assert page.locator('td.mark-carried input[name^="dW2["]').count() >= 1
    assert page.locator('td.mark-invalid input[name="Z1[0][0]"]').count() == 1
    colours = page.evaluate("""() => ['correct', 'carried', 'wrong'].map(s =>
        getComputedStyle(document.querySelector('td.mark-' + s)).backgroundColor)""")
    assert len(set(colours)) == 3
    # what was typed is still in the boxes, and the attempt is stored
    assert page.input_value('input[name="Z1[0][0]"]') == "two"
    assert "Attempt 1 saved and graded" in page.inner_text("main")
    stored = app.test_client().get(f"/api/v1{link}").json
    assert stored["attempts"]["used"] == 1
    assert stored["last"]["report"]["cells"]["dW2"]["status"] == "carried"


def test_practice_in_the_browser(live: tuple[str, Any], page: Any) -> None:
    base, _ = live
    page.goto(base + "/")
    page.fill('input[name="sizes"]', "2,2,2")
    page.fill('input[name="seed"]', "4")
    page.click("button[type=submit]")
    page.wait_for_selector('input[name="Z1[0][0]"]')
    page.click("button[type=submit]")  # nothing typed: every cell missing, no error
    page.wait_for_selector("#summary")
    assert page.get_attribute("#mark-Z1", "class") == "mark mark-missing"


REFERENCES = Path(__file__).parent.parent / "reference"
#: scrolling boxes that hide part of their content sideways
OVERFLOWING = """() => [...document.querySelectorAll('*')]
    .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible')
    .map(e => e.tagName + '.' + e.className + ' ' + e.scrollWidth + '/' + e.clientWidth)"""


@pytest.mark.parametrize(
    ("width", "spec"),
    [(1280, {}), (390, {"sizes": [2, 3, 2]})],
    ids=["desktop-1280-default", "phone-390-2-3-2"],
)
def test_the_worksheet_fits_the_screen(
    live: tuple[str, Any], page: Any, width: int, spec: dict[str, Any]
) -> None:
    """The whole sheet is visible without scrolling sideways: at 1280 px the default problem in
    its grid; on a phone a 2-3-2 problem, its matrices wrapped below each other. Compared with
    reviewed screenshots (regenerate with HANDCALC_UPDATE_REFERENCE=1, look, commit)."""
    import numpy as np
    from PIL import Image

    base, app = live
    token = app.test_client().post("/api/v1/practice", json={"spec": spec, "seed": 7}).json["token"]
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{base}/p/{token}")
    assert page.evaluate(OVERFLOWING) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    edges = page.eval_on_selector_all(
        "input[name], table.m",
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.left, r.right]; })",
    )
    assert edges and all(left >= 0 and right <= width for left, right in edges), edges
    shot = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("L")
    reference = REFERENCES / f"web-practice-{width}.png"
    if os.environ.get("HANDCALC_UPDATE_REFERENCE"):
        shot.save(reference, optimize=True)
    expected = Image.open(reference).convert("L")
    assert shot.size == expected.size, (shot.size, expected.size)
    diff = np.abs(np.asarray(shot, dtype=np.int16) - np.asarray(expected, dtype=np.int16))
    # anti-aliasing may differ by a few levels; nothing may move, vanish or appear
    assert diff.mean() < 1.5, diff.mean()
    assert (diff > 64).mean() < 0.002, (diff > 64).mean()


def test_the_instructor_downloads_a_question_bank(live: tuple[str, Any], page: Any) -> None:
    """The page's export is a form (CSRF-checked POST); the browser saves its answer as the file."""
    from test_web_exports import holds_keys

    base, app = live
    aid, _ = ada_in(app, "Exported")
    page.goto(f"{base}/instructor/login")
    page.fill('input[name="password"]', TOKEN)
    page.click('button[type="submit"]')
    page.goto(f"{base}/instructor/assignments/{aid}")
    with page.expect_download() as saving:
        page.click("form.export button:has-text('Moodle XML')")
    download = saving.value
    assert download.suggested_filename == f"assignment-{aid}-moodle.xml"
    bank = Path(download.path()).read_bytes()
    holds_keys(bank, "moodle", "Exported", {"ada": student_problem(aid, "ada")})
