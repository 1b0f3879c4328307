"""Initialisation: the scale a layer's weights are drawn with, the loss a network starts from,
and which parameters a step from all-zero weights moves.

- :class:`Gain` — the activation's gain (``torch.nn.init.calculate_gain``): 1 for the identity
  and σ, 5/3 for tanh, √2 for ReLU, √(2/(1 + slope²)) for leaky ReLU.
- :class:`Std` — Kaiming's standard deviation of a layer's weights, ``gain/√fan_in``, exact
  (``sqrt(2)/2``): the scale that keeps the variance of the pre-activations from layer to layer.
- :class:`UniformLoss` — the loss of a K-class softmax that predicts 1/K for every class,
  ``log K`` a sample: what a well-scaled network starts near.
- :class:`InitLoss` — the cross-entropy of given logits (the MLP's own loss op computes it),
  explained column by column: a badly scaled output layer starts far above ``log K``.
- :class:`Moved` — which parameters a step changed (1) and which it left (0): the lesson of zero
  initialisation, where most gradients vanish and the hidden units stay identical.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar

import sympy

from ..cells import Cell
from ..matrix import Mat, entry_float, expressions, rational, to_fraction, to_sympy
from ..notation import MINUS, subscript
from ..rounding import CONTEXT, round_decimal
from ..transcendental import Base, Table, Treatment
from .base import Cells, Mistake, Op, Variant, other_factor, sub
from .losses import loss_op
from .words import at, decimal, factor, logarithm

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


def log_of(treatment: Treatment, k: int) -> sympy.Expr:
    """``log K`` in the treatment's logarithm: ``ln K``, or ``log_b K`` in ``base`` mode."""
    if isinstance(treatment, Base):
        return sympy.log(k) / sympy.log(treatment.base)
    return sympy.log(k)


def _stated(treatment: Treatment, value: sympy.Expr) -> Mat:
    """A loss as the key holds it: exact, or rounded to the table's decimals."""
    if isinstance(treatment, Table):
        return rational([[round_decimal(to_decimal_of(value), treatment.digits)]])
    return _one(value)


def to_decimal_of(value: sympy.Expr) -> Decimal:
    """A loss's decimal, precise well past any stated decimals (by sympy's own evaluation)."""
    return CONTEXT.create_decimal(str(sympy.N(value, 40)))


@dataclass(frozen=True)
class UniformLoss(Op):
    """The loss of the batch when the softmax predicts 1/K for every class: every sample
    contributes ``−log(1/K) = log K``."""

    treatment: Treatment
    factor: Fraction  # 1 for sum, 1/B for mean
    words: ClassVar[str] = "the loss when every class is predicted with probability 1/K"
    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake(
            "log_sign",
            "It looks like the minus sign was lost: log(1/K) is negative, and the loss "
            "−log(1/K) = log K is positive.",
        ),
        Mistake(
            "probability_given",
            "It looks like the probability 1/K was written; the loss is its negative logarithm.",
        ),
        Mistake(
            "log_base_10",
            "It looks like a base-10 logarithm was used; the loss uses the natural logarithm "
            "(ln, the calculator's 'ln' key).",
        ),
    )

    def __call__(self, y: Mat) -> Mat:
        return _stated(self.treatment, self._total(y) * log_of(self.treatment, y.shape[0]))

    def _total(self, y: Mat) -> sympy.Expr:
        """The factor times ΣY: the samples the loss counts (B for the sum, 1 for the mean)."""
        ones = sum((to_fraction(v) for row in y.to_list() for v in row), Fraction(0))
        return _q(self.factor * ones)

    @property
    def decimals(self) -> int | None:
        return self.treatment.loss_digits

    def formula(self, out: str, y: str) -> str:
        mean = "(1/B)·" if self.factor != 1 else ""
        return f"{out} = −{mean}Σ {y}∘log(1/K)"

    def heading(self, step: Step, problem: Problem) -> str:
        k, b = problem.graph.shape(step.inputs[0])
        log = logarithm(self.treatment)
        mean = f"(1/{b})·" if self.factor != 1 else ""
        return f"{subscript(step.name)} = −{mean}Σ Y∘{log}(1/{k}) = {mean}{b}·{log} {k}"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        (y,) = step.inputs
        k, b = cells.problem.graph.shape(y)
        log = logarithm(self.treatment)
        per_sample = float(log_of(self.treatment, k))
        mean = f"(1/{b})·" if self.factor != 1 else ""
        total = float(self.factor) * b * per_sample
        stated = cells(step.name)[0][0]
        return [
            f"a uniform prediction gives every one of the {k} classes probability 1/{k}, "
            f"whichever is the target",
            f"each sample: −{log}(1/{k}) = {log} {k} = {decimal(per_sample)}",
            f"{subscript(step.name)} = {mean}{b}·{log} {k} = {decimal(total)} → {stated}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        (y,) = inputs
        k = y.shape[0]
        total = self._total(y)
        found: list[Variant] = [
            ("log_sign", lambda: _stated(self.treatment, -total * log_of(self.treatment, k))),
            ("probability_given", rational([[Fraction(1, k)]])),
            ("log_base_10", lambda: _stated(self.treatment, total * sympy.log(k, 10))),
        ]
        other = other_factor(self.factor, y.shape[1])
        if other is not None:
            found.append(("mean_vs_sum", lambda: UniformLoss(self.treatment, other)(y)))
        return found


@dataclass(frozen=True)
class InitLoss(Op):
    """The softmax cross-entropy of given logits (the MLP's loss op computes it), worked column
    by column as ``log Σ e^z − z_target``: logits as large as a badly scaled output layer gives
    make the softmax nearly one-hot, and the loss about the gap between the largest logit and
    the target's."""

    treatment: Treatment
    factor: Fraction
    words: ClassVar[str] = "the loss the network starts from, on the given logits"
    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake(
            "uniform_assumed",
            "It looks like log K was written, the loss of a uniform prediction; these logits "
            "are far from equal, so the loss has to be worked from them.",
        ),
        Mistake(
            "no_normaliser",
            "It looks like the log of the softmax's sum was left out: −log softmax(z)_y = "
            "log Σ e^z − z_y, not −z_y.",
        ),
    )

    def _loss(self, factor: Fraction | None = None) -> Op:
        return loss_op("softmax_ce", self.treatment, self.factor if factor is None else factor)

    def __call__(self, z: Mat, y: Mat) -> Mat:
        return self._loss()(z, y)

    @property
    def decimals(self) -> int | None:
        return self.treatment.loss_digits

    def formula(self, out: str, z: str, y: str) -> str:
        mean = "(1/B)·" if self.factor != 1 else ""
        return f"{out} = −{mean}Σ {y}∘log softmax({z})"

    def heading(self, step: Step, problem: Problem) -> str:
        z = step.inputs[0]
        log = logarithm(self.treatment)
        mean = f"(1/{problem.graph.shape(z)[1]})·" if self.factor != 1 else ""
        power = f"{self.treatment.base}^z" if isinstance(self.treatment, Base) else "e^z"
        return f"{subscript(step.name)} = {mean}Σ over samples ({log} Σ {power} − z_target)"

    def _terms(self, problem: Problem, z: str, y: str) -> list[tuple[int, int, float, float]]:
        """Each sample's target row, its largest logit, and its loss term (in floats)."""
        zs = [[entry_float(x) for x in row] for row in problem.value(z).to_list()]
        ys = [[to_fraction(v) for v in row] for row in problem.value(y).to_list()]
        base = self.treatment.base if isinstance(self.treatment, Base) else math.e
        out = []
        for c in range(len(zs[0])):
            column = [row[c] for row in zs]
            target = next(r for r in range(len(ys)) if ys[r][c] == 1)
            top = max(column)
            lse = top + math.log(sum(base ** (v - top) for v in column), base)
            out.append((target, column.index(top), top, lse - column[target]))
        return out

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        z, y = step.inputs
        problem = cells.problem
        k, b = problem.graph.shape(z)
        log = logarithm(self.treatment)
        power = f"{self.treatment.base}^z" if isinstance(self.treatment, Base) else "e^z"
        lines = []
        terms = self._terms(problem, z, y)
        for c, (target, largest, _, term) in enumerate(terms):
            zc = ", ".join(cells(z)[r][c] for r in range(k))
            lines.append(
                f"sample {c + 1}: z = ({zc}), target class {target + 1}: "
                f"{log} Σ {power} − z_target = {decimal(term)} (the largest logit is "
                f"{cells(z)[largest][c]}, the target's {cells(z)[target][c]})"
            )
        mean = f"(1/{b})·" if self.factor != 1 else ""
        total = float(self.factor) * sum(t for *_, t in terms)
        stated = cells(step.name)[0][0]
        lines.append(
            f"{subscript(step.name)} = {mean}({' + '.join(decimal(t) for *_, t in terms)}) = "
            f"{decimal(total)} → {stated}"
        )
        return lines

    def why(self, step: Step, problem: Problem) -> str:
        k = problem.graph.shape(step.inputs[0])[0]
        log = logarithm(self.treatment)
        return (
            f"A well-scaled network starts near the uniform prediction, at {log} {k} a sample. "
            f"Logits this large make the softmax almost one-hot: where the largest logit is not "
            f"the target's, the loss is about their gap, far above {log} {k} — the sign of a "
            f"badly scaled output layer."
        )

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        z, y = inputs
        found: list[Variant] = [
            ("uniform_assumed", lambda: UniformLoss(self.treatment, self.factor)(y)),
            ("no_normaliser", lambda: _no_normaliser(self.treatment, self.factor, z, y)),
        ]
        other = other_factor(self.factor, z.shape[1])
        if other is not None:
            found.append(("mean_vs_sum", lambda: self._loss(other)(z, y)))
        return found


def _no_normaliser(treatment: Treatment, factor: Fraction, z: Mat, y: Mat) -> Mat:
    """−Σ Y∘Z: the loss with the log of the softmax's sum forgotten."""
    total = sum(
        (
            to_fraction(t) * to_fraction(x)
            for zr, yr in zip(z.to_list(), y.to_list(), strict=True)
            for x, t in zip(zr, yr, strict=True)
        ),
        Fraction(0),
    )
    return _stated(treatment, _q(-factor * total))


# --- which parameters a step moved -------------------------------------------------------------


@dataclass(frozen=True)
class Moved(Op):
    """A 1 × P row, one entry a parameter (W₁, b₁, …, W_L, b_L): 1 where the step changed it
    (any entry of ``P_new`` differs from ``P``), 0 where it left it as it was. The inputs are the
    pairs ``(P_new, P)`` in that order."""

    words: ClassVar[str] = "1 for each parameter this step changed, 0 for each it left as it was"
    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake(
            "nothing_moves",
            "It looks like every parameter was taken to stay put; with zero weights most "
            "gradients vanish, but the output bias's does not (db_L = Σ dZ_L = Σ (A_L − Y)).",
        ),
        Mistake(
            "everything_moves",
            "It looks like every parameter was taken to move; with zero weights a gradient "
            "dW = dZ·Aᵀ vanishes where A is 0, and dA = Wᵀ·dZ vanishes below a zero W.",
        ),
        Mistake(
            "output_bias_only",
            "It looks like only the output bias was marked; with σ the hidden units output "
            "σ(0) = 1/2, not 0, so dW_L = dZ_L·Aᵀ is not 0, and below a moved W the "
            "gradient flows on.",
        ),
    )

    def __call__(self, *pairs: Mat) -> Mat:
        flags = [
            int(not _equal(new, old)) for new, old in zip(pairs[::2], pairs[1::2], strict=True)
        ]
        return rational([flags])

    def formula(self, out: str, *names: str) -> str:
        params = ", ".join(_param(n) for n in names[1::2])
        return f"{out} = [P_new ≠ P for P = {params}]"

    def heading(self, step: Step, problem: Problem) -> str:
        params = " ".join(subscript(_param(n)) for n in step.inputs[1::2])
        return f"{subscript(step.name)} = [{params}]: 1 where the step changed it, else 0"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        lines = []
        problem = cells.problem
        for new, old in zip(step.inputs[::2], step.inputs[1::2], strict=True):
            cell = Cell.parse(new)
            grad = _label(Cell(f"d{cell.symbol}", cell.layer, cell.section).name)
            p = subscript(_param(old))
            if _equal(problem.value(new), problem.value(old)):
                lines.append(f"{p}: {grad} = 0, so {_label(new)} = {_label(old)} → 0")
            else:
                lines.append(f"{p}: {grad} ≠ 0, so {_label(new)} ≠ {_label(old)} → 1")
        return lines

    def why(self, step: Step, problem: Problem) -> str:
        return moved_why(problem, step.section)

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        count = len(inputs) // 2
        flags = [0] * count
        flags[-1] = 1
        return [
            ("nothing_moves", rational([[0] * count])),
            ("everything_moves", rational([[1] * count])),
            ("output_bias_only", rational([flags])),
        ]


def _param(name: str) -> str:
    """A parameter's local name without section or ``_new``: ``s1.W2_new`` → ``W2``."""
    cell = Cell.parse(name)
    return Cell(cell.symbol, cell.layer).name


def _label(name: str) -> str:
    """A cell's name on paper, its section kept: ``s1.dW₂``, ``s1.W₂ new``."""
    cell = Cell.parse(name)
    prefix = f"{cell.section}." if cell.section else ""
    return prefix + subscript(cell.local)


def _equal(a: Mat, b: Mat) -> bool:
    """Whether a parameter is unchanged: every entry of the difference is 0 (an exact-mode
    difference that is not literally 0 is judged by its value)."""
    return all(x == 0 or entry_float(x) == 0 for row in sub(a, b).to_list() for x in row)


def moved_why(problem: Problem, section: str) -> str:
    """Why the parameters that moved in ``section`` did, and why the others did not."""
    spec = problem.spec
    n = spec.layers
    step = int(section[1:]) if section[1:].isdigit() else 1
    if spec.activation in ("relu", "tanh"):
        f = "ReLU" if spec.activation == "relu" else "tanh"
        return (
            f"Every hidden pre-activation is 0, and {f}(0) = 0: the hidden outputs are 0, so "
            f"dW = dZ·Aᵀ is 0 in every layer above them, and dA = Wᵀ·dZ is 0 below the zero "
            f"W{subscript(str(n))}. Only db{subscript(str(n))} = Σ dZ{subscript(str(n))} is "
            f"not 0: the output bias is the one parameter that moves — in this step and every "
            f"later one, since W{subscript(str(n))} stays 0. The net only learns a constant "
            f"output."
        )
    moved = n - step + 1  # the lowest layer the gradient has reached by this step
    below = (
        f"Layers below {max(moved, 1)} keep their zero weights: dA = Wᵀ·dZ is 0 below a W "
        f"that was still 0 at the start of this step. "
        if moved > 1
        else ""
    )
    return (
        f"σ(0) = 1/2: every hidden unit outputs the same 1/2, so dW{subscript(str(n))} = "
        f"dZ{subscript(str(n))}·Aᵀ moves W{subscript(str(n))} with identical columns. "
        f"{below}Every unit of a layer gets the same gradient, so the rows of each hidden W "
        f"stay identical: the units stay copies of one another, and the layer learns no more "
        f"than one unit would — zero initialisation never breaks the symmetry."
    )
