"""How values look on paper: real minus signs, fractions, exact expressions written by hand."""

from __future__ import annotations

from handcalc.notation import approx, expression, formula, number, power, signed, subscript


def test_numbers_get_a_real_minus_sign_and_print_by_the_one_rule():
    """A value whose decimal expansion ends within 6 places prints as that decimal, any other
    as a fraction; decimals keep their digits (a table's 0.10 says how many it has)."""
    assert number("-3/4") == "−0.75"
    assert number("3/25") == "0.12"
    assert number("-477/100") == "−4.77"
    assert number("2069/1000") == "2.069"
    assert number("1/55") == "1/55"
    assert number("-7/30") == "−7/30"
    assert number("1/10000000") == "1/10000000"
    assert number("5") == "5"
    assert number("-0.25") == "−0.25"
    assert number("0.10") == "0.10"


def test_exact_expressions_are_written_as_by_hand():
    assert expression("exp(2)/(1 + E + exp(2))") == "e²/(1 + e + e²)"
    assert expression("1/(1 + exp(-5))") == "1/(1 + e⁻⁵)"
    assert expression("2*exp(4)/(1 + exp(4))") == "2e⁴/(1 + e⁴)"
    assert expression("log(40/27)/log(3)") == "ln(40/27)/ln(3)"
    assert number("exp(2)/(1 + E + exp(2))") == "e²/(1 + e + e²)"


def test_decimals_beside_expressions():
    assert approx(0.6652) == "0.6652"  # at least 4 significant digits (issue 9 item 8)
    assert approx(-1.0203) == "−1.020"
    assert approx(0.0067) == "0.006700"
    assert approx(-0.0001) == "−0.0001000"
    assert approx(0.0) == "0"
    assert approx(-2.0) == "−2.000" and approx(12345.6) == "12346"


def test_labels_and_formulas_use_subscripts():
    assert subscript("W12") == "W₁₂"
    assert subscript("b3_new") == "b₃ new"
    assert subscript("loss") == "loss"
    assert formula("Z3 = W3·A2 + b3") == "Z₃ = W₃·A₂ + b₃"


def test_powers_and_signed_factors():
    assert power("e", "−1") == "e⁻¹"
    assert power("3", "12") == "3¹²"
    assert power("e", "1/2") == "e^(1/2)"
    assert signed("−2") == "(−2)" and signed("2") == "2"


def test_formulas_subscript_transposed_names():
    assert formula("dA1 = W2ᵀ·dZ2") == "dA₁ = W₂ᵀ·dZ₂"
    assert formula("W1_new = W1 − lr·dW1") == "W₁ new = W₁ − lr·dW₁"
    assert formula("dZ1 = dA1 ∘ relu'(Z1)") == "dZ₁ = dA₁ ∘ relu′(Z₁)"


def test_exact_values_print_as_short_decimals_else_fractions():
    from fractions import Fraction

    from handcalc.notation import printed, printed_length

    cases = {
        Fraction(3, 25): "0.12",
        Fraction(-477, 100): "−4.77",
        Fraction(2069, 1000): "2.069",
        Fraction(1, 64): "0.015625",
        Fraction(-1, 10**6): "−0.000001",
        Fraction(1, 10**7): "1/10000000",
        Fraction(1, 55): "1/55",
        Fraction(-7): "−7",
        Fraction(0): "0",
    }
    for value, text in cases.items():
        assert printed(value) == text
        assert printed_length(value) == len(text)


def test_printed_entries_exact_or_to_the_decimals_stated():
    from sympy import QQ, exp

    from handcalc.notation import printed_entries

    rows = [[QQ(-3, 4), QQ(1, 55)], [QQ(5, 2), QQ(0)]]
    assert printed_entries(rows) == [["−0.75", "1/55"], ["2.5", "0"]]
    assert printed_entries(rows, 2) == [["−0.75", "0.02"], ["2.50", "0.00"]]
    assert printed_entries([[QQ(-1, 1000)]], 2) == [["0.00"]]  # no negative zero
    assert printed_entries([[exp(1)]]) == [["≈2.718"]]
    assert printed_entries([[exp(1)]], 3) == [["2.718"]]
