"""Traces: the first epoch is the exact engine's update (every treatment and kind of layer), the
files keep their contract, a seed gives the same numbers (pinned by a checksum), and mistakes
are one clear error."""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import handcalc
from handcalc.errors import HandcalcError, SpecError
from handcalc.tracing import Trace, TrainingError, trace

#: an authored network (fixed numbers: generator changes cannot move the pinned checksum)
AUTHORED = {
    "spec": {"activation": "relu", "loss": "softmax_ce", "lr": "1/10"},
    "given": {
        "X": [["1", "-1"], ["2", "1"]],
        "W1": [["1", "-1"], ["2", "0"], ["-1", "1"]],
        "b1": [["0"], ["1"], ["1"]],
        "W2": [["1", "1", "-1"], ["-1", "2", "1"]],
        "b2": [["0"], ["0"]],
        "Y": [["1", "0"], ["0", "1"]],
    },
}


def _floats(problem: handcalc.Problem, name: str) -> np.ndarray:
    return np.array([[float(v) for v in row] for row in problem[name].tolist()])


@pytest.mark.parametrize(
    "options",
    [
        {"seed": 7},
        {"seed": 2},
        {
            "seed": 5,
            "sizes": "2,3,2",
            "activation": "sigmoid",
            "loss": "sigmoid_bce",
            "digits": "1",
        },
        {"seed": 3, "sizes": "3,2,2", "activation": "tanh", "loss": "mse", "digits": "1"},
        {"seed": 4, "activation": "leaky_relu", "reduction": "mean"},
        {"seed": 4, "transcendental": "base", "reduction": "mean"},
        {"seed": 6, "sizes": "3,3,1", "loss": "sigmoid_bce", "transcendental": "base", "base": "2"},
        {"seed": 8, "sizes": "3,2,2", "activation": "identity", "loss": "mse", "batch": "3"},
        {"seed": 9, "sizes": "2,3,2", "transcendental": "exact"},
        {"seed": 1, "frozen": "1", "lr": "1/4"},
        # squared error of a sigmoid output: no A − Y shortcut, dZ = (A − Y)∘A∘(1 − A)
        {"seed": 5, "sizes": "2,2,2", "loss": "mse", "output": "sigmoid", "digits": "1"},
        {
            "seed": 2,
            "sizes": "2,2,1",
            "batch": "1",
            "loss": "mse",
            "output": "sigmoid",
            "transcendental": "exact",
            "max_chars": "40",
        },
    ],
    ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()),
)
def test_the_first_epoch_is_the_exact_engines_update(options: dict) -> None:
    run = trace(epochs=2, **options)
    problem = run.problem
    for name in problem.graph.given:
        if name[0] in "Wb":
            assert np.array_equal(run.values[name][0], _floats(problem, name)), name
    for layer in range(1, problem.spec.layers + 1):
        for p in ("W", "b"):
            name = f"{p}{layer}"
            if layer in problem.spec.trainable:
                key = _floats(problem, f"{name}_new")
            else:
                key = _floats(problem, name)  # frozen: never moves
            assert np.allclose(run.values[name][1], key, rtol=1e-12, atol=1e-12), name
    # the loss at epoch 0 is the key's (which table mode rounds to its decimals)
    key_loss = float(problem["loss"][0])
    digits = problem.spec.digits if problem.spec.transcendental == "table" else 9
    assert abs(run.loss[0] - key_loss) <= 0.5 * 10**-digits + 1e-12


def test_an_authored_document_trains_too() -> None:
    run = trace(AUTHORED, epochs=3)
    key = handcalc.solve(AUTHORED)
    assert np.allclose(run.values["W2"][1], _floats(key, "W2_new"), rtol=1e-12)
    assert not run.generated and run.command().startswith("handcalc trace PROBLEM.json")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def test_the_same_seed_gives_the_same_numbers_on_every_machine() -> None:
    """Pinned: products and sums in one order, exp and log from basic operations (see
    ``handcalc.portable``), so these checksums are the same wherever the tests run."""
    a = trace(AUTHORED, data="moons", seed=11, epochs=15, batch_size=16, samples=64)
    b = trace(AUTHORED, data="moons", seed=11, epochs=15, batch_size=16, samples=64)
    assert a.to_csv() == b.to_csv() and a.loss_csv() == b.loss_csv()
    assert _sha(a.to_csv()) == "3b5fbab633a9c146"
    other = trace(AUTHORED, data="moons", seed=12, epochs=15, batch_size=16, samples=64)
    assert other.to_csv() != a.to_csv()


def test_a_generated_trace_is_reproducible() -> None:
    assert trace(seed=7, epochs=20).to_csv() == trace(seed=7, epochs=20).to_csv()


def test_trace_csv_keeps_its_contract(tmp_path: Path) -> None:
    run = trace(seed=7, epochs=5)
    run.write(tmp_path, plots=False)
    lines = (tmp_path / "trace.csv").read_text().splitlines()
    assert lines[0] == "epoch,name,row,col,value"
    entries = sum(v[0].size for v in run.values.values())
    assert len(lines) == 1 + 6 * entries
    rows = [line.split(",") for line in lines[1:]]
    given = {(n, int(r), int(c)): float(v) for e, n, r, c, v in rows if e == "0"}
    assert given[("W1", 1, 1)] == float(run.problem["W1"][0, 0])
    assert given[("b3", 3, 1)] == float(run.problem["b3"][2, 0])
    assert {e for e, *_ in rows} == {str(e) for e in range(6)}
    new = {(n, int(r), int(c)): float(v) for e, n, r, c, v in rows if e == "1"}
    assert new[("W3", 1, 1)] == pytest.approx(float(run.problem["W3_new"][0, 0]), rel=1e-12)
    loss = (tmp_path / "loss.csv").read_text().splitlines()
    assert loss[0] == "epoch,loss" and len(loss) == 7 and loss[1].startswith("0,")
    doc = json.loads((tmp_path / "trace.json").read_text())
    assert doc["format"] == "handcalc/trace@1" and doc["epochs"] == 5
    assert np.array_equal(np.array(doc["parameters"]["W2"]), run.values["W2"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.csv", "trace.csv", "trace.json"]


@pytest.mark.parametrize("data", ["moons", "xor", "blobs"])
def test_a_data_set_trains_the_problems_network(data: str) -> None:
    run = trace(seed=3, data=data, epochs=60, samples=120)
    assert run.spec.sizes[0] == 2 and run.spec.reduction == "mean"
    assert run.X.shape == (2, 120) and run.accuracy is not None
    assert run.loss[-1] < run.loss[0] and run.accuracy[-1] > run.accuracy[0]
    assert "accuracy" in run.loss_csv().splitlines()[0]


def test_mini_batches_take_several_steps_an_epoch() -> None:
    full = trace(seed=3, data="moons", epochs=4, samples=64)
    mini = trace(seed=3, data="moons", epochs=4, samples=64, batch_size=8)
    assert not np.array_equal(full.values["W1"][1], mini.values["W1"][1])
    assert mini.batch_size == 8 and "mini-batches of 8" in mini.describe()


def test_frozen_layers_never_move() -> None:
    run = trace(seed=3, data="moons", epochs=10, frozen="1,2")
    assert np.all(run.values["W1"] == run.values["W1"][0])
    assert not np.all(run.values["W3"] == run.values["W3"][0])


def test_the_table_treatment_is_the_sheets() -> None:
    run = trace(seed=7, epochs=3)
    a = run.network.output(np.array([[2.0, 0.0], [1.0, 0.0], [0.0, 0.0]]))
    assert np.allclose(a.sum(axis=0), 1.0)  # largest remainder: each column sums to 1
    assert np.all(np.round(a * 100) == a * 100)
    assert a[:, 1].tolist() == [0.34, 0.33, 0.33]  # three equal thirds: the upper row first


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"seed": 7, "epochs": 0}, SpecError, "epochs: 0 is not accepted"),
        ({"seed": 7, "data": "iris"}, SpecError, "data: 'iris' is not accepted"),
        ({"seed": 7, "batch_size": 1}, SpecError, "mini-batches are for the data sets"),
        ({"seed": 7, "data": "moons", "sizes": "3,4,2"}, SpecError, "first size must be 2"),
        ({"seed": 7, "data": "moons", "sizes": "2,4,3"}, SpecError, "the last size must be 2"),
        ({"seed": 7, "sise": "2,2"}, SpecError, "unknown option 'sise'"),
        ({"seed": 7, "data": "moons", "batch_size": 999}, SpecError, "batch_size: 999"),
    ],
)
def test_mistakes_are_clear_errors(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        trace(**kwargs)


def test_a_problem_and_options_together_are_refused() -> None:
    with pytest.raises(SpecError, match="give either a problem or options"):
        trace(AUTHORED, sizes="2,2")


def test_a_run_that_diverges_says_what_to_change() -> None:
    regression = {**AUTHORED, "spec": {"activation": "relu", "loss": "mse", "lr": "10"}}
    with pytest.raises(TrainingError, match=r"diverged by epoch .*smaller lr than 10"):
        trace(regression, data="moons", seed=1, epochs=50)
    assert issubclass(TrainingError, HandcalcError)


def test_the_api_exports_trace_and_its_command_repeats_it() -> None:
    run = handcalc.trace(seed=7, epochs=2)
    assert isinstance(run, Trace) and run.lr == Fraction(1, 10)
    assert run.command() == "handcalc trace --seed 7 --epochs 2 --out trace/"
    moved = run.moved_after(1)
    assert len(moved) == sum(v[0].size for v in run.values.values())
