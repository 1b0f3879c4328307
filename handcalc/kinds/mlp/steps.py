"""The MLP's step graph, in pieces — forward, loss, backward, update — that a kind with several
passes composes: each piece writes its cells into a section and reads its parameters and its
forward values from the sections it is told (``Pass``).

>>> spec = Spec(sizes=(2, 2, 2))
>>> [s.name for s in update(spec, Pass("s2", params="s1"))]
['s2.W1_new', 's2.b1_new', 's2.W2_new', 's2.b2_new']
>>> update(spec, Pass("s2", params="s1"))[0].formula
's2.W1_new = s1.W1_new − lr·s2.dW1'
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from ...cells import Cell
from ...graph import Graph, Shape, Step
from ...ops import (
    Activate,
    Activation,
    ActivationGrad,
    Affine,
    BiasGrad,
    Identity,
    InputGrad,
    LeakyReLU,
    OutputGrad,
    ReLU,
    Sigmoid,
    SigmoidMSEGrad,
    Softmax,
    Tanh,
    Update,
    WeightGrad,
    loss_op,
)
from ...spec import Spec
from ...transcendental import Treatment


@dataclass(frozen=True)
class Pass:
    """Where one pass writes and reads: its cells go into ``section``; it reads the forward
    values (``Z``, ``A``) of section ``forward`` (its own unless given) and starts from the
    parameters updated in section ``params`` ("" for the given ``W``, ``b``)."""

    section: str = ""
    forward: str | None = None
    params: str = ""

    def cell(self, symbol: str, layer: int | None = None) -> Cell:
        return Cell(symbol, layer, self.section)

    def value(self, symbol: str, layer: int) -> str:
        """A forward value this pass reads; ``A0`` is the input, shared by every section."""
        if symbol == "A" and layer == 0:
            return "A0"
        section = self.section if self.forward is None else self.forward
        return Cell(symbol, layer, section).name

    def param(self, symbol: str, layer: int) -> str:
        """A parameter as this pass starts from it: given, or updated by section ``params``."""
        return Cell(symbol, layer, self.params, new=bool(self.params)).name

    def own(self, symbol: str, layer: int | None = None) -> str:
        return self.cell(symbol, layer).name


def hidden_activation(spec: Spec, treatment: Treatment) -> Activation:
    match spec.activation:
        case "relu":
            return ReLU()
        case "leaky_relu":
            return LeakyReLU(spec.slope)
        case "identity":
            return Identity()
        case "sigmoid":
            return Sigmoid(treatment)
    return Tanh(treatment)


def _units(spec: Spec, layer: int) -> Shape:
    return (spec.sizes[layer], spec.batch)


def forward(spec: Spec, at: Pass) -> list[Step]:
    """``Z{l} = W{l}·A{l-1} + b{l}`` and ``A{l} = f(Z{l})`` for every layer; the output's f
    is ``spec.output`` (the loss's own unless chosen)."""
    treatment = spec.treatment()
    act = hidden_activation(spec, treatment)
    n = spec.layers
    steps: list[Step] = []
    for layer in range(1, n + 1):
        inputs = (at.param("W", layer), at.value("A", layer - 1), at.param("b", layer))
        steps.append(Step(at.cell("Z", layer), "forward", Affine(), inputs, _units(spec, layer)))
        if layer < n:
            out_op: Any = Activate(act)
        elif spec.output == "softmax":
            out_op = Softmax(treatment)
        elif spec.output == "sigmoid":
            out_op = Activate(Sigmoid(treatment))
        else:
            out_op = Activate(Identity())
        z = (at.own("Z", layer),)
        steps.append(Step(at.cell("A", layer), "forward", out_op, z, _units(spec, layer)))
    return steps


def loss(spec: Spec, at: Pass) -> list[Step]:
    """The loss of the batch: from the output's Z for a loss with its own output (the cross-
    entropies are worked from the logits), from the output A for squared error of a sigmoid."""
    op = loss_op(spec.loss, spec.treatment(), spec.factor)
    source = at.value("Z" if spec.own_output else "A", spec.layers)
    return [Step(at.cell("loss"), "loss", op, (source, "Y"), (1, 1))]


def output_grad(spec: Spec) -> OutputGrad:
    """``dZ_L``'s op: the shortcut ``A − Y`` for a loss with its own output; for squared error
    of a sigmoid, ``(A − Y)∘A∘(1 − A)``."""
    if spec.own_output:
        return OutputGrad(spec.factor)
    return SigmoidMSEGrad(spec.factor)


def backward(spec: Spec, at: Pass, trainable: tuple[int, ...] | None = None) -> list[Step]:
    """The gradients of the ``trainable`` layers (the spec's, unless given), and of every value
    between them and the loss; backprop stops below the lowest trainable layer."""
    trainable = spec.trainable if trainable is None else trainable
    act = hidden_activation(spec, spec.treatment())
    n = spec.layers
    lowest = min(trainable)
    steps = [
        Step(
            at.cell("dZ", n),
            "backward",
            output_grad(spec),
            (at.value("A", n), "Y"),
            _units(spec, n),
        )
    ]
    for layer in range(n, lowest - 1, -1):
        dz = at.own("dZ", layer)
        if layer in trainable:
            w_shape = (spec.sizes[layer], spec.sizes[layer - 1])
            a = at.value("A", layer - 1)
            steps.append(Step(at.cell("dW", layer), "backward", WeightGrad(), (dz, a), w_shape))
            b_shape = (spec.sizes[layer], 1)
            steps.append(Step(at.cell("db", layer), "backward", BiasGrad(), (dz,), b_shape))
        if layer > lowest:
            below = layer - 1
            w = at.param("W", layer)
            shape = _units(spec, below)
            steps.append(Step(at.cell("dA", below), "backward", InputGrad(), (w, dz), shape))
            source = at.value(act.derivative_from, below)
            inputs = (at.own("dA", below), source)
            steps.append(Step(at.cell("dZ", below), "backward", ActivationGrad(act), inputs, shape))
    return steps


def update(
    spec: Spec, at: Pass, trainable: tuple[int, ...] | None = None, rate: str = "lr"
) -> list[Step]:
    """``W{l}_new = W{l} − lr·dW{l}`` and the same for ``b{l}``, for each trainable layer; the
    learning rate is the given cell ``rate`` (``lr2`` for a second rate)."""
    steps = []
    for layer in spec.trainable if trainable is None else trainable:
        for p, shape in (
            ("W", (spec.sizes[layer], spec.sizes[layer - 1])),
            ("b", (spec.sizes[layer], 1)),
        ):
            inputs = (at.param(p, layer), at.own(f"d{p}", layer), rate)
            new = Cell(p, layer, at.section, new=True)
            steps.append(Step(new, "update", Update(), inputs, shape))
    return steps


def sgd_step(spec: Spec, at: Pass, rate: str = "lr") -> list[Step]:
    """One whole step of SGD: forward, loss, backward and update, all in ``at.section``, with the
    learning rate of the given cell ``rate``."""
    return forward(spec, at) + loss(spec, at) + backward(spec, at) + update(spec, at, rate=rate)


def given_shapes(spec: Spec) -> dict[str, Shape]:
    """The given cells in the order the sheet states them, with their shapes."""
    out: dict[str, Shape] = {"X": (spec.sizes[0], spec.batch)}
    for layer in range(1, spec.layers + 1):
        out[f"W{layer}"] = (spec.sizes[layer], spec.sizes[layer - 1])
        out[f"b{layer}"] = (spec.sizes[layer], 1)
    out["Y"] = (spec.sizes[-1], spec.batch)
    out["lr"] = (1, 1)
    return out


@functools.lru_cache(maxsize=256)
def build(spec: Spec) -> Graph:
    """Every forward, loss, backward and update step, named as in DESIGN.md."""
    return Graph.of(given_shapes(spec), sgd_step(spec, Pass()))
