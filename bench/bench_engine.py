"""Benchmark: generate + solve of the default problem, and solve alone against the same network in
numpy float64, measured in the same run.

    .venv/bin/python bench/bench_engine.py [--repeat 2000]

Prints medians and the ratio of exact solve to float64; targets (issue 2): generate + solve median
≤ 2 ms, solve ≤ 30× numpy float64.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

import numpy as np

import handcalc
from handcalc.kinds import mlp


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm
    times = []
    gc.collect()
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def numpy_backprop(given: dict[str, np.ndarray], layers: int, lr: float) -> dict[str, np.ndarray]:
    """The same network, forward, loss, backward and update, in float64 (the baseline)."""
    cells: dict[str, np.ndarray] = {"A0": given["X"]}
    for k in range(1, layers + 1):
        z = given[f"W{k}"] @ cells[f"A{k - 1}"] + given[f"b{k}"]
        cells[f"Z{k}"] = z
        if k < layers:
            cells[f"A{k}"] = np.maximum(z, 0)
        else:
            e = np.exp(z - z.max(0))
            cells[f"A{k}"] = e / e.sum(0)
    y = given["Y"]
    cells["loss"] = -(y * np.log(cells[f"A{layers}"])).sum()
    dz = cells[f"A{layers}"] - y
    for k in range(layers, 0, -1):
        cells[f"dZ{k}"] = dz
        cells[f"dW{k}"] = dz @ cells[f"A{k - 1}"].T
        cells[f"db{k}"] = dz.sum(1, keepdims=True)
        if k > 1:
            da = given[f"W{k}"].T @ dz
            cells[f"dA{k - 1}"] = da
            dz = da * (cells[f"Z{k - 1}"] > 0)
    for k in range(1, layers + 1):
        cells[f"W{k}_new"] = given[f"W{k}"] - lr * cells[f"dW{k}"]
        cells[f"b{k}_new"] = given[f"b{k}"] - lr * cells[f"db{k}"]
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()

    problem = handcalc.generate(seed=7)
    spec, given = problem.spec, problem.given
    floats = {name: np.array(m.to_Matrix(), dtype=float) for name, m in given.items()}
    doc = problem.to_dict()

    seeds = iter(range(10**9))
    generate = median_ms(lambda: handcalc.generate(seed=next(seeds)), args.repeat)
    solve = median_ms(lambda: mlp.solve_values(spec, given), args.repeat)
    numpy = median_ms(lambda: numpy_backprop(floats, spec.layers, 0.1), args.repeat)
    solve_doc = median_ms(lambda: handcalc.solve(doc), args.repeat // 4)

    import sympy

    ground = sympy.polys.domains.QQ.dtype.__module__.split(".")[0]
    print(
        f"default problem {spec.describe()}; QQ ground types: {ground}; {args.repeat} runs, medians"
    )
    print(f"generate + solve (a new seed each run)   {generate:8.3f} ms   target ≤ 2 ms")
    print(f"solve: exact step graph                  {solve:8.3f} ms")
    print(f"numpy float64, same network (baseline)   {numpy:8.3f} ms")
    print(f"solve / numpy float64                    {solve / numpy:8.1f} ×    target ≤ 30×")
    print(
        f"handcalc.solve(document) incl. parsing   {solve_doc:8.3f} ms "
        f"({solve_doc / numpy:.1f} × numpy)"
    )


if __name__ == "__main__":
    main()
