"""How numbers look on paper: a real minus sign, fractions as fractions, ``e²/(1 + e + e²)``.

The exchange format spells values for machines (``"-3/4"``, ``"exp(2)/(1 + E + exp(2))"``); these
functions spell the same values for a printed sheet. They never change a value, only its glyphs.
"""

from __future__ import annotations

import decimal
import math
import re
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import sympy

MINUS = "\u2212"
#: a value whose decimal expansion ends within this many places prints as that decimal
DECIMAL_PLACES = 6
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")

_EXP_INT = re.compile(r"exp\((-?\d+)\)")
_POWER_INT = re.compile(r"\*\*(-?\d+)")
_E_CONSTANT = re.compile(r"\bE\b")
_FRACTION = re.compile(r"-?\d{1,40}/\d{1,40}")


def number(text: str) -> str:
    """A value as the exchange format writes it, spelled for print by the one rule of
    :func:`printed`: ``-3/4`` → ``−0.75``, ``1/55`` → ``1/55``, ``-3`` → ``−3``. A decimal keeps
    its digits (a table value ``0.10`` says how many decimals it has); an exact-mode expression
    is written as by hand."""
    if _FRACTION.fullmatch(text):
        num, _, den = text.partition("/")
        return printed(Fraction(int(num), int(den)))
    if _looks_numeric(text):
        return text.replace("-", MINUS)
    return expression(text)


def printed(value: Any) -> str:
    """An exact rational (``Fraction``, a QQ element) as paper shows it: the decimal where its
    expansion ends within 6 places (``0.12``, ``−4.77``, ``2.069``, ``3``), else the fraction
    (``1/55``, ``−7/30``). The grader accepts either form; this is the one printed."""
    num, den = int(value.numerator), int(value.denominator)
    sign = MINUS if num < 0 else ""
    num = abs(num)
    if den == 1:
        return f"{sign}{num}"
    places = next((p for p in range(1, DECIMAL_PLACES + 1) if 10**p % den == 0), None)
    if places is None:
        return f"{sign}{num}/{den}"
    whole, frac = divmod(num * (10**places // den), 10**places)
    return f"{sign}{whole}.{str(frac).rjust(places, '0').rstrip('0')}"


#: the denominators of decimals that end within DECIMAL_PLACES places, and their places
_PLACES = {
    2**a * 5**b: max(a, b) for a in range(DECIMAL_PLACES + 1) for b in range(DECIMAL_PLACES + 1)
}


def printed_length(value: Any) -> int:
    """``len(printed(value))``, counted without writing it (the generator counts every entry)."""
    num, den = value.numerator, value.denominator  # ints, or gmpy2's (hashed like ints)
    sign = num < 0
    if den == 1:
        return sign + len(str(abs(num)))
    places = _PLACES.get(den)
    if places is None:
        return sign + len(str(abs(num))) + 1 + len(str(den))
    return sign + len(str(abs(num) // den)) + 1 + places


def expression(text: str) -> str:
    """An ``exact``-mode expression spelled the way it is written by hand: ``e²/(1 + e + e²)``."""
    out = _EXP_INT.sub(lambda m: "e" + m.group(1).translate(_SUPERSCRIPT), text)
    out = out.replace("exp(", "e^(")
    out = _POWER_INT.sub(lambda m: m.group(1).translate(_SUPERSCRIPT), out)
    out = _E_CONSTANT.sub("e", out)
    out = out.replace("log(", "ln(")
    out = re.sub(r"(\d)\*(?=[a-zA-Z(])", r"\1", out)  # 2*e⁴ → 2e⁴, as by hand
    return out.replace("*", "·").replace("-", MINUS)


def approx(value: float) -> str:
    """A decimal beside an exact expression, precise enough to check a calculator against: at
    least 4 significant digits (``0.006693``, ``−2.000``, ``12.35``, ``1235``), no exponent."""
    if value == 0:
        return "0"
    places = max(3 - math.floor(math.log10(abs(value))), 0)
    text = f"{value:.{places}f}"
    return text.replace("-", MINUS)


def printed_entries(rows: Sequence[Sequence[Any]], decimals: int | None = None) -> list[list[str]]:
    """A matrix's entries (rows of QQ elements or sympy expressions, as ``to_list()`` gives them)
    as the sheet prints them: to ``decimals`` decimals where the cell is stated to them (a table's
    value, the loss), else an exact value by :func:`printed` and an expression as its decimal
    ``≈…`` (the key lists the expressions apart)."""
    if decimals is not None:
        return [[rounded(x, decimals) for x in row] for row in rows]
    from .matrix import to_fraction

    return [
        [("≈" + approx(float(x)) if is_expression(x) else printed(to_fraction(x))) for x in row]
        for row in rows
    ]


def rounded(x: Any, digits: int) -> str:
    """An entry to ``digits`` decimals, halves away from zero, exactly (an expression too)."""
    if is_expression(x):
        exact = decimal.Decimal(str(sympy.N(x, 40)))
    else:
        from .matrix import to_fraction

        q = to_fraction(x)
        exact = decimal.Decimal(q.numerator) / decimal.Decimal(q.denominator)
    text = str(exact.quantize(decimal.Decimal(1).scaleb(-digits), decimal.ROUND_HALF_UP))
    return number(text.removeprefix("-") if text.strip("-0.") == "" else text)


def entry(x: Any) -> str:
    """One entry of a value matrix (a QQ element or a sympy expression), for print."""
    from .matrix import entry_text

    return number(entry_text(x))


def is_expression(x: Any) -> bool:
    return isinstance(x, sympy.Basic) and not x.is_Rational


def subscript(name: str) -> str:
    """``W12`` → ``W₁₂``, ``W1_new`` → ``W₁ new``: a cell name as a label on the sheet."""
    base, _, suffix = name.partition("_")
    m = re.fullmatch(r"([A-Za-z]+)(\d*)", base)
    label = m.group(1) + m.group(2).translate(_SUBSCRIPT) if m else base
    return f"{label} {suffix}" if suffix else label


def power(base: str, exponent: str) -> str:
    """``e³``, ``3⁻²`` for a printed whole-number exponent; ``e^(1/2)`` otherwise."""
    if re.fullmatch(f"{MINUS}?\\d+", exponent):
        return base + exponent.replace(MINUS, "-").translate(_SUPERSCRIPT)
    return f"{base}^({exponent})"


def formula(text: str) -> str:
    """Cell names in a formula with subscripts: ``Z3 = W3·A2 + b3`` → ``Z₃ = W₃·A₂ + b₃``."""
    # not \b: "W2ᵀ" must match too, and ᵀ counts as a letter
    pattern = r"(?<![A-Za-z0-9_])[A-Za-z]+\d+(?:_new)?(?![A-Za-z0-9_])"
    return re.sub(pattern, lambda m: subscript(m.group(0)), text).replace("'", "′")


def signed(text: str) -> str:
    """A printed number as a factor inside a sum: negatives in parentheses, ``(−1)``."""
    return f"({text})" if text.startswith(MINUS) else text


def _looks_numeric(text: str) -> bool:
    return re.fullmatch(r"-?\d+(?:/\d+|\.\d+)?", text) is not None
