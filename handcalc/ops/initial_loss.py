"""The loss a network starts from.

- :class:`UniformLoss` — the loss of a K-class softmax that predicts 1/K for every class,
  ``log K`` a sample: what a well-scaled network starts near.
- :class:`InitLoss` — the cross-entropy of given logits (the MLP's own loss op computes it),
  explained column by column: a badly scaled output layer starts far above ``log K``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar

import sympy

from ..matrix import Mat, entry_float, rational, to_fraction
from ..notation import subscript
from ..rounding import CONTEXT, round_decimal
from ..transcendental import Base, Table, Treatment
from .base import Cells, Mistake, Op, Variant, other_factor
from .losses import loss_op
from .words import decimal, logarithm

if TYPE_CHECKING:
    from ..graph import Step
    from ..problem import Problem

#: each activation as the sheet names it
from .init import _one, _q


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
