"""The zero_init kind: every cell against PyTorch (zero-initialised ``nn.Linear`` layers trained
by ``torch.optim.SGD``, gradients by autograd, float64), the lesson's facts (which parameters
move, and the symmetry that never breaks), the options that would round refused, JSON, the
sheets, and grading with credit carried across steps."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from pictures import assert_looks_like
from students import worked

import handcalc
from handcalc.errors import DocumentError, SpecError
from handcalc.kinds.zero_init import parameters
from handcalc.matrix import Mat, rational, to_floats, to_fraction, to_strings
from handcalc.problem import Problem
from handcalc.render import render_html, render_pdf
from handcalc.specs import ZeroInitSpec

torch.set_default_dtype(torch.float64)

HAS_OUTPUT = "output" in ZeroInitSpec.known()

#: option sets the oracle checks, each over several seeds
CASES: list[dict[str, Any]] = [
    {},
    {"activation": "tanh", "steps": 3, "batch": 2},
    {"activation": "sigmoid", "batch": 2, "reduction": "mean", "lr": "1/10"},
    {"activation": "sigmoid", "sizes": [2, 3, 2, 2]},
    {"activation": "relu", "loss": "softmax_ce", "sizes": [2, 2, 3]},
    {"activation": "sigmoid", "loss": "softmax_ce", "sizes": [3, 2, 2], "batch": 2},
    {"activation": "tanh", "loss": "sigmoid_bce", "batch": 2},
    {"activation": "sigmoid", "loss": "sigmoid_bce"},
    {"activation": "relu", "loss": "softmax_ce", "sizes": [2, 2, 4], "steps": 1},
    {"activation": "relu", "steps": 3, "sizes": [3, 2, 2, 2], "transcendental": "exact"},
]
if HAS_OUTPUT:
    CASES.append({"activation": "sigmoid", "output": "sigmoid", "loss": "mse", "steps": 1})


def torch_steps(problem: Problem) -> list[dict[str, np.ndarray]]:
    """Each SGD step of the problem's network in PyTorch: zero-initialised ``nn.Linear``
    layers, samples as rows, ``torch.optim.SGD``; every cell of the step (as handcalc names it,
    without its section) in handcalc's orientation, samples as columns."""
    spec = problem.spec
    sizes, n = spec.sizes, spec.layers
    layers = [torch.nn.Linear(sizes[i], sizes[i + 1]) for i in range(n)]
    for layer in layers:
        torch.nn.init.zeros_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    params = [p for layer in layers for p in (layer.weight, layer.bias)]
    optimiser = torch.optim.SGD(params, lr=float(spec.lr))
    x = torch.tensor(to_floats(problem.value("X"))).T
    y = torch.tensor(to_floats(problem.value("Y"))).T
    factor = float(spec.factor)
    hidden = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[spec.activation]
    output = getattr(spec, "output", {"mse": "identity"}.get(spec.loss, ""))
    out = []
    for _ in range(spec.steps):
        optimiser.zero_grad()
        before = [p.detach().clone() for p in params]
        cells: dict[str, torch.Tensor] = {}
        a = x
        for i, layer in enumerate(layers, start=1):
            z = layer(a)
            z.retain_grad()
            if i < n:
                a = hidden(z)
                a.retain_grad()
            elif spec.loss == "softmax_ce":
                a = torch.softmax(z, 1)
            elif output == "sigmoid" or spec.loss == "sigmoid_bce":
                a = torch.sigmoid(z)
            else:
                a = z
            cells[f"Z{i}"], cells[f"A{i}"] = z, a
        z_out = cells[f"Z{n}"]
        if spec.loss == "softmax_ce":
            loss = torch.nn.functional.cross_entropy(z_out, y.argmax(1), reduction="sum")
        elif spec.loss == "sigmoid_bce":
            loss = torch.nn.functional.binary_cross_entropy_with_logits(z_out, y, reduction="sum")
        else:
            loss = 0.5 * ((cells[f"A{n}"] - y) ** 2).sum()
        loss = loss * factor
        loss.backward()
        step = {name: v.detach().T.numpy() for name, v in cells.items()}
        step["loss"] = np.array([[loss.item()]])
        for i, layer in enumerate(layers, start=1):
            step[f"dZ{i}"] = cells[f"Z{i}"].grad.T.numpy()
            if i < n:
                step[f"dA{i}"] = cells[f"A{i}"].grad.T.numpy()
            step[f"dW{i}"] = layer.weight.grad.numpy().copy()
            step[f"db{i}"] = layer.bias.grad.numpy().copy()[:, None]
        optimiser.step()
        for i, layer in enumerate(layers, start=1):
            step[f"W{i}_new"] = layer.weight.detach().numpy().copy()
            step[f"b{i}_new"] = layer.bias.detach().numpy().copy()[:, None]
        moved = [int(not torch.equal(p.detach(), b)) for p, b in zip(params, before, strict=True)]
        step["moved"] = np.array([moved])
        out.append(step)
    return out


def _check_against_torch(problem: Problem) -> None:
    steps = torch_steps(problem)
    names = set(problem.graph.names)
    for k, expected in enumerate(steps, start=1):
        for local, value in expected.items():
            name = f"s{k}.{local}"
            assert name in names, name
            got = np.array(to_floats(problem.value(name)))
            op = problem.graph[name].op
            # the loss is stated to its decimals; table mode keeps it rounded
            rounded = op.decimals is not None and problem.spec.transcendental == "table"
            tolerance = 0.5 * 10.0**-op.decimals + 1e-12 if rounded else 1e-9
            assert np.allclose(got, value, rtol=0, atol=tolerance), (name, got, value)
    assert len(names) == sum(len(s) for s in steps)  # every cell is checked


@pytest.mark.parametrize(("case", "seed"), list(itertools.product(range(len(CASES)), range(4))))
def test_every_cell_is_what_pytorch_computes(case: int, seed: int) -> None:
    _check_against_torch(handcalc.generate(kind="zero_init", seed=seed, **CASES[case]))


def _moved(problem: Problem, k: int) -> list[int]:
    return [int(to_fraction(x)) for x in problem.value(f"s{k}.moved").to_list()[0]]


def _rows(m: Mat) -> list[list[Any]]:
    return m.to_list()


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("loss", ["mse", "softmax_ce", "sigmoid_bce"])
def test_with_relu_or_tanh_only_the_output_bias_ever_moves(activation: str, loss: str) -> None:
    sizes = [2, 3, 2, 3] if loss == "softmax_ce" else [2, 3, 2, 2]
    steps = 3 if loss == "mse" else 2
    for seed in range(3):
        p = handcalc.generate(
            kind="zero_init", seed=seed, activation=activation, loss=loss, sizes=sizes, steps=steps
        )
        n = p.spec.layers
        for k in range(1, steps + 1):
            assert _moved(p, k) == [0] * (2 * n - 1) + [1]
            for layer in range(1, n + 1):
                assert not any(x for row in _rows(p.value(f"s{k}.W{layer}_new")) for x in row)
            assert all(x != 0 for row in _rows(p.value(f"s{k}.b{n}_new")) for x in row)


@pytest.mark.parametrize("sizes", [[2, 2, 2], [3, 2, 3, 2]])
@pytest.mark.parametrize("loss", ["mse", "sigmoid_bce", "softmax_ce"])
def test_with_sigmoid_the_hidden_units_stay_copies(sizes: list[int], loss: str) -> None:
    """σ(0) = 1/2 feeds the output layer: step 1 moves the last layer (its W with identical
    columns), step 2 one layer further down; the rows of every hidden W stay identical."""
    for seed in range(3):
        p = handcalc.generate(
            kind="zero_init", seed=seed, activation="sigmoid", loss=loss, sizes=sizes, batch=2
        )
        n = p.spec.layers
        for k in (1, 2):
            lowest = n - k + 1  # the lowest layer reached by step k
            expected = [int(layer >= lowest) for layer in range(1, n + 1) for _ in "Wb"]
            assert _moved(p, k) == expected, (k, _moved(p, k))
            for layer in range(1, n + 1):
                w = to_strings(p.value(f"s{k}.W{layer}_new"))
                columns = list(zip(*w, strict=True))
                if layer < n:
                    assert all(row == w[0] for row in w), (k, layer, w)  # identical units
                if layer > 1:
                    assert all(col == columns[0] for col in columns), (k, layer, w)


def test_the_options_that_would_round_are_refused_with_advice() -> None:
    # a uniform softmax over 3 classes cannot be held to 2 decimals: exact mode is implied
    assert ZeroInitSpec.from_options({"loss": "softmax_ce", "sizes": [2, 2, 3]}).transcendental == (
        "exact"
    )
    assert ZeroInitSpec.from_options({"loss": "softmax_ce", "steps": 1}).transcendental == "table"
    assert ZeroInitSpec.from_options({"loss": "sigmoid_bce"}).transcendental == "exact"
    assert ZeroInitSpec.from_options({}).transcendental == "table"
    refused = [
        ({"loss": "softmax_ce", "sizes": [2, 2, 3], "transcendental": "table"}, "0.33/0.33/0.34"),
        ({"loss": "sigmoid_bce", "transcendental": "table"}, "use transcendental exact"),
        ({"activation": "sigmoid", "steps": 3}, "use steps 2"),
        ({"loss": "softmax_ce", "steps": 3}, "use steps 2"),
        ({"sizes": [2, 2]}, "needs a hidden layer"),
        ({"activation": "leaky_relu"}, "accepted: relu, tanh, sigmoid"),
        ({"transcendental": "base"}, "accepted: table, exact"),
        ({"frozen": [1]}, "leave frozen empty"),
    ]
    if HAS_OUTPUT:
        refused.append(({"output": "sigmoid", "loss": "mse"}, "use steps 1, or loss sigmoid_bce"))
    for options, advice in refused:
        with pytest.raises(SpecError, match=advice):
            ZeroInitSpec.from_options(options)


def test_a_problem_round_trips_through_json() -> None:
    for options in (CASES[0], CASES[5]):
        p = handcalc.generate(kind="zero_init", seed=11, **options)
        doc = p.to_dict()
        assert doc["kind"] == "zero_init" and doc["spec"]["steps"] == 2
        again = Problem.from_json(p.to_json())
        assert again == p and again.to_json() == p.to_json()
        assert handcalc.solve(doc) == p
        assert doc["steps"][-1]["name"] == "s2.moved"


def test_an_authored_start_must_be_zero() -> None:
    p = handcalc.generate(kind="zero_init", seed=2)
    doc = p.to_dict(answers=False)
    doc["given"]["W2"] = [["0", "1"], ["0", "0"]]
    with pytest.raises(DocumentError, match=r"given\.W2: zero_init starts from zero weights"):
        handcalc.solve(doc)


def test_the_sheets_ask_for_and_explain_what_moved(tmp_path: Path) -> None:
    relu = handcalc.generate(kind="zero_init", seed=7)
    sigmoid = handcalc.generate(kind="zero_init", seed=7, activation="sigmoid")
    worksheet = render_html(relu, "worksheet")
    assert "s1.moved" in worksheet and "changed (1)" in worksheet
    assert "Every weight and bias starts at 0" in worksheet
    key = render_html(relu, "key")
    for step in relu.steps:
        assert step.name in key, step.name
    assert "only the output bias" not in worksheet
    assert "the output bias is the one parameter that moves" in render_html(relu, "solutions")
    solutions = render_html(sigmoid, "solutions")
    assert "copies of one another" in solutions and "identical" in solutions
    for document in ("worksheet", "key", "solutions"):
        pdf = tmp_path / f"{document}.pdf"
        pdf.write_bytes(render_pdf(sigmoid, document))
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "s2.moved" in text, document
    pdf = render_pdf(relu, "worksheet", date="2026-01-01", secret="reference")
    assert_looks_like(pdf, "worksheet-zero_init-p1.png")


def test_a_slip_in_step_one_carries_into_step_two() -> None:
    p = handcalc.generate(kind="zero_init", seed=4, activation="sigmoid", batch=2)

    def slip(m: Mat) -> Mat:
        rows = [[to_fraction(x) for x in row] for row in m.to_list()]
        rows[0][0] += 1
        return rational(rows)

    report = handcalc.grade(p, worked(p, {"s1.db2": slip}))
    statuses = report.statuses
    assert statuses["s1.db2"] == "wrong"
    for later in ("s1.b2_new", "s2.Z2", "s2.A2", "s2.dZ2", "s2.db2", "s2.dW1", "s2.W2_new"):
        assert statuses[later] == "carried", (later, statuses[later])
    assert statuses["s1.moved"] == "correct" and statuses["s1.W2_new"] == "correct"
    assert 0 < report.score < report.max_score


def test_moved_is_diagnosed_with_its_own_mistakes() -> None:
    p = handcalc.generate(kind="zero_init", seed=4)
    n = 2 * p.spec.layers
    report = handcalc.grade(p, worked(p, {"s1.moved": lambda m: rational([[0] * n])}))
    cell = report["s1.moved"]
    assert cell.status == "wrong" and "nothing_moves" in cell.diagnosis
    assert "the output bias's does not" in cell.feedback
    sigmoid = handcalc.generate(kind="zero_init", seed=4, activation="sigmoid")
    only_bias = rational([[0] * (n - 1) + [1]])
    report = handcalc.grade(sigmoid, worked(sigmoid, {"s1.moved": lambda m: only_bias}))
    assert "output_bias_only" in report["s1.moved"].diagnosis
    assert [p.name for p in parameters(sigmoid.spec)] == ["W1", "b1", "W2", "b2"]
