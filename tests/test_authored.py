"""Authored problems are solvable as typed: the published 2-2-2 sigmoid / squared-error
walkthrough (Matt Mazur, "A Step by Step Backpropagation Example") solved with ``handcalc solve``
agrees with every figure it prints, to the precision printed, and with PyTorch on the whole
update. No niceness budget applies to an authored document (its figures are 9-decimal)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from oracle import oracle

import handcalc
from handcalc.cli import cli
from handcalc.errors import BudgetError

FIXTURE = Path(__file__).parent / "fixtures" / "mazur.json"

#: the walkthrough's printed figures: (cell, row, column) → the figure as printed
PRINTED = {
    ("Z1", 0, 0): "0.3775",  # net_h1
    ("A1", 0, 0): "0.593269992",  # out_h1
    ("A1", 1, 0): "0.596884378",  # out_h2
    ("Z2", 0, 0): "1.105905967",  # net_o1
    ("A2", 0, 0): "0.75136507",  # out_o1
    ("A2", 1, 0): "0.772928465",  # out_o2
    ("loss", 0, 0): "0.298371109",  # E_total = Σ ½(target − out)²
    ("dZ2", 0, 0): "0.138498562",  # δ_o1
    ("dW2", 0, 0): "0.082167041",  # ∂E/∂w5
    ("W2_new", 0, 0): "0.35891648",  # w5+
    ("W2_new", 0, 1): "0.408666186",  # w6+
    ("W2_new", 1, 0): "0.511301270",  # w7+
    ("W2_new", 1, 1): "0.561370121",  # w8+
    ("dA1", 0, 0): "0.036350306",  # ∂E_total/∂out_h1
    ("dW1", 0, 0): "0.000438568",  # ∂E_total/∂w1
    ("W1_new", 0, 0): "0.149780716",  # w1+
    ("W1_new", 0, 1): "0.19956143",  # w2+
    ("W1_new", 1, 0): "0.24975114",  # w3+
    ("W1_new", 1, 1): "0.29950229",  # w4+
}


@pytest.fixture(scope="module")
def solved() -> dict:
    result = CliRunner().invoke(cli, ["solve", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_key_agrees_with_every_printed_figure(solved: dict) -> None:
    steps = {s["name"]: s for s in solved["steps"]}
    for (name, i, j), figure in PRINTED.items():
        decimals = len(figure.split(".")[1])
        value = steps[name]["approx"][i][j]
        assert f"{value:.{decimals}f}" == f"{float(figure):.{decimals}f}", (name, i, j, value)


def test_the_document_says_what_was_typed(solved: dict) -> None:
    spec = solved["spec"]
    assert (spec["activation"], spec["output"], spec["loss"]) == ("sigmoid", "sigmoid", "mse")
    assert spec["digits"] == 9 and spec["batch"] == 1 and spec["lr"] == "1/2"
    steps = {s["name"]: s for s in solved["steps"]}
    assert steps["dZ2"]["formula"] == "dZ2 = (A2 − Y)∘A2∘(1 − A2)"  # no shortcut
    assert steps["loss"]["value"] == [["0.298371109"]]
    assert steps["A1"]["approx"] == [[0.593269992], [0.596884378]]  # the table's, as typed


def test_the_whole_update_agrees_with_pytorch(solved: dict) -> None:
    expected = oracle(solved)
    steps = {s["name"]: np.array(s["approx"]) for s in solved["steps"]}
    assert set(steps) == set(expected)
    for name, value in steps.items():
        tolerance = 0.5e-9 + 1e-12 if name == "loss" else 1e-12
        np.testing.assert_allclose(value, expected[name], rtol=1e-9, atol=tolerance, err_msg=name)


def test_the_worked_solutions_print_the_walkthroughs_figures() -> None:
    html = handcalc.render_html(handcalc.solve(FIXTURE), "solutions")
    for figure in ("0.593269992", "≈1.105905967", "≈0.358916480", "≈0.149780716"):
        assert figure in html, figure
    assert "dZ₂ = (A₂ − Y)∘A₂∘(1 − A₂)" in html


def test_no_niceness_budget_for_an_authored_problem_but_the_generator_keeps_its_own() -> None:
    problem = handcalc.solve(FIXTURE)
    assert problem.spec.digits == 9  # beyond what a generated problem may have
    with pytest.raises(BudgetError, match="authored problems"):
        handcalc.generate(
            seed=1,
            sizes=[2, 2, 2],
            activation="sigmoid",
            loss="mse",
            output="sigmoid",
            digits=9,
            max_chars=40,
        )


def test_the_worksheet_and_key_print_and_show_the_walkthrough_s_figures(tmp_path: Path) -> None:
    """Its long exact fractions print as the walkthrough prints them: ≈ a 9-decimal value (the
    exact value stays in the document); the sheet fits the paper."""
    problem = handcalc.solve(FIXTURE)
    for which in ([], ["--key"]):
        pdf = tmp_path / "sheet.pdf"
        command = ["solve", str(FIXTURE), "--format", "pdf", *which, "-o", str(pdf)]
        out = CliRunner().invoke(cli, command)
        assert out.exit_code == 0, out.output
        assert pdf.read_bytes().startswith(b"%PDF")
    key = handcalc.render_html(problem, "key")
    for figure in ("≈0.358916480", "≈0.149780716", "0.298371109", "0.751365070"):
        assert figure in key, figure
    assert "/1000000000" not in key
