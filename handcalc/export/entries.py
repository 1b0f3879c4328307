"""A problem's graded entries as a quiz engine holds them: the decimal stored and the tolerance.

What is accepted, as an absolute tolerance around the key's decimal (quiz engines compare decimal
numbers, not fractions, so a fraction's exact form cannot be typed; its feedback shows it):

- a cell the sheet states to ``d`` decimals (the loss, a value read from a table): half a unit of
  the last decimal, ``0.5·10^-d``, as the grader holds it;
- an exact value whose decimal ends within 12 places (``0.12``, ``-4.77``): that decimal, tolerance
  0 (the engine reads the typed and the stored text to the same float);
- an exact fraction with no finite decimal (``1/55``): half a unit of the 4th significant digit
  (``0.0181818…`` ± 0.000005), so its decimal rounded to 4 significant digits (``0.01818``) or
  more passes, and 3 digits (``0.0182``) or a cut (``0.6666`` for 2/3) do not: the window is at
  most 0.05 % of the value, twenty times narrower than the grader's 1 % for calculator work, so
  the decimal of a wrong fraction (a slip changes a value by far more) never falls in it;
- a cell worked from decimals (``exact`` mode's expressions, a logarithm, and the cells after
  them): the grader's relative tolerance, 1 % of the value.

The XML is written with the standard library's ElementTree: nothing beyond the core install.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from ..grading.expected import approximate_cells, numbers
from ..grading.scheme import DEFAULT_TOLERANCE
from ..graph import Step
from ..printing import printed, stated_decimals
from ..problem import Problem

#: significant digits a fraction without a finite decimal is asked to
SIGNIFICANT = 4
#: the longest finite decimal taken as exact (longer ones are held like a fraction)
MOST_DECIMALS = 12


@dataclass(frozen=True)
class Entry:
    """One graded entry: the number the engine compares with and the tolerance around it."""

    cell: str
    i: int  #: row, from 0
    j: int  #: column, from 0
    key: str  #: as the key prints it (``1/55``, ``0.12``)
    text: str  #: the decimal written into the file (``0.0181818181818182``)
    tolerance: float  #: absolute; 0 for a finite decimal

    @property
    def value(self) -> float:
        return float(self.text)

    @property
    def tolerance_text(self) -> str:
        """The tolerance as a plain decimal (``0.0000005``, not ``5e-07``)."""
        return plain(self.tolerance)

    def accepts(self, typed: float) -> bool:
        """Whether an engine following the file accepts ``typed``."""
        return abs(typed - self.value) <= self.tolerance * (1 + 1e-9)


def graded(problem: Problem) -> list[tuple[Step, list[list[Entry]]]]:
    """Every step with its entries as the quiz engine holds them, in the order a student works."""
    loose = approximate_cells(problem.steps, problem.values)
    out = []
    for step in problem.steps:
        decimals = stated_decimals(problem, step)
        keys = numbers(problem.value(step.name))
        shown = printed(problem, step.name)
        rows = [
            [
                _entry(step.name, i, j, x, shown[i][j], decimals, step.name in loose)
                for j, x in enumerate(row)
            ]
            for i, row in enumerate(keys)
        ]
        out.append((step, rows))
    return out


def _entry(
    cell: str, i: int, j: int, x: Fraction | float, key: str, decimals: int | None, loose: bool
) -> Entry:
    key = key.replace("−", "-")
    if decimals is not None:
        return Entry(cell, i, j, key, decimal(x), 0.5 * 10.0**-decimals)
    if loose or isinstance(x, float):
        return Entry(cell, i, j, key, decimal(x), DEFAULT_TOLERANCE * abs(float(x)))
    finite = _finite(x)
    if finite is not None:
        return Entry(cell, i, j, key, finite, 0.0)
    return Entry(cell, i, j, key, decimal(x), 0.5 * 10.0 ** (_exponent(x) - SIGNIFICANT + 1))


def _finite(x: Fraction) -> str | None:
    """``x``'s decimal where it ends within :data:`MOST_DECIMALS` places, else None."""
    for places in range(MOST_DECIMALS + 1):
        scaled = x * 10**places
        if scaled.denominator == 1:
            text = str(Decimal(int(scaled)).scaleb(-places))
            return "0" if Fraction(text) == 0 else text
    return None


def decimal(x: Fraction | float) -> str:
    """``x`` to 15 significant digits, never in exponent notation (not every engine reads it)."""
    return "0" if x == 0 else format(Decimal(f"{float(x):.15g}"), "f")


def plain(x: float) -> str:
    """A float as a plain decimal (``0.0000005``, not ``5e-07``)."""
    return format(Decimal(repr(x)), "f")


def _exponent(x: Fraction | float) -> int:
    return math.floor(math.log10(abs(float(x))))
