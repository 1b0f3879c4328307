"""The batchnorm kind against PyTorch: ``nn.BatchNorm1d`` in training mode for the forward pass,
the backward pass (autograd for every gradient) and the running statistics, eval mode for
``Ztest``, ``fuse_linear_bn_weights`` for the folded layer; BN's intermediate gradients (dZhat,
dvar, dmu) from autograd on the same formulas written out; every cell exact, no root irrational
outside ``exact`` mode; the sheet, the JSON, grading with carried credit and BN's own mistakes."""

from __future__ import annotations

import math
import subprocess
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from pictures import assert_looks_like
from students import worked
from torch.nn.utils.fusion import fuse_linear_bn_weights

import handcalc
from handcalc.errors import BudgetError, DocumentError, SpecError
from handcalc.layout import build_sheet
from handcalc.matrix import Mat, rational, to_floats, to_fraction, to_strings
from handcalc.printing import printed
from handcalc.problem import Problem
from handcalc.render import render_html, render_pdf
from handcalc.specs import BatchNormSpec

torch.set_default_dtype(torch.float64)

SEEDS = range(40)
OPTIONS: list[dict[str, Any]] = [
    {},
    {"activation": "leaky_relu"},
    {"activation": "identity", "loss": "mse"},
    {"loss": "sigmoid_bce", "reduction": "mean", "momentum": "1/4"},
    {"sizes": [4, 3, 3], "batch": 6},
    {"batch": 8, "lr": "1/2"},
]


def arr(problem: Problem, name: str) -> np.ndarray:
    return np.array(to_floats(problem.value(name)))


def t(problem: Problem, name: str) -> torch.Tensor:
    return torch.tensor(arr(problem, name))


def scalar(problem: Problem, name: str) -> float:
    return float(arr(problem, name)[0, 0])


def reference(problem: Problem) -> dict[str, np.ndarray]:
    """Every cell of ``problem`` from PyTorch, as a matrix in the sheet's orientation (samples
    are columns)."""
    spec = problem.spec
    n0, n1, _ = spec.sizes
    eps, momentum = scalar(problem, "eps"), scalar(problem, "momentum")
    # PyTorch refuses eps 0 in training mode; the smallest float64 adds nothing to a variance
    eps = eps or 5e-324
    out: dict[str, np.ndarray] = {}

    linear = torch.nn.Linear(n0, n1)
    bn = torch.nn.BatchNorm1d(n1, eps=eps, momentum=momentum)
    with torch.no_grad():
        linear.weight.copy_(t(problem, "W1"))
        linear.bias.copy_(t(problem, "b1")[:, 0])
        bn.weight.copy_(t(problem, "gamma1")[:, 0])
        bn.bias.copy_(t(problem, "beta1")[:, 0])
        bn.running_mean.copy_(t(problem, "running_mean1")[:, 0])
        bn.running_var.copy_(t(problem, "running_var1")[:, 0])
    x = t(problem, "X").T.requires_grad_()
    z1 = linear(x)
    z1.retain_grad()
    bn.train()
    bn1 = bn(z1)
    bn1.retain_grad()
    activation: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "relu": torch.relu,
        "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, float(spec.slope)),
        "identity": lambda z: z,
    }
    a1 = activation[spec.activation](bn1)
    a1.retain_grad()
    w2 = t(problem, "W2").requires_grad_()
    b2 = t(problem, "b2")[:, 0].requires_grad_()
    z2 = a1 @ w2.T + b2
    # the head's output gradient is the sheet's own (A2 − Y, from table values in table mode);
    # autograd carries it through the head and through BN from there
    z2.backward(t(problem, "dZ2").T)
    out |= {
        "Z1": z1.T,
        "BN1": bn1.T,
        "A1": a1.T,
        "Z2": z2.T,
        "dW2": w2.grad,
        "db2": b2.grad[:, None],
        "dA1": a1.grad.T,
        "dBN1": bn1.grad.T,
        "dgamma1": bn.weight.grad[:, None],
        "dbeta1": bn.bias.grad[:, None],
        "dZ1": z1.grad.T,
        "dW1": linear.weight.grad,
        "db1": linear.bias.grad[:, None],
        "running_mean1_new": bn.running_mean.clone()[:, None],
        "running_var1_new": bn.running_var.clone()[:, None],
    }
    # BN written out, so that autograd gives the gradients nn.BatchNorm1d keeps inside
    z = t(problem, "Z1").T.requires_grad_()
    mu = z.mean(0)
    mu.retain_grad()
    var = ((z - mu) ** 2).mean(0)
    var.retain_grad()
    zhat = (z - mu) / torch.sqrt(var + eps)
    zhat.retain_grad()
    (t(problem, "gamma1")[:, 0] * zhat + t(problem, "beta1")[:, 0]).backward(out["dBN1"].T)
    out |= {
        "mu1": mu[:, None],
        "var1": var[:, None],
        "Zhat1": zhat.T,
        "dZhat1": zhat.grad.T,
        "dvar1": var.grad[:, None],
        "dmu1": mu.grad[:, None],
    }
    assert torch.allclose(z.grad, z1.grad)  # the written-out BN is nn.BatchNorm1d's
    lr = scalar(problem, "lr")
    for name, grad in (("W1", "dW1"), ("b1", "db1"), ("W2", "dW2"), ("b2", "db2")):
        out[f"{name}_new"] = t(problem, name) - lr * out[grad]
    out["gamma1_new"] = t(problem, "gamma1") - lr * out["dgamma1"]
    out["beta1_new"] = t(problem, "beta1") - lr * out["dbeta1"]
    # eval mode, with the given running statistics: the new input, and the folded layer
    bn.running_mean.copy_(t(problem, "running_mean1")[:, 0])
    bn.running_var.copy_(t(problem, "running_var1")[:, 0])
    bn.eval()
    with torch.no_grad():
        out["Ztest"] = bn(linear(t(problem, "Xtest").T)).T
        wf, bf = fuse_linear_bn_weights(
            linear.weight, linear.bias, bn.running_mean, bn.running_var, eps, bn.weight, bn.bias
        )
        out["Wf1"], out["bf1"] = wf, bf[:, None]
        out["Zf"] = wf @ t(problem, "Xtest") + bf[:, None]
        scale = bn.weight / torch.sqrt(bn.running_var + eps)
        out["gammap1"] = scale[:, None]
        out["betap1"] = (bn.bias - bn.running_mean * scale)[:, None]
    return {k: v.detach().numpy() for k, v in out.items()}


@pytest.mark.parametrize(
    "options", OPTIONS, ids=lambda o: ",".join(map(str, o.values())) or "default"
)
def test_every_cell_agrees_with_pytorch(options: dict[str, Any]) -> None:
    checked = 0
    for seed in SEEDS[:15] if options else SEEDS:
        problem = handcalc.generate(kind="batchnorm", seed=seed, **options)
        expected = reference(problem)
        for name, value in expected.items():
            np.testing.assert_allclose(
                arr(problem, name), value, rtol=1e-10, atol=1e-12, err_msg=f"{name} seed {seed}"
            )
        assert np.allclose(arr(problem, "Ztest"), arr(problem, "Zf"))  # the question's answer
        assert problem.value("db1").is_zero_matrix
        checked += len(expected)
    assert checked > 0


def test_pytorch_s_eps_in_exact_mode() -> None:
    """eps 1/100000 (PyTorch's default) in exact mode: irrational roots, still PyTorch's values."""
    problem = handcalc.generate(
        kind="batchnorm", seed=3, transcendental="exact", eps="1/100000", loss="mse"
    )
    assert not problem.value("Zhat1").domain.is_QQ  # √(var + eps) is irrational
    assert problem.value("gammap1").domain.is_QQ  # running_var1 + eps is drawn a square
    expected = reference(problem)
    for name, value in expected.items():
        np.testing.assert_allclose(arr(problem, name), value, rtol=1e-9, atol=1e-12, err_msg=name)


def test_no_cell_is_irrational_outside_exact_mode() -> None:
    for seed in range(60):
        for options in ({}, {"activation": "leaky_relu", "batch": 5}, {"transcendental": "base"}):
            try:
                problem = handcalc.generate(kind="batchnorm", seed=seed, **options)
            except BudgetError:
                assert options.get("transcendental") == "base", (seed, options)
                continue
            for step in problem.steps:
                if step.name != "loss":
                    assert problem.value(step.name).domain.is_QQ, (seed, options, step.name)
            for name in ("var1", "running_var1"):
                for (v,) in problem.value(name).to_list():
                    assert _square(to_fraction(v)), (seed, options, name)


def _square(q: Fraction) -> bool:
    return math.isqrt(q.numerator) ** 2 == q.numerator and (
        math.isqrt(q.denominator) ** 2 == q.denominator
    )


def test_generation_is_deterministic_within_the_budgets() -> None:
    problem = handcalc.generate(kind="batchnorm", seed=11)
    assert handcalc.generate(kind="batchnorm", seed=11) == problem
    given = problem.given
    assert all(abs(to_fraction(v)) <= 3 for row in given["X"].to_list() for v in row)
    assert all(to_fraction(v).denominator == 1 for row in given["W1"].to_list() for v in row)
    for name in ("var1", "running_var1"):
        assert all(_square(to_fraction(v)) for (v,) in problem.value(name).to_list())
    assert all(v != 0 for row in problem.value("BN1").to_list() for v in row)
    for row in problem.value("dZ1").to_list():
        assert any(v != 0 for v in row)
    for step in problem.steps:
        if step.name != "loss":
            assert max(len(s) for r in printed(problem, step.name) for s in r) <= 10, step.name


def test_json_round_trip_and_authored_problems() -> None:
    problem = handcalc.generate(kind="batchnorm", seed=5)
    doc = problem.to_dict()
    assert doc["kind"] == "batchnorm" and doc["spec"]["eps"] == "0"
    assert [s["name"] for s in doc["steps"]][:6] == ["Z1", "mu1", "var1", "Zhat1", "BN1", "A1"]
    again = Problem.from_json(problem.to_json())
    assert again == problem and again.to_json() == problem.to_json()
    authored = {k: v for k, v in doc.items() if k != "steps"}
    del authored["spec"]
    authored["given"] = {k: v for k, v in doc["given"].items() if k not in ("eps", "momentum")}
    assert handcalc.solve(authored) == problem  # sizes, batch, eps and momentum inferred
    bad = {**authored, "given": {**authored["given"], "running_var1": [["2"], ["1"]]}}
    with pytest.raises(DocumentError, match=r"running_var1\[1\] \+ eps = 2 is not the square"):
        handcalc.solve(bad)
    with pytest.raises(DocumentError, match=r"given\.eps: '1/10' differs from spec\.eps"):
        handcalc.solve({**doc, "given": {**doc["given"], "eps": "1/10"}})
    with pytest.raises(DocumentError, match=r"spec\.eps: 1/10 makes √"):
        handcalc.solve({**authored, "given": {**authored["given"], "eps": "1/10"}})


def test_pytorch_s_eps_round_trips_in_exact_mode() -> None:
    """eps = 1/100000 puts roots of 13-digit numbers into the cells; the document keeps them."""
    options = {"transcendental": "exact", "eps": "1/100000", "loss": "mse"}
    problem = handcalc.generate(kind="batchnorm", seed=1, activation="identity", **options)
    assert Problem.from_json(problem.to_json()) == problem


def test_options_are_checked_with_advice() -> None:
    assert BatchNormSpec().sizes == (3, 2, 2) and BatchNormSpec().batch == 4
    with pytest.raises(SpecError, match="exactly 3 for batchnorm"):
        handcalc.generate(kind="batchnorm", seed=1, sizes=[3, 2, 2, 2])
    with pytest.raises(SpecError, match=r"eps: 1/100000 makes √\(var \+ eps\) irrational"):
        handcalc.generate(kind="batchnorm", seed=1, eps="1/100000")
    with pytest.raises(SpecError, match="eps"):
        handcalc.generate(kind="batchnorm", seed=1, eps="-1/2")
    with pytest.raises(BudgetError, match="never a non-zero perfect square"):
        handcalc.generate(kind="batchnorm", seed=1, batch=3)
    with pytest.raises(BudgetError, match="normalise to ±1"):
        handcalc.generate(kind="batchnorm", seed=1, batch=2)
    with pytest.raises(BudgetError, match="try another seed"):
        handcalc.generate(kind="batchnorm", seed=1, sizes=[1, 1, 2])


@pytest.fixture(scope="module")
def problem() -> Problem:
    return handcalc.generate(kind="batchnorm", seed=7)


def test_the_sheet_key_and_solutions(problem: Problem, tmp_path: Path) -> None:
    assert set(build_sheet(problem).inputs) == set(problem.graph.names)
    worksheet = render_html(problem, "worksheet")
    assert "biased variance" in worksheet and "hand mode" in worksheet
    assert "the mean subtraction" in worksheet or "subtracts each row" in worksheet
    assert "confirm that they are equal" in worksheet
    solutions = render_html(problem, "solutions")
    for derivation in ("∂Zhat[i,j]/∂var[i]", "∂var[i]/∂Z[i,j]", "∂BN[i,j]/∂gamma[i]"):
        assert derivation in solutions, derivation
    assert "Running statistics" in solutions and "Folding BN" in solutions
    pdf = render_pdf(problem, "worksheet")
    assert_looks_like(pdf, "worksheet-batchnorm-p1.png")
    path = tmp_path / "key.pdf"
    path.write_bytes(render_pdf(problem, "key"))
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "gammap" in text and printed(problem, "Zf")[1][0] in text


def _slip(m: Mat) -> Mat:
    rows = [[to_fraction(x) for x in row] for row in m.to_list()]
    rows[0][0] += 1
    return rational(rows)


def _quadruple(m: Mat) -> Mat:  # still a perfect square: every later root stays exact
    rows = [[to_fraction(x) for x in row] for row in m.to_list()]
    rows[0][0] *= 4
    return rational(rows)


def test_a_slip_to_a_variance_that_is_not_a_square_is_graded(problem: Problem) -> None:
    """The student's root is then irrational: the steps after it are re-run on its 4-decimal
    value, the one they write down (nothing irrational enters a hand-mode grade)."""
    report = handcalc.grade(problem, worked(problem, {"var1": _slip}))
    assert report.statuses["var1"] == "wrong" and report.statuses["mu1"] == "correct"
    assert report.statuses["Zhat1"] in ("carried", "wrong")
    report = handcalc.grade(problem, _answers_typed(problem, "var1", _slip))
    assert report.statuses["Zhat1"] == "correct"


def _answers_typed(problem: Problem, name: str, change: Callable[[Mat], Mat]) -> dict[str, Any]:
    """The key, with one cell changed (the student's later cells are the key's)."""
    cells = {s.name: problem.text(s.name) for s in problem.steps}
    cells[name] = to_strings(change(problem.value(name)))
    return {"cells": cells}


def test_grading_carries_credit_through_bn(problem: Problem) -> None:
    report = handcalc.grade(problem, worked(problem, {"var1": _quadruple}))
    statuses = report.statuses
    assert statuses["var1"] == "wrong"
    for later in ("Zhat1", "BN1", "A1", "Z2", "dgamma1", "dvar1", "dZ1", "running_var1_new"):
        assert statuses[later] == "carried", (later, statuses[later])
    assert statuses["mu1"] == "correct" and statuses["Wf1"] == "correct"
    assert 0 < report.score < report.max_score


def _diagnosis(problem: Problem, name: str, wrong: Callable[[Problem], Mat]) -> Any:
    report = handcalc.grade(problem, _answers_typed(problem, name, lambda m: wrong(problem)))
    return report[name]


def test_bn_mistakes_are_diagnosed(problem: Problem) -> None:
    from handcalc.ops.base import add, hadamard, row_sums, scale
    from handcalc.ops.batchnorm import by_rows, centred, deviation, inverse, spread

    value = problem.value
    batch = problem.spec.batch
    unbiased = _diagnosis(
        problem, "var1", lambda p: scale(value("var1"), Fraction(batch, batch - 1))
    )
    assert "unbiased_variance" in unbiased.diagnosis and "biased variance" in unbiased.feedback

    direct = by_rows(inverse(deviation(value("var1"), value("eps"))), value("dZhat1"))
    paths = _diagnosis(problem, "dZ1", lambda p: direct)
    assert "bn_paths_forgotten" in paths.diagnosis and "dvar" in paths.feedback
    no_mu = add(
        direct,
        scale(by_rows(value("dvar1"), centred(value("Z1"), value("mu1"))), Fraction(2, batch)),
    )
    assert "dmu_path_forgotten" in _diagnosis(problem, "dZ1", lambda p: no_mu).diagnosis

    first = hadamard(value("dBN1"), value("Zhat1"))
    column = rational([[to_fraction(r[0])] for r in first.to_list()])
    not_summed = _diagnosis(problem, "dgamma1", lambda p: column)
    assert "dgamma_not_summed" in not_summed.diagnosis
    assert row_sums(first) == value("dgamma1") and spread(value("mu1"), 1) == value("mu1")


def test_the_practice_page_and_cli_offer_it() -> None:
    from click.testing import CliRunner

    from handcalc.cli import cli

    result = CliRunner().invoke(cli, ["generate", "--kind", "batchnorm", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert '"kind": "batchnorm"' in result.output
    result = CliRunner().invoke(cli, ["kinds"])
    assert "batchnorm" in result.output


def test_generate_and_solve_are_fast() -> None:
    import time

    start = time.perf_counter()
    for seed in range(20):
        handcalc.generate(kind="batchnorm", seed=seed)
    assert (time.perf_counter() - start) / 20 < 0.05  # measured median ≈ 8 ms; slack for CI
