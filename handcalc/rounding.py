"""Exact decimal rounding for the ``table`` treatment: decimals to 30 digits (far beyond the 4 a
table may round to), halves rounded away from zero, and a softmax column in units that sum to
exactly 1 by largest remainder.
"""

from __future__ import annotations

import decimal
import functools
import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import sympy

from .matrix import to_fraction

CONTEXT = decimal.Context(prec=30)  # far beyond the 4 decimals a table may round to


def to_decimal(q: Fraction) -> Decimal:
    return CONTEXT.divide(Decimal(q.numerator), Decimal(q.denominator))


def exp_decimal(q: Fraction) -> Decimal:
    return CONTEXT.exp(to_decimal(q))


def round_decimal(value: Decimal, digits: int) -> Fraction:
    """Round half away from zero to ``digits`` decimals, exactly."""
    quantum = Decimal(1).scaleb(-digits)
    return Fraction(value.quantize(quantum, rounding=decimal.ROUND_HALF_UP, context=CONTEXT))


@functools.lru_cache(maxsize=1024)  # the generator asks again for the ties of what it solved
def largest_remainder(digits: int, qs: tuple[Fraction, ...]) -> tuple[tuple[int, ...], bool]:
    """A softmax column in units of 10^-digits, summing to exactly 1: each probability rounded
    down, then the units left over go to the largest remainders (equal remainders: the upper row
    first). Also whether that rule had to choose among equal remainders (a tie)."""
    unit = 10**digits
    top = max(qs)
    exps = [exp_decimal(q - top) for q in qs]
    total = sum(exps, Decimal(0))
    scaled = [CONTEXT.divide(e * unit, total) for e in exps]
    units = [int(s) for s in scaled]
    rest = [s - u for s, u in zip(scaled, units, strict=True)]
    order = sorted(range(len(qs)), key=lambda i: (-rest[i], i))
    up = unit - sum(units)
    for i in order[:up]:
        units[i] += 1
    # equal logits give equal remainders; distinct ones differ far above 30 digits' noise
    tie = 0 < up < len(qs) and rest[order[up - 1]] - rest[order[up]] < Decimal("1e-20")
    return tuple(units), tie


def plain_units(digits: int, qs: tuple[Fraction, ...]) -> tuple[int, ...]:
    """Each probability of a softmax column rounded on its own (halves up), in units of
    10^-digits: what largest remainder starts from, before it makes the column sum to 1."""
    unit = 10**digits
    top = max(qs)
    exps = [exp_decimal(q - top) for q in qs]
    total = sum(exps, Decimal(0))
    half = Decimal(1) / 2
    return tuple(int(CONTEXT.divide(e * unit, total) + half) for e in exps)


def round_half_up(value: Any, digits: int) -> Fraction:
    """A cell's entry (a rational, or an exact-mode expression) to ``digits`` decimals, halves
    away from zero: the number a student writes where the sheet asks for that many decimals."""
    if isinstance(value, sympy.Basic) and not value.is_Rational:
        text = str(sympy.N(value, 40))  # far beyond the 4 decimals a loss is written with
        return round_decimal(Decimal(text), digits)
    q = to_fraction(value)
    unit = 10**digits
    units = math.floor(abs(q) * unit + Fraction(1, 2))
    return Fraction(units if q >= 0 else -units, unit)
