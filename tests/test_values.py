from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handcalc.errors import DocumentError
from handcalc.values import (
    format_decimal,
    format_rational,
    parse_number,
    parse_whole,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("3", Fraction(3)),
        ("-3", Fraction(-3)),
        ("+3", Fraction(3)),
        ("3/4", Fraction(3, 4)),
        ("-3/4", Fraction(-3, 4)),
        (" 6 / 8 ", Fraction(3, 4)),
        ("0.75", Fraction(3, 4)),
        (".5", Fraction(1, 2)),
        ("5.", Fraction(5)),
        ("-1.25e-1", Fraction(-1, 8)),
        ("2E2", Fraction(200)),
        ("\u22123", Fraction(-3)),
        ("\u22120.5", Fraction(-1, 2)),
        (7, Fraction(7)),
        (0.1, Fraction(1, 10)),
    ],
)
def test_accepted_forms(text: object, value: Fraction) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "not a number"),
        ("abc", "not a number"),
        ("1/0", "divides by zero"),
        ("__import__('os')", "not a number"),
        ("1+1", "not a number"),
        ("1/2/3", "not a number"),
        ("3 4", "not a number"),
        ("1" * 41, "too long"),
        ("1" * 13, "too large"),
        ("1e99", "exponent"),
        (True, "expected"),
        (None, "expected"),
        ([1], "expected"),
    ],
)
def test_refused_forms_say_what_is_accepted(text: object, message: str) -> None:
    with pytest.raises(DocumentError, match=message) as info:
        parse_number(text, "given.X[1][1]")
    assert str(info.value).startswith("given.X[1][1]")


@given(st.fractions(max_denominator=10**6).filter(lambda q: abs(q) < 10**6))
def test_format_and_parse_round_trip(q: Fraction) -> None:
    assert parse_number(format_rational(q.numerator, q.denominator)) == q


def test_format_rational_and_decimal() -> None:
    assert format_rational(-3, 1) == "-3"
    assert format_rational(3, 4) == "3/4"
    assert format_decimal(Fraction(69, 100), 2) == "0.69"
    assert format_decimal(Fraction(-1, 20), 2) == "-0.05"
    assert format_decimal(Fraction(3), 1) == "3.0"
    with pytest.raises(ValueError):
        format_decimal(Fraction(1, 3), 2)


@pytest.mark.parametrize("text", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_floats_are_refused(text: float) -> None:
    with pytest.raises(DocumentError, match=r"given\.lr: .* is not a finite number"):
        parse_number(text, "given.lr")


def test_a_huge_integer_is_refused_without_converting_it() -> None:
    with pytest.raises(DocumentError, match="too large"):
        parse_number(10**5000, "given.lr")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (3, 3),
        ("3", 3),
        (" 3 ", 3),
        ("+3", 3),
        ("-2", -2),
        ("\u22122", -2),
        ("٣", 3),  # Arabic-Indic digit three: a decimal digit, as int() reads it
        ("３", 3),  # fullwidth three
        ("1٠", 10),
        ("007", 7),
    ],
)
def test_parse_whole_reads_decimal_digits_as_int_does(text: object, value: int) -> None:
    assert parse_whole(text, "batch", -5, 10) == value


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("²", "'²'"),  # superscript two: str.isdigit() says yes, int() says no, and so do we
        ("2²", "'2²'"),
        ("½", "'½'"),
        ("1_0", "'1_0'"),
        ("3.0", "'3.0'"),
        (3.0, "3.0"),
        (True, "True"),
        (None, "None"),
        ("", "''"),
        ("- 3", "'- 3'"),
        ("11", "'11'"),
        (-6, "-6"),
        ("9" * 41, "'99999999999999999999999999999999' …"),
        pytest.param(10**5000, "a number of about 5001 digits", id="huge"),
        ([3], "a list of 1 items"),
    ],
)
def test_parse_whole_refuses_the_rest_naming_the_field(text: object, shown: str) -> None:
    with pytest.raises(DocumentError) as info:
        parse_whole(text, "batch", -5, 10)
    assert (
        str(info.value) == f"batch: {shown} is not accepted; accepted: a whole number from -5 to 10"
    )
