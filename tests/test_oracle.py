"""Answer keys against an independent float64 oracle (PyTorch autograd), swept by hypothesis over
seeds and every option: activation, loss, reduction, batch, depth, widths, frozen layers, modes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import oracle, table_softmax

import handcalc

ACTIVATIONS = ["relu", "leaky_relu", "identity", "sigmoid", "tanh"]
LOSSES = ["softmax_ce", "sigmoid_bce", "mse"]


@st.composite
def options(draw: st.DrawFn, modes: tuple[str, ...] = ("table", "base")) -> dict:
    layers = draw(st.integers(1, 4))
    loss = draw(st.sampled_from(LOSSES))
    sizes = [draw(st.integers(1, 4)) for _ in range(layers + 1)]
    if loss == "softmax_ce":
        sizes[-1] = max(2, sizes[-1])
    mode = draw(st.sampled_from(modes))
    activation = draw(st.sampled_from(ACTIVATIONS))
    if mode == "base" and activation in ("sigmoid", "tanh", "leaky_relu"):
        activation = "relu"  # refused or infeasible in base mode: see test_refusals
    if mode == "exact" and activation in ("sigmoid", "tanh"):
        activation = "identity"
    frozen = draw(st.sets(st.integers(1, layers), max_size=layers - 1)) if layers > 1 else set()
    if mode == "table" and activation in ("sigmoid", "tanh"):
        frozen = set()
        sizes = sizes[: min(len(sizes), 3)]  # at most two layers of tabulated derivatives
        if len(sizes) == 2 and loss == "softmax_ce":
            sizes[-1] = max(2, sizes[-1])
    return {
        "sizes": sizes,
        "activation": activation,
        "loss": loss,
        "batch": draw(st.integers(1, 3)),
        "reduction": draw(st.sampled_from(["sum", "mean"])),
        "lr": draw(st.sampled_from(["1/10", "1/2", "1", "0.05"])),
        "frozen": sorted(frozen),
        "slope": draw(st.sampled_from(["1/10", "1/20", "1/5"])),
        "transcendental": mode,
        "digits": draw(st.integers(1, 3)),
        "base": draw(st.sampled_from([2, 3])),
        "max_chars": 40,  # the keys' correctness, not their length: every network that solves
    }


def assert_matches_oracle(problem: handcalc.Problem) -> None:
    doc = problem.to_dict()
    expected = oracle(doc)
    steps = {s["name"]: np.array(s["approx"]) for s in doc["steps"]}
    assert set(steps) == set(expected), "the key has other cells than backprop computes"
    digits = doc["spec"]["digits"]
    for name, value in steps.items():
        if name == "loss" and doc["spec"]["transcendental"] == "table":
            # the loss is the exact loss rounded to the table's decimals
            assert abs(value - expected[name]).max() <= 0.5 * 10**-digits + 1e-12, name
            continue
        np.testing.assert_allclose(value, expected[name], rtol=1e-9, atol=1e-12, err_msg=name)


@settings(max_examples=400)
@given(opts=options(), seed=st.integers(0, 10**9))
def test_keys_agree_with_float64_autograd(opts: dict, seed: int) -> None:
    assert_matches_oracle(handcalc.generate(seed=seed, **opts))


@settings(max_examples=12)
@given(opts=options(modes=("exact",)), seed=st.integers(0, 10**9))
def test_exact_mode_keys_agree_with_float64_autograd(opts: dict, seed: int) -> None:
    opts["sizes"] = opts["sizes"][:3]
    if opts["loss"] == "softmax_ce":
        opts["sizes"][-1] = max(2, opts["sizes"][-1])
    opts["frozen"] = [f for f in opts["frozen"] if f < len(opts["sizes"]) - 1]
    try:
        problem = handcalc.generate(seed=seed, **opts)
    except handcalc.BudgetError as e:
        assert "use transcendental 'table'" in str(e)  # refused: too long to print
        return
    assert_matches_oracle(problem)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_every_activation_loss_and_reduction_on_the_default_network(
    activation: str, loss: str, reduction: str
) -> None:
    for seed in range(3):
        problem = handcalc.generate(
            seed=seed, activation=activation, loss=loss, reduction=reduction, max_chars=40
        )
        assert_matches_oracle(problem)


def test_table_softmax_is_within_rounding_and_sums_to_one() -> None:
    """Every column of the softmax table (the rows the key needs and the distractors) is
    within rounding of the float softmax of its argument, sums to 1 and is largest remainder's;
    the key's A3 is the table's row of each column of Z3."""
    for seed in range(30):
        problem = handcalc.generate(seed=seed, digits=2)
        rows = problem.to_dict()["tables"]["softmax(Z3)"]["rows"]
        z = np.array([[eval_fraction(t) for t in row["z"]] for row in rows]).T
        probs = np.array([[eval_fraction(t) for t in row["a"]] for row in rows]).T
        exact = np.exp(z - z.max(0)) / np.exp(z - z.max(0)).sum(0)
        assert np.abs(probs - exact).max() < 0.01
        assert np.allclose(probs.sum(0), 1.0)
        np.testing.assert_allclose(probs, table_softmax(z, 2))
        z3 = np.array(problem.to_dict()["steps"][4]["approx"])
        a3 = np.array(problem.to_dict()["steps"][5]["approx"])
        for j in range(z3.shape[1]):
            (k,) = np.flatnonzero(np.all(np.isclose(z, z3[:, [j]]), axis=0))
            np.testing.assert_allclose(a3[:, j], probs[:, k])


def eval_fraction(text: str) -> float:
    num, _, den = text.partition("/")
    return float(num) / int(den or 1)


# --- any output/loss pair: squared error of a sigmoid (no shortcut for dZ_L) --------------------


@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 10**9),
    sizes=st.sampled_from([[2, 2], [3, 2], [2, 2, 2], [2, 3, 1], [3, 2, 2, 2]]),
    activation=st.sampled_from(["relu", "leaky_relu", "identity", "sigmoid", "tanh"]),
    batch=st.integers(1, 3),
    reduction=st.sampled_from(["sum", "mean"]),
    lr=st.sampled_from(["1/10", "1/2", "1"]),
    digits=st.integers(1, 2),
)
def test_sigmoid_output_with_squared_error_agrees_with_autograd(
    seed: int, sizes: list, activation: str, batch: int, reduction: str, lr: str, digits: int
) -> None:
    if activation in ("sigmoid", "tanh"):
        sizes = sizes[:3]
    problem = handcalc.generate(
        seed=seed,
        sizes=sizes,
        activation=activation,
        loss="mse",
        output="sigmoid",
        batch=batch,
        reduction=reduction,
        lr=lr,
        digits=digits,
        max_chars=40,
    )
    assert problem.to_dict()["spec"]["output"] == "sigmoid"
    assert_matches_oracle(problem)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("sizes", "batch"), [([2, 2, 1], 2), ([2, 2, 2], 1), ([3, 1], 2)])
def test_sigmoid_output_with_squared_error_in_exact_mode(
    seed: int, sizes: list, batch: int
) -> None:
    problem = handcalc.generate(
        seed=seed,
        sizes=sizes,
        batch=batch,
        loss="mse",
        output="sigmoid",
        transcendental="exact",
        max_chars=40,
    )
    assert_matches_oracle(problem)


def test_the_oracle_reads_output_and_its_default() -> None:
    """A document without ``output`` is the loss's own pair; naming it changes the result."""
    doc = handcalc.generate(seed=5, sizes=[2, 2], loss="mse", batch=1, digits=1).to_dict()
    assert "output" not in doc["spec"]
    own = oracle(doc)
    doc["spec"]["output"] = "sigmoid"
    squashed = oracle(doc)
    assert np.allclose(own["A1"], own["Z1"])
    assert np.all((squashed["A1"] >= 0) & (squashed["A1"] <= 1))
    a, y = squashed["A1"], np.array([[float(v) for v in r] for r in doc["given"]["Y"]])
    np.testing.assert_allclose(squashed["dZ1"], (a - y) * a * (1 - a))
