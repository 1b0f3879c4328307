"""The practice page offers every registered kind: its menu names each, its options form is the
kind's own, and a problem of each kind is shown with a box for every graded entry and checked
cell by cell."""

from __future__ import annotations

import html as markup

import pytest
from flask.testing import FlaskClient
from web_support import csrf_of, key_answers, negate

import handcalc
from handcalc import kinds
from handcalc.cells import field_name


@pytest.mark.parametrize("kind", sorted(kinds.KINDS))
def test_practice_offers_and_checks_every_kind(client: FlaskClient, kind: str) -> None:
    menu = client.get("/").get_data(as_text=True)
    assert f'value="{kind}"' in menu
    page = client.get(f"/?kind={kind}").get_data(as_text=True)
    for name, option, _ in kinds.get(kind).Options.declared():
        assert (f'name="{name}"' in page) == option.practice, name
    r = client.post("/practice", data={"csrf_token": csrf_of(page), "kind": kind, "seed": "3"})
    assert r.status_code == 302, r.get_data(as_text=True)[:400]
    sheet = client.get(r.headers["Location"]).get_data(as_text=True)
    problem = handcalc.generate(kind=kind, seed=3)
    answers = key_answers(problem)
    for name in answers["cells"]:
        assert f'name="{field_name(name, 0, 0)}"' in sheet, name
    first = problem.steps[0].name
    answers["cells"][first] = negate(answers["cells"][first])
    form = {
        field_name(name, i, j): v
        for name, rows in answers["cells"].items()
        for i, row in enumerate(rows)
        for j, v in enumerate(row)
    }
    checked = client.post(r.headers["Location"], data={"csrf_token": csrf_of(sheet), **form})
    assert checked.status_code == 200
    shown = markup.unescape(checked.get_data(as_text=True))
    wrong = (
        "mark-wrong"
        if any(v not in ("0", "-0") for row in answers["cells"][first] for v in row)
        else "mark-correct"
    )
    assert f'id="mark-{first}" class="mark {wrong}"' in shown
