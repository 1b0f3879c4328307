"""Worked solutions: each step's formula, the same with numbers in for one entry, and the result.

One explanation per op type, chosen by ``functools.singledispatch`` (the way sympy's printers choose
notation by type), so a new op gets its explanation here without touching ``ops.py``. Numbers are
spelled exactly as the sheet prints them (``layout.printed``), so the solutions and the key agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch
from typing import Any

from .graph import Step, resolve
from .layout import printed
from .notation import (
    MINUS,
    approx,
    entry,
    expression,
    formula,
    is_expression,
    number,
    power,
    signed,
    subscript,
)
from .ops import (
    Activate,
    Activation,
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
    Sigmoid,
    Softmax,
    Tanh,
    Update,
    WeightGrad,
)
from .problem import Problem
from .transcendental import Base, Exact, Table

PHASES = {
    "forward": "Forward pass",
    "loss": "Loss",
    "backward": "Backward pass",
    "update": "Update",
}


@dataclass(frozen=True)
class Worked:
    """One step, worked: its formula, the substituted lines, and the resulting matrix as printed."""

    name: str
    phase: str
    formula: str
    words: str
    lines: tuple[str, ...]
    result: tuple[tuple[str, ...], ...]


class _Cells:
    """The printed entries of a problem's cells, read on demand (``A0`` is ``X``)."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self._cache: dict[str, list[list[str]]] = {}

    def __call__(self, name: str) -> list[list[str]]:
        name = resolve(name)
        if name not in self._cache:
            self._cache[name] = printed(self.problem, name)
        return self._cache[name]

    def at(self, name: str, i: int, j: int) -> str:
        """An entry as an operand: its printed value (a decimal, without ≈, for an expression)."""
        return self(name)[i][j].removeprefix("≈")

    def result(self, name: str, i: int, j: int) -> str:
        """An entry as a result: exact expressions in full, then their decimal."""
        x = self.problem.value(name).to_list()[i][j]
        if is_expression(x):
            return f"{expression(self.problem.text(name)[i][j])} ≈ {approx(float(x))}"
        return self(name)[i][j]


def worked_solutions(problem: Problem) -> tuple[Worked, ...]:
    """Every step of ``problem`` worked by hand, in the order a student works them."""
    cells = _Cells(problem)
    out = []
    for step in problem.steps:
        i, j = _telling_entry(cells(step.name))
        lines = explain(step.op, step, cells, i, j)
        out.append(
            Worked(
                step.name,
                step.phase,
                formula(step.formula),
                step.words,
                tuple(lines),
                tuple(map(tuple, cells(step.name))),
            )
        )
    return tuple(out)


def _telling_entry(rows: list[list[str]]) -> tuple[int, int]:
    """The first entry that is not zero (a zero often hides the arithmetic), else the first."""
    for i, row in enumerate(rows):
        for j, text in enumerate(row):
            if text not in ("0", "0.00", "≈0.00"):
                return i, j
    return 0, 0


def _at(name: str, i: int, j: int) -> str:
    return f"{subscript(name)}[{i + 1},{j + 1}]"


@singledispatch
def explain(op: Op, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    """The substituted lines for entry ``i, j`` of ``step`` (an op without its own: the value)."""
    return [f"{_at(step.name, i, j)} = {cells.result(step.name, i, j)}"]


@explain.register
def _(op: Affine, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    w, a, b = step.inputs
    k_range = range(len(cells(w)[0]))
    symbols = " + ".join(f"{_at(w, i, k)}·{_at(a, k, j)}" for k in k_range) + f" + {_at(b, i, 0)}"
    numbers = " + ".join(
        f"{signed(cells.at(w, i, k))}·{signed(cells.at(a, k, j))}" for k in k_range
    )
    return [
        f"{_at(step.name, i, j)} = {symbols}",
        f"{_at(step.name, i, j)} = {numbers} + {signed(cells.at(b, i, 0))} = "
        f"{cells.result(step.name, i, j)}",
    ]


@explain.register
def _(op: Activate, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    (z,) = step.inputs
    rule = activation_rule(op.activation, cells.at(z, i, j))
    value = cells.result(step.name, i, j)
    shown = f"{rule} = {value}" if rule != value else value
    return [f"{_at(step.name, i, j)} = {shown}" + (" (from the table)" if op.tabulated else "")]


@singledispatch
def activation_rule(activation: Activation, z: str) -> str:
    """``f(z)`` written out with the number ``z`` in it."""
    return f"{activation.name}({z})"


@activation_rule.register
def _(activation: ReLU, z: str) -> str:
    return f"max(0, {z})"


@activation_rule.register
def _(activation: LeakyReLU, z: str) -> str:
    slope = activation.slope
    return z if _positive(z) else f"{slope.numerator}/{slope.denominator}·{signed(z)}"


@activation_rule.register
def _(activation: Identity, z: str) -> str:
    return z


@activation_rule.register
def _(activation: Sigmoid, z: str) -> str:
    return f"σ({z}) = 1/(1 + {_power(activation.treatment, _negate(z))})"


@activation_rule.register
def _(activation: Tanh, z: str) -> str:
    return f"tanh({z})"


def _power(treatment: Any, exponent: str) -> str:
    return power(str(treatment.base) if isinstance(treatment, Base) else "e", exponent)


def _negate(text: str) -> str:
    return text[1:] if text.startswith(MINUS) else MINUS + text


@explain.register
def _(op: Softmax, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    (z,) = step.inputs
    column = [row[j] for row in cells(z)]
    total = " + ".join(_power(op.treatment, t) for t in column)
    value = cells.result(step.name, i, j)
    rounding = " (rounded, from the table)" if isinstance(op.treatment, Table) else ""
    return [
        f"{_at(step.name, i, j)} = {_power(op.treatment, column[i])}/({total}) = {value}{rounding}"
    ]


@explain.register
def _(op: Loss, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    z, y = step.inputs
    a = _output_name(z)
    targets = cells(y)
    mean = f"(1/{len(targets[0])})·" if op.factor != 1 else ""
    log = f"log_{op.treatment.base}" if isinstance(op.treatment, Base) else "ln"
    outputs = [[t.removeprefix("≈") for t in row] for row in cells(a)]
    match op.loss:
        case "softmax_ce":
            terms = [
                (r, c)
                for r, row in enumerate(targets)
                for c, t in enumerate(row)
                if t not in ("0", "0.00")
            ]
            symbols = " + ".join(f"{log} {_at(a, r, c)}" for r, c in terms)
            numbers = " + ".join(f"{log} {outputs[r][c]}" for r, c in terms)
        case "sigmoid_bce":
            terms = [(r, c) for r in range(len(targets)) for c in range(len(targets[0]))]
            symbols = " + ".join(
                f"{log} {_at(a, r, c)}" if targets[r][c] == "1" else f"{log}(1 − {_at(a, r, c)})"
                for r, c in terms
            )
            numbers = " + ".join(
                f"{log} {outputs[r][c]}" if targets[r][c] == "1" else f"{log}(1 − {outputs[r][c]})"
                for r, c in terms
            )
        case _:
            terms = [(r, c) for r in range(len(targets)) for c in range(len(targets[0]))]
            diffs = " + ".join(f"({outputs[r][c]} − {signed(targets[r][c])})²" for r, c in terms)
            rounded = (
                f" (rounded to {op.treatment.digits} decimals)"
                if isinstance(op.treatment, Table)
                else ""
            )
            return [
                f"L = ½·{mean}Σ (A − Y)²",
                f"L = ½·{mean}({diffs}) = {cells.result(step.name, 0, 0)}{rounded}",
            ]
    note = ""
    if isinstance(op.treatment, Table):
        note = (
            f" (computed from {subscript(z)} before rounding, rounded to {op.treatment.digits} "
            f"decimals)"
        )
    elif isinstance(op.treatment, Exact):
        note = ""
    return [
        f"L = −{mean}({symbols})",
        f"L = −{mean}({numbers}) = {cells.result(step.name, 0, 0)}{note}",
    ]


def _output_name(z: str) -> str:
    return "A" + z[1:]


@explain.register
def _(op: OutputGrad, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    a, y = step.inputs
    difference = f"{cells.at(a, i, j)} − {signed(cells.at(y, i, j))}"
    if op.factor != 1:
        difference = f"({difference})/{op.factor.denominator}"
    return [f"{_at(step.name, i, j)} = {difference} = {cells.result(step.name, i, j)}"]


@explain.register
def _(op: WeightGrad, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    dz, a = step.inputs
    columns = range(len(cells(dz)[0]))
    symbols = " + ".join(f"{_at(dz, i, c)}·{_at(a, j, c)}" for c in columns)
    numbers = " + ".join(
        f"{signed(cells.at(dz, i, c))}·{signed(cells.at(a, j, c))}" for c in columns
    )
    return [
        f"{_at(step.name, i, j)} = {symbols}",
        f"{_at(step.name, i, j)} = {numbers} = {cells.result(step.name, i, j)}",
    ]


@explain.register
def _(op: BiasGrad, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    (dz,) = step.inputs
    numbers = " + ".join(signed(cells.at(dz, i, c)) for c in range(len(cells(dz)[i])))
    return [f"{_at(step.name, i, 0)} = {numbers} = {cells.result(step.name, i, 0)}"]


@explain.register
def _(op: InputGrad, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    w, dz = step.inputs
    rows = range(len(cells(w)))
    symbols = " + ".join(f"{_at(w, r, i)}·{_at(dz, r, j)}" for r in rows)
    numbers = " + ".join(f"{signed(cells.at(w, r, i))}·{signed(cells.at(dz, r, j))}" for r in rows)
    return [
        f"{_at(step.name, i, j)} = {symbols}",
        f"{_at(step.name, i, j)} = {numbers} = {cells.result(step.name, i, j)}",
    ]


@explain.register
def _(op: ActivationGrad, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    da, source = step.inputs
    x = cells.at(source, i, j)
    derivative = op.activation.derivative(cells.problem.value(source)).to_list()[i][j]
    factor = approx(float(derivative)) if is_expression(derivative) else entry(derivative)
    why = derivative_rule(op.activation, x, f"{_at(source, i, j)} = {x}")
    return [
        f"{_at(step.name, i, j)} = {_at(da, i, j)}·f′ = "
        f"{signed(cells.at(da, i, j))}·{signed(factor)} = {cells.result(step.name, i, j)}",
        f"  where f′ = {factor}: {why}",
    ]


@singledispatch
def derivative_rule(activation: Activation, x: str, where: str) -> str:
    """Why f′ has the value it has at ``x``; ``where`` names the entry of Z or A it is read from."""
    return f"{activation.name}′ at {where}"


def _positive(x: str) -> bool:
    return not x.startswith(MINUS) and x.strip("0./") != ""


@derivative_rule.register
def _(activation: ReLU, x: str, where: str) -> str:
    return (
        f"relu′ is 1 where {where} > 0"
        if _positive(x)
        else (f"relu′ is 0 where {where} ≤ 0 (ReLU′(0) = 0)")
    )


@derivative_rule.register
def _(activation: LeakyReLU, x: str, where: str) -> str:
    return f"1 where {where} > 0" if _positive(x) else f"the slope where {where} ≤ 0"


@derivative_rule.register
def _(activation: Identity, x: str, where: str) -> str:
    return "the identity's derivative is 1"


@derivative_rule.register
def _(activation: Sigmoid, x: str, where: str) -> str:
    return f"σ′ = A·(1 − A) with {where}: {x}·(1 − {x})"


@derivative_rule.register
def _(activation: Tanh, x: str, where: str) -> str:
    return f"tanh′ = 1 − A² with {where}: 1 − {signed(x)}²"


@explain.register
def _(op: Update, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    p, grad, lr = step.inputs
    rate = number(cells.problem.text(lr)[0][0])
    return [
        f"{_at(step.name, i, j)} = {_at(p, i, j)} − lr·{_at(grad, i, j)} = "
        f"{cells.at(p, i, j)} − {rate}·{signed(cells.at(grad, i, j))} = "
        f"{cells.result(step.name, i, j)}"
    ]
