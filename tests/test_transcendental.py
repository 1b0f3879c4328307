import math
from fractions import Fraction

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from handcalc.errors import BudgetError, SpecError
from handcalc.matrix import expressions, rational, to_floats, to_fraction
from handcalc.transcendental import Base, Exact, Table, treatment

small = st.fractions(min_value=-6, max_value=6, max_denominator=20)


def fractions_of(m):
    return [[to_fraction(x) for x in row] for row in m.to_list()]


@given(st.lists(st.lists(small, min_size=3, max_size=3), min_size=2, max_size=5), st.integers(1, 3))
def test_table_softmax_columns_sum_to_one_within_rounding(rows, digits: int) -> None:
    z = rational(rows)
    p = fractions_of(Table(digits).softmax(z))
    for j in range(3):
        column = [float(q) for q in (r[j] for r in rows)]
        top = max(column)
        exact = [math.exp(v - top) / sum(math.exp(u - top) for u in column) for v in column]
        got = [row[j] for row in p]
        assert sum(got) == 1
        assert all((q * 10**digits).denominator == 1 for q in got)
        assert all(abs(float(q) - e) < 10**-digits for q, e in zip(got, exact, strict=True))


@given(small, st.integers(1, 3))
def test_table_sigmoid_and_tanh_round_half_up(z: Fraction, digits: int) -> None:
    m = rational([[z]])
    s = fractions_of(Table(digits).sigmoid(m))[0][0]
    t = fractions_of(Table(digits).tanh(m))[0][0]
    assert abs(float(s) - 1 / (1 + math.exp(-z))) <= 0.5 * 10**-digits + 1e-12
    assert abs(float(t) - math.tanh(z)) <= 0.5 * 10**-digits + 1e-12
    assert (s * 10**digits).denominator == 1 and (t * 10**digits).denominator == 1


def test_table_values_at_zero_and_halfway() -> None:
    assert fractions_of(Table(2).sigmoid(rational([[0]]))) == [[Fraction(1, 2)]]
    assert fractions_of(Table(1).tanh(rational([[0]]))) == [[Fraction(0)]]


def test_table_loss_is_the_exact_loss_rounded() -> None:
    z, y = rational([[2, 0], [1, 1], [0, 3]]), rational([[1, 0], [0, 0], [0, 1]])
    exact = sum(
        math.log(sum(math.exp(v) for v in col)) - col[t]
        for col, t in (([2, 1, 0], 0), ([0, 1, 3], 2))
    )
    loss = fractions_of(Table(3).ce_loss(z, y, Fraction(1)))[0][0]
    assert loss == Fraction(round(exact * 1000), 1000)
    half = fractions_of(Table(3).ce_loss(z, y, Fraction(1, 2)))[0][0]
    assert half == Fraction(round(exact * 500), 1000)


def test_base_softmax_is_exact_powers() -> None:
    p = fractions_of(Base(3).softmax(rational([[0], [1], [2]])))
    assert [r[0] for r in p] == [Fraction(1, 13), Fraction(3, 13), Fraction(9, 13)]
    s = fractions_of(Base(2).sigmoid(rational([[1, -2]])))
    assert s == [[Fraction(2, 3), Fraction(1, 5)]]


def test_base_loss_is_a_log_in_base_b() -> None:
    loss = Base(3).ce_loss(rational([[0], [1], [2]]), rational([[0], [0], [1]]), Fraction(1))
    (value,) = loss.to_list()[0]
    assert sympy.simplify(value - sympy.log(sympy.Rational(13, 9)) / sympy.log(3)) == 0


def test_base_needs_integer_pre_activations() -> None:
    with pytest.raises(BudgetError, match=r"integer z.*3/10"):
        Base(3).softmax(rational([[Fraction(3, 10)], [1]]))


def test_base_and_exact_refuse_hidden_squashing_with_advice() -> None:
    with pytest.raises(SpecError, match="use transcendental 'table'"):
        Base(3).check_hidden("sigmoid")
    with pytest.raises(SpecError, match="use transcendental 'table'"):
        Exact().check_hidden("tanh")
    Base(3).check_hidden("relu")


def test_exact_softmax_keeps_e() -> None:
    p = Exact().softmax(rational([[0], [1]]))
    assert [str(r[0]) for r in p.to_list()] == ["1/(1 + E)", "E/(1 + E)"]
    assert to_floats(p)[1][0] == pytest.approx(math.e / (1 + math.e))


def test_exact_budget_refuses_long_cells() -> None:
    long = sum(sympy.exp(k) / (k + sympy.exp(k + 1)) for k in range(12))
    with pytest.raises(BudgetError, match=r"cell dW1\[1,1\] needs \d+ characters"):
        Exact(budget=200).finish("dW1", expressions([[long]]))


def test_exact_finish_writes_one_fraction() -> None:
    value = Exact().finish("dZ3", expressions([[sympy.E / (1 + sympy.E) - 1]]))
    assert str(value.to_list()[0][0]) == "-1/(1 + E)"


def test_treatment_names() -> None:
    assert treatment("table", digits=3) == Table(3)
    assert treatment("base", base=2) == Base(2)
    with pytest.raises(SpecError, match="accepted: table, base, exact"):
        treatment("float")
    for t in (Table(2), Base(3), Exact()):
        assert t.describe()


def test_table_softmax_says_where_largest_remainder_broke_a_tie() -> None:
    # three equal logits: 1/3 each, one unit left over, and nothing but row order to choose by
    equal = rational([[Fraction(-13, 5)], [Fraction(-13, 5)], [Fraction(-13, 5)]])
    tenths = [[Fraction(4, 10)], [Fraction(3, 10)], [Fraction(3, 10)]]
    assert fractions_of(Table(1).softmax(equal)) == tenths
    assert Table(1).softmax_ties(equal) == [1]
    # equal logits whose remainders fall on the same side of the cut need no choice
    z = rational([[1, 2], [1, 4], [-1, -1]])
    assert Table(2).softmax_ties(z) == []
    assert Table(2).softmax_ties(rational([[0, 1], [0, 0]])) == []  # 0.5 each: nothing left over


def test_table_rounds_a_rational_half_away_from_zero() -> None:
    table = Table(2)
    assert table.round(Fraction(37, 8)) == Fraction(463, 100)
    assert table.round(Fraction(-37, 8)) == Fraction(-463, 100)
    assert table.round(Fraction(1, 3)) == Fraction(33, 100)
    assert table.is_half(Fraction(37, 8)) and not table.is_half(Fraction(1, 3))
    assert not table.is_half(Fraction(1, 4))
