"""The init_scale kind: every cell against PyTorch float64 (``torch.nn.init.calculate_gain``,
the std ``kaiming_normal_`` draws with, from torch's own fan-in, and ``cross_entropy``), exact
roots typed by a student graded right, JSON, the sheets, and grading with carried credit."""

from __future__ import annotations

import itertools
import math
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import torch
from pictures import assert_looks_like

import handcalc
from handcalc.answers import read_expression
from handcalc.errors import DocumentError, SpecError
from handcalc.matrix import entry_float, to_floats
from handcalc.problem import Problem
from handcalc.render import render_html, render_pdf
from handcalc.specs import InitScaleSpec

torch.set_default_dtype(torch.float64)

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "identity")
#: torch's name of each activation, for calculate_gain and kaiming_normal_
TORCH = {"identity": "linear"}
OPTIONS: list[dict[str, Any]] = [
    {},
    {"sizes": [3, 5, 2], "batch": 3, "reduction": "sum"},
    {"sizes": [8, 8, 6, 4], "batch": 1, "transcendental": "base"},
    {"sizes": [1, 7, 5], "slope": "1/5", "transcendental": "base", "base": 2, "batch": 4},
]


def _value(problem: Problem, name: str) -> float:
    return entry_float(problem.value(name).to_list()[0][0])


def _check_against_torch(problem: Problem) -> None:
    spec = problem.spec
    nonlinearity = TORCH.get(spec.activation, spec.activation)
    slope = float(spec.slope)
    gain = torch.nn.init.calculate_gain(nonlinearity, slope)
    assert math.isclose(_value(problem, "gain"), gain, rel_tol=1e-12)
    for layer in range(1, spec.layers + 1):
        weight = torch.empty(spec.sizes[layer], spec.sizes[layer - 1])
        fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(weight)
        assert math.isclose(_value(problem, f"std{layer}"), gain / math.sqrt(fan_in), rel_tol=1e-12)
    z = torch.tensor(to_floats(problem.value(f"Z{spec.layers}"))).T
    y = torch.tensor(to_floats(problem.value("Y"))).T.argmax(1)
    scale = math.log(spec.base) if spec.transcendental == "base" else 1.0
    ce = torch.nn.functional.cross_entropy
    uniform = ce(torch.zeros_like(z), y, reduction=spec.reduction).item() / scale
    start = ce(z * scale, y, reduction=spec.reduction).item() / scale
    for name, expected in (("loss_uniform", uniform), ("loss_init", start)):
        assert math.isclose(_value(problem, name), expected, rel_tol=1e-12), name
        printed = float(problem.text(name)[0][0]) if spec.transcendental == "table" else None
        assert printed is None
    assert _value(problem, "loss_init") >= 2 * _value(problem, "loss_uniform")  # badly scaled


@pytest.mark.parametrize(
    ("activation", "case"), list(itertools.product(ACTIVATIONS, range(len(OPTIONS))))
)
def test_every_cell_is_what_pytorch_computes(activation: str, case: int) -> None:
    for seed in range(5):
        options = {"activation": activation, **OPTIONS[case]}
        _check_against_torch(handcalc.generate(kind="init_scale", seed=seed, **options))


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh"])
def test_kaiming_normal_draws_with_this_std(activation: str) -> None:
    """The std is the one ``kaiming_normal_`` draws with: a large sample's spread agrees."""
    p = handcalc.generate(kind="init_scale", seed=1, activation=activation)
    torch.manual_seed(0)
    weight = torch.empty(20000, p.spec.sizes[1])
    torch.nn.init.kaiming_normal_(
        weight, a=float(p.spec.slope), mode="fan_in", nonlinearity=activation
    )
    assert math.isclose(weight.std().item(), _value(p, "std2"), rel_tol=0.02)


def test_roots_are_exact_and_printed_as_written() -> None:
    p = handcalc.generate(kind="init_scale", seed=3)  # relu, sizes 2-4-8-3
    assert p.text("gain") == [["sqrt(2)"]]
    assert [p.text(f"std{i}")[0][0] for i in (1, 2, 3)] == ["1", "sqrt(2)/2", "1/2"]
    tanh = handcalc.generate(kind="init_scale", seed=3, activation="tanh")
    assert tanh.text("gain") == [["5/3"]] and tanh.text("std2") == [["5/6"]]
    leaky = handcalc.generate(kind="init_scale", seed=3, activation="leaky_relu")
    assert leaky.text("gain") == [["10*sqrt(202)/101"]]
    assert p.text("loss_uniform") == [["log(3)"]]


def test_a_student_may_type_a_root_exactly_or_as_a_decimal() -> None:
    p = handcalc.generate(kind="init_scale", seed=3)
    right = {s.name: p.text(s.name) for s in p.steps}
    typed = {
        **right,
        "gain": [["2**(1/2)"]],
        "std2": [["sqrt(2)/2"]],
        "std3": [["0.5"]],
        "std1": [["1"]],
        "loss_uniform": [["1.10"]],
        "loss_init": [[p.text("loss_init")[0][0]]],
    }
    report = handcalc.grade(p, {"cells": typed})
    assert set(report.statuses.values()) == {"correct"}, report.statuses
    for text in ("1/sqrt(2)", "0.7071", "sqrt(8)/4"):
        report = handcalc.grade(p, {"cells": {**typed, "std2": [[text]]}})
        assert report.statuses["std2"] == "correct", text
    report = handcalc.grade(p, {"cells": {**typed, "std2": [["0.6"]]}})
    assert report.statuses["std2"] == "wrong"
    assert read_expression("sqrt(2)/2", "x") == Fraction(math.sqrt(2) / 2)


def test_a_wrong_gain_carries_into_every_std() -> None:
    p = handcalc.generate(kind="init_scale", seed=3)
    typed = {s.name: p.text(s.name) for s in p.steps}
    typed.update({"gain": [["2"]], "std1": [["sqrt(2)"]], "std2": [["1"]], "std3": [["sqrt(2)/2"]]})
    report = handcalc.grade(p, {"cells": typed})
    assert report.statuses["gain"] == "wrong" and "gain_squared" in report["gain"].diagnosis
    for name in ("std1", "std2", "std3"):
        assert report.statuses[name] == "carried", name
    assert 0 < report.score < report.max_score


@pytest.mark.parametrize(
    ("cell", "typed", "code"),
    [
        ("std2", "sqrt(2)/sqrt(8)", "fan_out"),
        ("std2", "1/2", "gain_forgotten"),
        ("std3", "sqrt(2)/8", "no_square_root"),
        ("loss_uniform", "-1.10", "log_sign"),
        ("loss_uniform", "0.33", "probability_given"),
        ("loss_uniform", "0.48", "log_base_10"),
    ],
)
def test_the_ops_own_mistakes_are_diagnosed(cell: str, typed: str, code: str) -> None:
    p = handcalc.generate(kind="init_scale", seed=3)
    answers = {s.name: p.text(s.name) for s in p.steps}
    answers[cell] = [[typed]]
    report = handcalc.grade(p, {"cells": answers})
    assert report.statuses[cell] == "wrong" and code in report[cell].diagnosis, report[
        cell
    ].diagnosis


def test_a_problem_round_trips_through_json() -> None:
    for options in OPTIONS:
        p = handcalc.generate(kind="init_scale", seed=5, activation="leaky_relu", **options)
        doc = p.to_dict()
        assert doc["kind"] == "init_scale"
        assert [s["name"] for s in doc["steps"]][:2] == ["gain", "std1"]
        again = Problem.from_json(p.to_json())
        assert again == p and again.to_json() == p.to_json()
        assert handcalc.solve(doc) == p
    doc = p.to_dict(answers=False)
    doc["given"]["Y"][0][0] = "1"
    with pytest.raises(DocumentError, match="not one-hot"):
        handcalc.solve(doc)


def test_options_it_cannot_honour_are_refused() -> None:
    for options, advice in (
        ({"loss": "mse"}, "accepted: softmax_ce"),
        ({"transcendental": "table"}, "accepted: exact, base"),
        ({"sizes": [3, 1]}, "at least 2 output units"),
    ):
        with pytest.raises(SpecError, match=advice):
            InitScaleSpec.from_options(options)
    assert InitScaleSpec.from_options({"activation": "tanh"}).transcendental == "exact"


def test_the_sheets(tmp_path: Path) -> None:
    p = handcalc.generate(kind="init_scale", seed=3, activation="leaky_relu")
    worksheet = render_html(p, "worksheet")
    assert "gain/√fan_in" in worksheet and "fan_in = 2, 4, 8" in worksheet
    key = render_html(p, "key")
    assert "10√202/101" in render_html(p, "solutions") and "loss_init" in key
    solutions = render_html(p, "solutions")
    assert "badly scaled output layer" in solutions and "½(1 + slope²)" in solutions
    for document in ("worksheet", "key", "solutions"):
        pdf = tmp_path / f"{document}.pdf"
        pdf.write_bytes(render_pdf(p, document))
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "std" in text and "loss" in text, document
    relu = handcalc.generate(kind="init_scale", seed=7)
    pdf = render_pdf(relu, "worksheet", date="2026-01-01", secret="reference")
    assert_looks_like(pdf, "worksheet-init_scale-p1.png")
