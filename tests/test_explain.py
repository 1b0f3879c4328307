"""Worked solutions: formula, numbers substituted for one entry of every matrix, result."""

from __future__ import annotations

from fractions import Fraction

import pytest

import handcalc
from handcalc.explain import worked_solutions
from handcalc.layout import printed
from handcalc.notation import MINUS


def _value(text: str) -> Fraction:
    return Fraction(text.replace(MINUS, "-"))


@pytest.fixture(scope="module")
def problem() -> handcalc.Problem:
    return handcalc.generate(seed=7)


def test_every_step_is_worked_in_order_with_its_result(problem):
    worked = worked_solutions(problem)
    assert [w.name for w in worked] == list(problem.graph.names)
    for w in worked:
        assert w.lines, w.name
        assert [list(r) for r in w.result] == printed(problem, w.name)


def test_affine_step_substitutes_the_numbers_and_they_add_up(problem):
    z1 = worked_solutions(problem)[0]
    assert z1.formula == "Z₁ = W₁·A₀ + b₁"
    symbols, numbers = z1.lines
    assert symbols.startswith("Z₁[1,1] = W₁[1,1]·A₀[1,1] + W₁[1,2]·A₀[2,1]")
    # W1 row 1 = (−1, 2, −3, −2), X column 1 = (−1, 1, 0, −3), b1 = 2: the sum is written out
    assert numbers == "Z₁[1,1] = (−1)·(−1) + 2·1 + (−3)·0 + (−2)·(−3) + 2 = 11"
    products = numbers.split(" = ")[1].split(" + ")
    total = sum(
        (
            _value(t.split("·")[0].strip("()")) * _value(t.split("·")[1].strip("()"))
            if "·" in t
            else _value(t.strip("()"))
            for t in products
        ),
        Fraction(0),
    )
    assert total == 11


def test_backward_steps_read_like_by_hand_work(problem):
    lines = {w.name: w.lines for w in worked_solutions(problem)}
    assert lines["dZ3"] == ("dZ₃[1,1] = 0.47 − 0 = 47/100",)
    assert lines["db3"] == ("db₃[1,1] = 47/100 + 3/25 = 59/100",)
    assert lines["dW3"][1] == "dW₃[1,1] = 47/100·2 + 3/25·6 = 83/50"
    assert "relu′ is 1 where Z₂[1,1] = 2 > 0" in lines["dZ2"][1]
    assert lines["W1_new"] == (
        "W₁ new[1,1] = W₁[1,1] − lr·dW₁[1,1] = −1 − 1/10·(−23/50) = −477/500",
    )
    assert lines["A3"][0].startswith("A₃[1,1] = e¹/(e¹ + e¹ + e⁻¹) = 0.47")
    assert lines["loss"][1].startswith("L = −(ln 0.47 + ln 0.87) = 0.89")


def test_exact_mode_results_show_the_expression_and_its_decimal():
    p = handcalc.generate(seed=1, transcendental="exact", sizes="2,2,2", loss="sigmoid_bce")
    a2 = next(w for w in worked_solutions(p) if w.name == "A2")
    assert a2.lines == ("A₂[1,1] = σ(−5) = 1/(1 + e⁵) = 1/(1 + e⁵) ≈ 0.0067",)


def test_base_mode_writes_powers_of_the_base():
    p = handcalc.generate(seed=1, transcendental="base", sizes="2,2,2")
    lines = {w.name: w.lines for w in worked_solutions(p)}
    assert lines["A2"] == ("A₂[1,1] = 3⁰/(3⁰ + 3⁻¹) = 3/4",)
    assert lines["loss"][1].endswith("= ln(40/27)/ln(3) ≈ 0.36")


def test_leaky_relu_and_mean_reduction():
    p = handcalc.generate(
        seed=3, activation="leaky_relu", loss="mse", sizes="2,2,2", reduction="mean"
    )
    lines = {w.name: w.lines for w in worked_solutions(p)}
    assert lines["dZ2"] == ("dZ₂[1,1] = (11/5 − (−1))/2 = 8/5",)
    assert lines["loss"][0] == "L = ½·(1/2)·Σ (A − Y)²"
    assert lines["loss"][1].endswith(" = 12.12 (rounded to 2 decimals)")  # 12.1225, as a table
