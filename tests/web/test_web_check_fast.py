"""The check endpoint's fast answer: the public report made straight from the grader's report
(not through its dict), and practice tokens checked once per process."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from handcalc.web import reports

import handcalc


def _submissions(problem: handcalc.Problem) -> list[dict[str, Any]]:
    tables = problem.tables
    key = {s.name: problem.text(s.name) for s in problem.steps if s.name not in tables}
    out: list[dict[str, Any]] = [{"cells": key}, {"cells": {}}]
    for name in list(key)[::3]:
        cells = json.loads(json.dumps(key))
        cells[name][0][0] = "7/3"
        out.append({"cells": cells})
    cells = json.loads(json.dumps(key))
    cells["Z1"][0][0] = "two"
    cells["Z1"][-1][-1] = ""
    out.append({"cells": cells})
    out.append({"cells": {**key, "A0": [["1"]]}})  # a given cell: a note
    return out


def test_public_json_is_the_public_report(practice: tuple[str, handcalc.Problem]) -> None:
    _, problem = practice
    for answers in _submissions(problem):
        report = handcalc.grade(problem, answers)
        fast = json.loads(reports.public_json(report))
        assert fast == json.loads(json.dumps(reports.public_report(report.to_dict())))
        assert list(fast) == [*reports.REPORT_FIELDS, "cells"]  # the same order as ever
        for cell in fast["cells"].values():
            assert list(cell) == list(reports.CELL_FIELDS)


def test_check_answers_the_public_report(
    client: FlaskClient, practice: tuple[str, handcalc.Problem]
) -> None:
    token, problem = practice
    for answers in _submissions(problem):
        r = client.post(f"/api/v1/practice/{token}/check", json=answers)
        assert r.status_code == 200, r.json
        assert r.mimetype == "application/json"
        expected = reports.public_report(handcalc.grade(problem, answers).to_dict())
        assert r.json == json.loads(json.dumps(expected))


def test_a_checked_token_does_not_make_a_changed_one_good(
    client: FlaskClient, practice: tuple[str, handcalc.Problem]
) -> None:
    token, _ = practice
    path = "/api/v1/practice/{}/check"
    for _ in range(2):  # the good token is remembered after the first check
        assert client.post(path.format(token), json={"cells": {}}).status_code == 200
        for changed in (token[:-1] + ("A" if token[-1] != "A" else "B"), token + "A", token[1:]):
            assert client.post(path.format(changed), json={"cells": {}}).status_code == 403
