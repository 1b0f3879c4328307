"""The linear layer: its forward op and the three gradients of its backward pass.

``Z = W·A + b`` forward; backward ``dW = dZ·Aᵀ``, ``db = Σ_columns dZ`` and ``dA = Wᵀ·dZ``. Each
is explained as one entry's sum of products, and each knows the mistake that its shape invites
(a forgotten bias, a W not transposed, a bias gradient not summed).

The worked solutions present the layer as the sheets draw it, in augmented form: ``W̃ = [W | b]``
times ``x̃ = [A ; 1]``, so that the two identities of any linear layer are named where they are
used — ``∂L/∂W̃ = δ·x̃ᵀ`` (``dW`` its W block, ``db`` its last column) and ``∂L/∂x = Wᵀ·δ``
(the bias's column meets the constant 1, which passes nothing down).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar

from sympy.polys.matrices import DomainMatrix

from ..cells import Cell
from ..matrix import Mat
from ..notation import formula, subscript
from .base import Cells, Op, Variant, add_bias, matmul, row_sums, scale
from .words import at, products, term

if TYPE_CHECKING:
    from ..graph import Step
    from ..problem import Problem


@dataclass(frozen=True)
class Affine(Op):
    """Z = W·A + b: the pre-activation."""

    words: ClassVar[str] = "weights times inputs, plus the bias in every column"

    def __call__(self, w: Mat, a: Mat, b: Mat) -> Mat:
        return add_bias(matmul(w, a), b)

    def formula(self, out: str, w: str, a: str, b: str) -> str:
        return f"{out} = {w}·{a} + {b}"

    def heading(self, step: Step, problem: Problem) -> str:
        w, a, b = (subscript(name) for name in step.inputs)
        return f"{formula(step.formula)} = [{w} | {b}]·[{a} ; 1]"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        w, a, b = step.inputs
        k_range = range(len(cells(w)[0]))
        symbols = " + ".join(f"{at(w, i, k)}·{at(a, k, j)}" for k in k_range) + f" + {at(b, i, 0)}"
        numbers = products([(cells.at(w, i, k), cells.at(a, k, j)) for k in k_range])
        return [
            f"augmented: W̃ = [{subscript(w)} | {subscript(b)}], x̃ = [{subscript(a)} ; 1], "
            f"{subscript(step.name)} = W̃·x̃ (row {i + 1} of W̃ times column {j + 1} of x̃)",
            f"{at(step.name, i, j)} = {symbols}",
            f"{at(step.name, i, j)} = {numbers} + {term(cells.at(b, i, 0))} = "
            f"{cells.result(step.name, i, j)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        w, a, b = inputs
        found: list[Variant] = [("bias_forgotten", lambda: matmul(w, a))]
        if w.shape[0] == w.shape[1]:
            found.append(("w_transposed", lambda: self(w.transpose(), a, b)))
        return found


@dataclass(frozen=True)
class WeightGrad(Op):
    words: ClassVar[str] = "the gradient times the layer's input, transposed"

    def __call__(self, dz: Mat, a: Mat) -> Mat:
        return matmul(dz, a.transpose())

    def formula(self, out: str, dz: str, a: str) -> str:
        return f"{out} = {dz}·{a}ᵀ"

    def heading(self, step: Step, problem: Problem) -> str:
        return f"{formula(step.formula)}, from ∂L/∂W̃ = δ·x̃ᵀ"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        dz, a = step.inputs
        columns = range(len(cells(dz)[0]))
        symbols = " + ".join(f"{at(dz, i, c)}·{at(a, j, c)}" for c in columns)
        numbers = products([(cells.at(dz, i, c), cells.at(a, j, c)) for c in columns])
        w, b = _parameters(step)
        return [
            f"∂L/∂W̃ = δ·x̃ᵀ with W̃ = [{w} | {b}], δ = {subscript(dz)}, x̃ = [{subscript(a)} ; 1]: "
            f"its W block is {subscript(dz)}·{subscript(a)}ᵀ (its last column, δ·1, is d{b})",
            f"{at(step.name, i, j)} = {symbols}",
            f"{at(step.name, i, j)} = {numbers} = {cells.result(step.name, i, j)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        # dZ·Aᵀ written as A·dZᵀ is the generic "transposed"; averaging over the batch once more
        # is the mistake of a student who thinks the mean belongs here (it is already in dZ)
        dz, a = inputs
        batch = dz.shape[1]
        if batch == 1:
            return []
        return [("mean_vs_sum", lambda: scale(matmul(dz, a.transpose()), Fraction(1, batch)))]


@dataclass(frozen=True)
class BiasGrad(Op):
    words: ClassVar[str] = "the gradient summed over the batch (each row)"

    def __call__(self, dz: Mat) -> Mat:
        return row_sums(dz)

    def formula(self, out: str, dz: str) -> str:
        return f"{out} = Σ_columns {dz}"

    def why(self, step: Step, problem: Problem) -> str:
        from ..cells import Cell

        layer = step.layer or 0
        # the layers the step's own section trains, those with a dW there: a kind with several
        # sections may freeze a layer in one and train it in another
        layers = range(1, problem.spec.layers + 1)
        trained = [k for k in layers if Cell("dW", k, step.section).name in problem.graph]
        if layer > 1 and trained and layer == min(trained):
            return (
                f"Backprop stops here: layer{'s' if layer > 2 else ''} "
                f"{'1' if layer == 2 else f'1 to {layer - 1}'} {'is' if layer == 2 else 'are'} "
                f"frozen, so no dA{subscript(f'x{layer - 1}')[1:]} is needed: nothing below "
                f"would use it."
            )
        return ""

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        (dz,) = step.inputs
        numbers = " + ".join(term(cells.at(dz, i, c)) for c in range(len(cells(dz)[i])))
        w, b = _parameters(step)
        return [
            f"the last column of ∂L/∂W̃ = δ·x̃ᵀ (W̃ = [{w} | {b}]): δ = {subscript(dz)} times "
            f"the row of 1s of x̃, a sum over the batch",
            f"{at(step.name, i, 0)} = {numbers} = {cells.result(step.name, i, 0)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        (dz,) = inputs
        batch = dz.shape[1]
        if batch == 1:
            return []
        rows = dz.to_list()
        found: list[Variant] = [("bias_not_summed", dz)]  # dZ copied whole
        found += [
            ("bias_not_summed", DomainMatrix([[row[j]] for row in rows], (len(rows), 1), dz.domain))
            for j in range(batch)
        ]  # one sample's column
        found.append(("mean_vs_sum", lambda: scale(row_sums(dz), Fraction(1, batch))))
        return found


@dataclass(frozen=True)
class InputGrad(Op):
    words: ClassVar[str] = "the transposed weights times the gradient"

    def __call__(self, w: Mat, dz: Mat) -> Mat:
        return matmul(w.transpose(), dz)

    def formula(self, out: str, w: str, dz: str) -> str:
        return f"{out} = {w}ᵀ·{dz}"

    def heading(self, step: Step, problem: Problem) -> str:
        return f"{formula(step.formula)}, from ∂L/∂x = Wᵀ·δ"

    def why(self, step: Step, problem: Problem) -> str:
        from ..cells import Cell

        layer = (step.layer or 0) + 1  # dA of the layer below is computed through W of this one
        # frozen in the step's own section: no dW there (another section may train it)
        if Cell("dW", layer, step.section).name not in problem.graph:
            return (
                f"Layer {layer} is frozen (no dW{subscript(f'x{layer}')[1:]} or "
                f"db{subscript(f'x{layer}')[1:]}), but the gradient still passes through it to "
                f"the layers below, which are trained."
            )
        return ""

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        w, dz = step.inputs
        rows = range(len(cells(w)))
        symbols = " + ".join(f"{at(w, r, i)}·{at(dz, r, j)}" for r in rows)
        numbers = products([(cells.at(w, r, i), cells.at(dz, r, j)) for r in rows])
        _, b = _parameters(step, above=True)
        return [
            f"∂L/∂x = Wᵀ·δ with W = {subscript(w)}, δ = {subscript(dz)}, x = "
            f"{subscript(Cell('A', step.layer, step.section).name)}: only W's block of W̃ = "
            f"[{subscript(w)} | {b}] passes δ down ({b}'s column meets the constant 1 of x̃)",
            f"{at(step.name, i, j)} = {symbols}",
            f"{at(step.name, i, j)} = {numbers} = {cells.result(step.name, i, j)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        w, dz = inputs
        if w.shape[0] != w.shape[1]:
            return []  # W·dZ does not even multiply: only a square W invites the mistake
        return [("w_not_transposed", lambda: matmul(w, dz))]


def _parameters(step: Step, above: bool = False) -> tuple[str, str]:
    """``W`` and ``b`` of the step's layer (of the layer above for ``dA``), as printed: the
    blocks of the augmented ``W̃ = [W | b]``."""
    layer = (step.layer or 0) + above
    return subscript(f"W{layer}"), subscript(f"b{layer}")
