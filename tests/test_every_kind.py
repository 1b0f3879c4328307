"""Every registered kind gets the whole product from its step graph: it generates from a seed,
solves the same from its given values as authored, round-trips through JSON, prints every graded
cell on the sheet and in the web form, renders worksheet, key and solutions, and grades a slip
with credit carried into the cells after it. The kinds' own tests check their maths against
PyTorch; this module checks that none of them is left out of the machinery."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from students import worked

import handcalc
from handcalc import kinds
from handcalc.cli import cli
from handcalc.layout import build_sheet
from handcalc.matrix import Mat, as_mat
from handcalc.problem import Problem
from handcalc.render import render_html
from handcalc.specs import SPECS

KINDS = sorted(kinds.KINDS)
SEEDS = range(3)


def test_the_cli_offers_every_kind_s_options_and_the_registry_every_spec() -> None:
    assert {spec.kind for spec in SPECS} == set(kinds.KINDS)
    for spec in SPECS:
        assert kinds.get(spec.kind).Options is spec, spec.kind


@pytest.fixture(scope="module", params=KINDS)
def problems(request: pytest.FixtureRequest) -> list[Problem]:
    return [handcalc.generate(kind=request.param, seed=seed) for seed in SEEDS]


def test_a_kind_generates_deterministically_and_solves_as_authored(
    problems: list[Problem],
) -> None:
    for problem in problems:
        again = handcalc.generate(kind=problem.kind, seed=problem.seed)
        assert again == problem
        authored = {"kind": problem.kind, **{k: v for k, v in problem.to_dict().items()}}
        del authored["steps"]
        assert handcalc.solve(authored) == problem
        assert Problem.from_json(problem.to_json()) == problem


def test_a_kind_s_every_cell_is_on_the_sheet_and_in_the_key(problems: list[Problem]) -> None:
    from handcalc.web import forms

    problem = problems[0]
    graded = set(problem.graph.names) - set(problem.tables)
    assert graded <= set(build_sheet(problem).inputs)
    assert graded <= set(forms.inputs(problem))
    for mode in ("worksheet", "key", "solutions"):
        html = render_html(problem, mode)
        assert "<html" in html and problem.describe().split(",")[0] in html, mode


def _plus_one(value: Mat) -> Mat:
    """One entry off: 1 added to the first (a rational or an exact expression, sqrt(2)/2)."""
    rows = value.to_Matrix().tolist()
    rows[0][0] += 1
    return as_mat(rows)


def test_a_kind_grades_a_slip_with_credit_carried(problems: list[Problem]) -> None:
    problem = problems[0]
    key = {"cells": {s.name: problem.text(s.name) for s in problem.steps}}
    perfect = handcalc.grade(problem, key)
    assert perfect.score == perfect.max_score
    # some slip carries on into a later cell (not every one: a ReLU may hide it)
    exact = [s.name for s in problem.steps if s.name not in problem.tables]
    for first in exact:
        report = handcalc.grade(problem, worked(problem, {first: _plus_one}))
        assert report.statuses[first] == "wrong" and report.score < report.max_score
        if "carried" in report.statuses.values():
            break
    else:
        assert len(exact) <= 1, "no slip carries"


@pytest.mark.parametrize("kind", KINDS)
def test_the_cli_lists_and_generates_every_kind(kind: str) -> None:
    listed = CliRunner().invoke(cli, ["kinds"]).output
    assert any(line.split()[0] == kind for line in listed.splitlines())
    out = CliRunner().invoke(cli, ["generate", "--kind", kind, "--seed", "1"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["kind"] == kind
