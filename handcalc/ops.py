"""Exact operations: each one computes a cell from other cells and knows how it is written.

An op is a small frozen dataclass: ``op(*inputs) -> Mat`` computes, ``op.formula(out, *names)``
writes the rule in symbols and ``op.words`` says it in words. Activations keep their value and
derivative side by side, the way micrograd's engine does.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

from sympy import QQ

from .matrix import Mat, elementwise, ones, scalar, unify
from .transcendental import Exact, Table, Treatment

# --- activations: value and derivative side by side --------------------------------------------


class Activation(ABC):
    name: ClassVar[str]
    #: the cell its derivative is read from: "Z" (piecewise linear) or "A" (from the table values)
    derivative_from: ClassVar[str] = "Z"

    @abstractmethod
    def value(self, z: Mat) -> Mat: ...

    @abstractmethod
    def derivative(self, x: Mat) -> Mat:
        """f' as a matrix, from Z or from A (see ``derivative_from``)."""

    def derivative_symbol(self, x: str) -> str:
        """f' written in terms of the cell it is read from."""
        return f"{self.name}'({x})"


@dataclass(frozen=True)
class ReLU(Activation):
    name: ClassVar[str] = "relu"

    def value(self, z: Mat) -> Mat:
        return elementwise(lambda x: x if x > 0 else QQ.zero, z)

    def derivative(self, x: Mat) -> Mat:
        return elementwise(lambda v: QQ.one if v > 0 else QQ.zero, x)  # relu'(0) = 0


@dataclass(frozen=True)
class LeakyReLU(Activation):
    slope: Fraction = Fraction(1, 10)
    name: ClassVar[str] = "leaky_relu"

    def value(self, z: Mat) -> Mat:
        s = QQ(self.slope.numerator, self.slope.denominator)
        return elementwise(lambda x: x if x > 0 else s * x, z)

    def derivative(self, x: Mat) -> Mat:
        s = QQ(self.slope.numerator, self.slope.denominator)
        return elementwise(lambda v: QQ.one if v > 0 else s, x)


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


# --- matrix helpers ----------------------------------------------------------------------------


def matmul(a: Mat, b: Mat) -> Mat:
    a, b = unify(a, b)
    return a.matmul(b)


def add(a: Mat, b: Mat) -> Mat:
    a, b = unify(a, b)
    return a + b


def sub(a: Mat, b: Mat) -> Mat:
    a, b = unify(a, b)
    return a - b


def hadamard(a: Mat, b: Mat) -> Mat:
    a, b = unify(a, b)
    return a.mul_elementwise(b)


def scale(a: Mat, factor: Fraction) -> Mat:
    return a if factor == 1 else times_scalar(a, scalar(factor))


def add_bias(z: Mat, b: Mat) -> Mat:
    """b (n × 1) added to every column of z (n × B)."""
    return add(z, matmul(b, ones(1, z.shape[1], like=b)))


def row_sums(a: Mat) -> Mat:
    return matmul(a, ones(a.shape[1], 1, like=a))


def times_scalar(a: Mat, c: Mat) -> Mat:
    """a times the 1 × 1 matrix c."""
    a, c = unify(a, c)
    (value,) = c.to_list()[0]
    return a.applyfunc(lambda x: x * value, a.domain)


# --- operations: one per kind of step ----------------------------------------------------------


class Op:
    """An exact operation. Subclasses define ``__call__(*inputs) -> Mat`` and
    ``formula(out, *input_names) -> str`` with one parameter per input."""

    words: ClassVar[str]
    __call__: Callable[..., Mat]
    formula: Callable[..., str]

    @property
    def tabulated(self) -> bool:
        """True where the sheet prints this cell as a lookup table (``table`` mode)."""
        return False

    @property
    def decimals(self) -> int | None:
        """Decimals a rounded (not exact) value is printed with; None for exact values."""
        return None

    @property
    def transcendental(self) -> bool:
        """True for an op that gives irrational values on most inputs (exp in ``exact`` mode),
        even where the key's happen to be rational (a softmax of equal logits is 1/2)."""
        treatment = getattr(self, "treatment", None) or getattr(
            getattr(self, "activation", None), "treatment", None
        )
        return isinstance(treatment, Exact)


@dataclass(frozen=True)
class Affine(Op):
    """Z = W·A + b: the pre-activation."""

    words: ClassVar[str] = "weights times inputs, plus the bias in every column"

    def __call__(self, w: Mat, a: Mat, b: Mat) -> Mat:
        return add_bias(matmul(w, a), b)

    def formula(self, out: str, w: str, a: str, b: str) -> str:
        return f"{out} = {w}·{a} + {b}"


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


@dataclass(frozen=True)
class Softmax(Op):
    treatment: Treatment
    words: ClassVar[str] = "softmax of every column"

    def __call__(self, z: Mat) -> Mat:
        return self.treatment.softmax(z)

    @property
    def tabulated(self) -> bool:
        return isinstance(self.treatment, Table)

    def formula(self, out: str, z: str) -> str:
        return f"{out} = softmax({z})"


@dataclass(frozen=True)
class Loss(Op):
    loss: str  # softmax_ce | sigmoid_bce | mse
    treatment: Treatment
    factor: Fraction  # 1 for sum, 1/B for mean
    words: ClassVar[str] = "the loss of the batch"

    def __call__(self, z: Mat, y: Mat) -> Mat:
        match self.loss:
            case "softmax_ce":
                return self.treatment.ce_loss(z, y, self.factor)
            case "sigmoid_bce":
                return self.treatment.bce_loss(z, y, self.factor)
        # table mode states every loss to its decimals, the squared error too
        return self.treatment.round_loss(self.squared_error(z, y))

    def squared_error(self, z: Mat, y: Mat) -> Mat:
        """½·Σ (Z − Y)² (over B for the mean), exactly: the mse loss before any rounding."""
        squares = hadamard(*[sub(z, y)] * 2)
        return times_scalar(
            matmul(ones(1, z.shape[0], like=squares), row_sums(squares)), scalar(self.factor / 2)
        )

    def formula(self, out: str, z: str, y: str) -> str:
        mean = "(1/B)·" if self.factor != 1 else ""
        match self.loss:
            case "softmax_ce":
                return f"{out} = −{mean}Σ Y∘log softmax({z})"
            case "sigmoid_bce":
                return f"{out} = −{mean}Σ [Y∘log σ({z}) + (1 − Y)∘log(1 − σ({z}))]"
        return f"{out} = ½·{mean}Σ ({z} − {y})²"

    @property
    def decimals(self) -> int | None:
        return self.treatment.loss_digits


@dataclass(frozen=True)
class OutputGrad(Op):
    """dZ_L = A_L − Y (divided by B for the mean): true for all three output/loss pairs."""

    factor: Fraction
    words: ClassVar[str] = "the gradient of the loss with respect to the output pre-activation"

    def __call__(self, a: Mat, y: Mat) -> Mat:
        return scale(sub(a, y), self.factor)

    def formula(self, out: str, a: str, y: str) -> str:
        return f"{out} = {a} − {y}" if self.factor == 1 else f"{out} = ({a} − {y})/B"


@dataclass(frozen=True)
class WeightGrad(Op):
    words: ClassVar[str] = "the gradient times the layer's input, transposed"

    def __call__(self, dz: Mat, a: Mat) -> Mat:
        return matmul(dz, a.transpose())

    def formula(self, out: str, dz: str, a: str) -> str:
        return f"{out} = {dz}·{a}ᵀ"


@dataclass(frozen=True)
class BiasGrad(Op):
    words: ClassVar[str] = "the gradient summed over the batch (each row)"

    def __call__(self, dz: Mat) -> Mat:
        return row_sums(dz)

    def formula(self, out: str, dz: str) -> str:
        return f"{out} = Σ_columns {dz}"


@dataclass(frozen=True)
class InputGrad(Op):
    words: ClassVar[str] = "the transposed weights times the gradient"

    def __call__(self, w: Mat, dz: Mat) -> Mat:
        return matmul(w.transpose(), dz)

    def formula(self, out: str, w: str, dz: str) -> str:
        return f"{out} = {w}ᵀ·{dz}"


@dataclass(frozen=True)
class ActivationGrad(Op):
    activation: Activation
    words: ClassVar[str] = "the gradient times the activation's derivative, entry by entry"

    def __call__(self, da: Mat, x: Mat) -> Mat:
        return hadamard(da, self.activation.derivative(x))

    def formula(self, out: str, da: str, x: str) -> str:
        return f"{out} = {da} ∘ {self.activation.derivative_symbol(x)}"


@dataclass(frozen=True)
class Update(Op):
    words: ClassVar[str] = "one step of gradient descent"

    def __call__(self, p: Mat, grad: Mat, lr: Mat) -> Mat:
        return sub(p, times_scalar(grad, lr))

    def formula(self, out: str, p: str, grad: str, lr: str) -> str:
        return f"{out} = {p} − {lr}·{grad}"


def loss_op(loss: str, treatment: Treatment, factor: Fraction) -> Loss:
    """The loss op of an output/loss pair (``softmax_ce``, ``sigmoid_bce``, ``mse``)."""
    return Loss(loss, treatment, factor)
