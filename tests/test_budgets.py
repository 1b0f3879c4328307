"""Every nice-number budget on every generated problem: a seeded sweep over every option
combination, checked by ``tests/budgets.py`` (written from the README, independent of the
generator's own checks), plus the cases the budgets were written for."""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

import pytest
from budgets import sheet_text, violations

import handcalc
from handcalc.errors import BudgetError, SpecError

ACTIVATIONS = ("relu", "leaky_relu", "identity", "sigmoid", "tanh")
LOSSES = ("softmax_ce", "sigmoid_bce", "mse")
#: every combination the README presents as supported: mode, hidden activation, loss, digits
COMBINATIONS = [
    *[("table", a, loss, d) for a in ACTIVATIONS for loss in LOSSES for d in (1, 2)],
    *[("base", a, loss, 2) for a in ("relu", "identity") for loss in LOSSES],
    *[("exact", a, loss, 2) for a in ("relu", "leaky_relu", "identity") for loss in LOSSES],
]
PER_COMBINATION = {"table": 56, "base": 56, "exact": 8}  # exact mode is ~50 ms a problem


def draw_options(rng: random.Random, mode: str, activation: str, loss: str, digits: int) -> dict:
    """Options as a class would choose them: 1 to 3 layers of 2 to 4 units, batch 1 to 3, …"""
    layers = rng.randint(1, 3)
    sizes = [rng.randint(2, 4) for _ in range(layers + 1)]
    frozen = sorted(rng.sample(range(1, layers + 1), rng.randint(0, layers - 1)))
    options: dict[str, Any] = {
        "sizes": sizes,
        "activation": activation,
        "loss": loss,
        "transcendental": mode,
        "batch": rng.randint(1, 3),
        "reduction": rng.choice(("sum", "mean")),
        "lr": rng.choice(("1/10", "1/2", "1/4", "0.05", "1")),
        "frozen": frozen,
        "weight_max": rng.choice((2, 3, 3)),
        "input_max": rng.choice((2, 3, 3)),
        "max_chars": rng.choice((8, 10, 10, 10, 12)),
    }
    if mode == "table":
        options["digits"] = digits
    if mode == "base":
        options["base"] = rng.choice((2, 3))
    if activation == "leaky_relu":
        options["slope"] = rng.choice(("1/10", "1/20", "1/5"))
    return options


def sweep() -> tuple[int, Counter, Counter, list[str]]:
    """Generate problems over every combination; return how many were made, the up-front and
    search refusals per combination, and every budget a generated problem broke."""
    rng = random.Random(20261130)
    made, up_front, searched = 0, Counter(), Counter()
    broken: list[str] = []
    for combination in COMBINATIONS:
        wanted = PER_COMBINATION[combination[0]]
        got = 0
        for _ in range(4 * wanted):
            if got == wanted:
                break
            options = draw_options(rng, *combination)
            seed = rng.randrange(2**40)
            try:
                problem = handcalc.generate(seed=seed, **options)
            except (SpecError, BudgetError) as e:
                # a search that ran out says after how many draws; the rest are refused up front
                (searched if " draws " in str(e) else up_front)[combination] += 1
                continue
            got += 1
            broken += [f"seed={seed} {options}: {v}" for v in violations(problem.to_dict())]
        made += got
        assert got == wanted, f"{combination}: only {got} of {wanted} option sets were accepted"
    return made, up_front, searched, broken


def test_every_generated_problem_meets_every_budget() -> None:
    start = time.perf_counter()
    made, _, searched, broken = sweep()
    elapsed = time.perf_counter() - start
    assert made >= 2000
    assert not broken, "\n".join(broken[:20])
    # refusals after a search are rare (bench/bench_refusals.py measures them per combination)
    assert sum(searched.values()) <= made // 50, searched
    print(f"{made} problems in {elapsed:.1f} s")


# --- the checker itself, and the cases the budgets were written for ------------------------------


def test_the_sheet_rule_for_decimals_and_fractions() -> None:
    from fractions import Fraction

    assert sheet_text(Fraction(3, 25)) == "0.12"
    assert sheet_text(Fraction(-477, 100)) == "-4.77"
    assert sheet_text(Fraction(2069, 1000)) == "2.069"
    assert sheet_text(Fraction(1, 55)) == "1/55"
    assert sheet_text(Fraction(-7)) == "-7"
    assert sheet_text(Fraction(1, 10**7)) == "1/10000000"


def test_the_checker_catches_what_the_budgets_forbid() -> None:
    doc = handcalc.generate(seed=7).to_dict()
    assert violations(doc) == []
    steps = {s["name"]: s for s in doc["steps"]}
    steps["A3"]["value"][2][1] = "0.00"
    steps["A3"]["approx"][2][1] = 0.0
    steps["W1_new"]["value"][0][0] = "-2561/1300"  # 10 characters: fits; 11 does not
    steps["b1_new"]["value"][0][0] = "-25611/1300"
    steps["loss"]["approx"][0][0] = 369.0
    found = violations(doc)
    assert any("A3: a probability printed as 0 or 1" in v for v in found)
    assert any(v.startswith("b1_new[1,1] = -25611/1300") for v in found)
    assert not any(v.startswith("W1_new") for v in found)
    assert any(v.startswith("loss: an entry beyond") for v in found)


@pytest.mark.parametrize(
    "options",
    [
        # the issue's examples: an output printed as 1 with target 0; a hidden tanh at −1;
        # a hidden pre-activation of 31/10 before a sigmoid
        {"seed": 21000068, "sizes": [2, 2, 2], "loss": "sigmoid_bce", "batch": 1, "digits": 1,
         "frozen": [1]},
        {"seed": 4408479828, "sizes": [3, 2, 2], "activation": "tanh", "loss": "mse", "batch": 1,
         "digits": 1},
        {"seed": 7600022805, "sizes": [2, 3, 3, 2], "activation": "sigmoid",
         "loss": "sigmoid_bce", "batch": 3, "digits": 1, "lr": "1/2", "max_chars": 14},
    ],
)  # fmt: skip
def test_the_issues_examples_are_nice_now(options: dict) -> None:
    assert violations(handcalc.generate(**options).to_dict()) == []


def test_the_default_problem_is_unchanged() -> None:
    p = handcalc.generate(seed=7)
    assert p.text("Z3") == [["1", "2"], ["1", "4"], ["-1", "-1"]]
    assert p.text("A3") == [["47/100", "3/25"], ["47/100", "87/100"], ["3/50", "1/100"]]
    assert "max_chars" not in p.to_dict()["spec"]  # documents and codes stay as they were


def test_max_chars_holds_on_every_entry_as_printed() -> None:
    for seed in range(20):
        doc = handcalc.generate(seed=seed, max_chars=7, lr="1", sizes=[3, 3, 3]).to_dict()
        assert doc["spec"]["max_chars"] == 7
        assert violations(doc) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"activation": "sigmoid"},
            "W1_new has denominators up to 10^11, so its entries need about 26 characters as "
            "printed (a decimal within 6 places, else a fraction), more than max_chars 10; use "
            "digits 1; or frozen 1,2 (train the top layer only); or relu; or max_chars 26",
        ),
        (
            {"activation": "leaky_relu", "reduction": "mean", "batch": 3, "sizes": [3, 3, 3, 3]},
            "use relu; or reduction sum; or max_chars 14",
        ),
        ({"max_chars": 5}, "W3_new has denominators up to 1000"),
        ({"lr": "1/700", "max_chars": 4}, "max_chars: lr prints as 1/700, 5 characters"),
        (
            {"activation": "tanh", "digits": 3, "max_chars": 5, "frozen": [1, 2]},
            "max_chars: 3-decimal table values such as −0.275 need 6 characters",
        ),
        (
            {"sizes": [4, 8], "digits": 1},
            "a softmax table of 8 classes at 1 decimal has 10 units to share, too few to print "
            "every probability above 0 without a tie for the rounding rule; use digits 2, or at "
            "most 7 output units",
        ),
        (
            {"transcendental": "exact", "sizes": [2, 4], "batch": 3},
            "in transcendental 'exact' mode 4 outputs × batch 3 make expressions too long to "
            "print (at most 6 exponentials a cell); use transcendental 'table'",
        ),
    ],
)
def test_options_that_cannot_meet_the_budgets_are_refused_up_front(options, message) -> None:
    start = time.perf_counter()
    with pytest.raises(BudgetError) as e:
        handcalc.generate(seed=1, **options)
    assert message in str(e.value)
    assert " draws " not in str(e.value)
    assert time.perf_counter() - start < 0.5


def test_every_suggestion_of_a_refusal_works() -> None:
    with pytest.raises(BudgetError, match=r"; use (.*)$") as e:
        handcalc.generate(seed=3, activation="tanh", sizes=[2, 3, 2], loss="sigmoid_bce")
    suggestions = str(e.value).rsplit("; use ", 1)[1].split("; or ")
    changes = {
        "digits 1": {"digits": 1},
        "frozen 1 (train the top layer only)": {"frozen": [1]},
        "relu": {"activation": "relu"},
        "lr 1": {"lr": "1"},
        "max_chars 18": {"max_chars": 18},
    }
    assert suggestions == list(changes)
    for change in changes.values():
        options = {"activation": "tanh", "sizes": [2, 3, 2], "loss": "sigmoid_bce", **change}
        assert violations(handcalc.generate(seed=3, **options).to_dict()) == []


def test_the_command_line_takes_max_chars() -> None:
    import json

    from click.testing import CliRunner

    from handcalc.cli import cli

    args = ["generate", "--seed", "1", "--max-chars", "7", "--lr", "1", "--sizes", "3,3,3"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["spec"]["max_chars"] == 7 and violations(doc) == []
    refused = CliRunner().invoke(cli, ["generate", "--seed", "1", "--max-chars", "5"])
    assert refused.exit_code == 1 and refused.output.endswith("; or lr 1; or max_chars 6\n")
