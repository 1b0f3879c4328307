"""The batchnorm kind's step graph: the MLP's head and updates around BN's own steps."""

from __future__ import annotations

import functools
from typing import Any

from ...cells import Cell
from ...graph import Graph, Shape, Step
from ...ops import Activate, ActivationGrad, Affine, InputGrad, Update, WeightGrad
from ...ops.batchnorm import BatchVariance, Normalise, RowMean, ScaleShift
from ...ops.bn_backward import (
    CentredBiasGrad,
    GammaGrad,
    MeanGrad,
    NormalisedGrad,
    NormInputGrad,
    ShiftGrad,
    VarianceGrad,
)
from ...ops.bn_eval import (
    AffineScale,
    AffineShift,
    EvalNorm,
    FoldBias,
    FoldWeight,
    RunningMean,
    RunningVariance,
)
from ...specs import BatchNormSpec
from ..mlp import Pass, backward, forward, loss
from ..mlp.steps import hidden_activation


def given_shapes(spec: BatchNormSpec) -> dict[str, Shape]:
    """The given cells in the order the sheet states them, with their shapes."""
    n0, n1, n2 = spec.sizes
    batch = spec.batch
    return {
        "X": (n0, batch),
        "W1": (n1, n0),
        "b1": (n1, 1),
        "gamma1": (n1, 1),
        "beta1": (n1, 1),
        "running_mean1": (n1, 1),
        "running_var1": (n1, 1),
        "W2": (n2, n1),
        "b2": (n2, 1),
        "Y": (n2, batch),
        "lr": (1, 1),
        "eps": (1, 1),
        "momentum": (1, 1),
        "Xtest": (n0, 1),
    }


@functools.lru_cache(maxsize=256)
def build(spec: BatchNormSpec) -> Graph:
    """Forward, loss, backward, update, running statistics, folding and the affine form."""
    at = Pass()
    _, n1, _ = spec.sizes
    batch = spec.batch
    hidden, column = (n1, batch), (n1, 1)
    irrational = spec.eps != 0  # exact mode with PyTorch's eps: the batch's roots are not exact
    hand = spec.transcendental != "exact"  # an irrational root is refused, not computed
    act = hidden_activation(spec, spec.treatment())
    source = "BN1" if act.derivative_from == "Z" else "A1"
    stats = ("Z1", "mu1", "var1", "eps")

    def step(symbol: str, phase: str, op: Any, inputs: tuple[str, ...], shape: Shape) -> Step:
        return Step(Cell(symbol, 1), phase, op, inputs, shape)

    def new(symbol: str, layer: int, shape: Shape) -> Step:
        param = Cell(symbol, layer)
        inputs = (param.name, param.grad().name, "lr")
        return Step(param.updated(), "update", Update(), inputs, shape)

    head = forward(spec, at)[-2:]  # Z2, A2: the MLP's output layer, reading A1
    steps = [
        step("Z", "forward", Affine(), ("W1", "A0", "b1"), hidden),
        step("mu", "forward", RowMean(), ("Z1",), column),
        step("var", "forward", BatchVariance(), ("Z1", "mu1"), column),
        step("Zhat", "forward", Normalise(irrational, hand), stats, hidden),
        step("BN", "forward", ScaleShift(), ("gamma1", "Zhat1", "beta1"), hidden),
        step("A", "forward", Activate(act), ("BN1",), hidden),
        *head,
        *loss(spec, at),
        *backward(spec, at, trainable=(2,)),  # dZ2, dW2, db2
        step("dA", "backward", InputGrad(), ("W2", "dZ2"), hidden),
        step("dBN", "backward", ActivationGrad(act), ("dA1", source), hidden),
        step("dgamma", "backward", GammaGrad(), ("dBN1", "Zhat1"), column),
        step("dbeta", "backward", ShiftGrad(), ("dBN1",), column),
        step("dZhat", "backward", NormalisedGrad(), ("dBN1", "gamma1"), hidden),
        step("dvar", "backward", VarianceGrad(irrational, hand), ("dZhat1", *stats), column),
        step("dmu", "backward", MeanGrad(irrational, hand), ("dZhat1", *stats, "dvar1"), column),
        step(
            "dZ",
            "backward",
            NormInputGrad(irrational, hand),
            ("dZhat1", *stats, "dvar1", "dmu1"),
            hidden,
        ),
        step("dW", "backward", WeightGrad(), ("dZ1", "A0"), (n1, spec.sizes[0])),
        step("db", "backward", CentredBiasGrad(), ("dZ1",), column),
    ]
    w2 = (spec.sizes[2], n1)
    steps += [
        new("W", 1, (n1, spec.sizes[0])),
        new("b", 1, column),
        new("gamma", 1, column),
        new("beta", 1, column),
        new("W", 2, w2),
        new("b", 2, (spec.sizes[2], 1)),
    ]
    running = ("running_mean1", "running_var1", "eps")
    steps += [
        Step(
            Cell("running_mean", 1, new=True),
            "statistics",
            RunningMean(),
            ("running_mean1", "mu1", "momentum"),
            column,
        ),
        Step(
            Cell("running_var", 1, new=True),
            "statistics",
            RunningVariance(batch),
            ("running_var1", "var1", "momentum"),
            column,
        ),
        step(
            "Wf",
            "fold",
            FoldWeight(hand=hand),
            ("gamma1", "running_var1", "eps", "W1"),
            (n1, spec.sizes[0]),
        ),
        step(
            "bf",
            "fold",
            FoldBias(hand=hand),
            ("gamma1", "b1", *running[:2], "eps", "beta1"),
            column,
        ),
        Step(
            Cell("Ztest"),
            "fold",
            EvalNorm(hand=hand),
            ("W1", "Xtest", "b1", "gamma1", *running, "beta1"),
            column,
        ),
        Step(Cell("Zf"), "fold", Affine(), ("Wf1", "Xtest", "bf1"), column),
        step("gammap", "affine", AffineScale(hand=hand), ("gamma1", "running_var1", "eps"), column),
        step(
            "betap",
            "affine",
            AffineShift(hand=hand),
            ("beta1", "running_mean1", "gamma1", "running_var1", "eps"),
            column,
        ),
    ]
    return Graph.of(given_shapes(spec), steps)
