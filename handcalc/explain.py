"""Worked solutions: each step's formula, the numbers substituted for a telling entry, the result.

One explanation per op type, chosen by ``functools.singledispatch`` (the way sympy's printers choose
notation by type), so a new op gets its explanation here without touching ``ops.py``. Numbers are
spelled exactly as the sheet prints them (``layout.printed``), so the solutions and the key agree;
in ``exact`` mode an operand is its exact expression, and a result its expression and a decimal of
at least 4 significant digits.

The entry worked is a representative one: the one whose substitution has the most non-zero
operands (not ``−2 − 0.1·0``); where a step masks (ReLU, leaky ReLU) a masked entry is worked too.
A factor that is not a plain number (a fraction, a negative number, an expression) is written in
parentheses. Lines are plain text; :func:`typeset` makes them HTML with sums, logarithms and
powers set as sub- and superscripts and every expression kept on one line.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import singledispatch
from typing import Any

from markupsafe import Markup, escape

from .graph import Step, resolve
from .layout import printed
from .matrix import entry_float, to_fraction
from .notation import (
    MINUS,
    approx,
    entry,
    expression,
    formula,
    is_expression,
    number,
    power,
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
from .transcendental import Base, Table

PHASES = {
    "forward": "Forward pass",
    "loss": "Loss",
    "backward": "Backward pass",
    "update": "Update",
}


@dataclass(frozen=True)
class Worked:
    """One step, worked: its formula, the substituted lines, one line of why where the step
    takes a shortcut, and the resulting matrix as printed."""

    name: str
    phase: str
    formula: str
    words: str
    lines: tuple[str, ...]
    result: tuple[tuple[str, ...], ...]
    why: str = ""

    @property
    def html_formula(self) -> Markup:
        return typeset(self.formula)

    @property
    def html_lines(self) -> tuple[Markup, ...]:
        return tuple(typeset(line) for line in self.lines)

    @property
    def html_why(self) -> Markup:
        return typeset(self.why)

    @property
    def html_result(self) -> tuple[tuple[Markup, ...], ...]:
        return tuple(tuple(typeset(t) for t in row) for row in self.result)


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

    def raw(self, name: str, i: int, j: int) -> Any:
        return self.problem.value(name).to_list()[i][j]

    def at(self, name: str, i: int, j: int) -> str:
        """An entry as an operand: as printed, or its exact expression (``exact`` mode)."""
        x = self.raw(name, i, j)
        if is_expression(x):
            return expression(self.problem.text(resolve(name))[i][j])
        return self(name)[i][j]

    def result(self, name: str, i: int, j: int) -> str:
        """An entry as a result: exact expressions in full, then their decimal."""
        x = self.raw(name, i, j)
        if is_expression(x):
            return f"{expression(self.problem.text(name)[i][j])} ≈ {decimal(entry_float(x))}"
        return self(name)[i][j]


#: a decimal beside an exact expression: at least 4 significant digits
decimal = approx


def worked_solutions(problem: Problem) -> tuple[Worked, ...]:
    """Every step of ``problem`` worked by hand, in the order a student works them."""
    cells = _Cells(problem)
    out = []
    for step in problem.steps:
        lines = _lines(step, cells)
        out.append(
            Worked(
                step.name,
                step.phase,
                heading(step.op, step, problem),
                step.words,
                tuple(lines),
                _result(cells, step),
                why(step.op, step, problem),
            )
        )
    return tuple(out)


def _result(cells: _Cells, step: Step) -> tuple[tuple[str, ...], ...]:
    """The matrix as the key prints it, an exact-mode expression as its 4-digit decimal (the
    loss as it is written: to its decimals)."""
    name = step.name
    if step.op.decimals is not None:
        return tuple(map(tuple, cells(name)))
    values = cells.problem.value(name).to_list()
    return tuple(
        tuple(
            f"≈{decimal(entry_float(x))}" if is_expression(x) else text
            for x, text in zip(raw, row, strict=True)
        )
        for raw, row in zip(values, cells(name), strict=True)
    )


def _lines(step: Step, cells: _Cells) -> list[str]:
    """The worked lines of a representative entry, then of a masked one where the step masks."""
    rows, cols = cells.problem.value(step.name).shape
    entries = [(i, j) for i in range(rows) for j in range(cols)]
    if len(entries) == 1:
        return explain(step.op, step, cells, 0, 0)
    masked = set(masked_entries(step.op, step, cells))
    candidates = [e for e in entries if e not in masked] or entries
    scored = [explain(step.op, step, cells, *e) for e in candidates]
    lines = max(scored, key=_work)  # the first of the most telling
    if masked:
        first = min(masked, key=lambda e: (_is_zero(cells, _first_input(step), *e), e))
        lines = lines + explain(step.op, step, cells, *first)
    return lines


def _first_input(step: Step) -> str:
    return resolve(step.inputs[0])


def _is_zero(cells: _Cells, name: str, i: int, j: int) -> bool:
    try:
        return cells.raw(name, i, j) == 0
    except IndexError:
        return True


_NUMBER = re.compile(r"(?<![\w.])−?\d+(?:[./]\d+)?")


def _work(lines: Sequence[str]) -> tuple[int, int]:
    """How telling a substitution is: its non-zero operands, then a non-zero result (read from
    the line with the numbers: ``… = numbers = result``)."""
    best = (0, 0)
    for line in lines:
        parts = line.split(" = ")
        if len(parts) < 3 or line.startswith(" "):  # (an indented line says why, not what)
            continue
        operands = [t for t in _NUMBER.findall(parts[-2]) if t.strip("−0.") != ""]
        best = max(best, (len(operands), int(parts[-1].strip("−0. ") != "")))
    return best


def _at(name: str, i: int, j: int) -> str:
    return f"{subscript(name)}[{i + 1},{j + 1}]"


def factor(text: str) -> str:
    """An operand inside a product or a difference: in parentheses unless a plain unsigned
    number (``(−2)``, ``(3/25)``, ``(1/(1 + e⁵))``; ``2``, ``0.47``)."""
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return text
    return f"({text})"


def term(text: str) -> str:
    """An operand inside a sum: negatives and expressions in parentheses (``(−1)``)."""
    return text if re.fullmatch(r"\d+(?:[./]\d+)?", text) else f"({text})"


# --- the heading of a step ---------------------------------------------------------------------


@singledispatch
def heading(op: Op, step: Step, problem: Problem) -> str:
    """The step's rule, as its heading: its formula with subscripts."""
    return formula(step.formula)


@heading.register
def _(op: Loss, step: Step, problem: Problem) -> str:
    a = subscript("A" + step.inputs[0][1:])
    log = _log(op.treatment)
    mean = f"(1/{problem.spec.batch})·" if op.factor != 1 else ""
    return {
        "softmax_ce": f"L = −{mean}Σ Y∘{log} {a}",
        "sigmoid_bce": f"L = −{mean}Σ [Y∘{log} {a} + (1 − Y)∘{log}(1 − {a})]",
        "mse": f"L = ½·{mean}Σ ({a} − Y)²",
    }[op.loss]


def _log(treatment: Any) -> str:
    return f"log{subscript(f'x{treatment.base}')[1:]}" if isinstance(treatment, Base) else "ln"


# --- one line of why ---------------------------------------------------------------------------


@singledispatch
def why(op: Op, step: Step, problem: Problem) -> str:
    """Why the step is as simple as it is, where it takes a shortcut ("" elsewhere)."""
    return ""


@why.register
def _(op: OutputGrad, step: Step, problem: Problem) -> str:
    spec = problem.spec
    reason = {
        "softmax_ce": "the softmax's derivative and the 1/A of the logarithm cancel",
        "sigmoid_bce": "σ′ = A(1 − A) cancels the 1/(A(1 − A)) of the binary cross-entropy",
        "mse": "½(A − Y)² differentiates to A − Y, and the identity's derivative is 1",
    }[spec.loss]
    text = f"Why A − Y: {reason}, so no derivative of the output is needed"
    if spec.transcendental == "base" and spec.loss != "mse":
        log = _log(op_treatment := problem.spec.treatment())
        text += f" (with {op_treatment.base}ᶻ and {log} the factors ln {spec.base} cancel too)"
    if op.factor != 1:
        text += f"; the mean divides it by B = {spec.batch}"
    return text + "."


@why.register
def _(op: BiasGrad, step: Step, problem: Problem) -> str:
    layer = step.layer or int(step.name[2:])
    spec = problem.spec
    if layer > 1 and layer == min(spec.trainable):
        return (
            f"Backprop stops here: layer{'s' if layer > 2 else ''} "
            f"{'1' if layer == 2 else f'1 to {layer - 1}'} {'is' if layer == 2 else 'are'} "
            f"frozen, so no dA{subscript(f'x{layer - 1}')[1:]} is needed: nothing below "
            f"would use it."
        )
    return ""


@why.register
def _(op: InputGrad, step: Step, problem: Problem) -> str:
    w = resolve(step.inputs[0])
    layer = int(w[1:])
    if layer in problem.spec.frozen:
        return (
            f"Layer {layer} is frozen (no dW{subscript(f'x{layer}')[1:]} or "
            f"db{subscript(f'x{layer}')[1:]}), but the gradient still passes through it to the "
            f"layers below, which are trained."
        )
    return ""


# --- the substituted lines ---------------------------------------------------------------------


@singledispatch
def explain(op: Op, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    """The substituted lines for entry ``i, j`` of ``step`` (an op without its own: the value)."""
    return [f"{_at(step.name, i, j)} = {cells.result(step.name, i, j)}"]


@singledispatch
def masked_entries(op: Op, step: Step, cells: _Cells) -> list[tuple[int, int]]:
    """Entries where the step masks (a ReLU's 0, a leaky ReLU's slope); none for most ops."""
    return []


def _products(pairs: Sequence[tuple[str, str]]) -> str:
    return " + ".join(f"{factor(a)}·{factor(b)}" for a, b in pairs)


@explain.register
def _(op: Affine, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    w, a, b = step.inputs
    k_range = range(len(cells(w)[0]))
    symbols = " + ".join(f"{_at(w, i, k)}·{_at(a, k, j)}" for k in k_range) + f" + {_at(b, i, 0)}"
    numbers = _products([(cells.at(w, i, k), cells.at(a, k, j)) for k in k_range])
    return [
        f"{_at(step.name, i, j)} = {symbols}",
        f"{_at(step.name, i, j)} = {numbers} + {term(cells.at(b, i, 0))} = "
        f"{cells.result(step.name, i, j)}",
    ]


@explain.register
def _(op: Activate, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    (z,) = step.inputs
    rule = activation_rule(op.activation, cells.at(z, i, j))
    value = cells.result(step.name, i, j)
    last = rule.split(" = ")[-1]
    shown = f"{rule} = {value}"
    if rule == value:
        shown = value
    elif value.startswith(last):  # 1/(1 + e⁵) ≈ 0.006693 after σ(−5) = 1/(1 + e⁵)
        shown = rule + value[len(last) :]
    if op.tabulated:
        return [f"{_at(step.name, i, j)} = {shown}: the table's value for z = {cells.at(z, i, j)}"]
    return [f"{_at(step.name, i, j)} = {shown}"]


@masked_entries.register
def _(op: Activate, step: Step, cells: _Cells) -> list[tuple[int, int]]:
    return _nonpositive(op.activation, cells, resolve(step.inputs[0]))


def _nonpositive(activation: Activation, cells: _Cells, z: str) -> list[tuple[int, int]]:
    if not isinstance(activation, ReLU | LeakyReLU):
        return []
    rows = cells.problem.value(z).to_list()
    return [(i, j) for i, row in enumerate(rows) for j, x in enumerate(row) if not x > 0]


@singledispatch
def activation_rule(activation: Activation, z: str) -> str:
    """``f(z)`` written out with the number ``z`` in it."""
    return f"{activation.name}({z})"


@activation_rule.register
def _(activation: ReLU, z: str) -> str:
    return f"max(0, {z})"


@activation_rule.register
def _(activation: LeakyReLU, z: str) -> str:
    return z if _positive(z) else f"{factor(number(_fraction(activation.slope)))}·{factor(z)}"


def _fraction(q: Any) -> str:
    return f"{q.numerator}/{q.denominator}" if q.denominator != 1 else str(q.numerator)


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
    if not re.fullmatch(f"{MINUS}?\\d+(?:[./]\\d+)?", text):
        return f"{MINUS}({text})"
    return text[1:] if text.startswith(MINUS) else MINUS + text


@explain.register
def _(op: Softmax, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    (z,) = step.inputs
    column = [cells.at(z, r, j) for r in range(len(cells(z)))]
    total = " + ".join(_power(op.treatment, t) for t in column)
    value = cells.result(step.name, i, j)
    line = f"{_at(step.name, i, j)} = {_power(op.treatment, column[i])}/({total}) = {value}"
    if isinstance(op.treatment, Table):
        line += ", as the table gives it for this column of " + subscript(z)
    return [line]


@explain.register
def _(op: Loss, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    z, y = step.inputs
    a = "A" + z[1:]
    problem = cells.problem
    targets = [[to_fraction(t) for t in row] for row in problem.value(y).to_list()]
    zs = [[entry_float(x) for x in row] for row in problem.value(z).to_list()]
    base = op.treatment.base if isinstance(op.treatment, Base) else math.e
    log = _log(op.treatment)
    mean = f"(1/{len(targets[0])})·" if op.factor != 1 else ""
    result = cells(step.name)[0][0]  # as the key prints it: to its decimals
    digits = op.decimals
    rounded = f" (to {digits} decimal{'s' * (digits != 1)})" if digits is not None else ""
    if op.loss == "mse":
        diffs = [
            (
                f"({factor(cells.at(a, r, c))} − {factor(cells.at(y, r, c))})²",
                (zs[r][c] - float(t)) ** 2,
            )
            for r, row in enumerate(targets)
            for c, t in enumerate(row)
        ]
        total = op.factor * sum(v for _, v in diffs) / 2
        return [
            f"L = ½·{mean}({' + '.join(s for s, _ in diffs)})",
            "terms: " + ", ".join(f"{s} = {decimal(v)}" for s, v in diffs),
            f"L = ½·{mean}({' + '.join(decimal(v) for _, v in diffs)}) = "
            + _rounded_to(decimal(float(total)), result, rounded),
        ]
    terms: list[tuple[str, str, float]] = []  # symbol, numbers, value
    for r, row in enumerate(targets):
        for c, t in enumerate(row):
            x = zs[r][c]
            if op.loss == "softmax_ce":
                if t == 0:
                    continue
                column = [zs[k][c] for k in range(len(zs))]
                top = max(column)
                value = (x - top) - math.log(sum(base ** (v - top) for v in column), base)
                symbol, shown = f"{log} {_at(a, r, c)}", _of(log, cells.at(a, r, c))
            elif t == 1:
                value = -_softplus(-x, base)
                symbol, shown = f"{log} {_at(a, r, c)}", _of(log, cells.at(a, r, c))
            else:
                value = -_softplus(x, base)
                symbol = f"{log}(1 − {_at(a, r, c)})"
                shown = f"{log}(1 − {factor(cells.at(a, r, c))})"
            if isinstance(op.treatment, Table):  # ln of the unrounded value: not ln 0.47
                shown = symbol
            terms.append((symbol, shown, float(t) * value if op.loss == "softmax_ce" else value))
    total = -float(op.factor) * sum(v for _, _, v in terms)
    note = ""
    if isinstance(op.treatment, Table):
        note = f" (each term from {subscript(z)}, before the table's rounding)"
    return [
        f"L = −{mean}({' + '.join(s for s, _, _ in terms)})",
        "terms: " + ", ".join(f"{n} = {decimal(v)}" for _, n, v in terms) + note,
        f"L = −{mean}({' + '.join(term(decimal(v)) for _, _, v in terms)}) = "
        + _rounded_to(decimal(total), result, rounded),
    ]


def _rounded_to(value: str, result: str, rounded: str) -> str:
    return f"{result}{rounded}" if value == result else f"{value} → {result}{rounded}"


def _of(function: str, text: str) -> str:
    """``ln 0.47``, but ``ln(81/109)``: a function of anything but a plain number in brackets."""
    return f"{function} {text}" if re.fullmatch(r"\d+(?:\.\d+)?", text) else f"{function}({text})"


def _softplus(x: float, base: float) -> float:
    """log_base(1 + base^x), without overflow."""
    if x > 0:
        return x + math.log1p(base**-x) / math.log(base)
    return math.log1p(base**x) / math.log(base)


@explain.register
def _(op: OutputGrad, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    a, y = step.inputs
    difference = f"{cells.at(a, i, j)} − {factor(cells.at(y, i, j))}"
    if op.factor != 1:
        difference = f"({difference})/{op.factor.denominator}"
    return [f"{_at(step.name, i, j)} = {difference} = {cells.result(step.name, i, j)}"]


@explain.register
def _(op: WeightGrad, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    dz, a = step.inputs
    columns = range(len(cells(dz)[0]))
    symbols = " + ".join(f"{_at(dz, i, c)}·{_at(a, j, c)}" for c in columns)
    numbers = _products([(cells.at(dz, i, c), cells.at(a, j, c)) for c in columns])
    return [
        f"{_at(step.name, i, j)} = {symbols}",
        f"{_at(step.name, i, j)} = {numbers} = {cells.result(step.name, i, j)}",
    ]


@explain.register
def _(op: BiasGrad, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    (dz,) = step.inputs
    numbers = " + ".join(term(cells.at(dz, i, c)) for c in range(len(cells(dz)[i])))
    return [f"{_at(step.name, i, 0)} = {numbers} = {cells.result(step.name, i, 0)}"]


@explain.register
def _(op: InputGrad, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    w, dz = step.inputs
    rows = range(len(cells(w)))
    symbols = " + ".join(f"{_at(w, r, i)}·{_at(dz, r, j)}" for r in rows)
    numbers = _products([(cells.at(w, r, i), cells.at(dz, r, j)) for r in rows])
    return [
        f"{_at(step.name, i, j)} = {symbols}",
        f"{_at(step.name, i, j)} = {numbers} = {cells.result(step.name, i, j)}",
    ]


@explain.register
def _(op: ActivationGrad, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    da, source = step.inputs
    x = cells.at(source, i, j)
    derivative = op.activation.derivative(cells.problem.value(source)).to_list()[i][j]
    shown = decimal(entry_float(derivative)) if is_expression(derivative) else entry(derivative)
    reason = derivative_rule(op.activation, x, f"{_at(source, i, j)} = {x}")
    return [
        f"{_at(step.name, i, j)} = {_at(da, i, j)}·f′ = "
        f"{factor(cells.at(da, i, j))}·{factor(shown)} = {cells.result(step.name, i, j)}",
        f"  where f′ = {shown}: {reason}",
    ]


@masked_entries.register
def _(op: ActivationGrad, step: Step, cells: _Cells) -> list[tuple[int, int]]:
    return _nonpositive(op.activation, cells, resolve(step.inputs[1]))


@singledispatch
def derivative_rule(activation: Activation, x: str, where: str) -> str:
    """Why f′ has the value it has at ``x``; ``where`` names the entry of Z or A it is read from."""
    return f"{activation.name}′ at {where}"


def _positive(x: str) -> bool:
    return not x.startswith(MINUS) and x.strip("0./") != ""


@derivative_rule.register
def _(activation: ReLU, x: str, where: str) -> str:
    if _positive(x):
        return f"ReLU′ is 1 where {where} > 0"
    return f"masked: ReLU′ is 0 where {where} ≤ 0 (ReLU′(0) = 0)"


@derivative_rule.register
def _(activation: LeakyReLU, x: str, where: str) -> str:
    if _positive(x):
        return f"leaky ReLU′ is 1 where {where} > 0"
    return f"leaky ReLU′ is the slope where {where} ≤ 0"


@derivative_rule.register
def _(activation: Identity, x: str, where: str) -> str:
    return "the identity's derivative is 1"


@derivative_rule.register
def _(activation: Sigmoid, x: str, where: str) -> str:
    return f"σ′ = A·(1 − A) with {where}: {factor(x)}·(1 − {factor(x)})"


@derivative_rule.register
def _(activation: Tanh, x: str, where: str) -> str:
    return f"tanh′ = 1 − A² with {where}: 1 − {factor(x)}²"


@explain.register
def _(op: Update, step: Step, cells: _Cells, i: int, j: int) -> list[str]:
    p, grad, lr = step.inputs
    rate = cells(lr)[0][0]
    return [
        f"{_at(step.name, i, j)} = {_at(p, i, j)} − lr·{_at(grad, i, j)} = "
        f"{cells.at(p, i, j)} − {factor(rate)}·{factor(cells.at(grad, i, j))} = "
        f"{cells.result(step.name, i, j)}"
    ]


# --- HTML ----------------------------------------------------------------------------------------

_SUP = re.compile(r"\^\(")
_SUB = re.compile(r"(Σ|log)_(\w+)")


def typeset(text: str) -> Markup:
    """A worked line as HTML: ``e^(…)`` as a superscript, ``Σ_columns`` and ``log_3`` with a
    subscript, and the line breakable only between the terms of its top level (at ``=``, ``+``,
    ``−`` and ``,`` outside brackets): a number, a power or a bracket never breaks inside."""
    if not text:
        return Markup("")
    pieces, separators = _top_level(text)
    out = Markup("")
    for piece, separator in zip(pieces, [*separators, ""], strict=True):
        out += Markup('<span class="nb">') + _marks(piece) + Markup("</span>") + escape(separator)
    return out


_SEPARATORS = (" = ", " + ", f" {MINUS} ", ", ", " → ")


def _top_level(text: str) -> tuple[list[str], list[str]]:
    """``text`` cut at the separators that stand outside every bracket."""
    pieces, separators = [], []
    depth, start, k = 0, 0, 0
    while k < len(text):
        ch = text[k]
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(ch, 0)
        found = depth == 0 and next((s for s in _SEPARATORS if text.startswith(s, k)), None)
        if found:
            pieces.append(text[start:k])
            separators.append(found)
            k += len(found)
            start = k
            continue
        k += 1
    pieces.append(text[start:])
    return pieces, separators


def _marks(text: str) -> Markup:
    out = Markup("")
    rest = text
    while True:
        sup = _SUP.search(rest)
        sub = _SUB.search(rest)
        if sup is None and sub is None:
            return out + escape(rest)
        if sub is not None and (sup is None or sub.start() < sup.start()):
            out += escape(rest[: sub.start()]) + escape(sub.group(1))
            out += Markup("<sub>") + escape(sub.group(2)) + Markup("</sub>")
            rest = rest[sub.end() :]
            continue
        assert sup is not None
        depth, k = 1, sup.end()
        while k < len(rest) and depth:
            depth += {"(": 1, ")": -1}.get(rest[k], 0)
            k += 1
        inner = rest[sup.end() : k - 1] if depth == 0 else rest[sup.end() :]
        out += escape(rest[: sup.start()]) + Markup("<sup>") + _marks(inner) + Markup("</sup>")
        rest = rest[k:]
