"""Worked solutions: formula, numbers substituted for a telling entry (and a masked one), why,
result; typeset as HTML without markup leaking."""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
import sympy

import handcalc
from handcalc.explain import decimal, typeset, worked_solutions
from handcalc.layout import printed
from handcalc.matrix import to_sympy
from handcalc.notation import MINUS
from handcalc.render import render_html


def _value(text: str) -> Fraction:
    return Fraction(text.strip("()").replace(MINUS, "-"))


@pytest.fixture(scope="module")
def problem() -> handcalc.Problem:
    return handcalc.generate(seed=7)


@pytest.fixture(scope="module")
def lines(problem):
    return {w.name: w.lines for w in worked_solutions(problem)}


def test_every_step_is_worked_in_order_with_its_result(problem):
    worked = worked_solutions(problem)
    assert [w.name for w in worked] == list(problem.graph.names)
    for w in worked:
        assert w.lines, w.name
        assert [list(r) for r in w.result] == printed(problem, w.name)


def test_affine_step_substitutes_the_numbers_and_they_add_up(problem):
    z1 = worked_solutions(problem)[0]
    assert z1.formula == "Z₁ = W₁·A₀ + b₁ = [W₁ | b₁]·[A₀ ; 1]"
    augmented, symbols, numbers = z1.lines
    assert augmented.startswith("augmented: W̃ = [W₁ | b₁], x̃ = [A₀ ; 1], Z₁ = W̃·x̃")
    assert symbols.startswith("Z₁[1,1] = W₁[1,1]·A₀[1,1] + W₁[1,2]·A₀[2,1]")
    # W1 row 1 = (−1, 2, −3, −2), X column 1 = (−1, 1, 0, −3), b1 = 2: the sum is written out
    assert numbers == "Z₁[1,1] = (−1)·(−1) + 2·1 + (−3)·0 + (−2)·(−3) + (2) = 11" or (
        numbers == "Z₁[1,1] = (−1)·(−1) + 2·1 + (−3)·0 + (−2)·(−3) + 2 = 11"
    )
    products = numbers.split(" = ")[1].split(" + ")
    total = sum(
        (
            _value(t.split("·")[0]) * _value(t.split("·")[1]) if "·" in t else _value(t)
            for t in products
        ),
        Fraction(0),
    )
    assert total == 11


def test_a_representative_entry_and_a_masked_one(lines):
    # W1_new[1,1] would be W − lr·0: the entry worked has a non-zero gradient
    (update,) = lines["W1_new"]
    rate_times_grad = update.split(" = ")[2].split(" − ")[1]
    assert not rate_times_grad.endswith("·0")
    # dZ2: an entry the mask lets through, then one it blocks (ReLU′ = 0)
    dz2 = lines["dZ2"]
    assert len(dz2) == 4
    assert "ReLU′ is 1 where" in dz2[1] and "masked: ReLU′ is 0 where" in dz2[3]
    assert dz2[2].split(" = ")[-1] == "0"
    assert "max(0, −" in lines["A1"][1]  # the forward mask too


def test_operands_are_parenthesised(problem):
    for w in worked_solutions(handcalc.generate(seed=7, transcendental="base")):
        for line in w.lines:
            numbers = line.split(" = ")[-2] if line.count(" = ") > 1 else ""
            # a fraction or a negative number in a product is in parentheses
            assert not re.search(r"(?<![(\d/.])\d+/\d+·|·\d+/\d+(?![\d)])", numbers), line
            assert not re.search(rf"(?<!\()(?<!^){MINUS}\d[\d./]*·", numbers), line


def test_why_the_output_gradient_is_a_minus_y_and_where_backprop_stops():
    frozen = handcalc.generate(
        seed=7, transcendental="base", reduction="mean", lr="1/2", frozen="1"
    )
    why = {w.name: w.why for w in worked_solutions(frozen)}
    assert why["dZ3"].startswith("Why A − Y:") and "B = 2" in why["dZ3"]
    assert "ln 3 cancel" in why["dZ3"]
    assert why["db2"].startswith("Backprop stops here: layer 1 is frozen")
    assert [n for n, text in why.items() if text] == ["dZ3", "db2"]
    middle = {w.name: w.why for w in worked_solutions(handcalc.generate(seed=3, frozen="2"))}
    assert "Layer 2 is frozen" in middle["dA1"] and not middle["db1"]


def test_the_loss_shows_each_log_term(lines, problem):
    symbols, terms, total = lines["loss"]
    assert symbols == "L = −(ln A₃[2,1] + ln A₃[2,2])"
    assert terms.count(" = ") == 2 and "before the table's rounding" in terms
    assert total.endswith(f"→ {printed(problem, 'loss')[0][0]} (to 2 decimals)")
    base = {
        w.name: w.lines
        for w in worked_solutions(handcalc.generate(seed=1, sizes="2,2,2", transcendental="base"))
    }
    assert "log₃" in base["loss"][0] and "log₃" in base["loss"][1] and "ln" not in base["loss"][0]
    mse = handcalc.generate(
        seed=3, activation="leaky_relu", loss="mse", sizes="2,2,2", reduction="mean"
    )
    (symbols, terms, total) = next(w.lines for w in worked_solutions(mse) if w.name == "loss")
    assert symbols.startswith("L = ½·(1/2)·(") and terms.count("²") == 4
    assert total.endswith(" = 12.12 (to 2 decimals)")  # 12.1225, written to 2 decimals


def test_typeset_sets_powers_sums_and_logs_and_keeps_expressions_whole():
    html = str(typeset("A = 1/(1 + e^(−1.73)) = 0.15"))
    assert "e<sup>−1.73</sup>" in html and "^(" not in html
    # breakable between top-level terms only: "1/(1 + e^(−1.73))" stays whole (a plain name or
    # number needs no guard)
    assert html.count('<span class="nb">') == 1
    assert '<span class="nb">1/(1 + e<sup>−1.73</sup>)</span>' in html
    terms = str(typeset("Z = (−1)·(−1) + 2·1 + (−3)·0 = 3"))
    assert terms.count('<span class="nb">') == 3 and "(−1)·(−1)</span>" in terms
    assert "Σ<sub>columns</sub>" in str(typeset("db₃ = Σ_columns dZ₃"))
    assert "&lt;" in str(typeset("1 < 2"))  # text is escaped
    # a derivation's words may break between them; a sum stays with what it sums
    words = str(typeset("mu[i] reaches the loss through every Zhat[i,j] (and var[i])"))
    assert words.count('<span class="nb">') == 1 and "(and var[i])</span>" in words
    assert " reaches the loss through every " in words
    assert '<span class="nb">Σ<sub>columns</sub> dZ₃</span>' in str(typeset("db₃ = Σ_columns dZ₃"))


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"sizes": "2,3,2", "activation": "sigmoid", "loss": "sigmoid_bce", "digits": 1},
        {"transcendental": "base", "reduction": "mean", "lr": "1/2", "frozen": "1"},
        {"transcendental": "exact", "sizes": "2,2,2"},
        {"activation": "tanh", "loss": "mse", "sizes": "3,3,2", "max_chars": 40},
    ],
)
def test_solutions_page_has_no_markup_leaking(options):
    html = render_html(handcalc.generate(seed=7, **options), "solutions")
    body = html.split("<body", 1)[1]
    text = re.sub(r"<[^>]+>", "", body)
    for leak in ("Σ_", "log_", "^(", "**", "exp(", "sqrt", "E*"):
        assert leak not in text, leak
    assert 'class="matrix"' in body and 'class="lb"' in body  # brackets, not bars


def test_exact_mode_simplifies_substitutes_and_shows_four_digits():
    p = handcalc.generate(seed=7, transcendental="exact", sizes="2,2,2")
    for step in p.steps:
        for row in p.value(step.name).to_list():
            for x in row:
                x = to_sympy(x)
                if not x.is_Rational and not x.has(sympy.log):
                    assert not sympy.cancel(x).is_Rational, (step.name, x)
    assert p.text("dA1")[1][1] == "-1"  # (−e² − 1)/(1 + e²) before it was simplified
    worked = {w.name: w for w in worked_solutions(p)}
    assert worked["A2"].lines == ("A₂[1,1] = e⁻³/(e⁻³ + e⁻¹) = 1/(1 + e²) ≈ 0.1192",)
    # an operand is its exact expression, not a rounded decimal
    assert "(1/(1 + e²))·3" in worked["dW2"].lines[2]
    assert worked["dZ2"].result[0][0] == "≈0.1192"
    sig = handcalc.generate(seed=1, transcendental="exact", sizes="2,2,2", loss="sigmoid_bce")
    a2 = next(w for w in worked_solutions(sig) if w.name == "A2")
    (line,) = a2.lines  # σ(z) = its expression ≈ its decimal, nothing said twice
    parts = [p.split(" ≈ ")[0] for p in line.split(" = ")]
    assert len(parts) == len(set(parts)) and re.search(r" ≈ \d\.\d{4}$", line), line


def test_decimals_have_four_significant_digits():
    assert [decimal(x) for x in (0.0066929, -2.0, 12.3456, 0.11920, 3.3577)] == [
        "0.006693",
        "−2.000",
        "12.35",
        "0.1192",
        "3.358",
    ]


def test_base_mode_writes_powers_of_the_base():
    p = handcalc.generate(seed=1, transcendental="base", sizes="2,2,2")
    lines = {w.name: w.lines for w in worked_solutions(p)}
    assert lines["A2"][0].startswith("A₂[1,1] = 3⁰/(3⁰ + 3⁻¹) = ")


def test_leaky_relu_and_mean_reduction():
    p = handcalc.generate(
        seed=3, activation="leaky_relu", loss="mse", sizes="2,2,2", reduction="mean"
    )
    worked = {w.name: w for w in worked_solutions(p)}
    a2 = printed(p, "A2")[0][0]
    assert worked["dZ2"].lines == (f"dZ₂[1,1] = ({a2} − (−1))/2 = {printed(p, 'dZ2')[0][0]}",)
    assert worked["loss"].formula == "L = ½·(1/2)·Σ (A₂ − Y)²"
    assert "leaky ReLU′ is the slope where" in worked["dZ1"].lines[3]


def test_solutions_show_the_augmented_layer_and_name_its_identities():
    """Item 7: [W | b] times [A ; 1], ∂L/∂W̃ = δ·x̃ᵀ where dW and db are worked, ∂L/∂x = Wᵀ·δ
    where dA is."""
    p = handcalc.generate(seed=7, sizes=[2, 2, 2])
    html = re.sub(r"<[^>]+>", "", render_html(p, "solutions"))
    assert "[W₁ | b₁]·[A₀ ; 1]" in html and "[W₂ | b₂]·[A₁ ; 1]" in html
    assert html.count("∂L/∂W̃ = δ·x̃ᵀ") >= 4  # dW2, db2, dW1, db1
    assert "∂L/∂x = Wᵀ·δ" in html
    worked = {w.name: w for w in worked_solutions(p)}
    assert worked["dW2"].formula == "dW₂ = dZ₂·A₁ᵀ, from ∂L/∂W̃ = δ·x̃ᵀ"
    assert worked["dA1"].formula == "dA₁ = W₂ᵀ·dZ₂, from ∂L/∂x = Wᵀ·δ"
    assert "x̃ = [A₁ ; 1]" in worked["dW2"].lines[0] and "db₂" in worked["dW2"].lines[0]
    assert worked["db2"].lines[0].startswith("the last column of ∂L/∂W̃ = δ·x̃ᵀ")
    assert "W = W₂, δ = dZ₂, x = A₁" in worked["dA1"].lines[0]


def test_a_sigmoid_under_squared_error_is_worked_without_the_shortcut():
    p = handcalc.generate(seed=3, sizes=[2, 2, 2], output="sigmoid", loss="mse", digits=1)
    worked = {w.name: w for w in worked_solutions(p)}
    dz = worked["dZ2"]
    assert dz.formula == "dZ₂ = (A₂ − Y)∘A₂∘(1 − A₂)"
    assert dz.why.startswith("No shortcut")
    assert dz.lines[0].endswith("·(1 − A₂[1,1])") or "(1 − A₂[" in dz.lines[0]
    assert worked["loss"].formula == "L = ½·Σ (A₂ − Y)²"
