"""Exact values as text: a safe parser for what people type, a printer for what the solver computes.

Nothing here calls ``eval`` or ``sympify``: numbers are matched by a regular expression and the few
expressions of ``exact`` mode (``exp(2)/(1 + E + exp(2))``) by a small recursive-descent parser that
only knows numbers, ``E``, ``exp``, ``log``, ``tanh``, the four operations, powers and parentheses.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from .errors import DocumentError

MAX_CHARS = 40
MAX_EXPRESSION_CHARS = 2000
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
    if isinstance(text, int):
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


# --- the expression parser of exact mode -------------------------------------------------------

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|(\*\*|[-+*/()])|([A-Za-z_]+))")
_FUNCTIONS = ("exp", "log", "tanh")
_EXPRESSIONS_ACCEPTED = (
    f"expected a number or an expression of numbers, E, {', '.join(_FUNCTIONS)}"
    f", + - * / ** and parentheses"
)


def parse_expression(text: str, where: str = "value") -> Any:
    """Parse an exact-mode value such as ``exp(2)/(1 + E + exp(2))`` into a sympy expression."""
    import sympy

    if not isinstance(text, str):
        raise DocumentError(f"{where}: expected a string, got {type(text).__name__}")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise DocumentError(f"{where}: expression longer than {MAX_EXPRESSION_CHARS} characters")
    tokens: list[str] = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if not m:
            raise DocumentError(
                f"{where}: cannot read {text!r} at character {pos + 1}; {_EXPRESSIONS_ACCEPTED}"
            )
        tokens.append(m.group(1) or m.group(2) or m.group(3))
        pos = m.end()
    return _Parser(tokens, text, where, sympy).parse()


class _Parser:
    """expr := term (± term)*; term := unary (*|/ unary)*; unary := ± unary | power;
    power := atom (** unary)?; atom := number | E | func(expr) | (expr)."""

    def __init__(self, tokens: list[str], text: str, where: str, sympy: Any) -> None:
        self.tokens, self.text, self.where, self.sp, self.i = tokens, text, where, sympy, 0

    def fail(self, why: str) -> DocumentError:
        return DocumentError(
            f"{self.where}: cannot read {self.text!r} ({why}); {_EXPRESSIONS_ACCEPTED}"
        )

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise self.fail("it ends too early")
        self.i += 1
        return token

    def parse(self) -> Any:
        if not self.tokens:
            raise self.fail("it is empty")
        value = self.expr(0)
        if self.peek() is not None:
            raise self.fail(f"unexpected {self.peek()!r}")
        return value

    def expr(self, depth: int) -> Any:
        if depth > 50:
            raise self.fail("nested too deeply")
        value = self.term(depth)
        while self.peek() in ("+", "-"):
            op = self.take()
            rhs = self.term(depth)
            value = value + rhs if op == "+" else value - rhs
        return value

    def term(self, depth: int) -> Any:
        value = self.unary(depth)
        while self.peek() in ("*", "/"):
            op = self.take()
            rhs = self.unary(depth)
            if op == "/" and rhs == 0:
                raise self.fail("division by zero")
            value = value * rhs if op == "*" else value / rhs
        return value

    def unary(self, depth: int) -> Any:
        if self.peek() in ("-", "+"):
            op = self.take()
            value = self.unary(depth + 1)
            return -value if op == "-" else value
        return self.power(depth)

    def power(self, depth: int) -> Any:
        base = self.atom(depth)
        if self.peek() == "**":
            self.take()
            exponent = self.unary(depth + 1)
            if not exponent.is_Rational or abs(exponent) > 64:
                raise self.fail("only small rational powers are accepted")
            return base**exponent
        return base

    def atom(self, depth: int) -> Any:
        token = self.take()
        sp = self.sp
        if token[0].isdigit():
            if len(token) > 30:
                raise self.fail("a number is too long")
            return sp.Rational(token)
        if token == "E":
            return sp.E
        if token in _FUNCTIONS:
            if self.take() != "(":
                raise self.fail(f"{token} needs parentheses")
            arg = self.expr(depth + 1)
            if self.take() != ")":
                raise self.fail("a parenthesis is not closed")
            return getattr(sp, token)(arg)
        if token == "(":
            value = self.expr(depth + 1)
            if self.take() != ")":
                raise self.fail("a parenthesis is not closed")
            return value
        raise self.fail(f"unexpected {token!r}")
