"""The three honest treatments of exp, log, sigmoid and tanh (DESIGN.md, "Conventions").

- ``Table``: outputs rounded to ``digits`` decimals and printed as a lookup table; exact downstream.
- ``Base``: b^z instead of e^z in the output softmax or sigmoid, the loss in log base b.
- ``Exact``: sympy expressions, kept within a printable size budget.

Each treatment is a class with the same methods, so the ops dispatch on it instead of branching.
The table's exact decimal rounding lives in :mod:`handcalc.rounding` (``round_half_up`` is
re-exported here).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, ClassVar

import sympy
from sympy import QQ

from .errors import BudgetError, SpecError
from .matrix import Mat, elementwise, entry_text, expressions, to_fraction, to_sympy
from .rounding import (
    CONTEXT,
    exp_decimal,
    largest_remainder,
    plain_units,
    round_decimal,
    round_half_up,
    to_decimal,
)

# the table's softmax rounding, as handcalc.lookup footnotes it
_largest_remainder = largest_remainder


def _columns(m: Mat) -> list[list[Any]]:
    return [list(col) for col in zip(*m.to_list(), strict=True)]


def _from_columns(cols: list[list[Any]], exact: bool = False) -> Mat:
    rows = [list(r) for r in zip(*cols, strict=True)]
    if exact:
        return expressions(rows)
    from .matrix import rational

    return rational(rows)


class Treatment(ABC):
    name: ClassVar[str]

    @abstractmethod
    def sigmoid(self, z: Mat) -> Mat: ...

    @abstractmethod
    def tanh(self, z: Mat) -> Mat: ...

    @abstractmethod
    def softmax(self, z: Mat) -> Mat: ...

    @abstractmethod
    def ce_loss(self, z: Mat, y: Mat, scale: Fraction) -> Mat: ...

    @abstractmethod
    def bce_loss(self, z: Mat, y: Mat, scale: Fraction) -> Mat: ...

    @abstractmethod
    def describe(self) -> str:
        """One sentence for the sheet: which treatment is in force."""

    def check_hidden(self, activation: str) -> None:  # noqa: B027 - most treatments accept all
        """Refuse hidden activations this treatment cannot keep exact."""

    def finish(self, name: str, value: Mat) -> Mat:
        """Last touch on every computed cell (tidying, budgets)."""
        return value

    #: decimals the loss is written with, in every treatment (the sheet and the grader agree)
    digits: int = 2

    @property
    def loss_digits(self) -> int:
        """Decimals the loss is printed with and typed to: ``digits`` in every treatment (the
        value itself is exact outside ``table`` mode; the sheet prints it rounded)."""
        return self.digits

    def round_loss(self, loss: Mat) -> Mat:
        """A rational loss (``mse``) as the key holds it: rounded where the treatment rounds."""
        return loss


@dataclass(frozen=True)
class Table(Treatment):
    digits: int = 2
    name: ClassVar[str] = "table"

    def _rounded(self, fn: Any, z: Mat) -> Mat:
        return elementwise(lambda x: _to_qq(round_decimal(fn(to_fraction(x)), self.digits)), z)

    def sigmoid(self, z: Mat) -> Mat:
        return self._rounded(lambda q: 1 / (1 + exp_decimal(-q)), z)

    def tanh(self, z: Mat) -> Mat:
        def tanh(q: Fraction) -> Decimal:
            e2 = exp_decimal(2 * q)
            return (e2 - 1) / (e2 + 1)

        return self._rounded(tanh, z)

    def _largest_remainder(self, col: list[Any]) -> tuple[tuple[int, ...], bool]:
        return largest_remainder(self.digits, tuple(to_fraction(x) for x in col))

    def softmax(self, z: Mat) -> Mat:
        unit = 10**self.digits
        cols = []
        for col in _columns(z):
            units, _ = self._largest_remainder(col)
            cols.append([Fraction(u, unit) for u in units])
        return _from_columns(cols)

    def softmax_column(self, col: Sequence[Any]) -> tuple[tuple[Fraction, ...], tuple[int, ...]]:
        """One column's probabilities, and the rows (from 0) where largest remainder moved a
        probability off its own rounding so that the column sums to exactly 1 (the lookup
        table footnotes those)."""
        qs = tuple(to_fraction(x) for x in col)
        units, _ = largest_remainder(self.digits, qs)
        plain = plain_units(self.digits, qs)
        moved = tuple(i for i, (u, p) in enumerate(zip(units, plain, strict=True)) if u != p)
        return tuple(Fraction(u, 10**self.digits) for u in units), moved

    def softmax_ties(self, z: Mat) -> list[int]:
        """The columns (from 1) of softmax(z) where largest remainder broke a tie by row order."""
        return [j for j, col in enumerate(_columns(z), start=1) if self._largest_remainder(col)[1]]

    def round(self, value: Fraction) -> Fraction:
        """``value`` to ``digits`` decimals, halves away from zero (exactly: it is rational)."""
        return round_half_up(value, self.digits)

    def round_loss(self, loss: Mat) -> Mat:
        (value,) = loss.to_list()[0]
        return _scalar(self.round(to_fraction(value)))

    def is_half(self, value: Fraction) -> bool:
        """True where ``value`` lies exactly half-way between two ``digits``-decimal values."""
        return (value * 10**self.digits).denominator == 2

    def ce_loss(self, z: Mat, y: Mat, scale: Fraction) -> Mat:
        total = Decimal(0)
        for zc, yc in zip(_columns(z), _columns(y), strict=True):
            qs = [to_fraction(x) for x in zc]
            top = max(qs)
            lse = to_decimal(top) + CONTEXT.ln(sum((exp_decimal(q - top) for q in qs), Decimal(0)))
            for q, t in zip(qs, yc, strict=True):
                total += to_decimal(to_fraction(t)) * (lse - to_decimal(q))
        return _scalar(round_decimal(total * to_decimal(scale), self.digits))

    def bce_loss(self, z: Mat, y: Mat, scale: Fraction) -> Mat:
        total = Decimal(0)
        for zr, yr in zip(z.to_list(), y.to_list(), strict=True):
            for x, t in zip(zr, yr, strict=True):
                q = to_fraction(x)
                softplus = (
                    to_decimal(q) + CONTEXT.ln(1 + exp_decimal(-q))
                    if q > 0
                    else CONTEXT.ln(1 + exp_decimal(q))
                )
                total += softplus - to_decimal(to_fraction(t) * q)
        return _scalar(round_decimal(total * to_decimal(scale), self.digits))

    def describe(self) -> str:
        return (
            f"exp, sigmoid and tanh values are taken from the printed table, rounded to "
            f"{self.digits} decimals; the loss is rounded to {self.digits} decimals"
        )


@dataclass(frozen=True)
class Base(Treatment):
    base: int = 3
    digits: int = 2
    name: ClassVar[str] = "base"

    def _powers(self, z: Mat) -> list[list[int]]:
        out = []
        for col in _columns(z):
            qs = [to_fraction(x) for x in col]
            bad = next((q for q in qs if q.denominator != 1), None)
            if bad is not None:
                raise BudgetError(
                    f"transcendental 'base' writes {self.base}^z exactly only for integer z, but "
                    f"the output pre-activation has {bad}; use transcendental 'table' or 'exact'"
                )
            out.append([int(q) for q in qs])
        return out

    def sigmoid(self, z: Mat) -> Mat:
        b = self.base
        cols = [
            [Fraction(b**k, b**k + 1) if k >= 0 else Fraction(1, 1 + b**-k) for k in col]
            for col in self._powers(z)
        ]
        return _from_columns(cols)

    def tanh(self, z: Mat) -> Mat:
        raise SpecError("tanh has no exact base-b form; use transcendental 'table'")

    def softmax(self, z: Mat) -> Mat:
        cols = []
        for col in self._powers(z):
            low = min(col)
            weights = [self.base ** (k - low) for k in col]
            cols.append([Fraction(w, sum(weights)) for w in weights])
        return _from_columns(cols)

    def _log_loss(self, product: Fraction, scale: Fraction) -> Mat:
        value = (
            sympy.Rational(scale.numerator, scale.denominator)
            * sympy.log(sympy.Rational(product.numerator, product.denominator))
            / sympy.log(self.base)
        )
        return expressions([[value]])

    def ce_loss(self, z: Mat, y: Mat, scale: Fraction) -> Mat:
        product = Fraction(1)
        for a, t in zip(_columns(self.softmax(z)), _columns(y), strict=True):
            for p, w in zip(a, t, strict=True):
                product /= to_fraction(p) ** int(to_fraction(w))
        return self._log_loss(product, scale)

    def bce_loss(self, z: Mat, y: Mat, scale: Fraction) -> Mat:
        product = Fraction(1)
        for ar, tr in zip(self.sigmoid(z).to_list(), y.to_list(), strict=True):
            for p, t in zip(ar, tr, strict=True):
                a = to_fraction(p)
                product /= a if to_fraction(t) == 1 else 1 - a
        return self._log_loss(product, scale)

    def check_hidden(self, activation: str) -> None:
        if activation in ("sigmoid", "tanh"):
            raise SpecError(
                f"activation: a hidden {activation} cannot be exact with transcendental 'base' "
                f"(its derivative would carry ln {self.base}); use transcendental 'table'"
            )

    def describe(self) -> str:
        return (
            f"the output uses {self.base}^z in place of e^z, and the loss is measured in log base "
            f"{self.base}, so every gradient is an exact fraction"
        )


@dataclass(frozen=True)
class Exact(Treatment):
    budget: int = 200
    digits: int = 2
    name: ClassVar[str] = "exact"

    def sigmoid(self, z: Mat) -> Mat:
        return elementwise(lambda x: 1 / (1 + sympy.exp(-to_sympy(x))), z, exact=True)

    def tanh(self, z: Mat) -> Mat:
        return elementwise(lambda x: sympy.tanh(to_sympy(x)), z, exact=True)

    def softmax(self, z: Mat) -> Mat:
        cols = []
        for col in _columns(z):
            exps = [sympy.exp(to_sympy(x)) for x in col]
            total = sympy.Add(*exps)
            cols.append([e / total for e in exps])
        return _from_columns(cols, exact=True)

    def ce_loss(self, z: Mat, y: Mat, scale: Fraction) -> Mat:
        terms = []
        for zc, yc in zip(_columns(z), _columns(y), strict=True):
            lse = sympy.log(sympy.Add(*[sympy.exp(to_sympy(x)) for x in zc]))
            terms += [to_sympy(t) * (lse - to_sympy(x)) for x, t in zip(zc, yc, strict=True)]
        return expressions([[_sym(scale) * sympy.Add(*terms)]])

    def bce_loss(self, z: Mat, y: Mat, scale: Fraction) -> Mat:
        terms = [
            sympy.log(1 + sympy.exp(to_sympy(x))) - to_sympy(t) * to_sympy(x)
            for zr, yr in zip(z.to_list(), y.to_list(), strict=True)
            for x, t in zip(zr, yr, strict=True)
        ]
        return expressions([[_sym(scale) * sympy.Add(*terms)]])

    def check_hidden(self, activation: str) -> None:
        if activation in ("sigmoid", "tanh"):
            raise SpecError(
                f"activation: a hidden {activation} makes exact values too long to print (the next "
                f"layer exponentiates sums of {activation}s); use transcendental 'table'"
            )

    def describe(self) -> str:
        return (
            "values are exact expressions in e (decimals beside them); answers are accepted "
            "as decimals within the stated tolerance"
        )

    def finish(self, name: str, value: Mat) -> Mat:
        if value.domain == QQ:
            return value
        value = expressions([[_tidy(x) for x in row] for row in value.to_list()])
        for i, row in enumerate(value.to_list()):
            for j, x in enumerate(row):
                size = len(entry_text(x))
                if size > self.budget:
                    raise PrintBudgetError(
                        f"in transcendental 'exact' mode cell {name}[{i + 1},{j + 1}] needs {size} "
                        f"characters (the budget is {self.budget}); use transcendental 'table'"
                    )
        return value


class PrintBudgetError(BudgetError):
    """An exact expression is too long to print in a cell."""


def _sym(q: Fraction) -> sympy.Expr:
    return sympy.Rational(q.numerator, q.denominator)


def _tidy(x: Any) -> Any:
    """One fraction with an expanded numerator, (2*E + exp(2) - 1)/(1 + E + exp(2)), and no
    factor the numerator and denominator share: (-E - 1)/(1 + E) is -1, and (-19*E - 19)/(10 +
    10*E) is -19/10 (the shorter of the two spellings where cancelling expands a product)."""
    x = to_sympy(x)
    if x.is_Rational or x.has(sympy.log):
        return x
    num, den = sympy.fraction(sympy.together(x))
    plain = sympy.expand(num) / den
    cancelled = sympy.cancel(plain)
    if cancelled.is_Rational or len(sympy.sstr(cancelled)) < len(sympy.sstr(plain)):
        return cancelled
    return plain


def _to_qq(q: Fraction) -> Any:
    return QQ(q.numerator, q.denominator)


def _scalar(q: Fraction) -> Mat:
    from .matrix import rational

    return rational([[q]])


def treatment(name: str, digits: int = 2, base: int = 3) -> Treatment:
    """The treatment a spec names."""
    match name:
        case "table":
            return Table(digits)
        case "base":
            return Base(base, digits)
        case "exact":
            return Exact(digits=digits)
    raise SpecError(f"transcendental: unknown {name!r}; accepted: table, base, exact")
