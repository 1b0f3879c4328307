"""Counting parameters: how many numbers a training scheme updates, and so must store per task.

Fine-tuning every layer changes (and stores anew) every weight and bias; freezing layers keeps
theirs shared with the pretrained network. :class:`CountParams` counts the entries of the updated
parameters a step is given (``full.W1_new``, ``full.b1_new``, …): a whole number, worked as a sum
of ``rows·columns``, with the mistakes counting invites (weights without biases, matrices instead
of entries, the frozen layers counted too).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ..cells import Cell
from ..matrix import Mat, rational
from ..notation import subscript
from .base import Cells, Mistake, Op, Variant
from .words import at

if TYPE_CHECKING:
    from ..graph import Step
    from ..problem import Problem


def entries(m: Mat) -> int:
    """How many numbers a matrix holds."""
    rows, cols = m.shape
    return int(rows) * int(cols)


def _network_total(values: Mapping[str, Mat]) -> int:
    """Every weight and bias of the network as given (``W1``, ``b1``, … while they exist)."""
    total, layer = 0, 1
    while Cell("W", layer).name in values:
        total += sum(entries(values[Cell(p, layer).name]) for p in ("W", "b"))
        layer += 1
    return total


@dataclass(frozen=True)
class CountParams(Op):
    """``n = Σ rows·columns`` over the updated parameters given: the entries a scheme updates."""

    words: ClassVar[str] = (
        "how many numbers the scheme updates: every entry of each W and b it trains"
    )
    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake("weights_only", "It looks like the weights were counted but not the biases."),
        Mistake(
            "matrices_counted",
            "It looks like the matrices were counted, not the numbers in them (rows × columns).",
        ),
        Mistake(
            "frozen_counted",
            "It looks like the frozen layers were counted too: their parameters are not updated.",
        ),
    )

    def __call__(self, *params: Mat) -> Mat:
        return rational([[sum(entries(p) for p in params)]])

    def formula(self, out: str, *params: str) -> str:
        return f"{out} = " + " + ".join(f"size({p})" for p in params)

    def heading(self, step: Step, problem: Problem) -> str:
        names = ", ".join(subscript(p) for p in step.inputs)
        return f"{subscript(step.name)} = the entries of {names}"

    def why(self, step: Step, problem: Problem) -> str:
        total = _network_total(problem.values)
        counted = int(problem.value(step.name).to_list()[0][0])
        if counted == total:
            return (
                f"Every layer is trained: all {total} parameters change, so each task keeps a "
                f"whole copy of the network."
            )
        return (
            f"Only {counted} of the network's {total} parameters change; the other "
            f"{total - counted} stay the pretrained ones, shared by every task, so a task "
            f"stores just {counted} numbers."
        )

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        sizes = []
        for p in step.inputs:
            rows = cells(p)
            sizes.append(f"{len(rows)}·{len(rows[0])}")
        return [f"{at(step.name, i, j)} = {' + '.join(sizes)} = {cells.result(step.name, i, j)}"]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        weights = [m for name, m in zip(step.inputs, inputs, strict=True) if _is_weight(name)]
        found: list[Variant] = [
            ("weights_only", rational([[sum(map(entries, weights))]])),
            ("matrices_counted", rational([[len(inputs)]])),
        ]
        total = _network_total(values)
        if total != sum(map(entries, inputs)):
            found.append(("frozen_counted", rational([[total]])))
        return found


def _is_weight(name: str) -> bool:
    return Cell.parse(name).symbol == "W"
