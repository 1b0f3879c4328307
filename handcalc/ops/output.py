"""The output layer: the softmax, the output gradient ``A − Y`` that every loss shares with its
own output, and the one without a shortcut: squared error of a sigmoid, ``(A − Y)∘A∘(1 − A)``.

The softmax is explained as one entry's power over its column's sum of powers; the output
gradient says why it is as simple as ``A − Y`` (the loss's derivative and the output's cancel)
and invites the mistakes of its sign and of the batch reduction. The sigmoid's squared error says
why nothing cancels, and invites the shortcut taken where it does not hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar

from ..matrix import Mat, ones
from ..notation import subscript
from ..transcendental import Table, Treatment
from .base import Cells, Mistake, Op, Variant, hadamard, other_factor, scale, sub
from .words import at, exponential, factor, logarithm

if TYPE_CHECKING:
    from ..graph import Step
    from ..problem import Problem


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

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        (z,) = step.inputs
        column = [cells.at(z, r, j) for r in range(len(cells(z)))]
        total = " + ".join(exponential(self.treatment, t) for t in column)
        value = cells.result(step.name, i, j)
        line = (
            f"{at(step.name, i, j)} = {exponential(self.treatment, column[i])}/({total}) = {value}"
        )
        if isinstance(self.treatment, Table):
            line += ", as the table gives it for this column of " + subscript(z)
        return [line]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        return []  # read from the table or computed whole: only the generic slips


#: why the output gradient is A − Y, for each loss (with its output activation)
_CANCELS = {
    "softmax_ce": "the softmax's derivative and the 1/A of the logarithm cancel",
    "sigmoid_bce": "σ′ = A(1 − A) cancels the 1/(A(1 − A)) of the binary cross-entropy",
    "mse": "½(A − Y)² differentiates to A − Y, and the identity's derivative is 1",
}


@dataclass(frozen=True)
class OutputGrad(Op):
    """dZ_L = A_L − Y (divided by B for the mean): true for all three output/loss pairs."""

    factor: Fraction
    words: ClassVar[str] = "the gradient of the loss with respect to the output pre-activation"

    def __call__(self, a: Mat, y: Mat) -> Mat:
        return scale(sub(a, y), self.factor)

    def formula(self, out: str, a: str, y: str) -> str:
        return f"{out} = {a} − {y}" if self.factor == 1 else f"{out} = ({a} − {y})/B"

    def why(self, step: Step, problem: Problem) -> str:
        spec = problem.spec
        text = f"Why A − Y: {_CANCELS[spec.loss]}, so no derivative of the output is needed"
        if spec.transcendental == "base" and spec.loss != "mse":
            treatment = spec.treatment()
            text += (
                f" (with {treatment.base}ᶻ and {logarithm(treatment)} the factors "
                f"ln {spec.base} cancel too)"
            )
        if self.factor != 1:
            text += f"; the mean divides it by B = {spec.batch}"
        return text + "."

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        a, y = step.inputs
        difference = f"{cells.at(a, i, j)} − {factor(cells.at(y, i, j))}"
        if self.factor != 1:
            difference = f"({difference})/{self.factor.denominator}"
        return [f"{at(step.name, i, j)} = {difference} = {cells.result(step.name, i, j)}"]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        a, y = inputs
        found: list[Variant] = [("sign_flipped", lambda: scale(sub(y, a), self.factor))]
        other = other_factor(self.factor, a.shape[1])
        if other is not None:
            found.append(("mean_vs_sum", lambda: scale(sub(a, y), other)))
        return found


@dataclass(frozen=True)
class SigmoidMSEGrad(OutputGrad):
    """dZ_L = (A_L − Y)∘A_L∘(1 − A_L) (divided by B for the mean): squared error of a sigmoid
    output, where nothing cancels — the loss's derivative A − Y times the sigmoid's A(1 − A)."""

    words: ClassVar[str] = (
        "the gradient of the loss with respect to the output pre-activation: the squared "
        "error's A − Y times the sigmoid's derivative A(1 − A)"
    )
    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake(
            "output_shortcut",
            "It looks like dZ = A − Y was used: that shortcut holds for a sigmoid with binary "
            "cross-entropy, but with squared error the sigmoid's derivative A(1 − A) does not "
            "cancel and multiplies in.",
        ),
        Mistake(
            "output_derivative_half",
            "It looks like only A or only (1 − A) multiplied A − Y: the sigmoid's derivative is "
            "the product A(1 − A).",
        ),
    )

    def __call__(self, a: Mat, y: Mat) -> Mat:
        return scale(hadamard(sub(a, y), _sigmoid_slope(a)), self.factor)

    def formula(self, out: str, a: str, y: str) -> str:
        rule = f"({a} − {y})∘{a}∘(1 − {a})"
        return f"{out} = {rule}" if self.factor == 1 else f"{out} = {rule}/B"

    def why(self, step: Step, problem: Problem) -> str:
        text = (
            "No shortcut: ½(A − Y)² differentiates to A − Y, and the sigmoid's derivative "
            "σ′ = A(1 − A) does not cancel against it (only binary cross-entropy's 1/(A(1 − A)) "
            "would), so it multiplies in"
        )
        if self.factor != 1:
            text += f"; the mean divides it by B = {problem.spec.batch}"
        return text + "."

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        a, y = step.inputs
        out = cells.at(a, i, j)
        product = f"({out} − {factor(cells.at(y, i, j))})·{factor(out)}·(1 − {factor(out)})"
        if self.factor != 1:
            product = f"{product}/{self.factor.denominator}"
        return [
            f"{at(step.name, i, j)} = ({at(a, i, j)} − {at(y, i, j)})·{at(a, i, j)}·"
            f"(1 − {at(a, i, j)})",
            f"{at(step.name, i, j)} = {product} = {cells.result(step.name, i, j)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        a, y = inputs
        right = sub(a, y)
        found: list[Variant] = [
            ("output_shortcut", lambda: scale(right, self.factor)),
            ("output_derivative_half", lambda: scale(hadamard(right, a), self.factor)),
            (
                "output_derivative_half",
                lambda: scale(hadamard(right, sub(_ones(a), a)), self.factor),
            ),
            ("sign_flipped", lambda: scale(hadamard(sub(y, a), _sigmoid_slope(a)), self.factor)),
        ]
        other = other_factor(self.factor, a.shape[1])
        if other is not None:
            found.append(("mean_vs_sum", lambda: scale(hadamard(right, _sigmoid_slope(a)), other)))
        return found


def _ones(a: Mat) -> Mat:
    rows, cols = a.shape
    return ones(rows, cols, like=a)


def _sigmoid_slope(a: Mat) -> Mat:
    """σ′ from the output's values: A∘(1 − A)."""
    return hadamard(a, sub(_ones(a), a))
