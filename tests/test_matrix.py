from fractions import Fraction

import sympy
from sympy import EXRAW, QQ

from handcalc.matrix import (
    entry_float,
    entry_text,
    expressions,
    rational,
    to_floats,
    to_fraction,
    to_strings,
    unify,
)


def test_rational_matrices_print_as_the_exchange_format() -> None:
    m = rational([[Fraction(3, 4), -2], [0, Fraction(-1, 3)]])
    assert m.domain == QQ
    assert m.shape == (2, 2)
    assert to_strings(m) == [["3/4", "-2"], ["0", "-1/3"]]
    assert to_floats(m) == [[0.75, -2.0], [0.0, -1 / 3]]


def test_expressions_stay_rational_when_they_are() -> None:
    assert expressions([[sympy.Rational(1, 2), 3]]).domain == QQ
    m = expressions([[sympy.exp(2) / (1 + sympy.E), 1]])
    assert m.domain == EXRAW
    assert to_strings(m)[0] == ["exp(2)/(1 + E)", "1"]
    assert abs(to_floats(m)[0][0] - 2.0**0 * float(sympy.exp(2) / (1 + sympy.E))) < 1e-12


def test_unify_mixes_rationals_and_expressions() -> None:
    a, b = unify(rational([[1]]), expressions([[sympy.E]]))
    assert a.domain == b.domain == EXRAW
    assert entry_text((a * b).to_list()[0][0]) == "E"


def test_entry_conversions() -> None:
    x = QQ(-7, 2)
    assert to_fraction(x) == Fraction(-7, 2)
    assert to_fraction(sympy.Rational(5, 3)) == Fraction(5, 3)
    assert entry_float(x) == -3.5
    assert entry_text(sympy.Rational(-4, 6)) == "-2/3"


def test_expressions_never_parse_text() -> None:
    import pytest

    with pytest.raises(TypeError, match="not an exact value"):
        expressions([["exp(2)"]])
