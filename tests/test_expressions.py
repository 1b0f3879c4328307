"""The expression parser of exact mode: what sympy reads, it reads the same; anything else is
refused with a clear message."""

import pytest
import sympy

from handcalc.errors import DocumentError
from handcalc.expressions import parse_expression


@pytest.mark.parametrize(
    "text",
    [
        "exp(2)/(1 + E + exp(2))",
        "-5 + log(E + exp(-1) + exp(3))",
        "1 - tanh(1)**2",
        "log(9)/(2*log(3))",
        "(-1 - exp(2))/(1 + exp(2) + exp(4))",
        "exp(3/10)",
        "-1/2",
    ],
)
def test_expressions_round_trip_through_sympy(text: str) -> None:
    value = parse_expression(text)
    assert sympy.simplify(value - _reference(text)) == 0
    assert parse_expression(sympy.sstr(value, order="none")) == value


def _reference(text: str) -> sympy.Expr:
    # the test's own reference: sympy's parser on trusted, literal test strings
    return sympy.parse_expr(text, local_dict={"E": sympy.E})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os')", "cannot read .* at character 12; expected"),
        ("x + 1", "unexpected 'x'"),
        ("exp 2", "needs parentheses"),
        ("(1 + 2", "ends too early"),
        ("(1 + 2 3", "not closed"),
        ("1 +", "ends too early"),
        ("2**x", "unexpected"),
        ("2**1000", "small rational powers"),
        ("1/0", "division by zero"),
        ("1; 2", "cannot read"),
        ("", "empty"),
        ("(" * 60 + "1" + ")" * 60, "nested too deeply"),
    ],
)
def test_expression_parser_refuses_anything_else(text: str, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        parse_expression(text)
