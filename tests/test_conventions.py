"""The conventions printed on a sheet: made from mode × activation × output × loss × reduction,
saying what the key and the grader do and nothing that does not apply."""

from __future__ import annotations

import itertools

import pytest

import handcalc
from handcalc.conventions import instructions
from handcalc.errors import HandcalcError

MODES = ("table", "base", "exact")
ACTIVATIONS = ("relu", "leaky_relu", "identity", "sigmoid", "tanh")
LOSSES = ("softmax_ce", "sigmoid_bce", "mse")


def _problems():
    for mode, activation, loss, reduction in itertools.product(
        MODES, ACTIVATIONS, LOSSES, ("sum", "mean")
    ):
        sizes = [2, 2, 2] if mode == "exact" else [2, 3, 2]
        options = dict(
            transcendental=mode,
            activation=activation,
            loss=loss,
            reduction=reduction,
            sizes=sizes,
            max_chars=40,
            digits=1 if activation in ("sigmoid", "tanh") else 2,
        )
        try:
            yield options, handcalc.generate(seed=1, **options)
        except HandcalcError:
            continue  # refused up front (base mode's hidden sigmoid, …): nothing to print


PROBLEMS = list(_problems())


def test_the_sweep_covers_every_mode_activation_and_loss():
    seen = {(o["transcendental"], o["activation"], o["loss"]) for o, _ in PROBLEMS}
    assert {m for m, _, _ in seen} == set(MODES)
    assert {a for _, a, _ in seen} == set(ACTIVATIONS)
    assert len(PROBLEMS) > 40


@pytest.mark.parametrize(("options", "problem"), PROBLEMS, ids=lambda x: "")
def test_conventions_say_what_is_in_force(options, problem):
    text = " ".join(instructions(problem))
    mode, activation, loss = options["transcendental"], options["activation"], options["loss"]
    mean = options["reduction"] == "mean"
    # the output gradient, with the batch size under the mean
    assert ("dZ₂ = (A₂ − Y)/2" if mean else "dZ₂ = A₂ − Y") in text
    assert ("reduction “mean”" if mean else "reduction “sum”") in text
    # the loss formula in force, with the logarithm the key uses
    log = "log₃" if mode == "base" else "ln"
    formula = {
        "softmax_ce": f"Σ Y∘{log} A₂",
        "sigmoid_bce": f"Σ [Y∘{log} A₂ + (1 − Y)∘{log}(1 − A₂)]",
        "mse": "Σ (A₂ − Y)²",
    }[loss]
    assert formula in text and ("(1/2)·Σ" in text) == mean
    if mode == "base":
        assert " ln" not in text
    # the hidden activation's derivative, and no other
    assert ("; ReLU′(0) = 0." in text) == (activation == "relu")
    assert ("leaky ReLU′(0) = 0.1" in text) == (activation == "leaky_relu")
    assert ("σ′ = A∘(1 − A)" in text) == (activation == "sigmoid")
    assert ("tanh′ = 1 − A²" in text) == (activation == "tanh")
    # how values are read, and the precision the loss is written to
    assert ("Lookup table" in text) == bool(problem.tables)
    assert ("tolerance of 1 %" in text) == (mode == "exact")
    digits = options["digits"]
    assert f"write L to {digits} decimal{'s' if digits > 1 else ''}" in text
    assert "tolerance" not in text or mode == "exact"


def test_a_one_layer_net_has_no_hidden_derivative():
    text = " ".join(instructions(handcalc.generate(seed=2, sizes=[2, 2], loss="sigmoid_bce")))
    assert "f′" not in text and "dA" not in text and "ReLU" not in text


def test_frozen_layers_say_where_backprop_stops():
    problem = handcalc.generate(
        seed=7, transcendental="base", reduction="mean", lr="1/2", frozen="1"
    )
    text = " ".join(instructions(problem))
    assert "Frozen layer 1" in text and "backprop stops at dZ₂" in text
    assert "lr = 0.5" in text
    assert "backprop stops" not in " ".join(instructions(handcalc.generate(seed=3, frozen="2")))


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_the_output_gradient_in_force_for_a_sigmoid_under_squared_error(reduction: str) -> None:
    p = handcalc.generate(seed=4, output="sigmoid", loss="mse", digits=1, reduction=reduction)
    text = " ".join(instructions(p))
    rule = "dZ₃ = (A₃ − Y)∘A₃∘(1 − A₃)" + ("/2" if reduction == "mean" else "")
    assert f"Output gradient: {rule} (" in text
    assert "no shortcut dZ₃ = A₃ − Y" in text
    assert "output: A₃ = σ(Z₃)" in text and "L = ½·" in text
    own = " ".join(instructions(handcalc.generate(seed=4, loss="mse", reduction=reduction)))
    assert "output: A₃ = Z₃ (the identity)" in own and "∘A₃" not in own
