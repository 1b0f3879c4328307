"""The expression parser of exact mode: ``exp(2)/(1 + E + exp(2))`` read into a sympy expression.

Nothing here calls ``eval`` or ``sympify``: a small recursive-descent parser that only knows
numbers, ``E``, ``exp``, ``log``, ``tanh``, ``sqrt``, the four operations, powers and parentheses,
and judges the size of every value before computing it.
"""

from __future__ import annotations

import math
import re
from typing import Any, NamedTuple

from .errors import DocumentError, HandcalcError

MAX_EXPRESSION_CHARS = 400  # twice the print budget of an exact-mode cell (200)

# Every value the parser builds is bounded before it is built: a rational has at most
# MAX_VALUE_DIGITS digits in its numerator and denominator, any other value lies within
# 10^±MAX_VALUE_DIGITS (judged by a float computed first, with ``math``), an exponent is a small
# rational, and a root is taken only where it is exact. sympy is then only asked for what costs
# microseconds: it never raises a big integer to a power, never looks for a rational root of
# something that has none, and never meets exp of a logarithm (which it would turn into a power).

MAX_VALUE_DIGITS = 200  # in a numerator or denominator inside an expression; cells print in 200
MAX_EXPONENT = 64  # |exponent|, and the degree of a root
MAX_DEPTH = 50  # nested parentheses, functions, signs and powers
_LARGEST = 10.0**MAX_VALUE_DIGITS
_SMALLEST = 10.0**-MAX_VALUE_DIGITS

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<op>\*\*|[-+*/()])|(?P<name>[A-Za-z_]+))")
_FUNCTIONS = ("exp", "log", "tanh", "sqrt")
#: a root that is not exact (``sqrt(2)``, ``2**(1/2)``) is kept as a root only of a rational whose
#: numerator and denominator have at most this many digits (sympy takes out the square factors
#: by trial division: microseconds for these)
MAX_ROOT_DIGITS = 20
_EXPRESSIONS_ACCEPTED = (
    f"expected a number or an expression of numbers, E, {', '.join(_FUNCTIONS)}"
    f", + - * / ** and parentheses"
)


def parse_expression(text: str, where: str = "value") -> Any:
    """Parse an exact-mode value such as ``exp(2)/(1 + E + exp(2))`` into a sympy expression.

    Whatever the text, this returns within milliseconds or raises ``DocumentError``: values too
    large, too small or with too many digits are refused before they are computed."""
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
        tokens.append(m.group(m.lastgroup or 0))
        pos = m.end()
    parser = _Parser(tokens, text, where, sympy)
    try:
        return parser.parse()
    except HandcalcError:
        raise
    except RecursionError:
        raise parser.fail("nested too deeply") from None
    except (ArithmeticError, ValueError, MemoryError):  # a bound missed: still a clear refusal
        raise parser.fail("it has no value of a sensible size") from None


class _Value(NamedTuple):
    """A value being built: the sympy expression, its float (by ``math``, to judge the next
    operation before sympy does it) and a bound on the digits of the rationals inside it."""

    expr: Any
    approx: float
    digits: int


def _digits(n: int) -> int:
    return len(str(abs(n)))  # only ever on numbers of a few hundred digits


def _exact_root(n: int, k: int) -> int | None:
    """The integer k-th root of ``n`` ≥ 0 if there is one (Newton's method on integers)."""
    if n < 2:
        return n
    x = 1 << -(-n.bit_length() // k)  # at least the root
    while True:
        y = ((k - 1) * x + n // x ** (k - 1)) // k
        if y >= x:
            break
        x = y
    return x if x**k == n else None


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
        return value.expr

    # --- grammar ---

    def expr(self, depth: int) -> _Value:
        if depth > MAX_DEPTH:
            raise self.fail("nested too deeply")
        value = self.term(depth)
        while self.peek() in ("+", "-"):
            op = self.take()
            value = self.add(value, self.term(depth), -1 if op == "-" else 1)
        return value

    def term(self, depth: int) -> _Value:
        value = self.unary(depth)
        while self.peek() in ("*", "/"):
            op = self.take()
            rhs = self.unary(depth)
            value = self.multiply(value, rhs) if op == "*" else self.divide(value, rhs)
        return value

    def unary(self, depth: int) -> _Value:
        if depth > MAX_DEPTH:
            raise self.fail("nested too deeply")
        if self.peek() in ("-", "+"):
            op = self.take()
            value = self.unary(depth + 1)
            return _Value(-value.expr, -value.approx, value.digits) if op == "-" else value
        return self.power(depth)

    def power(self, depth: int) -> _Value:
        base = self.atom(depth)
        if self.peek() != "**":
            return base
        self.take()
        exponent = self.unary(depth + 1).expr
        if not exponent.is_Rational or abs(exponent) > MAX_EXPONENT or exponent.q > MAX_EXPONENT:
            raise self.fail(
                f"only small rational powers are accepted: exponents p/q with |p/q| ≤ "
                f"{MAX_EXPONENT} and q ≤ {MAX_EXPONENT}"
            )
        return self.raise_to(base, int(exponent.p), int(exponent.q))

    def atom(self, depth: int) -> _Value:
        token = self.take()
        sp = self.sp
        if token[0].isdecimal():
            if len(token) > 30:
                raise self.fail("a number is too long")
            whole, _, frac = token.partition(".")
            return self.rational(sp.Rational(int(whole + frac), 10 ** len(frac)))
        if token == "E":
            return _Value(sp.E, math.e, 1)
        if token in _FUNCTIONS:
            if self.take() != "(":
                raise self.fail(f"{token} needs parentheses")
            arg = self.expr(depth + 1)
            if self.take() != ")":
                raise self.fail("a parenthesis is not closed")
            return self.function(token, arg)
        if token == "(":
            value = self.expr(depth + 1)
            if self.take() != ")":
                raise self.fail("a parenthesis is not closed")
            return value
        raise self.fail(f"unexpected {token!r}")

    # --- bounded operations ---

    def rational(self, q: Any) -> _Value:
        """A sympy Rational, refused past MAX_VALUE_DIGITS digits."""
        digits = max(_digits(int(q.p)), _digits(int(q.q)))
        if digits > MAX_VALUE_DIGITS:
            raise self.fail(f"a value has more than {MAX_VALUE_DIGITS} digits")
        return _Value(q, int(q.p) / int(q.q), digits)

    def result(self, expr: Any, approx: float, digits: int) -> _Value:
        """What sympy made of an operation already judged by its float; ``digits`` is an upper
        bound on the digits inside, counted exactly only when it is past the limit."""
        if expr.is_Rational:
            return self.rational(expr)
        if digits > MAX_VALUE_DIGITS:
            digits = max(
                [max(_digits(int(a.p)), _digits(int(a.q))) for a in expr.atoms(self.sp.Rational)],
                default=1,
            )
            if digits > MAX_VALUE_DIGITS:
                raise self.fail(f"a value has more than {MAX_VALUE_DIGITS} digits")
        return _Value(expr, approx, digits)

    def check(self, approx: float, scaled: bool) -> float:
        """Refuse a float past 10^MAX_VALUE_DIGITS; ``scaled`` ones (products, quotients,
        powers, exp) also nearer to zero than its inverse, which the next division would undo."""
        if not math.isfinite(approx) or abs(approx) > _LARGEST:
            raise self.fail(f"a value is larger than 10^{MAX_VALUE_DIGITS}")
        if scaled and abs(approx) < _SMALLEST:
            raise self.fail(f"a value is nearer to zero than 10^-{MAX_VALUE_DIGITS}")
        return approx

    def add(self, a: _Value, b: _Value, sign: int) -> _Value:
        if a.expr.is_Rational and b.expr.is_Rational:  # exact, and cheap for bounded operands
            return self.rational(a.expr + b.expr if sign > 0 else a.expr - b.expr)
        approx = self.check(a.approx + sign * b.approx, scaled=False)
        expr = a.expr + b.expr if sign > 0 else a.expr - b.expr
        return self.result(expr, approx, a.digits + b.digits + 1)

    def multiply(self, a: _Value, b: _Value) -> _Value:
        if a.expr.is_Rational and b.expr.is_Rational:
            return self.rational(a.expr * b.expr)
        approx = self.check(a.approx * b.approx, scaled=a.approx != 0 and b.approx != 0)
        return self.result(a.expr * b.expr, approx, a.digits + b.digits + 1)

    def divide(self, a: _Value, b: _Value) -> _Value:
        if b.expr == 0 or b.approx == 0:
            raise self.fail("division by zero")
        if a.expr.is_Rational and b.expr.is_Rational:
            return self.rational(a.expr / b.expr)
        approx = self.check(a.approx / b.approx, scaled=a.approx != 0)
        return self.result(a.expr / b.expr, approx, a.digits + b.digits + 1)

    def raise_to(self, base: _Value, p: int, q: int) -> _Value:
        """``base ** (p/q)``, judged before anything is computed."""
        sp = self.sp
        if base.expr.is_Rational:
            n, d = int(base.expr.p), int(base.expr.q)
            if n == 0 and p < 0:
                raise self.fail("division by zero")
            if q > 1:
                if n < 0:
                    raise self.fail("a root of a negative number has no real value")
                root_n, root_d = _exact_root(n, q), _exact_root(d, q)
                if (root_n is None or root_d is None) and max(
                    _digits(n), _digits(d)
                ) <= MAX_ROOT_DIGITS:
                    # a root of a small rational kept as a root: sqrt(2)/2, a Kaiming scale
                    if n and abs(p) / q * math.log10(max(n, d)) > MAX_VALUE_DIGITS:
                        raise self.fail(f"a value has more than {MAX_VALUE_DIGITS} digits")
                    approx = self.check((n / d) ** (p / q), scaled=n != 0)
                    return self.result(
                        base.expr ** sp.Rational(p, q), approx, base.digits * abs(p) + 2
                    )
                if root_n is None or root_d is None:
                    raise self.fail(
                        "a fractional power is accepted only where its root is exact, "
                        "such as 4**(1/2) or (8/27)**(2/3), or of a number of at most "
                        f"{MAX_ROOT_DIGITS} digits, such as 2**(1/2)"
                    )
                n, d = root_n, root_d
            if n != 0 and abs(p) * math.log10(max(abs(n), d)) > MAX_VALUE_DIGITS + 1:
                raise self.fail(f"a value has more than {MAX_VALUE_DIGITS} digits")
            n, d = (n**p, d**p) if p >= 0 else (d**-p, n**-p)
            return self.rational(sp.Rational(n, d))
        if base.expr is sp.E or isinstance(base.expr, sp.exp):
            # (e^x)^(p/q) = e^(x·p/q) for real x, as sympy has it, but within the bounds of exp
            x = sp.Integer(1) if base.expr is sp.E else base.expr.args[0]
            arg = (
                self.rational(x) if x.is_Rational else _Value(x, math.log(base.approx), base.digits)
            )
            return self.function("exp", self.multiply(arg, self.rational(sp.Rational(p, q))))
        if q > 1:
            raise self.fail(
                "a fractional power is accepted only of a number whose root is exact, "
                "such as 4**(1/2), or of E: E**(1/2) is exp(1/2)"
            )
        try:
            approx = base.approx**p
        except ZeroDivisionError:
            raise self.fail("division by zero") from None
        except OverflowError:
            raise self.fail(f"a value is larger than 10^{MAX_VALUE_DIGITS}") from None
        self.check(approx, scaled=True)
        # sympy raises a rational factor of the base to the power, and multiplies exponents
        digits = max(base.digits * abs(p), base.digits + 2)
        if digits > MAX_VALUE_DIGITS:
            counted = self.result(base.expr, base.approx, MAX_VALUE_DIGITS + 1).digits
            digits = max(counted * abs(p), counted + 2)
            if digits > MAX_VALUE_DIGITS:
                raise self.fail(f"a value has more than {MAX_VALUE_DIGITS} digits")
        return self.result(base.expr**p, approx, digits)

    def function(self, name: str, arg: _Value) -> _Value:
        """exp, log or tanh of a value, judged by its float first."""
        sp = self.sp
        if name == "exp":
            if arg.expr.has(sp.log):  # sympy would turn exp(k·log(x)) into x**k
                raise self.fail("exp of a logarithm is not accepted; write the number itself")
            try:
                approx = self.check(math.exp(arg.approx), scaled=True)
            except OverflowError:
                raise self.fail(f"a value is larger than 10^{MAX_VALUE_DIGITS}") from None
        elif name == "sqrt":
            return self.raise_to(arg, 1, 2)
        elif name == "log":
            if arg.approx <= 0:
                raise self.fail("log of a number that is not positive has no real value")
            approx = math.log(arg.approx)
        else:
            approx = math.tanh(arg.approx)
        # sympy's own simplifications of a function of an expression (log(exp(x)) = x,
        # tanh(-x) = -tanh(x)) ask for its sign by evalf, at a cost that grows with nesting;
        # the solver prints only functions that need none, and the float here knows the sign
        rational = arg.expr.is_Rational
        expr = getattr(sp, name)(arg.expr, evaluate=rational)
        if rational and expr.has(sp.I):
            raise self.fail(f"{name} of this number has no real value")
        return self.result(expr, approx, arg.digits)
