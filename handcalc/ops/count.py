"""Counting parameters: how many numbers a training scheme updates, and so must store per task.

Fine-tuning every layer changes (and stores anew) every weight and bias; freezing layers keeps
theirs shared with the pretrained network. :class:`CountParams` counts the entries of the updated
parameters a step is given (``full.W1_new``, ``full.b1_new``, …): a whole number, worked as a sum
of ``rows·columns``, with the mistakes counting invites (weights without biases, matrices instead
of entries, the frozen layers counted too). :class:`Moved` says which parameters a step changed
(1) and which it left (0): the lesson of zero initialisation, where most gradients vanish and the
hidden units stay identical.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ..cells import Cell
from ..matrix import Mat, entry_float, rational
from ..notation import subscript
from .base import Cells, Mistake, Op, Variant, sub
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


# --- which parameters a step moved -------------------------------------------------------------


@dataclass(frozen=True)
class Moved(Op):
    """A 1 × P row, one entry a parameter (W₁, b₁, …, W_L, b_L): 1 where the step changed it
    (any entry of ``P_new`` differs from ``P``), 0 where it left it as it was. The inputs are the
    pairs ``(P_new, P)`` in that order."""

    words: ClassVar[str] = "1 for each parameter this step changed, 0 for each it left as it was"
    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake(
            "nothing_moves",
            "It looks like every parameter was taken to stay put; with zero weights most "
            "gradients vanish, but the output bias's does not (db_L = Σ dZ_L = Σ (A_L − Y)).",
        ),
        Mistake(
            "everything_moves",
            "It looks like every parameter was taken to move; with zero weights a gradient "
            "dW = dZ·Aᵀ vanishes where A is 0, and dA = Wᵀ·dZ vanishes below a zero W.",
        ),
        Mistake(
            "output_bias_only",
            "It looks like only the output bias was marked; with σ the hidden units output "
            "σ(0) = 1/2, not 0, so dW_L = dZ_L·Aᵀ is not 0, and below a moved W the "
            "gradient flows on.",
        ),
    )

    def __call__(self, *pairs: Mat) -> Mat:
        flags = [
            int(not _equal(new, old)) for new, old in zip(pairs[::2], pairs[1::2], strict=True)
        ]
        return rational([flags])

    def formula(self, out: str, *names: str) -> str:
        params = ", ".join(_param(n) for n in names[1::2])
        return f"{out} = [P_new ≠ P for P = {params}]"

    def heading(self, step: Step, problem: Problem) -> str:
        params = " ".join(subscript(_param(n)) for n in step.inputs[1::2])
        return f"{subscript(step.name)} = [{params}]: 1 where the step changed it, else 0"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        lines = []
        problem = cells.problem
        for new, old in zip(step.inputs[::2], step.inputs[1::2], strict=True):
            cell = Cell.parse(new)
            grad = _label(Cell(f"d{cell.symbol}", cell.layer, cell.section).name)
            p = subscript(_param(old))
            if _equal(problem.value(new), problem.value(old)):
                lines.append(f"{p}: {grad} = 0, so {_label(new)} = {_label(old)} → 0")
            else:
                lines.append(f"{p}: {grad} ≠ 0, so {_label(new)} ≠ {_label(old)} → 1")
        return lines

    def why(self, step: Step, problem: Problem) -> str:
        return moved_why(problem, step.section)

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        count = len(inputs) // 2
        flags = [0] * count
        flags[-1] = 1
        return [
            ("nothing_moves", rational([[0] * count])),
            ("everything_moves", rational([[1] * count])),
            ("output_bias_only", rational([flags])),
        ]


def _param(name: str) -> str:
    """A parameter's local name without section or ``_new``: ``s1.W2_new`` → ``W2``."""
    cell = Cell.parse(name)
    return Cell(cell.symbol, cell.layer).name


def _label(name: str) -> str:
    """A cell's name on paper, its section kept: ``s1.dW₂``, ``s1.W₂ new``."""
    cell = Cell.parse(name)
    prefix = f"{cell.section}." if cell.section else ""
    return prefix + subscript(cell.local)


def _equal(a: Mat, b: Mat) -> bool:
    """Whether a parameter is unchanged: every entry of the difference is 0 (an exact-mode
    difference that is not literally 0 is judged by its value)."""
    return all(x == 0 or entry_float(x) == 0 for row in sub(a, b).to_list() for x in row)


def moved_why(problem: Problem, section: str) -> str:
    """Why the parameters that moved in ``section`` did, and why the others did not."""
    spec = problem.spec
    n = spec.layers
    step = int(section[1:]) if section[1:].isdigit() else 1
    if spec.activation in ("relu", "tanh"):
        f = "ReLU" if spec.activation == "relu" else "tanh"
        return (
            f"Every hidden pre-activation is 0, and {f}(0) = 0: the hidden outputs are 0, so "
            f"dW = dZ·Aᵀ is 0 in every layer above them, and dA = Wᵀ·dZ is 0 below the zero "
            f"W{subscript(str(n))}. Only db{subscript(str(n))} = Σ dZ{subscript(str(n))} is "
            f"not 0: the output bias is the one parameter that moves — in this step and every "
            f"later one, since W{subscript(str(n))} stays 0. The net only learns a constant "
            f"output."
        )
    moved = n - step + 1  # the lowest layer the gradient has reached by this step
    below = (
        f"Layers below {max(moved, 1)} keep their zero weights: dA = Wᵀ·dZ is 0 below a W "
        f"that was still 0 at the start of this step. "
        if moved > 1
        else ""
    )
    return (
        f"σ(0) = 1/2: every hidden unit outputs the same 1/2, so dW{subscript(str(n))} = "
        f"dZ{subscript(str(n))}·Aᵀ moves W{subscript(str(n))} with identical columns. "
        f"{below}Every unit of a layer gets the same gradient, so the rows of each hidden W "
        f"stay identical: the units stay copies of one another, and the layer learns no more "
        f"than one unit would — zero initialisation never breaks the symmetry."
    )
