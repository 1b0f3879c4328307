"""The HTML pages: practice, the student's worksheet, the instructor's dashboard; CSRF; no JS."""

from __future__ import annotations

import html as html_module
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from web_support import SPEC, TOKEN, csrf_of, key_answers, negate, student_problem

import handcalc
from handcalc.cells import field_name


def form_of(answers: dict[str, Any]) -> dict[str, str]:
    return {
        field_name(name, i, j): v
        for name, rows in answers["cells"].items()
        for i, row in enumerate(rows)
        for j, v in enumerate(row)
    }


def sign_in(client: FlaskClient) -> None:
    page = client.get("/instructor/login").get_data(as_text=True)
    r = client.post("/instructor/login", data={"token": TOKEN, "csrf_token": csrf_of(page)})
    assert r.status_code == 303


# --- practice ---------------------------------------------------------------------------------


def test_practice_page_round_trip(client: FlaskClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'name="sizes"' in html and 'name="seed"' in html
    r = client.post(
        "/practice",
        data={
            "csrf_token": csrf_of(html),
            "sizes": "2,2,2",
            "activation": "relu",
            "loss": "softmax_ce",
            "seed": "5",
        },
    )
    assert r.status_code == 302
    sheet = client.get(r.headers["Location"])
    html = sheet.get_data(as_text=True)
    assert 'name="Z1[0][0]"' in html and 'name="W2_new[1][1]"' in html
    problem = handcalc.generate(seed=5, **SPEC)
    answers = key_answers(problem)
    answers["cells"]["Z1"] = negate(answers["cells"]["Z1"])
    checked = client.post(
        r.headers["Location"], data={"csrf_token": csrf_of(html), **form_of(answers)}
    )
    assert checked.status_code == 200
    html = checked.get_data(as_text=True)
    assert 'id="mark-Z1" class="mark mark-wrong"' in html
    assert 'id="mark-A1" class="mark mark-correct"' in html
    assert '<td class="mark-wrong"' in html and '<td class="mark-correct"' in html
    assert "First error in the chain" in html
    # what was typed stays in the boxes
    assert f'name="Z1[0][0]" value="{answers["cells"]["Z1"][0][0]}"' in html


def test_the_score_has_at_most_two_decimals_and_the_boxes_a_legend(client: FlaskClient) -> None:
    page = client.post("/api/v1/practice", json={"spec": SPEC, "seed": 5}).json
    answers = key_answers(handcalc.generate(seed=5, **SPEC))
    z1 = answers["cells"]["Z1"]
    z1[0][0] = str(handcalc.values.parse_number(z1[0][0]) + 1)  # one entry of 4 wrong
    html = client.get(page["links"]["page"]).get_data(as_text=True)
    checked = client.post(
        page["links"]["page"], data={"csrf_token": csrf_of(html), **form_of(answers)}
    ).get_data(as_text=True)
    score = re.search(r'class="score-num">([^<]*)<', checked)
    assert score and re.fullmatch(r"\d+(\.\d{1,2})?", score[1]), score
    assert float(score[1]) != int(float(score[1]))  # a part of a cell: a fraction was shown
    assert 'id="legend"' in checked and "not graded" in checked


def test_practice_options_errors_are_shown_on_the_page(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    r = client.post("/practice", data={"csrf_token": csrf_of(html), "sizes": "2,99"})
    assert r.status_code == 400
    assert "sizes" in r.get_data(as_text=True)
    r = client.post("/practice", data={"csrf_token": csrf_of(html), "seed": "-4"})
    assert r.status_code == 400 and "seed" in r.get_data(as_text=True)


def test_forms_need_a_csrf_token(client: FlaskClient, practice: Any, student_token: str) -> None:
    for path in ("/practice", f"/p/{practice[0]}", f"/s/{student_token}", "/instructor/login"):
        r = client.post(path, data={"sizes": "2,2,2", "token": TOKEN})
        assert r.status_code == 400, path
        assert "expired or was not sent from this site" in r.get_data(as_text=True)
    assert client.get(f"/api/v1/s/{student_token}").json["attempts"]["used"] == 0


def test_pages_work_without_javascript_and_send_safe_headers(client: FlaskClient) -> None:
    r = client.get("/")
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    # a real form post, no script needed; the script only adds conveniences
    assert '<form method="post"' in r.get_data(as_text=True)
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/style.css").status_code == 200


# --- the student's page -----------------------------------------------------------------------


def test_student_page_submit_and_marks(
    client: FlaskClient, assignment: int, student_token: str
) -> None:
    page = client.get(f"/s/{student_token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Homework 1" in html and "ada" in html
    assert "Submit attempt 1 of 2" in html
    problem = student_problem(assignment, "ada")
    answers = key_answers(problem)
    for cell in ("dZ2", "dW2"):  # a sign mistake, then worked on correctly from it
        answers["cells"][cell] = negate(answers["cells"][cell])
    answers["cells"]["Z1"][0][0] = "two"
    r = client.post(f"/s/{student_token}", data={"csrf_token": csrf_of(html), **form_of(answers)})
    assert r.status_code == 303
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Attempt 1 saved and graded. 1 attempt left." in html
    assert 'id="mark-Z2" class="mark mark-correct"' in html
    assert 'id="mark-dZ2" class="mark mark-wrong"' in html
    assert 'id="mark-dW2" class="mark mark-carried"' in html
    assert 'id="mark-Z1" class="mark mark-invalid"' in html
    assert "Y − A instead of A − Y" in html  # the diagnosis, in words
    assert '<td class="mark-wrong"' in html and '<td class="mark-carried"' in html
    assert "Submit attempt 2 of 2" in html
    stored = client.get(f"/api/v1/s/{student_token}").json
    assert stored["last"]["cells"]["dZ2"] == answers["cells"]["dZ2"]


def test_student_page_after_the_last_attempt(client: FlaskClient, student_token: str) -> None:
    for _ in range(2):
        html = client.get(f"/s/{student_token}").get_data(as_text=True)
        assert (
            client.post(f"/s/{student_token}", data={"csrf_token": csrf_of(html)}).status_code
            == 303
        )
    html = client.get(f"/s/{student_token}").get_data(as_text=True)
    assert "All 2 attempts used" in html
    assert 'class="sheet closed"' in html and "Submit attempt" not in html
    r = client.post(f"/s/{student_token}", data={"csrf_token": csrf_of(html)})
    assert r.status_code == 409
    assert "no attempts left" in r.get_data(as_text=True)


def test_tampered_link_is_403_page(client: FlaskClient, student_token: str) -> None:
    r = client.get(f"/s/{student_token}x")
    assert r.status_code == 403
    assert r.mimetype == "text/html"
    assert "not one of ours" in r.get_data(as_text=True)


# --- the instructor's pages -------------------------------------------------------------------


def test_instructor_pages_need_sign_in(client: FlaskClient, assignment: int) -> None:
    for path in (
        "/instructor/",
        f"/instructor/assignments/{assignment}",
        f"/instructor/assignments/{assignment}/grades.csv",
    ):
        r = client.get(path)
        assert r.status_code == 302
        assert "/instructor/login" in r.headers["Location"]
    page = client.get("/instructor/login").get_data(as_text=True)
    r = client.post("/instructor/login", data={"token": "guess", "csrf_token": csrf_of(page)})
    assert r.status_code == 401
    assert "not the instructor token" in r.get_data(as_text=True)
    assert client.get("/instructor/").status_code == 302


def test_instructor_login_does_not_redirect_elsewhere(client: FlaskClient) -> None:
    page = client.get("/instructor/login").get_data(as_text=True)
    r = client.post(
        "/instructor/login?next=//evil.example/instructor",
        data={"token": TOKEN, "csrf_token": csrf_of(page)},
    )
    assert r.headers["Location"] == "/instructor/"


@pytest.mark.parametrize(
    "target", ["/instructor/%0d%0aSet-Cookie:x=1", "/instructor/%0a", "/instructor/%09x"]
)
def test_a_next_with_control_characters_goes_to_the_dashboard(
    client: FlaskClient, target: str
) -> None:
    page = client.get("/instructor/login").get_data(as_text=True)
    r = client.post(
        f"/instructor/login?next={target}", data={"token": TOKEN, "csrf_token": csrf_of(page)}
    )
    assert r.status_code == 303 and r.headers["Location"] == "/instructor/"


def test_instructor_dashboard_flow(client: FlaskClient) -> None:
    sign_in(client)
    html = client.get("/instructor/").get_data(as_text=True)
    assert "No assignments yet" in html
    r = client.post(
        "/instructor/assignments",
        data={
            "csrf_token": csrf_of(html),
            "title": "Quiz 2",
            "sizes": "2,2,2",
            "activation": "relu",
            "loss": "softmax_ce",
            "reduction": "sum",
            "transcendental": "table",
            "batch": "2",
            "lr": "1/10",
            "max_attempts": "4",
        },
    )
    assert r.status_code == 303
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Quiz 2" in page and "4 attempts" in page and "No students yet" in page
    aid = int(re.search(r"/instructor/assignments/(\d+)", r.headers["Location"])[1])
    r = client.post(
        f"/instructor/assignments/{aid}/roster",
        data={"csrf_token": csrf_of(page), "students": "ada\nHopper, Grace\n\n"},
    )
    assert r.status_code == 303
    page = client.get(f"/instructor/assignments/{aid}").get_data(as_text=True)
    links = re.findall(r'href="(/s/[^"]+)"', page)
    assert len(links) == 2  # one name a line: the comma is part of the name
    assert "<tr><td>Hopper, Grace</td>" in page
    # a student submits; the gradebook and the statistics show it
    html = client.get(links[0]).get_data(as_text=True)
    problem = student_problem(
        aid,
        "ada",
        {
            "sizes": [2, 2, 2],
            "activation": "relu",
            "loss": "softmax_ce",
            "reduction": "sum",
            "transcendental": "table",
            "batch": 2,
            "lr": "1/10",
        },
    )
    form = form_of(key_answers(problem))
    assert client.post(links[0], data={"csrf_token": csrf_of(html), **form}).status_code == 303
    page = client.get(f"/instructor/assignments/{aid}").get_data(as_text=True)
    assert 'class="dot-correct"' in page
    assert "Mean score 100 %" in page
    csv_text = client.get(f"/instructor/assignments/{aid}/grades.csv").get_data(as_text=True)
    assert csv_text.splitlines()[1].startswith("ada,1,")
    key = client.get(f"/instructor/assignments/{aid}/key/ada")
    assert key.status_code == 200 and key.json["given"] == problem.to_dict()["given"]
    # sign out: the pages are closed again
    page = client.get("/instructor/").get_data(as_text=True)
    assert client.post("/instructor/logout", data={"csrf_token": csrf_of(page)}).status_code == 303
    assert client.get("/instructor/").status_code == 302


def test_instructor_form_errors_keep_what_was_typed(client: FlaskClient) -> None:
    """A new assignment's form with an error comes back as typed, saying why (nothing lost)."""
    sign_in(client)
    html = client.get("/instructor/").get_data(as_text=True)
    form = {"csrf_token": csrf_of(html), "title": "", "sizes": "2,2"}
    r = client.post("/instructor/assignments", data=form)
    # the error above the form, focused: the browser scrolls down to it
    said = r.get_data(as_text=True)
    assert r.status_code == 400 and 'role="alert" tabindex="-1" autofocus' in said
    assert "title" in said
    typed = {**form, "title": "Week 3", "sizes": "2,3,2", "lr": "1/20", "max_attempts": "0"}
    r = client.post("/instructor/assignments", data=typed)
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "attempts" in page
    for name in ("title", "sizes", "lr", "max_attempts"):
        assert re.search(f'name="{name}"[^>]*value="{re.escape(typed[name])}"', page), name
    r = client.post("/instructor/assignments", data={**typed, "kind": "nope", "max_attempts": "2"})
    assert r.status_code == 400 and "nope" in html_module.unescape(r.get_data(as_text=True))
    # fixed, it is made
    r = client.post("/instructor/assignments", data={**typed, "max_attempts": "2"})
    assert r.status_code == 303


def test_changing_the_token_signs_instructors_out(make_app: Any) -> None:
    app = make_app()
    client = app.test_client()
    sign_in(client)
    assert client.get("/instructor/").status_code == 200
    app.config["INSTRUCTOR_TOKEN"] = "a-brand-new-token-1234"
    assert client.get("/instructor/").status_code == 302


SPECS = [
    {"sizes": [2, 3, 2], "activation": "leaky_relu", "loss": "mse", "reduction": "mean"},
    {"sizes": [2, 2, 1], "activation": "tanh", "loss": "sigmoid_bce", "digits": 1},
    {"sizes": [3, 2, 2], "loss": "softmax_ce", "transcendental": "base", "batch": 1},
    {"sizes": [2, 2, 2, 2], "frozen": [1], "lr": "1/2"},
    {"sizes": [2, 2], "loss": "sigmoid_bce", "transcendental": "exact"},
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: "-".join(f"{k}={v}" for k, v in s.items()))
def test_every_kind_of_sheet_is_filled_and_checked_through_the_form(
    client: FlaskClient, spec: dict[str, Any]
) -> None:
    token = client.post("/api/v1/practice", json={"spec": spec, "seed": 2}).json["token"]
    html = client.get(f"/p/{token}").get_data(as_text=True)
    problem = handcalc.generate(seed=2, **spec)
    doc = problem.to_dict()
    exact = spec.get("transcendental") == "exact"
    cells = {
        s["name"]: ([[f"{x:.6g}" for x in row] for row in s["approx"]] if exact else s["value"])
        for s in doc["steps"]
    }
    graded = set(key_answers(problem)["cells"])
    for name in graded:  # every graded cell has its boxes on the page
        assert f'name="{name}[0][0]"' in html, name
    r = client.post(f"/p/{token}", data={"csrf_token": csrf_of(html), **form_of({"cells": cells})})
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert page.count('class="mark mark-correct"') == len(graded), spec
    assert "First error" not in page


def test_the_gradebook_shows_scores_to_two_decimals_and_missing_cells(
    app: Any, client: FlaskClient, assignment: int, roster: dict[str, str]
) -> None:
    from handcalc.web import db, problems
    from handcalc.web.models import Student, Submission

    # alan sends Z1 only: every other cell is missing
    problem = student_problem(assignment, "alan")
    sent = client.post(
        f"/api/v1{roster['alan']}/submissions", json={"cells": {"Z1": problem.text("Z1")}}
    )
    assert sent.status_code == 201
    with app.app_context():  # a score such as a carried share of a cell gives
        session = db.session()
        ada = session.query(Student).filter_by(assignment_id=assignment, name="ada").one()
        session.add(
            Submission(
                student_id=ada.id,
                attempt=1,
                answers_json="{}",
                report_json='{"cells": {}}',
                score=6.708333333,
                max_score=23.0,
            )
        )
        session.commit()
    sign_in(client)
    page = client.get(f"/instructor/assignments/{assignment}").get_data(as_text=True)
    assert re.search(r"<td>6\.71 / 23</td>\s*<td>6\.71</td>", page) and "6.70833" not in page
    assert "<th>Invalid</th><th>Missing</th></tr>" in page
    cells = len(problems.blanks(problem))
    missing = re.findall(r"<td>(\d+) %</td></tr>", page)
    assert len(missing) == cells
    # of the two latest submissions, alan's has every cell but Z1 missing (ada's none at all)
    assert missing[0] == "0" and set(missing[1:]) == {"50"}, missing
