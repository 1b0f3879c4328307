"""Benchmark: how often generation refuses, per option combination, and how long it takes.

    .venv/bin/python bench/bench_refusals.py [--sets 200] [--exact-sets 40]

For every combination the README presents as supported (transcendental mode × hidden activation ×
loss, × digits in table mode) it draws option sets as a class would choose them (1 to 3 layers of
2 to 4 units, batch 1 to 3, sum or mean, lr 1/10, 1/2, 1/4, 0.05 or 1, some layers frozen,
weight_max and input_max 2 or 3; the default max_chars 10), each with a seed of its own, and
generates. Options refused before anything is drawn (max_chars, the 12-decimal rule, exact mode's
size: the README's up-front refusals, each with a message naming what to change) are counted apart
from seeds refused (a search that ran out of draws). Then a few named problems: the default, and
the README's examples. Prints a Markdown table.

Targets (issue 8): no combination refuses more than 1 seed in 20; generating the default problem
stays within 2 ms median (bench/bench_engine.py measures that against numpy).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

import handcalc
from handcalc.errors import BudgetError, SpecError
from handcalc.kinds import mlp
from handcalc.spec import Spec

ACTIVATIONS = ("relu", "leaky_relu", "identity", "sigmoid", "tanh")
LOSSES = ("softmax_ce", "sigmoid_bce", "mse")
COMBINATIONS = [
    *[("table", a, loss, d) for a in ACTIVATIONS for loss in LOSSES for d in (1, 2)],
    *[("base", a, loss, 2) for a in ("relu", "identity") for loss in LOSSES],
    *[("exact", a, loss, 2) for a in ("relu", "leaky_relu", "identity") for loss in LOSSES],
]
NAMED: list[tuple[str, dict[str, Any]]] = [
    ("the default problem (4-3-4-3, relu, softmax_ce)", {}),
    (
        "README: --sizes 2,3,2 --activation sigmoid --loss sigmoid_bce --digits 1",
        {"sizes": [2, 3, 2], "activation": "sigmoid", "loss": "sigmoid_bce", "digits": 1},
    ),
    (
        "README: --transcendental base --reduction mean --lr 1/2 --frozen 1",
        {"transcendental": "base", "reduction": "mean", "lr": "1/2", "frozen": [1]},
    ),
    (
        "README: --transcendental exact --sizes 2,2,2",
        {"transcendental": "exact", "sizes": [2, 2, 2]},
    ),
    ("4-3-4-3 sigmoid --digits 1", {"activation": "sigmoid", "digits": 1}),
    ("4-3-4-3 tanh --frozen 1,2", {"activation": "tanh", "frozen": [1, 2]}),
    ("--sizes 6,5,5,4 --batch 4", {"sizes": [6, 5, 5, 4], "batch": 4}),
    ("--sizes 4,7 --digits 1 (7 classes)", {"sizes": [4, 7], "digits": 1}),
    ("--sizes 4,8 (8 classes)", {"sizes": [4, 8]}),
]


def draw_options(rng: random.Random, mode: str, activation: str, loss: str, digits: int) -> dict:
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
        "weight_max": rng.choice((2, 3)),
        "input_max": rng.choice((2, 3)),
    }
    if mode == "table":
        options["digits"] = digits
    if mode == "base":
        options["base"] = rng.choice((2, 3))
    if activation == "leaky_relu":
        options["slope"] = rng.choice(("1/10", "1/20", "1/5"))
    return options


def attempt(options: dict[str, Any], seed: int) -> tuple[str, float]:
    """'up-front', 'refused' or 'made', and the time generate took."""
    try:
        mlp.check_feasible(Spec.from_options(options))
    except (SpecError, BudgetError):
        return "up-front", 0.0
    start = time.perf_counter()
    try:
        handcalc.generate(seed=seed, **options)
    except BudgetError:
        return "refused", time.perf_counter() - start
    return "made", time.perf_counter() - start


def row(name: str, outcomes: list[tuple[str, float]]) -> tuple[str, float]:
    sets = len(outcomes)
    up = sum(o == "up-front" for o, _ in outcomes)
    tried = [(o, t) for o, t in outcomes if o != "up-front"]
    refused = sum(o == "refused" for o, _ in tried)
    times = sorted(t * 1e3 for _, t in tried)
    share = refused / len(tried) if tried else 0.0
    median = statistics.median(times) if times else float("nan")
    p90 = times[int(0.9 * (len(times) - 1))] if times else float("nan")
    print(
        f"| {name} | {sets} | {up} ({up / sets:.0%}) | {refused}/{len(tried)} ({share:.1%}) "
        f"| {median:.2f} | {p90:.2f} |"
    )
    return name, share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=200, help="option sets per combination")
    parser.add_argument("--exact-sets", type=int, default=40, help="the same in exact mode")
    args = parser.parse_args()
    handcalc.generate(seed=0)  # warm
    print(
        "| combination | option sets | refused up front | seeds refused | median ms | p90 ms |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: |"
    )
    worst: list[tuple[str, float]] = []
    rng = random.Random(8)
    start = time.perf_counter()
    for combination in COMBINATIONS:
        mode, activation, loss, digits = combination
        sets = args.exact_sets if mode == "exact" else args.sets
        outcomes = [
            attempt(draw_options(rng, *combination), rng.randrange(2**40)) for _ in range(sets)
        ]
        name = f"{mode} {activation} {loss}" + (f" digits {digits}" if mode == "table" else "")
        worst.append(row(name, outcomes))
    for name, options in NAMED:
        sets = args.exact_sets if options.get("transcendental") == "exact" else args.sets
        worst.append(row(name, [attempt(options, seed) for seed in range(sets)]))
    name, share = max(worst, key=lambda w: w[1])
    print(
        f"\nmost seeds refused: {name}, {share:.1%} (target ≤ 5%); "
        f"{time.perf_counter() - start:.0f} s in all"
    )


if __name__ == "__main__":
    main()
