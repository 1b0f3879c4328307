"""Exact values as text: a safe parser for what people type, a printer for what the solver computes.

Nothing here calls ``eval`` or ``sympify``: numbers are matched by a regular expression and the few
expressions of ``exact`` mode (``exp(2)/(1 + E + exp(2))``) by the bounded parser of
:mod:`handcalc.expressions`, re-exported here. Whole numbers (sizes, seeds, counts) are read by
:func:`parse_whole`, one rule for digits everywhere.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Any

from .errors import DocumentError
from .expressions import MAX_EXPRESSION_CHARS as MAX_EXPRESSION_CHARS
from .expressions import parse_expression as parse_expression

MAX_CHARS = 40
MAX_DIGITS = 12  # in a numerator or denominator, and in a decimal's digits

_NUMBER = re.compile(
    r"""\s*(?P<sign>[-+]?)\s*(?:
        (?P<num>\d+)\s*/\s*(?P<den>\d+)                       # 3/4
      | (?P<int>\d+)?(?:\.(?P<frac>\d*))?(?:[eE](?P<exp>[-+]?\d{1,3}))?  # 2, 0.75, .5, 1.25e-1
    )\s*""",
    re.VERBOSE,
)
ACCEPTED = "an integer (-3), a fraction (3/4) or a decimal (0.75, .5, -1.25e-1)"


def parse_number(text: Any, where: str = "value") -> Fraction:
    """Parse one exact number typed by a person; ``where`` names the field in error messages."""
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise DocumentError(f"{where}: expected {ACCEPTED}, got {type(text).__name__}")
    if isinstance(text, float) and not math.isfinite(text):
        raise DocumentError(f"{where}: {text!r} is not a finite number; expected {ACCEPTED}")
    if isinstance(text, int):
        if abs(text) >= 10**MAX_DIGITS:
            raise DocumentError(
                f"{where}: {quote(text)} is too large (at most {MAX_DIGITS} digits)"
            )
        text = str(text)
    elif isinstance(text, float):
        text = repr(text)
    if len(text) > MAX_CHARS:
        raise DocumentError(f"{where}: {len(text)} characters is too long (at most {MAX_CHARS})")
    cleaned = text.replace("\u2212", "-").replace("\u2013", "-")
    m = _NUMBER.fullmatch(cleaned)
    if not m or not (m["num"] or m["int"] or m["frac"]):
        raise DocumentError(f"{where}: {text!r} is not a number; expected {ACCEPTED}")
    sign = -1 if m["sign"] == "-" else 1
    if m["num"] is not None:
        num, den = m["num"], m["den"]
        if len(num) > MAX_DIGITS or len(den) > MAX_DIGITS:
            raise DocumentError(f"{where}: {text!r} is too large (at most {MAX_DIGITS} digits)")
        if int(den) == 0:
            raise DocumentError(f"{where}: {text!r} divides by zero")
        return sign * Fraction(int(num), int(den))
    whole, frac = m["int"] or "", m["frac"] or ""
    if len(whole.lstrip("0")) + len(frac) > MAX_DIGITS:
        raise DocumentError(f"{where}: {text!r} is too large (at most {MAX_DIGITS} digits)")
    value = Fraction(int(whole or "0")) + (Fraction(int(frac), 10 ** len(frac)) if frac else 0)
    if m["exp"]:
        exponent = int(m["exp"])
        if abs(exponent) > MAX_DIGITS:
            raise DocumentError(f"{where}: exponent in {text!r} is out of range (|e| ≤ 12)")
        value *= Fraction(10) ** exponent
    return sign * value


MAX_WHOLE_CHARS = 40  # a whole number's text, read before any conversion


def parse_whole(text: Any, where: str, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high``, as JSON gives it (an int) or as typed (text).

    Text is an optional sign and decimal digits, with spaces around: what ``int()`` reads, with
    the same idea of a digit (Unicode category Nd, so ``٣`` and ``３`` are 3) but no underscores;
    a superscript ``²`` is not a decimal digit and is refused, like ``1.0`` and ``True``. The
    length is checked before anything is converted. ``where`` names the field in messages."""
    accepted = f"accepted: a whole number from {low} to {high}"
    value: int | None = None
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    elif isinstance(text, str) and len(text) <= MAX_WHOLE_CHARS:
        digits = text.strip()
        negative = digits[:1] in ("-", "\u2212")
        if digits[:1] in ("-", "+", "\u2212"):
            digits = digits[1:]
        if digits.isdecimal():  # exactly the characters int() reads as digits (category Nd)
            value = -int(digits) if negative else int(digits)
    if value is None or not low <= value <= high:
        raise DocumentError(f"{where}: {quote(text)} is not accepted; {accepted}")
    return value


def quote(value: Any) -> str:
    """A value as a message quotes it: short, and never a conversion of a huge integer."""
    if isinstance(value, str):
        return repr(value) if len(value) <= 36 else repr(value[:32]) + " …"
    if isinstance(value, int) and value.bit_length() > 128:
        return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, list | tuple | dict):
        return f"a {type(value).__name__} of {len(value)} items"
    text = repr(value)
    return text if len(text) <= 40 else text[:36] + " …"


def format_rational(numerator: int, denominator: int) -> str:
    """``"-3"`` or ``"3/4"``: the exchange format's spelling of a rational."""
    return str(numerator) if denominator == 1 else f"{numerator}/{denominator}"


def format_decimal(value: Fraction, digits: int) -> str:
    """A rational that is a multiple of 10^-digits, printed with exactly ``digits`` decimals."""
    scaled = value * 10**digits
    if scaled.denominator != 1:
        raise ValueError(f"{value} is not a multiple of 10^-{digits}")
    n = int(scaled)
    sign = "-" if n < 0 else ""
    whole, frac = divmod(abs(n), 10**digits)
    return f"{sign}{whole}.{frac:0{digits}d}" if digits else f"{sign}{whole}"
