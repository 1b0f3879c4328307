"""Zero initialisation: every weight and bias starts at 0, and ``steps`` SGD steps (sections
``s1``, ``s2``, …, each a whole forward pass, loss, backward pass and update, ``s2`` starting from
``s1``'s updated parameters) show which parameters move and why the network trains only
partially: with ReLU or tanh only the output bias ever moves; with σ every hidden unit stays a
copy of the others. After each step the cell ``s<k>.moved`` marks the parameters that step
changed (1) and those it left (0); its worked solution says why.

Every cell is exact (``ZeroInitSpec.check`` refuses the options that would round or print too
long), so no rounding can break the symmetry the lesson is about.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import sympy

from ..cells import Cell
from ..conventions import instructions as conventions
from ..errors import BudgetError, DocumentError
from ..graph import Graph, Step
from ..matrix import Mat, entry_text, rational, to_fraction
from ..notation import printed_length, subscript
from ..ops import Moved
from ..specs import ZeroInitSpec
from .base import Kind
from .mlp import Pass, check_targets, given_shapes, sgd_step

NAME = "zero_init"
#: draws tried before a refusal; an exact-mode entry printed longer than this is refused
ATTEMPTS = 40
EXPRESSION_CHARS = 60


def section(step: int) -> str:
    """The section of SGD step ``step`` (from 1): ``s1``, ``s2``, …"""
    return f"s{step}"


def parameters(spec: ZeroInitSpec) -> list[Cell]:
    """W1, b1, …, WL, bL: the parameters, in the order ``moved`` marks them."""
    return [Cell(p, layer) for layer in range(1, spec.layers + 1) for p in ("W", "b")]


def moved_step(spec: ZeroInitSpec, step: int) -> Step:
    """``s<k>.moved``: for each parameter, whether step ``k`` changed it."""
    now = section(step)
    before = section(step - 1) if step > 1 else ""
    inputs: list[str] = []
    for p in parameters(spec):
        inputs += [
            p.within(now).updated().name,
            Cell(p.symbol, p.layer, before, new=bool(before)).name,
        ]
    shape = (1, 2 * spec.layers)
    return Step(Cell("moved", None, now), "update", Moved(), tuple(inputs), shape)


class ZeroInit(Kind):
    name = NAME
    description = "zero initialisation: a few SGD steps from all-zero weights, and what moves"
    Options = ZeroInitSpec

    def build(self, options: ZeroInitSpec) -> Graph:
        steps: list[Step] = []
        for k in range(1, options.steps + 1):
            at = Pass(section(k), params=section(k - 1) if k > 1 else "")
            steps += [*sgd_step(options, at), moved_step(options, k)]
        return Graph.of(given_shapes(options), steps)

    def draw(self, options: ZeroInitSpec, seed: int) -> dict[str, Mat]:
        """X and Y small and nonzero from ``seed``, W and b zero; every cell solved, and
        re-drawn until every entry prints short."""
        rng = random.Random(seed)
        graph = self.build(options)
        why = ""
        for _ in range(ATTEMPTS):
            given = _draw(options, rng)
            try:
                values = self.solve(options, given)
                _check(options, graph, values)
                return values
            except BudgetError as e:
                why = str(e)
        raise BudgetError(
            f"no zero_init problem with these options prints short enough after {ATTEMPTS} "
            f"draws (the last: {why}); try a smaller batch or input_max, or lr 1/2"
        )

    def solve(self, options: ZeroInitSpec, given: Mapping[str, Mat]) -> dict[str, Mat]:
        return self.build(options).evaluate(given, options.treatment().finish)

    def read_given(self, options: ZeroInitSpec, raw: Any) -> dict[str, Mat]:
        """The MLP's given cells, with every W and b zero and targets the loss accepts."""
        out = super().read_given(options, raw)
        for p in parameters(options):
            if any(to_fraction(x) != 0 for row in out[p.name].to_list() for x in row):
                raise DocumentError(
                    f"given.{p.name}: zero_init starts from zero weights and biases; every "
                    f"entry must be 0"
                )
        check_targets(options, out["Y"])
        return out

    def infer_options(self, options: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
        from .mlp import infer_options

        return infer_options(options, given)

    def instructions(self, problem: Any) -> tuple[str, ...]:
        spec = problem.spec
        n = spec.steps
        later = (
            f" Each step starts from the parameters the one before left: s2 starts from "
            f"s1's W_new and b_new{', s3 from s2’s' if n == 3 else ''}."
            if n > 1
            else ""
        )
        params = " ".join(subscript(p.name) for p in parameters(spec))
        return (
            *conventions(problem),
            f"Every weight and bias starts at 0. Work {n} SGD step{'s' * (n != 1)} on the same "
            f"batch, one section each.{later}",
            f"After each step, mark in its ‘moved’ row which of {params} that step changed (1) "
            f"and which it left as it was (0) — and say why the others did not move.",
        )


def _draw(spec: ZeroInitSpec, rng: random.Random) -> dict[str, Mat]:
    """Nonzero integer inputs within ``input_max``; targets the loss accepts (nonzero ones for
    mse, so that every output unit has something to learn); every W and b zero."""
    n0, batch, k = spec.sizes[0], spec.batch, spec.sizes[-1]
    nonzero = [v for v in range(-spec.input_max, spec.input_max + 1) if v]
    given: dict[str, Mat] = {
        "X": rational([[rng.choice(nonzero) for _ in range(batch)] for _ in range(n0)])
    }
    for layer in range(1, spec.layers + 1):
        rows, cols = spec.sizes[layer], spec.sizes[layer - 1]
        given[f"W{layer}"] = rational([[0] * cols for _ in range(rows)])
        given[f"b{layer}"] = rational([[0] for _ in range(rows)])
    if spec.loss == "softmax_ce":
        classes = [rng.randrange(k) for _ in range(batch)]
        y = [[int(classes[j] == i) for j in range(batch)] for i in range(k)]
    elif spec.loss == "sigmoid_bce":
        y = [[rng.randrange(2) for _ in range(batch)] for _ in range(k)]
    else:
        y = [[rng.choice((-2, -1, 1, 2)) for _ in range(batch)] for _ in range(k)]
    given["Y"] = rational(y)
    given["lr"] = rational([[spec.lr]])
    return given


def _check(spec: ZeroInitSpec, graph: Graph, values: Mapping[str, Mat]) -> None:
    """Every entry prints within ``max_chars`` (an exact expression within EXPRESSION_CHARS),
    and the first step moves every output bias (each output unit has a gradient)."""
    for name in graph.names:
        if graph[name].op.decimals is not None:
            continue  # the loss: printed to its decimals (its expression within exact's budget)
        for row in values[name].to_list():
            for x in row:
                if isinstance(x, sympy.Basic) and not x.is_Rational:
                    size, budget = len(entry_text(x)), EXPRESSION_CHARS
                else:
                    size, budget = printed_length(to_fraction(x)), spec.max_chars
                if size > budget:
                    raise BudgetError(f"{name} has an entry of {size} characters")
    n = spec.layers
    db = values[Cell("db", n, section(1)).name]
    if any(x == 0 for row in db.to_list() for x in row):
        raise BudgetError(f"s1.db{n} has a zero entry: an output unit with nothing to learn")


__all__ = ["NAME", "ZeroInit", "moved_step", "parameters", "section"]
