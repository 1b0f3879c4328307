"""Benchmark: generate + solve for each registered kind, over a range of seeds, against the MLP
kind's default problem measured in the same run (the baseline).

    .venv/bin/python bench/bench_kinds.py [--seeds 50] [--kind K ...]

Each kind's default options; a generated problem is solved again from its given values, as an
authored one is (``handcalc.solve``). Prints, per kind and option set, the median and the 90th
percentile in ms and the median's ratio to the baseline; target (issue 12): each ≤ 5 ms median,
exact-mode kinds excepted and reported.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from typing import Any

import handcalc
from handcalc import kinds

#: besides each kind's defaults: the option sets a class meets most
EXTRA: dict[str, list[dict[str, Any]]] = {
    "finetune": [{"schedule": "warmup"}],
    "zero_init": [{"activation": "sigmoid"}],
    "neuron": [{"loss": "sigmoid_bce", "activation": "sigmoid"}],
}


def run(kind: str, options: dict[str, Any], seeds: int) -> list[float]:
    """Milliseconds of generate + solve for seeds 0 … seeds − 1 (one warm-up run first)."""
    handcalc.generate(kind=kind, seed=10**6, **options)
    times = []
    gc.collect()
    for seed in range(seeds):
        start = time.perf_counter()
        problem = handcalc.generate(kind=kind, seed=seed, **options)
        doc = problem.to_dict(answers=False)
        handcalc.solve({"kind": kind, "spec": doc["spec"], "given": doc["given"]})
        times.append((time.perf_counter() - start) * 1e3)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--kind", action="append", help="only these kinds (default: all)")
    args = parser.parse_args()
    base = statistics.median(run("mlp", {}, args.seeds))
    print(f"baseline: mlp default, generate + solve median {base:.2f} ms over {args.seeds} seeds")
    print(f"{'kind':<12} {'options':<40} {'median':>8} {'p90':>8} {'ratio':>6}")
    for kind in args.kind or list(kinds.KINDS):
        for options in [{}, *EXTRA.get(kind, [])]:
            times = sorted(run(kind, options, args.seeds))
            median = statistics.median(times)
            p90 = times[int(0.9 * (len(times) - 1))]
            said = ", ".join(f"{k}={v}" for k, v in options.items()) or "(defaults)"
            print(f"{kind:<12} {said:<40} {median:8.2f} {p90:8.2f} {median / base:6.2f}")


if __name__ == "__main__":
    main()
