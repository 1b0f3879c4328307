"""Exact matrices: sympy ``DomainMatrix`` over QQ for rationals, over EXRAW for ``exact`` mode.

``DomainMatrix`` over QQ is several times faster than ``Matrix`` of ``Rational`` (and uses gmpy2
when it is installed); EXRAW keeps sympy expressions as built, without the simplification of EX.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any, TypeAlias

import sympy
from sympy import EXRAW, QQ
from sympy.polys.matrices import DomainMatrix

from .values import format_rational

Mat: TypeAlias = DomainMatrix


def rational(rows: Sequence[Sequence[Fraction | int]]) -> Mat:
    """A QQ matrix from rows of ints or Fractions."""
    shape = (len(rows), len(rows[0]) if rows else 0)
    return DomainMatrix(
        [[QQ(int(v.numerator), int(v.denominator)) for v in row] for row in rows], shape, QQ
    )


def expressions(rows: Sequence[Sequence[Any]]) -> Mat:
    """An EXRAW matrix from rows of sympy expressions (rationals are kept as QQ where all are)."""
    shape = (len(rows), len(rows[0]) if rows else 0)
    exprs = [[_expr(v) for v in row] for row in rows]
    if all(v.is_Rational for row in exprs for v in row):
        return DomainMatrix([[QQ(int(v.p), int(v.q)) for v in row] for row in exprs], shape, QQ)
    return DomainMatrix(exprs, shape, EXRAW)


def as_mat(value: Any) -> Mat:
    """A cell's value as the solver keeps it, from what the API hands out: a ``DomainMatrix``, a
    sympy ``Matrix`` (``problem["dW2"]``) or rows of exact numbers (ints, Fractions, sympy
    numbers). Text is refused: numbers people type are read by ``values``."""
    if isinstance(value, DomainMatrix):
        return value
    if isinstance(value, sympy.MatrixBase):
        return expressions(value.tolist())
    if isinstance(value, Sequence) and value and all(isinstance(r, Sequence) for r in value):
        try:
            return expressions(value)
        except TypeError:
            pass
    raise TypeError(
        f"not a matrix of exact values: {value!r:.80}; use a sympy Matrix, a DomainMatrix or rows "
        "of ints, Fractions or sympy numbers"
    )


def _expr(v: Any) -> sympy.Expr:
    """A value the solver or the safe expression parser built; never text (nothing is parsed)."""
    if isinstance(v, sympy.Basic):
        return v
    if hasattr(v, "numerator") and hasattr(v, "denominator"):  # int, Fraction, QQ elements
        return sympy.Rational(int(v.numerator), int(v.denominator))
    raise TypeError(f"not an exact value: {v!r}")


def scalar(value: Fraction | int) -> Mat:
    return rational([[value]])


def unify(a: Mat, b: Mat) -> tuple[Mat, Mat]:
    if a.domain == b.domain:
        return a, b
    if EXRAW in (a.domain, b.domain):
        return a.convert_to(EXRAW), b.convert_to(EXRAW)
    return a.unify(b)


def ones(rows: int, cols: int, like: Mat) -> Mat:
    return DomainMatrix.ones((rows, cols), like.domain)


def elementwise(fn: Callable[..., Any], *mats: Mat, exact: bool = False) -> Mat:
    """Apply ``fn`` entry by entry to matrices of one shape; ``exact`` means results are sympy."""
    rows = [m.to_list() for m in mats]
    out = [[fn(*vals) for vals in zip(*r, strict=True)] for r in zip(*rows, strict=True)]
    if exact or any(m.domain == EXRAW for m in mats):
        return expressions(out)
    return DomainMatrix(out, mats[0].shape, QQ)


def is_rational(m: Mat) -> bool:
    return m.domain == QQ


def entries(m: Mat) -> list[list[Any]]:
    """Rows of entries: QQ elements (with .numerator/.denominator) or sympy expressions."""
    return m.to_list()


def to_fraction(x: Any) -> Fraction:
    if hasattr(x, "numerator"):
        return Fraction(int(x.numerator), int(x.denominator))
    return Fraction(int(x.p), int(x.q))  # a sympy Rational


def to_sympy(x: Any) -> sympy.Expr:
    if isinstance(x, sympy.Basic):
        return x
    return sympy.Rational(int(x.numerator), int(x.denominator))


def entry_text(x: Any) -> str:
    if isinstance(x, sympy.Basic):
        if x.is_Rational:
            return format_rational(int(x.p), int(x.q))
        return sympy.sstr(x)  # ordered by power: (2 + 2*exp(6) + 8*exp(8))/…
    return format_rational(int(x.numerator), int(x.denominator))


def entry_float(x: Any) -> float:
    if isinstance(x, sympy.Basic):
        return float(x.evalf(20))
    return float(to_fraction(x))


def to_strings(m: Mat) -> list[list[str]]:
    return [[entry_text(x) for x in row] for row in m.to_list()]


def to_floats(m: Mat) -> list[list[float]]:
    return [[entry_float(x) for x in row] for row in m.to_list()]
