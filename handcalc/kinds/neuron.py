"""The single neuron: a linear regressor (identity, squared error) or a logistic classifier
(sigmoid, binary cross-entropy) with ``n`` inputs, as a computation graph.

Its cells are the MLP's with one layer — ``Z1``, ``A1``, ``loss``, ``dZ1``, ``dW1``, ``db1``,
``W1_new``, ``b1_new`` — from the MLP's own step pieces, and its given values are the MLP
generator's on the neuron's options; what is its own is the sheet, which draws the neuron as a
graph (:mod:`handcalc.layout.neuron`, :mod:`handcalc.figures`)."""

from __future__ import annotations

from typing import Any

from ..graph import Graph
from ..matrix import Mat
from ..specs import NeuronSpec
from .mlp import MLP, build

NAME = "neuron"

DRAWING = (
    "The drawing is the neuron as a graph: on each edge, the value it carries is written above "
    "the line and ∂L/∂ of that value below it, one entry a sample; solid boxes are cells of the "
    "grids below, dotted ones working (products wᵢ·xᵢ, and the gradient reaching them), not "
    "graded. Fill the forward values left to right, then the gradients right to left."
)


class Neuron(MLP):
    """One neuron: the MLP kind on options ``n,1`` (solving, reading an author's values and
    inferring sizes from them are the MLP's), with a sheet of its own."""

    name = NAME
    description = "a single neuron as a computation graph: linear regressor or logistic classifier"
    Options = NeuronSpec

    def build(self, options: Any) -> Graph:
        return build(options)

    def draw(self, options: Any, seed: int) -> dict[str, Mat]:
        # the MLP generator's values: the same graph, so every cell is already solved
        return dict(super().draw(options, seed))

    def instructions(self, problem: Any) -> tuple[str, ...]:
        # the conventions module reads problems, which read this registry: imported when used
        from ..conventions import instructions

        return (*instructions(problem), DRAWING)


__all__ = ["NAME", "Neuron"]
