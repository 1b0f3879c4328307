"""Activations, their value and derivative side by side, and the two ops that use them.

An :class:`Activation` keeps, the way micrograd's engine does, its value next to its derivative,
and next to those how each is written out by hand (:meth:`~Activation.rule`,
:meth:`~Activation.derivative_rule`) and the mistakes each invites. :class:`Activate` (``A = f(Z)``)
and :class:`ActivationGrad` (``dZ = dA ∘ f′``) ask the activation for all of it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar

from sympy import QQ

from ..cells import Cell
from ..matrix import Mat, elementwise, entry_float, ones
from ..notation import entry, is_expression, number
from ..transcendental import Table, Treatment
from .base import Cells, Op, Variant, hadamard
from .words import at, decimal, exponential, factor, fraction, negate, positive

if TYPE_CHECKING:
    from ..graph import Step


class Activation(ABC):
    name: ClassVar[str]
    #: the cell its derivative is read from: "Z" (piecewise linear) or "A" (from the table values)
    derivative_from: ClassVar[str] = "Z"
    #: whether it masks: flattens (ReLU) or scales (leaky ReLU) the entries where z ≤ 0
    masks: ClassVar[bool] = False

    @abstractmethod
    def value(self, z: Mat) -> Mat: ...

    @abstractmethod
    def derivative(self, x: Mat) -> Mat:
        """f' as a matrix, from Z or from A (see ``derivative_from``)."""

    def derivative_symbol(self, x: str) -> str:
        """f' written in terms of the cell it is read from."""
        return f"{self.name}'({x})"

    @abstractmethod
    def rule(self, z: str) -> str:
        """``f(z)`` written out with the number ``z`` in it."""

    @abstractmethod
    def derivative_rule(self, x: str, where: str) -> str:
        """Why f′ has the value it has at ``x``; ``where`` names the entry of Z or A it is read
        from."""

    @abstractmethod
    def variants(self, z: Mat) -> list[Variant]:
        """The mistaken values of ``f(z)`` this activation invites."""

    @abstractmethod
    def derivative_variants(self, da: Mat, x: Mat) -> list[Variant]:
        """The mistaken values of ``dA ∘ f′(x)`` particular to this activation (reading f′ from
        the wrong cell, or not at all, is the op's: every activation with a derivative to apply
        invites it)."""


@dataclass(frozen=True)
class ReLU(Activation):
    name: ClassVar[str] = "relu"
    masks: ClassVar[bool] = True

    def value(self, z: Mat) -> Mat:
        return elementwise(lambda x: x if x > 0 else QQ.zero, z)

    def derivative(self, x: Mat) -> Mat:
        return elementwise(lambda v: QQ.one if v > 0 else QQ.zero, x)  # relu'(0) = 0

    def rule(self, z: str) -> str:
        return f"max(0, {z})"

    def derivative_rule(self, x: str, where: str) -> str:
        if positive(x):
            return f"ReLU′ is 1 where {where} > 0"
        return f"masked: ReLU′ is 0 where {where} ≤ 0 (ReLU′(0) = 0)"

    def variants(self, z: Mat) -> list[Variant]:
        return [("mask_skipped", z)]

    def derivative_variants(self, da: Mat, x: Mat) -> list[Variant]:
        return []


@dataclass(frozen=True)
class LeakyReLU(Activation):
    slope: Fraction = Fraction(1, 10)
    name: ClassVar[str] = "leaky_relu"
    masks: ClassVar[bool] = True

    def value(self, z: Mat) -> Mat:
        s = QQ(self.slope.numerator, self.slope.denominator)
        return elementwise(lambda x: x if x > 0 else s * x, z)

    def derivative(self, x: Mat) -> Mat:
        s = QQ(self.slope.numerator, self.slope.denominator)
        return elementwise(lambda v: QQ.one if v > 0 else s, x)

    def rule(self, z: str) -> str:
        return z if positive(z) else f"{factor(number(fraction(self.slope)))}·{factor(z)}"

    def derivative_rule(self, x: str, where: str) -> str:
        if positive(x):
            return f"leaky ReLU′ is 1 where {where} > 0"
        return f"leaky ReLU′ is the slope where {where} ≤ 0"

    def variants(self, z: Mat) -> list[Variant]:
        return [("mask_skipped", z), ("slope_forgotten", lambda: ReLU().value(z))]

    def derivative_variants(self, da: Mat, x: Mat) -> list[Variant]:
        return [("slope_forgotten", lambda: hadamard(da, ReLU().derivative(x)))]


@dataclass(frozen=True)
class Identity(Activation):
    name: ClassVar[str] = "identity"

    def value(self, z: Mat) -> Mat:
        return z

    def derivative(self, x: Mat) -> Mat:
        rows, cols = x.shape
        return ones(rows, cols, like=x)

    def derivative_symbol(self, x: str) -> str:
        return "1"

    def rule(self, z: str) -> str:
        return z

    def derivative_rule(self, x: str, where: str) -> str:
        return "the identity's derivative is 1"

    def variants(self, z: Mat) -> list[Variant]:
        return []  # nothing to forget: A is Z

    def derivative_variants(self, da: Mat, x: Mat) -> list[Variant]:
        return []  # f′ = 1 everywhere: dZ is dA, whichever cell it is read from


@dataclass(frozen=True)
class Sigmoid(Activation):
    treatment: Treatment
    name: ClassVar[str] = "sigmoid"
    derivative_from: ClassVar[str] = "A"

    def value(self, z: Mat) -> Mat:
        return self.treatment.sigmoid(z)

    def derivative(self, x: Mat) -> Mat:
        return elementwise(lambda a: a * (1 - a), x)

    def derivative_symbol(self, x: str) -> str:
        return f"{x}∘(1 − {x})"

    def rule(self, z: str) -> str:
        return f"σ({z}) = 1/(1 + {exponential(self.treatment, negate(z))})"

    def derivative_rule(self, x: str, where: str) -> str:
        return f"σ′ = A·(1 − A) with {where}: {factor(x)}·(1 − {factor(x)})"

    def variants(self, z: Mat) -> list[Variant]:
        return []  # looked up or computed whole: no step of its own to skip

    def derivative_variants(self, da: Mat, x: Mat) -> list[Variant]:
        return []


@dataclass(frozen=True)
class Tanh(Activation):
    treatment: Treatment
    name: ClassVar[str] = "tanh"
    derivative_from: ClassVar[str] = "A"

    def value(self, z: Mat) -> Mat:
        return self.treatment.tanh(z)

    def derivative(self, x: Mat) -> Mat:
        return elementwise(lambda a: 1 - a * a, x)

    def derivative_symbol(self, x: str) -> str:
        return f"(1 − {x}²)"

    def rule(self, z: str) -> str:
        return f"tanh({z})"

    def derivative_rule(self, x: str, where: str) -> str:
        return f"tanh′ = 1 − A² with {where}: 1 − {factor(x)}²"

    def variants(self, z: Mat) -> list[Variant]:
        return []  # looked up or computed whole: no step of its own to skip

    def derivative_variants(self, da: Mat, x: Mat) -> list[Variant]:
        return []


def _nonpositive(activation: Activation, cells: Cells, z: str) -> list[tuple[int, int]]:
    """The entries a masking activation masks: where ``z`` (its input, or the cell its
    derivative is read from) is not positive."""
    if not activation.masks:
        return []
    rows = cells.problem.value(z).to_list()
    return [(i, j) for i, row in enumerate(rows) for j, x in enumerate(row) if not x > 0]


@dataclass(frozen=True)
class Activate(Op):
    activation: Activation
    words: ClassVar[str] = "the activation function applied to every entry"

    def __call__(self, z: Mat) -> Mat:
        return self.activation.value(z)

    @property
    def tabulated(self) -> bool:
        treatment = getattr(self.activation, "treatment", None)
        return isinstance(treatment, Table)

    def formula(self, out: str, z: str) -> str:
        return (
            f"{out} = {z}"
            if self.activation.name == "identity"
            else (f"{out} = {self.activation.name}({z})")
        )

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        (z,) = step.inputs
        rule = self.activation.rule(cells.at(z, i, j))
        value = cells.result(step.name, i, j)
        last = rule.split(" = ")[-1]
        shown = f"{rule} = {value}"
        if rule == value:
            shown = value
        elif value.startswith(last):  # 1/(1 + e⁵) ≈ 0.006693 after σ(−5) = 1/(1 + e⁵)
            shown = rule + value[len(last) :]
        if self.tabulated:
            return [
                f"{at(step.name, i, j)} = {shown}: the table's value for z = {cells.at(z, i, j)}"
            ]
        return [f"{at(step.name, i, j)} = {shown}"]

    def masked_entries(self, step: Step, cells: Cells) -> list[tuple[int, int]]:
        return _nonpositive(self.activation, cells, step.inputs[0])

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        (z,) = inputs
        return self.activation.variants(z)


@dataclass(frozen=True)
class ActivationGrad(Op):
    activation: Activation
    words: ClassVar[str] = "the gradient times the activation's derivative, entry by entry"

    def __call__(self, da: Mat, x: Mat) -> Mat:
        return hadamard(da, self.activation.derivative(x))

    def formula(self, out: str, da: str, x: str) -> str:
        return f"{out} = {da} ∘ {self.activation.derivative_symbol(x)}"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        da, source = step.inputs
        x = cells.at(source, i, j)
        derivative = self.activation.derivative(cells.problem.value(source)).to_list()[i][j]
        shown = decimal(entry_float(derivative)) if is_expression(derivative) else entry(derivative)
        reason = self.activation.derivative_rule(x, f"{at(source, i, j)} = {x}")
        return [
            f"{at(step.name, i, j)} = {at(da, i, j)}·f′ = "
            f"{factor(cells.at(da, i, j))}·{factor(shown)} = {cells.result(step.name, i, j)}",
            f"  where f′ = {shown}: {reason}",
        ]

    def masked_entries(self, step: Step, cells: Cells) -> list[tuple[int, int]]:
        return _nonpositive(self.activation, cells, step.inputs[1])

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        da, x = inputs
        activation = self.activation
        if isinstance(activation, Identity):
            return []  # f′ = 1: there is no derivative to skip or to read from the wrong cell
        found: list[Variant] = [("mask_skipped", da)]
        source = step.inputs[1]  # this layer's Z or A: a cell of its own, never an alias (A0)
        # the mask (or derivative) read from another cell of the same shape: the other of Z and
        # A of this layer, a neighbouring layer's Z or A, or the incoming gradient itself
        forward = {
            Cell(symbol, layer, section).name
            for section in (step.section, "")
            for symbol in "ZA"
            for layer in range(1, MAX_LAYERS + 1)
        }
        others = [values[n] for n in values if n != source and n in forward]
        for m in [*others, da]:
            if m.shape == x.shape:
                found.append(("mask_wrong_cell", _masked(da, activation, m)))
        return found + activation.derivative_variants(da, x)


#: the deepest network a kind draws (a bound on the layers a mask may be read from)
MAX_LAYERS = 8


def _masked(da: Mat, activation: Activation, source: Mat) -> Callable[[], Mat]:
    return lambda: hadamard(da, activation.derivative(source))
