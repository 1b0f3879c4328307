"""Regrading: new grading options (weights, carried credit, tolerance) applied to every stored
submission from its stored answers, in one go, the old scores kept in a regrade record, a
before/after summary; a second regrade changes nothing; new submissions are graded on the
options; the settings refuse what the grader does not accept; the page's button."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from handcalc.web import db, regrade
from handcalc.web.models import Regrade, Submission
from sqlalchemy import select
from web_support import TOKEN, csrf_of, key_answers, negate, student_problem

import handcalc


def _submit(client: FlaskClient, token: str, answers: dict[str, Any]) -> dict[str, Any]:
    r = client.post(f"/api/v1/s/{token}/submissions", json=answers)
    assert r.status_code == 201, r.json
    body: dict[str, Any] = r.json
    return body


def _wrong_early(problem: handcalc.Problem) -> tuple[dict[str, Any], str]:
    """The key with the first backward cell's signs flipped: later cells carry credit."""
    answers = key_answers(problem)
    cell = next(s.name for s in problem.steps if s.name.startswith("dZ"))
    answers["cells"][cell] = negate(answers["cells"][cell])
    return answers, cell


def _scores(app: Flask) -> dict[int, tuple[float, float, str]]:
    with app.app_context():
        rows = db.session().scalars(select(Submission)).all()
        return {r.id: (r.score, r.max_score, r.report_json) for r in rows}


def test_regrade_applies_new_options_keeps_old_scores_and_is_idempotent(
    app: Flask,
    client: FlaskClient,
    auth: dict[str, str],
    assignment: int,
    roster: dict[str, str],
) -> None:
    ada, alan = (roster[n].removeprefix("/s/") for n in ("ada", "alan"))
    ada_problem, alan_problem = (student_problem(assignment, n) for n in ("ada", "alan"))
    ada_answers, wrong = _wrong_early(ada_problem)
    first = _submit(client, ada, ada_answers)
    _submit(client, alan, key_answers(alan_problem))
    before = _scores(app)
    assert first["report"]["cells"][wrong]["status"] == "wrong"

    # the wrong cell counts three times, carried entries earn nothing
    options = {"weights": {wrong: 3}, "carried_credit": 0}
    r = client.post(
        f"/api/v1/assignments/{assignment}/settings", headers=auth, json={"grading": options}
    )
    assert r.status_code == 200, r.json
    assert r.json["grading"] == options and r.json["feedback"] == "immediate"
    assert _scores(app) == before  # settings alone change no stored score

    heard: list[Any] = []
    regrade.SCORE_LISTENERS.append(lambda row, scores: heard.append((row.id, scores)))
    try:
        r = client.post(f"/api/v1/assignments/{assignment}/regrade", headers=auth, json={})
        assert r.status_code == 200, r.json
        summary = r.json
        again = client.post(f"/api/v1/assignments/{assignment}/regrade", headers=auth, json={}).json
    finally:
        regrade.SCORE_LISTENERS.clear()

    expected = {
        "ada": handcalc.grade(ada_problem, ada_answers, **options),
        "alan": handcalc.grade(alan_problem, key_answers(alan_problem), **options),
    }
    old = {
        "ada": handcalc.grade(ada_problem, ada_answers),
        "alan": handcalc.grade(alan_problem, key_answers(alan_problem)),
    }
    for name in ("ada", "alan"):  # the test means something: every mark changes
        assert (expected[name].score, expected[name].max_score) != (
            old[name].score,
            old[name].max_score,
        )
    assert summary["submissions"] == 2 and summary["changed"] == 2
    assert summary["students_changed"] == 2
    deltas = {s["student"]: s for s in summary["students"]}
    for name in ("ada", "alan"):
        assert deltas[name]["before"] == pytest.approx(old[name].score)
        assert deltas[name]["after"] == pytest.approx(expected[name].score)
        assert deltas[name]["delta"] == pytest.approx(expected[name].score - old[name].score)
    mean = lambda reports: sum(r.score for r in reports.values()) / 2  # noqa: E731
    assert summary["mean_before"] == pytest.approx(mean(old))
    assert summary["mean_after"] == pytest.approx(mean(expected))

    after = _scores(app)
    assert sorted((s, m) for s, m, _ in after.values()) == sorted(
        (r.score, r.max_score) for r in expected.values()
    )
    with app.app_context():
        records = db.session().scalars(select(Regrade)).all()
        assert [r.id for r in records] == [summary["regrade"]]
        kept = {
            c["submission"]: c["before"]["score"] for c in records[0].summary["submissions_changed"]
        }
    assert kept == {sid: score for sid, (score, _, _) in before.items()}  # the old scores kept

    # the grade passback hook heard the new scores once
    assert len(heard) == 1 and heard[0][0] == assignment
    assert {s["student"]: s["score"] for s in heard[0][1]} == pytest.approx(
        {n: r.score for n, r in expected.items()}
    )

    # idempotent: the second regrade found nothing, stored nothing, told nobody
    assert again["changed"] == 0 and again["students"] == [] and again["regrade"] is None
    assert again["mean_before"] == again["mean_after"] == summary["mean_after"]
    assert _scores(app) == after

    # the gradebook reads the new scores; a new submission is graded on the options too
    csv = client.get(f"/api/v1/assignments/{assignment}/grades.csv", headers=auth).get_data(
        as_text=True
    )
    assert f"{expected['ada'].max_score:g}" in csv
    grace = roster["grace"].removeprefix("/s/")
    grace_problem = student_problem(assignment, "grace")
    grace_answers, _ = _wrong_early(grace_problem)
    got = _submit(client, grace, grace_answers)["report"]
    assert got["score"] == pytest.approx(
        handcalc.grade(grace_problem, grace_answers, **options).score
    )


def test_regrade_of_an_assignment_without_submissions(
    client: FlaskClient, auth: dict[str, str], assignment: int
) -> None:
    r = client.post(f"/api/v1/assignments/{assignment}/regrade", headers=auth, json={})
    assert r.status_code == 200
    assert r.json["submissions"] == 0 and r.json["mean_before"] is None


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"grading": {"weights": {"nope": 1}}}, "no graded cell 'nope'"),
        ({"grading": {"tolerance": 2}}, "tolerance"),
        ({"grading": {"carried_credit": -1}}, "carried_credit"),
        ({"grading": {"weights": [1]}}, "grading.weights"),
        ({"grading": {"speed": 1}}, "speed not accepted"),
        ({"feedback": "sometimes"}, "feedback: expected one of"),
        ({"score": "maybe"}, "score: expected one of"),
        ({"due_at": "tomorrow"}, "due_at"),
        ({"due_at": "0001-01-01T00:00+05:00"}, "due_at"),
        ({"released": "yes"}, "released"),
        ({"score_policy": "worst"}, "score_policy: expected one of"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_settings_refuse_what_is_not_accepted(
    client: FlaskClient, auth: dict[str, str], assignment: int, body: Any, said: str
) -> None:
    r = client.post(f"/api/v1/assignments/{assignment}/settings", headers=auth, json=body)
    assert r.status_code == 400, r.json
    assert said in r.json["error"]["message"]
    unchanged = client.get(f"/api/v1/assignments/{assignment}/settings", headers=auth).json
    assert unchanged == {
        "grading": {},
        "feedback": "immediate",
        "score": "shown",
        "due_at": None,
        "released": False,
        "score_policy": "best",
    }


def test_the_assignment_page_sets_options_and_regrades(
    app: Flask, client: FlaskClient, assignment: int, roster: dict[str, str]
) -> None:
    problem = student_problem(assignment, "ada")
    answers, wrong = _wrong_early(problem)
    _submit(client, roster["ada"].removeprefix("/s/"), answers)
    page = client.get("/instructor/login").get_data(as_text=True)
    client.post("/instructor/login", data={"token": TOKEN, "csrf_token": csrf_of(page)})
    page = client.get(f"/instructor/assignments/{assignment}").get_data(as_text=True)
    assert "Grading and feedback" in page and "Regrade every submission" in page
    csrf = csrf_of(page)
    r = client.post(
        f"/instructor/assignments/{assignment}/settings",
        data={
            "csrf_token": csrf,
            "tolerance": "",
            "carried_credit": "0.5",
            "weights": f"{wrong} = 0\n",
            "feedback": "never",
            "score": "hidden_until_release",
            "due_at": "2026-12-24T09:00",
        },
    )
    assert r.status_code == 303
    settings = client.get(
        f"/api/v1/assignments/{assignment}/settings", headers={"Authorization": f"Bearer {TOKEN}"}
    ).json
    assert settings == {
        "grading": {"carried_credit": 0.5, "weights": {wrong: 0.0}},
        "feedback": "never",
        "score": "hidden_until_release",
        "due_at": "2026-12-24T09:00:00Z",
        "released": False,
        "score_policy": "best",
    }
    # a refusal: the page again with the form as typed (nothing lost), the settings as they were
    page = client.get(f"/instructor/assignments/{assignment}").get_data(as_text=True)
    assert f"{wrong} = 0\n</textarea>" in page and 'name="carried_credit" value="0.5"' in page
    typed = {"weights": f"{wrong} = 0\ndZ9 = x", "carried_credit": "0.25", "feedback": "never"}
    bad = client.post(
        f"/instructor/assignments/{assignment}/settings",
        data={"csrf_token": csrf, **typed, "score": "shown", "due_at": "2026-12-25T10:00"},
    )
    shown = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "The settings were not changed." in shown
    assert f'<textarea name="weights" rows="2">{wrong} = 0\ndZ9 = x</textarea>' in shown
    assert 'name="carried_credit" value="0.25"' in shown and 'value="2026-12-25T10:00"' in shown
    assert '<option value="shown" selected>' in shown
    unchanged = client.get(
        f"/api/v1/assignments/{assignment}/settings", headers={"Authorization": f"Bearer {TOKEN}"}
    ).json
    assert unchanged == settings
    r = client.post(
        f"/instructor/assignments/{assignment}/regrade",
        data={"csrf_token": csrf},
        follow_redirects=True,
    )
    said = r.get_data(as_text=True)
    assert "Regraded 1 submission: 1 changed, the best score of 1 student changed" in said
    assert "1 of 1 submissions changed" in said  # the regrades listed on the page
    expected = handcalc.grade(problem, answers, carried_credit=0.5, weights={wrong: 0})
    assert [s for s, _, _ in _scores(app).values()] == pytest.approx([expected.score])
    assert json.loads(next(iter(_scores(app).values()))[2])["carried_credit"] == 0.5
