"""How an explanation writes its numbers: entries, factors, terms, powers and logarithms.

Shared by every op's :meth:`~handcalc.ops.base.Op.explain`. A factor that is not a plain number (a
fraction, a negative number, an expression) is written in parentheses; a power or a logarithm is
written in the treatment's base (``e`` and ``ln``, or the ``base`` mode's ``b`` and ``log_b``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..notation import MINUS, approx, power, subscript
from ..transcendental import Base

#: a decimal beside an exact expression: at least 4 significant digits
decimal = approx


def at(name: str, i: int, j: int) -> str:
    """Entry ``i, j`` of a cell, named: ``W₁[1,2]``."""
    return f"{subscript(name)}[{i + 1},{j + 1}]"


def factor(text: str) -> str:
    """An operand inside a product or a difference: in parentheses unless a plain unsigned
    number (``(−2)``, ``(3/25)``, ``(1/(1 + e⁵))``; ``2``, ``0.47``)."""
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return text
    return f"({text})"


def term(text: str) -> str:
    """An operand inside a sum: negatives and expressions in parentheses (``(−1)``)."""
    return text if re.fullmatch(r"\d+(?:[./]\d+)?", text) else f"({text})"


def products(pairs: Sequence[tuple[str, str]]) -> str:
    """``a·b + c·d`` with each factor written as a factor."""
    return " + ".join(f"{factor(a)}·{factor(b)}" for a, b in pairs)


def fraction(q: Any) -> str:
    """A rational as ``p/q``, or ``p`` where it is whole."""
    return f"{q.numerator}/{q.denominator}" if q.denominator != 1 else str(q.numerator)


def negate(text: str) -> str:
    """``−x`` for a printed operand: a number's sign flipped, anything else ``−(…)``."""
    if not re.fullmatch(f"{MINUS}?\\d+(?:[./]\\d+)?", text):
        return f"{MINUS}({text})"
    return text[1:] if text.startswith(MINUS) else MINUS + text


def positive(x: str) -> bool:
    """Whether a printed number is greater than 0."""
    return not x.startswith(MINUS) and x.strip("0./") != ""


def exponential(treatment: Any, exponent: str) -> str:
    """The treatment's base (``e``, or ``b`` in ``base`` mode) to the power ``exponent``."""
    return power(str(treatment.base) if isinstance(treatment, Base) else "e", exponent)


def logarithm(treatment: Any) -> str:
    """The treatment's logarithm: ``ln``, or ``log_b`` (subscripted) in ``base`` mode."""
    return f"log{subscript(f'x{treatment.base}')[1:]}" if isinstance(treatment, Base) else "ln"


def of(function: str, text: str) -> str:
    """``ln 0.47``, but ``ln(81/109)``: a function of anything but a plain number in brackets."""
    return f"{function} {text}" if re.fullmatch(r"\d+(?:\.\d+)?", text) else f"{function}({text})"
