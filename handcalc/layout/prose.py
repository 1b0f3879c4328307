"""The MLP's words: one line of instruction per step, ``[n] formula: what to do``, chosen by the
step's op (a kind's own op says its formula; see :func:`instruction`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import singledispatch

from ..graph import Step
from ..notation import formula, subscript
from ..notation import printed as printed_value
from ..ops import (
    Activate,
    ActivationGrad,
    Affine,
    BiasGrad,
    Identity,
    InputGrad,
    LeakyReLU,
    Loss,
    Op,
    OutputGrad,
    ReLU,
    Softmax,
    Update,
    WeightGrad,
)
from ..problem import Problem
from .model import Grid

#: a function's symbol on paper, where it has one
SYMBOLS = {"sigmoid": "σ"}


def step_lines(
    problem: Problem, grids: Sequence[Grid], numbers: Mapping[str, int]
) -> tuple[str, ...]:
    """``[n] formula: what to do`` for each step whose boxes the section's grids hold."""
    lines = []
    for grid in grids:
        for b in grid.blocks:
            if b.role == "answer" and b.cell in numbers and b.cell in problem.graph.names:
                step = problem.graph[b.cell]
                names = [subscript(n) for n in (step.name, *step.inputs)]
                lines.append(f"[{numbers[b.cell]}] {instruction(step.op, problem, step, *names)}")
    return tuple(lines)


@singledispatch
def instruction(op: Op, problem: Problem, step: Step, out: str, *inputs: str) -> str:
    """The step's formula (a kind's own op says no more than that)."""
    return formula(step.formula)


@instruction.register
def _(op: Affine, problem: Problem, step: Step, z: str, w: str, a: str, b: str) -> str:
    return f"{z} = {w}·{a} + {b}: row · column, plus {b}"


@instruction.register
def _(op: Activate, problem: Problem, step: Step, a: str, z: str) -> str:
    f = op.activation
    if op.tabulated:
        return f"{a} = {SYMBOLS.get(f.name, f.name)}({z}): look up each entry"
    if isinstance(f, ReLU):
        return f"{a} = relu({z}): negatives become 0"
    if isinstance(f, LeakyReLU):
        return f"{a} = leaky_relu({z}): negatives times {printed_value(f.slope)}"
    if isinstance(f, Identity):
        return f"{a} = {z}: the same entries"
    return f"{a} = {SYMBOLS.get(f.name, f.name)}({z}), entry by entry"


@instruction.register
def _(op: Softmax, problem: Problem, step: Step, a: str, z: str) -> str:
    if op.tabulated:
        return f"{a} = softmax({z}): look up each column"
    base = getattr(op.treatment, "base", None)
    power = f"{base}ᶻ" if base else "eᶻ"
    return f"{a} = softmax({z}): {power} over its column's sum"


@instruction.register
def _(op: Loss, problem: Problem, step: Step, out: str, *inputs: str) -> str:
    text = formula(step.formula).replace("loss =", "L =", 1)
    return f"{text}, to {op.decimals} decimals" if op.decimals is not None else text


@instruction.register
def _(op: OutputGrad, problem: Problem, step: Step, dz: str, a: str, y: str) -> str:
    return f"{formula(step.formula)}, entry by entry"


@instruction.register
def _(op: WeightGrad, problem: Problem, step: Step, dw: str, dz: str, a: str) -> str:
    return f"{dw} = {dz}·{a}ᵀ: row · column"


@instruction.register
def _(op: BiasGrad, problem: Problem, step: Step, db: str, dz: str) -> str:
    return f"{db} = the sum of each row of {dz}"


@instruction.register
def _(op: InputGrad, problem: Problem, step: Step, da: str, w: str, dz: str) -> str:
    return f"{da} = {w}ᵀ·{dz}: row · column"


@instruction.register
def _(op: ActivationGrad, problem: Problem, step: Step, dz: str, da: str, x: str) -> str:
    f = op.activation.derivative_symbol(x).replace("'", "′")
    if isinstance(op.activation, Identity):
        return f"{dz} = {da}: the same entries"
    return f"{dz} = {da} ∘ {f}: fill in {f}, multiply"


@instruction.register
def _(op: Update, problem: Problem, step: Step, new: str, p: str, grad: str, lr: str) -> str:
    return f"{new} = {p} − lr·{grad}, entry by entry"
