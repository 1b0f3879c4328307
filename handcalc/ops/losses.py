"""The losses, one class each: softmax cross-entropy, sigmoid binary cross-entropy and mse.

A loss keeps its ``treatment`` (how exp and log are handled) and its ``factor`` (1 for the sum,
1/B for the mean) and is stated to ``treatment.loss_digits`` decimals in every mode. The two
cross-entropies are explained as a sum of logarithms, each term worked in floating point from Z
(the key's exact value would not fit on a line), the mse as a sum of squared differences.
``loss_op(loss, treatment, factor)`` picks the class by the option's name.
"""

from __future__ import annotations

import dataclasses
import math
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar

from ..matrix import Mat, entry_float, ones, scalar, to_fraction
from ..notation import subscript
from ..transcendental import Base, Table, Treatment
from .base import Cells, Op, Variant, hadamard, matmul, other_factor, row_sums, sub, times_scalar
from .words import at, decimal, factor, logarithm, of, term

if TYPE_CHECKING:
    from ..graph import Step
    from ..problem import Problem

#: one term of a cross-entropy: its symbol, the same with numbers, and its value
LogTerm = tuple[str, str, float]


@dataclass(frozen=True)
class Loss(Op):
    """The loss of the batch, a 1 × 1 matrix."""

    treatment: Treatment
    factor: Fraction  # 1 for sum, 1/B for mean
    #: the option's name: softmax_ce | sigmoid_bce | mse
    loss: ClassVar[str]
    words: ClassVar[str] = "the loss of the batch"

    @abstractmethod
    def __call__(self, z: Mat, y: Mat) -> Mat: ...

    @abstractmethod
    def formula(self, out: str, z: str, y: str) -> str: ...

    @abstractmethod
    def rule(self, a: str, log: str, mean: str) -> str:
        """The heading: ``L`` in terms of the output ``a``, the treatment's ``log`` and the
        mean's ``(1/B)·`` (the formula is written in terms of Z)."""

    @property
    def decimals(self) -> int | None:
        return self.treatment.loss_digits

    def heading(self, step: Step, problem: Problem) -> str:
        a = subscript(output_cell(problem, step.inputs[0]))
        mean = f"(1/{problem.spec.batch})·" if self.factor != 1 else ""
        return self.rule(a, logarithm(self.treatment), mean)

    def _reduction_variants(self, inputs: tuple[Mat, ...]) -> list[Variant]:
        """The loss under the other reduction (the sum for the mean and back): the mistake
        every loss invites."""
        z, y = inputs
        other = other_factor(self.factor, z.shape[1])
        if other is None:
            return []
        return [("mean_vs_sum", lambda: replace(self, factor=other)(z, y))]

    def _stated(self, cells: Cells, step: Step, total: float) -> str:
        """The loss's value as worked, then as the key states it: to its decimals."""
        result = cells(step.name)[0][0]
        digits = self.decimals
        rounded = f" (to {digits} decimal{'s' * (digits != 1)})" if digits is not None else ""
        value = decimal(total)
        return f"{result}{rounded}" if value == result else f"{value} → {result}{rounded}"


class _CrossEntropy(Loss):
    """A loss worked as ``−Σ`` of logarithms of the output, one term per entry that counts."""

    @abstractmethod
    def log_term(
        self, log: str, a: str, r: int, c: int, t: Fraction, zs: list[list[float]], cells: Cells
    ) -> LogTerm | None:
        """Entry ``r, c``'s term (target ``t``, logits ``zs``), or None where it adds nothing."""

    def _explain_logs(self, step: Step, cells: Cells) -> list[str]:
        z, y = step.inputs
        problem = cells.problem
        a = output_cell(problem, z)
        targets = [[to_fraction(t) for t in row] for row in problem.value(y).to_list()]
        zs = [[entry_float(x) for x in row] for row in problem.value(z).to_list()]
        log = logarithm(self.treatment)
        mean = f"(1/{len(targets[0])})·" if self.factor != 1 else ""
        terms: list[LogTerm] = []
        for r, row in enumerate(targets):
            for c, t in enumerate(row):
                found = self.log_term(log, a, r, c, t, zs, cells)
                if found is None:
                    continue
                symbol, shown, value = found
                if isinstance(self.treatment, Table):  # ln of the unrounded value: not ln 0.47
                    shown = symbol
                terms.append((symbol, shown, value))
        total = -float(self.factor) * sum(v for _, _, v in terms)
        note = ""
        if isinstance(self.treatment, Table):
            note = f" (each term from {subscript(z)}, before the table's rounding)"
        return [
            f"L = −{mean}({' + '.join(s for s, _, _ in terms)})",
            "terms: " + ", ".join(f"{n} = {decimal(v)}" for _, n, v in terms) + note,
            f"L = −{mean}({' + '.join(term(decimal(v)) for _, _, v in terms)}) = "
            + self._stated(cells, step, total),
        ]

    @property
    def _base(self) -> float:
        return self.treatment.base if isinstance(self.treatment, Base) else math.e


@dataclass(frozen=True)
class SoftmaxCE(_CrossEntropy):
    """Softmax cross-entropy: ``−Σ Y∘log softmax(Z)``."""

    loss: ClassVar[str] = "softmax_ce"

    def __call__(self, z: Mat, y: Mat) -> Mat:
        return self.treatment.ce_loss(z, y, self.factor)

    def formula(self, out: str, z: str, y: str) -> str:
        return f"{out} = −{_mean(self.factor)}Σ Y∘log softmax({z})"

    def rule(self, a: str, log: str, mean: str) -> str:
        return f"L = −{mean}Σ Y∘{log} {a}"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        return self._explain_logs(step, cells)

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        return self._reduction_variants(inputs)

    def log_term(
        self, log: str, a: str, r: int, c: int, t: Fraction, zs: list[list[float]], cells: Cells
    ) -> LogTerm | None:
        if t == 0:
            return None
        column = [zs[k][c] for k in range(len(zs))]
        top = max(column)
        value = (zs[r][c] - top) - math.log(
            sum(self._base ** (v - top) for v in column), self._base
        )
        return f"{log} {at(a, r, c)}", of(log, cells.at(a, r, c)), float(t) * value


@dataclass(frozen=True)
class SigmoidBCE(_CrossEntropy):
    """Sigmoid binary cross-entropy: ``−Σ [Y∘log σ(Z) + (1 − Y)∘log(1 − σ(Z))]``."""

    loss: ClassVar[str] = "sigmoid_bce"

    def __call__(self, z: Mat, y: Mat) -> Mat:
        return self.treatment.bce_loss(z, y, self.factor)

    def formula(self, out: str, z: str, y: str) -> str:
        mean = _mean(self.factor)
        return f"{out} = −{mean}Σ [Y∘log σ({z}) + (1 − Y)∘log(1 − σ({z}))]"

    def rule(self, a: str, log: str, mean: str) -> str:
        return f"L = −{mean}Σ [Y∘{log} {a} + (1 − Y)∘{log}(1 − {a})]"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        return self._explain_logs(step, cells)

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        return self._reduction_variants(inputs)

    def log_term(
        self, log: str, a: str, r: int, c: int, t: Fraction, zs: list[list[float]], cells: Cells
    ) -> LogTerm | None:
        x = zs[r][c]
        if t == 1:
            return f"{log} {at(a, r, c)}", of(log, cells.at(a, r, c)), -_softplus(-x, self._base)
        symbol = f"{log}(1 − {at(a, r, c)})"
        return symbol, f"{log}(1 − {factor(cells.at(a, r, c))})", -_softplus(x, self._base)


@dataclass(frozen=True)
class MSE(Loss):
    """Half the squared error: ``½·Σ (Z − Y)²``, the output's activation being the identity."""

    loss: ClassVar[str] = "mse"

    def __call__(self, z: Mat, y: Mat) -> Mat:
        # table mode states every loss to its decimals, the squared error too
        return self.treatment.round_loss(self.squared_error(z, y))

    def squared_error(self, z: Mat, y: Mat) -> Mat:
        """½·Σ (Z − Y)² (over B for the mean), exactly: the mse loss before any rounding."""
        squares = hadamard(*[sub(z, y)] * 2)
        return times_scalar(
            matmul(ones(1, z.shape[0], like=squares), row_sums(squares)), scalar(self.factor / 2)
        )

    def formula(self, out: str, z: str, y: str) -> str:
        return f"{out} = ½·{_mean(self.factor)}Σ ({z} − {y})²"

    def rule(self, a: str, log: str, mean: str) -> str:
        return f"L = ½·{mean}Σ ({a} − Y)²"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        z, y = step.inputs
        problem = cells.problem
        a = output_cell(problem, z)
        targets = [[to_fraction(t) for t in row] for row in problem.value(y).to_list()]
        zs = [[entry_float(x) for x in row] for row in problem.value(z).to_list()]
        mean = f"(1/{len(targets[0])})·" if self.factor != 1 else ""
        diffs = [
            (
                f"({factor(cells.at(a, r, c))} − {factor(cells.at(y, r, c))})²",
                (zs[r][c] - float(t)) ** 2,
            )
            for r, row in enumerate(targets)
            for c, t in enumerate(row)
        ]
        total = self.factor * sum(v for _, v in diffs) / 2
        return [
            f"L = ½·{mean}({' + '.join(s for s, _ in diffs)})",
            "terms: " + ", ".join(f"{s} = {decimal(v)}" for s, v in diffs),
            f"L = ½·{mean}({' + '.join(decimal(v) for _, v in diffs)}) = "
            + self._stated(cells, step, float(total)),
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        return self._reduction_variants(inputs)


def _mean(factor: Fraction) -> str:
    """The mean's ``(1/B)·`` in a formula; nothing for the sum."""
    return "(1/B)·" if factor != 1 else ""


def _softplus(x: float, base: float) -> float:
    """log_base(1 + base^x), without overflow."""
    if x > 0:
        return x + math.log1p(base**-x) / math.log(base)
    return math.log1p(base**x) / math.log(base)


#: the loss classes by the option's name
LOSSES: dict[str, type[Loss]] = {cls.loss: cls for cls in (SoftmaxCE, SigmoidBCE, MSE)}


def loss_op(loss: str, treatment: Treatment, factor: Fraction) -> Loss:
    """The loss op of an output/loss pair (``softmax_ce``, ``sigmoid_bce``, ``mse``)."""
    return LOSSES[loss](treatment, factor)


def output_cell(problem: Problem, z: str) -> str:
    """The output ``A`` of the layer whose pre-activation ``z`` the loss is written in."""
    return dataclasses.replace(problem.graph[z].cell, symbol="A").name
