"""Simulated students and generated problems for the grading tests.

A simulated student writes some cells of their own choosing (a mistake) and then works every later
cell correctly *from their own values*, reading the lookup tables from the sheet as a real student
does. That is exactly the student who must get credit carried forward.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

import handcalc
from handcalc.errors import HandcalcError
from handcalc.graph import resolve
from handcalc.matrix import Mat, entry_float, rational, to_fraction, to_strings
from handcalc.problem import Problem

PIECEWISE = ("relu", "leaky_relu", "identity")
ACTIVATIONS = (*PIECEWISE, "sigmoid", "tanh")
LOSSES = ("softmax_ce", "sigmoid_bce", "mse")


@st.composite
def problems(draw: Any, exact: bool = False, min_layers: int = 1, **fixed: Any) -> Problem:
    """A generated problem across options; ``fixed`` pins some (``sizes=[2, 2, 2]``).

    Exact mode is drawn on its own and small (one hidden layer of a piecewise-linear activation):
    generating it costs ~0.2 s, deep sigmoid/tanh networks are refused slowly."""
    layers = draw(st.integers(min_layers, 2 if exact else 3))
    options: dict[str, Any] = {
        "sizes": draw(
            st.lists(st.integers(2, 3 if exact else 4), min_size=layers + 1, max_size=layers + 1)
        ),
        "activation": draw(st.sampled_from(PIECEWISE if exact else ACTIVATIONS)),
        "loss": draw(st.sampled_from(LOSSES)),
        "transcendental": "exact" if exact else draw(st.sampled_from(("table", "base"))),
        "batch": draw(st.integers(1, 3)),
        "reduction": draw(st.sampled_from(("sum", "mean"))),
        "lr": draw(st.sampled_from(("1/10", "1/2", "1"))),
        "frozen": draw(st.sampled_from(([], [1]))) if layers > 1 else [],
        # grading, not nice numbers: tabulated sigmoid/tanh gradients may be long here
        "max_chars": 40,
    }
    options.update(fixed)
    seed = draw(st.integers(0, 10**6))
    try:
        return handcalc.generate(seed=seed, **options)
    except HandcalcError:
        reject()
        raise  # unreachable: reject() raises


def has(problem: Problem, *names: str) -> bool:
    """True when the problem has all these cells (a frozen layer has no gradients)."""
    return all(name in problem.values for name in names)


def graded_steps(problem: Problem) -> list[str]:
    tables = problem.tables
    return [s.name for s in problem.steps if s.name not in tables]


def text(m: Mat) -> list[list[str]]:
    """A matrix as a student writes it: fractions where exact, 8 significant digits elsewhere."""
    if m.domain.is_QQ:
        return [[str(to_fraction(x)) for x in row] for row in m.to_list()]
    # a float's noise where sympy's cancellation is exact (5e-17 for 0) is no student's answer
    return [
        [f"{v:.8g}" if abs(v := entry_float(x)) > 1e-9 else "0" for x in row] for row in m.to_list()
    ]


def key_answers(problem: Problem, decimals: bool = False) -> dict[str, Any]:
    """The answer key as a submission (exact-mode cells as decimals if ``decimals``)."""
    return {
        "cells": {
            name: (text(problem.value(name)) if decimals else problem.text(name))
            for name in graded_steps(problem)
        }
    }


def student(
    problem: Problem, mistakes: Mapping[str, Callable[[dict[str, Mat]], Mat]], carry_on: bool = True
) -> tuple[dict[str, Any], dict[str, Mat]]:
    """A student who writes ``mistakes[name](own values)`` for those cells and works the rest.

    With ``carry_on`` every later cell is computed from the student's own values (tables come
    from the sheet); without it, the later cells are copied from the key."""
    tables = problem.tables
    own: dict[str, Mat] = dict(problem.values)
    for step in problem.steps:
        if step.name in tables:
            continue
        if step.name in mistakes:
            own[step.name] = mistakes[step.name](own)
        elif carry_on:
            own[step.name] = step.run(own)
    cells = {name: text(own[name]) for name in graded_steps(problem)}
    return {"cells": cells}, own


def worked(problem: Problem, change: Mapping[str, Callable[[Mat], Mat]]) -> dict[str, Any]:
    """A student who works every cell right from their own values, as the sheet states them
    (table values, rounded losses), except where ``change`` says what they wrote instead (a
    function of the right value on their own inputs): a submission of every cell of any kind."""
    finish = problem.spec.treatment().finish

    def written(name: str, value: Mat) -> Mat:
        value = finish(name, value)
        return change[name](value) if name in change else value

    values = problem.graph.evaluate(problem.given, written)
    return {"cells": {s.name: to_strings(values[s.name]) for s in problem.steps}}


def inputs(step_name: str, problem: Problem, own: Mapping[str, Mat]) -> list[Mat]:
    return [own[resolve(n)] for n in problem.graph[step_name].inputs]


def shifted(m: Mat, by: Fraction = Fraction(1), where: tuple[int, int] = (0, 0)) -> Mat:
    """``m`` with one entry changed: the smallest slip a student makes."""
    rows = [[to_fraction(x) for x in row] for row in m.to_list()]
    i, j = where
    rows[i][j] += by
    return rational(rows)


def zeros_like(m: Mat) -> Mat:
    return rational([[Fraction(0)] * m.shape[1] for _ in range(m.shape[0])])


def proportional(a: Mat, b: Mat) -> bool:
    """a = c·b for some number c (b not all zeros)."""
    ra = [to_fraction(x) for row in a.to_list() for x in row]
    rb = [to_fraction(x) for row in b.to_list() for x in row]
    pivot = next((i for i, x in enumerate(rb) if x), None)
    if pivot is None or len(ra) != len(rb):
        return False
    c = ra[pivot] / rb[pivot]
    return all(x == c * y for x, y in zip(ra, rb, strict=True))
