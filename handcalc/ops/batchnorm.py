"""Batch normalisation: the exact arithmetic of a row's statistics, and the training-mode forward
(the backward is in :mod:`.bn_backward`, the running statistics, folding and the affine form in
:mod:`.bn_eval`).

Each row (unit) of ``Z`` (n × B) is normalised over the batch with the **biased** variance, as
PyTorch does in training mode: ``mu = (1/B)·Σ_columns Z``, ``var = (1/B)·Σ_columns (Z − mu)²``,
``Zhat = (Z − mu)/√(var + eps)``, ``BN = gamma ∘ Zhat + beta``. Backward, the three paths from
``Z`` to the loss (through ``Zhat`` directly, through ``var`` and through ``mu``) give ``dZhat``,
``dvar``, ``dmu`` and ``dZ``, each derived in its worked explanation. The running statistics use
the **unbiased** variance (PyTorch's convention); folding and the affine form use them.

Square roots stay exact: the root of a perfect-square rational is rational (every root of a
generated hand-mode problem is), any other one a sympy ``sqrt`` (``exact`` mode only).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar

import sympy
from sympy import QQ
from sympy.polys.matrices import DomainMatrix

from ..matrix import Mat, elementwise, entry_text, expressions, to_fraction, unify
from ..notation import expression, is_expression, printed
from .base import (
    Cells,
    Mistake,
    Op,
    Variant,
    add,
    hadamard,
    row_sums,
    scale,
)
from .words import at, factor, products, term

if TYPE_CHECKING:
    from ..graph import Step

# --- exact arithmetic of a row's statistics ------------------------------------------------------


def spread(col: Mat, cols: int) -> Mat:
    """An n × 1 column repeated in ``cols`` columns (a row's statistic for every sample)."""
    rows = [[r[0]] * cols for r in col.to_list()]
    return DomainMatrix(rows, (col.shape[0], cols), col.domain)


def centred(z: Mat, mu: Mat) -> Mat:
    """``Z − mu``, mu subtracted from every column."""
    z, mu = unify(z, mu)
    rows = [[x - m[0] for x in row] for row, m in zip(z.to_list(), mu.to_list(), strict=True)]
    return DomainMatrix(rows, z.shape, z.domain)


def plus(m: Mat, c: Mat) -> Mat:
    """``m + c`` for a 1 × 1 ``c`` (eps) added to every entry (``m`` itself for eps 0)."""
    if c.is_zero_matrix:
        return m
    m, c = unify(m, c)
    value = c.to_list()[0][0]
    return DomainMatrix([[x + value for x in row] for row in m.to_list()], m.shape, m.domain)


def _root(x: Any) -> Any:
    if is_expression(x):
        return sympy.sqrt(x)
    n, d = int(x.numerator), int(x.denominator)
    if n < 0:
        raise ValueError("the square root of a negative variance")
    rn, rd = math.isqrt(n), math.isqrt(d)
    if rn * rn == n and rd * rd == d:
        return QQ(rn, rd)
    return sympy.sqrt(sympy.Rational(n, d))


def root(m: Mat) -> Mat:
    """Entrywise square root: rational where the entry is a perfect-square rational, a sympy
    ``sqrt`` elsewhere (``exact`` mode)."""
    rows = [[_root(x) for x in row] for row in m.to_list()]
    if not any(is_expression(x) for row in rows for x in row):
        return DomainMatrix(rows, m.shape, QQ)
    return expressions(rows)


def inverse(m: Mat) -> Mat:
    """Entrywise 1/x (ZeroDivisionError for a zero entry: a row constant over the batch)."""
    return elementwise(lambda x: 1 / x, m)


def deviation(var: Mat, eps: Mat, hand: bool = False) -> Mat:
    """``√(var + eps)``, the standard deviation BN divides by. ``hand`` (outside ``exact``
    mode) keeps an irrational root as its 4-decimal rational, the value a student writes down:
    only a student's own slip can make one (the key's roots are exact), and the grader then
    re-runs the steps after it on rationals. Kept for the last few statistics: one solve takes
    the same roots in four steps (training mode) and five (eval mode)."""
    return _deviation(*_key(var), *_key(eps), hand)


def inverse_deviation(var: Mat, eps: Mat, hand: bool = False) -> Mat:
    """``1/√(var + eps)`` (kept, as :func:`deviation` is)."""
    return _inverse_deviation(*_key(var), *_key(eps), hand)


def _key(m: Mat) -> tuple[Any, tuple[int, int], tuple[tuple[Any, ...], ...]]:
    return m.domain, m.shape, tuple(tuple(row) for row in m.to_list())


@functools.lru_cache(maxsize=64)
def _deviation(
    domain: Any, shape: Any, var: Any, eps_domain: Any, eps_shape: Any, eps: Any, hand: bool
) -> Mat:
    out = root(plus(DomainMatrix([list(r) for r in var], shape, domain), _mat(eps_domain, eps)))
    if hand and not out.domain.is_QQ:
        return elementwise(_four_decimals, out)
    return out


@functools.lru_cache(maxsize=64)
def _inverse_deviation(
    domain: Any, shape: Any, var: Any, eps_domain: Any, eps_shape: Any, eps: Any, hand: bool
) -> Mat:
    return inverse(_deviation(domain, shape, var, eps_domain, eps_shape, eps, hand))


def _mat(domain: Any, rows: Any) -> Mat:
    return DomainMatrix([list(r) for r in rows], (len(rows), len(rows[0])), domain)


def by_rows(col: Mat, m: Mat) -> Mat:
    """``diag(col)·m``: row i of ``m`` times ``col[i]``."""
    col, m = unify(col, m)
    rows = [[c[0] * x for x in row] for row, c in zip(m.to_list(), col.to_list(), strict=True)]
    return DomainMatrix(rows, m.shape, m.domain)


def _four_decimals(x: Any) -> Any:
    if not is_expression(x):
        return x
    return QQ(round(float(x) * 10**4), 10**4)


def shown(x: Any) -> str:
    """An intermediate value as the sheet would print it (an expression as written by hand)."""
    return expression(entry_text(x)) if is_expression(x) else printed(to_fraction(x))


def sd_text(cells: Cells, var: str, eps: str, i: int) -> str:
    """``√(var + eps) = √(4 + 0) = 2`` for row i, and the root alone."""
    value = deviation(cells.problem.value(var), cells.problem.value(eps)).to_list()[i][0]
    return shown(value)


def sd_line(cells: Cells, var: str, eps: str, i: int) -> str:
    return (
        f"  √({at(var, i, 0)} + {eps}) = √({cells.at(var, i, 0)} + {cells.at(eps, 0, 0)}) = "
        f"{sd_text(cells, var, eps, i)}"
    )


# --- forward (training mode) ---------------------------------------------------------------------


@dataclass(frozen=True)
class RowMean(Op):
    """``mu = (1/B)·Σ_columns Z``: each unit's mean over the batch."""

    words: ClassVar[str] = "the mean of each row (unit) over the batch"
    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake("mean_not_divided", "It looks like the row was summed but not divided by B."),
    )

    def __call__(self, z: Mat) -> Mat:
        return scale(row_sums(z), Fraction(1, z.shape[1]))

    def formula(self, out: str, z: str) -> str:
        return f"{out} = (1/B)·Σ_columns {z}"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        (z,) = step.inputs
        batch = len(cells(z)[0])
        numbers = " + ".join(term(cells.at(z, i, c)) for c in range(batch))
        return [f"{at(step.name, i, 0)} = ({numbers})/{batch} = {cells.result(step.name, i, 0)}"]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        (z,) = inputs
        return [("mean_not_divided", lambda: row_sums(z))]


@dataclass(frozen=True)
class BatchVariance(Op):
    """``var = (1/B)·Σ_columns (Z − mu)²``: the biased variance, as in PyTorch's training mode."""

    words: ClassVar[str] = "the biased variance of each row over the batch (divided by B)"
    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake(
            "unbiased_variance",
            "It looks like the unbiased variance (divided by B − 1) was used: in training mode BN "
            "normalises with the biased variance, divided by B.",
        ),
        Mistake(
            "variance_not_centred",
            "It looks like the squares of Z were averaged without subtracting the mean first.",
        ),
    )

    def __call__(self, z: Mat, mu: Mat) -> Mat:
        d = centred(z, mu)
        return scale(row_sums(hadamard(d, d)), Fraction(1, z.shape[1]))

    def formula(self, out: str, z: str, mu: str) -> str:
        return f"{out} = (1/B)·Σ_columns ({z} − {mu})²"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        z, mu = step.inputs
        batch = len(cells(z)[0])
        d = centred(cells.problem.value(z), cells.problem.value(mu)).to_list()[i]
        squares = " + ".join(f"{factor(shown(x))}²" for x in d)
        return [
            f"  {z} − {mu} in row {i + 1}: " + ", ".join(shown(x) for x in d),
            f"{at(step.name, i, 0)} = ({squares})/{batch} = {cells.result(step.name, i, 0)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        z, mu = inputs
        batch = z.shape[1]
        right = self(z, mu)
        return [
            ("unbiased_variance", lambda: scale(right, Fraction(batch, batch - 1))),
            ("variance_not_centred", lambda: scale(row_sums(hadamard(z, z)), Fraction(1, batch))),
        ]


@dataclass(frozen=True)
class Normalise(Op):
    """``Zhat = (Z − mu)/√(var + eps)``; ``irrational`` where eps makes the roots irrational
    (``exact`` mode: the grader then compares with a tolerance)."""

    irrational: bool = False
    #: outside exact mode: an irrational root is refused (ValueError), not computed
    hand: bool = False
    words: ClassVar[str] = "each row centred on its mean and divided by its standard deviation"
    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake(
            "variance_not_rooted",
            "It looks like Z − mu was divided by the variance, not by its square root "
            "(the standard deviation).",
        ),
        Mistake("not_centred", "It looks like the mean was not subtracted before dividing."),
    )

    @property
    def transcendental(self) -> bool:
        return self.irrational

    def __call__(self, z: Mat, mu: Mat, var: Mat, eps: Mat) -> Mat:
        return by_rows(inverse_deviation(var, eps, self.hand), centred(z, mu))

    def formula(self, out: str, z: str, mu: str, var: str, eps: str) -> str:
        return f"{out} = ({z} − {mu})/√({var} + {eps})"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        z, mu, var, eps = step.inputs
        return [
            sd_line(cells, var, eps, i),
            f"{at(step.name, i, j)} = ({at(z, i, j)} − {at(mu, i, 0)})/√({at(var, i, 0)} + "
            f"{eps}) = ({cells.at(z, i, j)} − {term(cells.at(mu, i, 0))})/"
            f"{factor(sd_text(cells, var, eps, i))} = {cells.result(step.name, i, j)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        z, mu, var, eps = inputs
        return [
            ("variance_not_rooted", lambda: by_rows(inverse(plus(var, eps)), centred(z, mu))),
            ("not_centred", lambda: by_rows(inverse_deviation(var, eps, self.hand), z)),
        ]


@dataclass(frozen=True)
class ScaleShift(Op):
    """``BN = gamma ∘ Zhat + beta``: each row scaled by its gamma and shifted by its beta."""

    words: ClassVar[str] = "each row of Zhat times its gamma, plus its beta"

    def __call__(self, gamma: Mat, zhat: Mat, beta: Mat) -> Mat:
        cols = zhat.shape[1]
        return add(by_rows(gamma, zhat), spread(beta, cols))

    def formula(self, out: str, gamma: str, zhat: str, beta: str) -> str:
        return f"{out} = {gamma} ∘ {zhat} + {beta}"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        gamma, zhat, beta = step.inputs
        return [
            f"{at(step.name, i, j)} = {at(gamma, i, 0)}·{at(zhat, i, j)} + {at(beta, i, 0)} = "
            f"{products([(cells.at(gamma, i, 0), cells.at(zhat, i, j))])} + "
            f"{term(cells.at(beta, i, 0))} = {cells.result(step.name, i, j)}"
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        gamma, zhat, _ = inputs
        return [("bias_forgotten", lambda: by_rows(gamma, zhat))]
