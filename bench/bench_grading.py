"""Time of ``handcalc.grade`` per submission, against solving the same problem, in the same run.

Three students on the default problem (and on its exact-mode twin): one who hands in the key, one
who slips in Z1 and carries on from it (every later cell carried), and one who writes random
numbers everywhere (every cell wrong, so every mistake is tried on every cell: the worst case).
The baseline is solving the problem's step graph exactly once, the work ``generate`` does after
drawing the numbers. Submissions are JSON text, as the web service receives them.

    .venv/bin/python bench/bench_grading.py
    .venv/bin/python bench/bench_grading.py --repeat 500

Target (issue 4): the web service's p99 ≤ 50 ms per check on 2 cores; grading is its main cost.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import handcalc
from handcalc import kinds
from handcalc.matrix import entry_float, to_fraction
from handcalc.problem import Problem


def _text(m: Any) -> list[list[str]]:
    if m.domain.is_QQ:
        return [[str(to_fraction(x)) for x in row] for row in m.to_list()]
    return [[f"{entry_float(x):.8g}" for x in row] for row in m.to_list()]


def students(problem: Problem, rng: random.Random) -> dict[str, Callable[[], str]]:
    tables = problem.tables
    graded = [s for s in problem.steps if s.name not in tables]
    key = json.dumps({"cells": {s.name: problem.text(s.name) for s in graded}})

    own = dict(problem.values)
    for step in graded:
        own[step.name] = step.run(own)
        if step.name == "Z1":
            rows = [[to_fraction(x) for x in row] for row in own["Z1"].to_list()]
            rows[0][0] += 1
            own["Z1"] = handcalc.matrix.rational(rows)
    slip = json.dumps({"cells": {s.name: _text(own[s.name]) for s in graded}})

    def random_answers() -> str:
        cells = {}
        for s in graded:
            r, c = problem.value(s.name).shape
            cells[s.name] = [
                [str(Fraction(rng.randint(-9, 9), rng.choice((1, 3, 10)))) for _ in range(c)]
                for _ in range(r)
            ]
        return json.dumps({"cells": cells})

    return {"key": lambda: key, "slip in Z1": lambda: slip, "random": random_answers}


def timings(fn: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(0)
    for mode in ("table", "exact"):
        problem = handcalc.generate(seed=args.seed, transcendental=mode)
        module = kinds.get(problem.kind)
        solve = timings(
            lambda p=problem, m=module: m.solve(p.spec, p.given), max(args.repeat // 4, 10)
        )
        base = statistics.median(solve)
        print(f"{mode} mode, {problem.describe()}: solving {base * 1000:.2f} ms (median)")
        for label, make in students(problem, rng).items():
            texts = [make() for _ in range(args.repeat)]
            it = iter(texts)
            times = timings(lambda p=problem, it=it: handcalc.grade(p, next(it)), args.repeat)
            median, p99 = statistics.median(times), times[int(len(times) * 0.99) - 1]
            print(
                f"  grade, {label:>10}: median {median * 1000:6.2f} ms, p99 {p99 * 1000:6.2f} ms"
                f" = {median / base:#.3g}× solving"  # (exact mode solves slowly: 0.00823×)
            )


if __name__ == "__main__":
    main()
