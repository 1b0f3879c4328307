"""What a cell's entries must be, and the number rules a typed entry is held to.

- exact rational equality where the key is rational;
- a relative tolerance where the student works from decimals: a cell whose key holds irrational
  expressions (``exact`` mode, the loss in ``base`` mode), a cell of a transcendental op (its key
  may happen to be rational: a softmax of equal logits is 1/2), and every cell computed from such
  a cell (its key may be 1/3, but the student's decimals give 0.3333);
- half a unit of the last digit for a cell the sheet asks for to so many decimals (the loss, in
  every mode): ``0.36`` and ``0.3604`` are both right for 0.36043…

Numbers are Fractions, or floats in a cell of expressions: comparing them costs microseconds,
where sympy's would cost milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy

from ..answers import CellAnswer, approximate
from ..errors import HandcalcError
from ..graph import Step, resolve
from ..matrix import Mat, entry_float, to_fraction

#: an exact entry is a Fraction; an irrational one (exact mode, a logarithm) is its float
Number = Fraction | float
Numbers = list[list[Number]]


@dataclass(frozen=True)
class Expected:
    """A cell's key as numbers, and how a typed entry is held against it."""

    numbers: Numbers
    #: half a unit of the last printed digit, where the sheet states the decimals (the loss)
    half_unit: Fraction | None
    #: typed from a calculator: every entry is a float, compared with the tolerance
    approximate: bool

    @classmethod
    def of(cls, step: Step, key: Mat, approximate: bool) -> Expected:
        expected = numbers(key)
        if approximate:  # floats are compared with the tolerance, here and in carried credit
            expected = [[float(x) for x in row] for row in expected]
        return cls(expected, half_unit(step), approximate)

    def accepts(self, typed: Number, target: Number, tolerance: float, tolerant: bool) -> bool:
        """Whether ``typed`` is right for ``target`` (an entry of the key, or of the step re-run
        on the student's values): within half a unit where the decimals are stated, within the
        relative ``tolerance`` where ``tolerant`` or ``target`` is a float, else exactly."""
        half = self.half_unit
        if half is not None:
            return abs(Fraction(typed) - Fraction(target)) <= half
        if tolerant or isinstance(target, float):
            target = float(target)
            return abs(float(typed) - target) <= tolerance * abs(target)
        return typed == target

    def statuses(self, answer: CellAnswer, tolerance: float) -> list[list[str]]:
        """Each entry against the key: ``correct`` or ``wrong`` (blank and unreadable entries
        keep their status); none for a wrongly shaped cell."""
        if not answer.entries:
            return []  # a wrongly shaped cell has no entries to line up with the key's
        return [
            [self._status(e, x, tolerance) for e, x in zip(row, xrow, strict=True)]
            for row, xrow in zip(answer.entries, self.numbers, strict=True)
        ]

    def _status(self, entry: Fraction | str, target: Number, tolerance: float) -> str:
        if isinstance(entry, str):
            return entry  # blank or unreadable: not compared
        return "correct" if self.accepts(entry, target, tolerance, False) else "wrong"

    def tolerant_at(self, candidate: Number, i: int, j: int) -> bool:
        """Whether a number at (i, j) of another matrix (a mistake's, maybe transposed) is held
        to the tolerance: it is a float, or the key's entry there is."""
        if isinstance(candidate, float):
            return True
        expected = self.numbers
        inside = i < len(expected) and j < len(expected[i])
        return inside and isinstance(expected[i][j], float)

    @property
    def typed_to_decimals(self) -> bool:
        """Whether a decimal typed here can be a rounding: an exact cell, or one written to
        stated decimals (a cell typed from a calculator, exact mode, is decimals anyway)."""
        return self.half_unit is not None or not self.approximate

    def rounded(self, answer: CellAnswer, statuses: list[list[str]]) -> bool:
        """Every wrong entry is a decimal that is the exact key value cut to its decimals (0.33
        or 0.333 for 1/3): rounded, not miscalculated."""
        cut = [
            _cut(e, x)
            for row, erow, srow in zip(self.numbers, answer.entries, statuses, strict=True)
            for x, e, s in zip(row, erow, srow, strict=True)
            if s == "wrong"
        ]
        return bool(cut) and all(cut)


def half_unit(step: Step) -> Fraction | None:
    """Half a unit of the last printed digit, for cells the sheet asks for to so many decimals
    (the loss, in every mode: its key may be a rounded decimal, an exact fraction, or an
    irrational expression)."""
    digits = step.op.decimals
    if digits is None:
        return None
    return Fraction(1, 2 * 10**digits)


def approximate_cells(steps: Iterable[Step], key: Mapping[str, Mat]) -> frozenset[str]:
    """The cells a student works from decimals: an irrational key, a transcendental op, or an
    input that is such a cell (in exact mode even a rational entry downstream, such as 1/3, is
    typed as 0.3333). ``key`` maps cell names to the key's values."""
    found: set[str] = set()
    for step in steps:
        if (
            not key[step.name].domain.is_QQ
            or step.op.transcendental
            or any(resolve(n) in found for n in step.inputs)
        ):
            found.add(step.name)
    return frozenset(found)


def numbers(m: Mat) -> Numbers:
    """Entries as Fractions, or as floats in a cell of expressions (exact mode, a logarithm).

    Every entry of such a cell is a float, the rational ones too: the student works it with a
    calculator, so 1/3 there is typed as 0.3333 and graded with the tolerance."""
    if m.domain.is_QQ:
        return [[to_fraction(x) for x in row] for row in m.to_list()]
    return [[_number(x) for x in row] for row in m.to_list()]


def same(a: Mat, b: Mat) -> bool:
    """Whether two matrices hold the same values (in the same domain or not)."""
    if a.shape != b.shape:
        return False
    if a.domain == b.domain:
        return bool(a == b)
    return numbers(a) == numbers(b)


def _number(x: Any) -> Number:
    if not isinstance(x, sympy.Basic):
        return to_fraction(x)
    try:
        return approximate(x)  # by math: sympy's evalf costs milliseconds an entry
    except HandcalcError:
        return entry_float(x)


def _cut(typed: Any, exact: Number) -> bool:
    if not isinstance(typed, Fraction) or not isinstance(exact, Fraction | float):
        return False
    exact = Fraction(exact)  # a float (an irrational loss) exactly as the grader holds it
    # typed·10^k is whole where its denominator divides 10^k (a Fraction is in lowest terms)
    denominator = typed.denominator
    decimals = next((k for k in range(13) if 10**k % denominator == 0), 0)
    return decimals > 0 and abs(typed - exact) < Fraction(1, 10**decimals)
