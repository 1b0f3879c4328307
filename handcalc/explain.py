"""Worked solutions: each step's formula, the numbers substituted for a telling entry, the result.

This is the driver: each op explains itself (``op.heading``, ``op.explain``, ``op.why``,
``op.masked_entries``, in :mod:`handcalc.ops`), so a new op brings its explanation with it and one
without cannot be built. Numbers are spelled exactly as the sheet prints them
(``printing.printed``), so the solutions and the key agree; in ``exact`` mode an operand is its
exact expression, and a result its expression and a decimal of at least 4 significant digits.

The entry worked is a representative one: the one whose substitution has the most non-zero
operands (not ``−2 − 0.1·0``); where a step masks (ReLU, leaky ReLU) a masked entry is worked too.
Lines are plain text; :func:`typeset` makes them HTML with sums, logarithms and powers set as sub-
and superscripts and every expression kept on one line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from .graph import PHASES, Step, resolve
from .matrix import entry_float
from .notation import MINUS, expression, is_expression
from .ops.words import decimal, factor, term
from .printing import printed
from .problem import Problem

__all__ = ["PHASES", "Worked", "decimal", "factor", "term", "typeset", "worked_solutions"]


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
    """The printed entries of a problem's cells, read on demand (``A0`` is ``X``): what an op's
    explanation reads (:class:`handcalc.ops.Cells`)."""

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
                step.op.heading(step, problem),
                step.words,
                tuple(lines),
                _result(cells, step),
                step.op.why(step, problem),
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
        return step.op.explain(step, cells, 0, 0)
    masked = set(step.op.masked_entries(step, cells))
    candidates = [e for e in entries if e not in masked] or entries
    scored = [step.op.explain(step, cells, *e) for e in candidates]
    lines = max(scored, key=_work)  # the first of the most telling
    if masked:
        first = min(masked, key=lambda e: (_is_zero(cells, _first_input(step), *e), e))
        lines = lines + step.op.explain(step, cells, *first)
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


# --- HTML ----------------------------------------------------------------------------------------

_SUP = re.compile(r"\^\(")
_SUB = re.compile(r"(Σ|log)_(\w+)")


def typeset(text: str) -> Markup:
    """A worked line as HTML: ``e^(…)`` as a superscript, ``Σ_columns`` and ``log_3`` with a
    subscript, and the line breakable only between the terms of its top level (at ``=``, ``+``,
    ``−``, ``,`` and between words, outside brackets): a number, a power or a bracket never
    breaks inside."""
    if not text:
        return Markup("")
    pieces, separators = _top_level(text)
    out = Markup("")
    for piece, separator in zip(pieces, [*separators, ""], strict=True):
        marked = _marks(piece)
        if any(c in piece for c in _BREAKABLE):  # a plain word or number never breaks anyway
            marked = Markup('<span class="nb">') + marked + Markup("</span>")
        out += marked + escape(separator)
    return out


#: where a browser might break a piece that must stay whole (a bracket's spaces, a fraction)
_BREAKABLE = frozenset(" /-−·")


#: where a worked line may break, outside brackets; the plain space last (between the words of a
#: derivation: "mu[i] reaches the loss through …"), after the operators it is part of
_SEPARATORS = (" = ", " + ", f" {MINUS} ", ", ", " → ", " ")


def _top_level(text: str) -> tuple[list[str], list[str]]:
    """``text`` cut at the separators that stand outside every bracket."""
    pieces, separators = [], []
    depth, start, k = 0, 0, 0
    while k < len(text):
        ch = text[k]
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(ch, 0)
        found = depth == 0 and next((s for s in _SEPARATORS if text.startswith(s, k)), None)
        if found == " " and text[start:k].startswith("Σ"):
            found = None  # a sum stays with what it sums: "Σ_columns dZ₃"
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
