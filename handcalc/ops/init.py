"""Initialisation: the scale a layer's weights are drawn with.

- :class:`Gain` — the activation's gain (``torch.nn.init.calculate_gain``): 1 for the identity
  and σ, 5/3 for tanh, √2 for ReLU, √(2/(1 + slope²)) for leaky ReLU.
- :class:`Std` — Kaiming's standard deviation of a layer's weights, ``gain/√fan_in``, exact
  (``sqrt(2)/2``): the scale that keeps the variance of the pre-activations from layer to layer.

The loss a network starts from is in :mod:`.initial_loss`; which parameters a step from all-zero
weights moves, in :mod:`.count`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar

import sympy

from ..matrix import Mat, expressions, to_sympy
from ..notation import MINUS, subscript
from .base import Cells, Mistake, Op, Variant
from .words import at, decimal, factor

if TYPE_CHECKING:
    from ..graph import Step
    from ..problem import Problem

#: each activation as the sheet names it
_NAMES = {
    "relu": "ReLU",
    "leaky_relu": "leaky ReLU",
    "tanh": "tanh",
    "sigmoid": "σ",
    "identity": "the identity",
}


def gain_value(activation: str, slope: Fraction = Fraction(0)) -> sympy.Expr:
    """The gain of ``activation`` exactly, as ``torch.nn.init.calculate_gain`` has it."""
    match activation:
        case "relu":
            return sympy.sqrt(2)
        case "leaky_relu":
            return sympy.sqrt(sympy.Rational(2) / (1 + _q(slope) ** 2))
        case "tanh":
            return sympy.Rational(5, 3)
    return sympy.Integer(1)


def _q(q: Fraction) -> sympy.Rational:
    return sympy.Rational(q.numerator, q.denominator)


def _one(value: sympy.Expr) -> Mat:
    """A 1 × 1 cell: QQ where the value is rational, else an exact expression."""
    return expressions([[value]])


def _value(m: Mat) -> sympy.Expr:
    return to_sympy(m.to_list()[0][0])


def _exact(m: Mat, i: int = 0, j: int = 0) -> str:
    """An entry written exactly and spelled as by hand (``√2/2``), then its decimal."""
    x = to_sympy(m.to_list()[i][j])
    text = _spelled(x)
    return text if x.is_Rational else f"{text} ≈ {decimal(float(x))}"


def _spelled(x: sympy.Expr) -> str:
    """``sqrt(2)/2`` as ``√2/2``, ``10*sqrt(202)/101`` as ``10√202/101``; rationals as p/q."""
    text = sympy.sstr(x).replace("*", "").replace("-", MINUS)
    return re.sub(r"sqrt\((\d+)\)", r"√\1", text).replace("sqrt(", "√(")


# --- the scale ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gain(Op):
    """The gain of the hidden activation: how much larger a weight's scale must be to make up
    for what the activation takes from the variance it passes on (ReLU halves it: gain² = 2)."""

    activation: str
    slope: Fraction = Fraction(1, 10)
    words: ClassVar[str] = "the gain of the activation (torch.nn.init.calculate_gain)"
    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake(
            "gain_squared",
            "It looks like the squared gain was written (the factor of the variance, 2 for "
            "ReLU); the gain is its square root.",
        ),
        Mistake(
            "relu_gain",
            "It looks like ReLU's gain √2 was used; each activation has its own gain (tanh 5/3, "
            "σ and the identity 1, leaky ReLU √(2/(1 + slope²))).",
        ),
        Mistake(
            "slope_not_squared",
            "It looks like the slope was not squared: the gain of leaky ReLU is √(2/(1 + slope²)).",
        ),
    )

    def __call__(self) -> Mat:
        return _one(gain_value(self.activation, self.slope))

    def formula(self, out: str) -> str:
        name = _NAMES.get(self.activation, self.activation)
        if self.activation == "leaky_relu":
            slope = f"{self.slope.numerator}/{self.slope.denominator}"
            return f"{out} = gain({name}, slope {slope})"
        return f"{out} = gain({name})"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        value = _exact(cells.problem.value(step.name))
        match self.activation:
            case "relu":
                return [
                    "ReLU keeps the positive half of a symmetric input and zeroes the rest, so "
                    "E[ReLU(z)²] = ½·E[z²]: the variance passed on is halved, gain² = 2",
                    f"gain = √2 = {value}",
                ]
            case "leaky_relu":
                s = self.slope
                return [
                    f"leaky ReLU keeps the positive half and scales the negative half by "
                    f"{s}: E[f(z)²] = ½(1 + slope²)·E[z²], gain² = 2/(1 + slope²)",
                    f"gain = √(2/(1 + ({s})²)) = √({_q(2 / (1 + s * s))}) = {value}",
                ]
            case "tanh":
                return [
                    "tanh is about the identity near 0 but squashes larger inputs; the gain "
                    "PyTorch (and Kaiming's recommendation for it) uses is 5/3",
                    f"gain = {value}",
                ]
        name = _NAMES.get(self.activation, self.activation)
        return [f"{name} is not rectified: nothing is halved, gain = {value}"]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        g = gain_value(self.activation, self.slope)
        found: list[Variant] = [
            ("gain_squared", _one(g**2)),
            ("relu_gain", _one(sympy.sqrt(2))),
        ]
        if self.activation == "leaky_relu":
            found.append(("slope_not_squared", _one(sympy.sqrt(2 / (1 + _q(self.slope))))))
        return found


@dataclass(frozen=True)
class Std(Op):
    """Kaiming's standard deviation of one layer's weights, ``gain/√fan_in``: each
    pre-activation sums ``fan_in`` products, so their variance is ``fan_in·std²·E[a²]``, and
    ``std² = gain²/fan_in`` keeps it from growing or shrinking from layer to layer."""

    fan_in: int
    fan_out: int
    words: ClassVar[str] = "the standard deviation of the layer's weights (Kaiming, fan_in)"
    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake(
            "fan_out",
            "It looks like the layer's outputs (fan_out) were used; Kaiming's rule divides by "
            "fan_in, the number of inputs each unit sums.",
        ),
        Mistake(
            "gain_forgotten",
            "It looks like the gain was left out: std = gain/√fan_in, not 1/√fan_in.",
        ),
        Mistake(
            "no_square_root",
            "It looks like fan_in itself was divided by, not its square root: std = gain/√fan_in.",
        ),
        Mistake(
            "variance_given",
            "It looks like the variance gain²/fan_in was written; the standard deviation is "
            "its square root.",
        ),
    )

    def __call__(self, gain: Mat) -> Mat:
        return _one(_value(gain) / sympy.sqrt(self.fan_in))

    def formula(self, out: str, gain: str) -> str:
        return f"{out} = {gain}/√{self.fan_in}"

    def heading(self, step: Step, problem: Problem) -> str:
        return f"{subscript(step.name)} = gain/√fan_in, fan_in = {self.fan_in}"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        (gain,) = step.inputs
        g = _spelled(_value(cells.problem.value(gain)))
        layer = step.cell.layer
        return [
            f"layer {layer} has {self.fan_in} input{'s' * (self.fan_in != 1)} a unit "
            f"(W{subscript(str(layer))} is {self.fan_out} × {self.fan_in}): fan_in = "
            f"{self.fan_in}",
            f"{at(step.name, 0, 0)} = {factor(g)}/√{self.fan_in} = "
            f"{_exact(cells.problem.value(step.name))}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        g = _value(inputs[0])
        return [
            ("fan_out", _one(g / sympy.sqrt(self.fan_out))),
            ("gain_forgotten", _one(1 / sympy.sqrt(self.fan_in))),
            ("no_square_root", _one(g / self.fan_in)),
            ("variance_given", _one(g**2 / self.fan_in)),
        ]


# --- the loss a network starts from ------------------------------------------------------------
