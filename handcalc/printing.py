"""How a cell of a problem prints on paper — keys, solutions and the web alike.

The spelling is :func:`handcalc.notation.printed_entries`; what this module adds is the one fact
it needs from the problem: the decimals a cell is stated to. It sits between :mod:`handcalc.problem`
and the layout (not in :mod:`handcalc.notation`, which stays below the problem in the import order,
nor in the layout, so that the solutions and the web need no layout to spell a cell).
"""

from __future__ import annotations

from typing import Any

from .notation import printed_entries, rounded
from .problem import Problem


def printed(problem: Problem, name: str) -> list[list[str]]:
    """A cell's entries as the sheet prints them (keys, solutions and the web alike): an exact
    value as a decimal where its expansion ends within 6 places (``0.12``, ``−4.77``), else as a
    fraction (``1/55``); a value read from a table, and the loss, with the decimals they are
    stated to; an exact-mode expression as its decimal (the expressions are listed apart, see
    ``Sheet.exact``)."""
    step = problem.graph[name] if name in problem.graph.names else None
    values = problem.value(name).to_list()
    return _shortened(problem, values, printed_entries(values, stated_decimals(problem, step)))


def _shortened(problem: Problem, values: list[list[Any]], rows: list[list[str]]) -> list[list[str]]:
    return [
        [shortened(problem, x, text) for x, text in zip(raw, row, strict=True)]
        for raw, row in zip(values, rows, strict=True)
    ]


def shortened(problem: Problem, value: Any, text: str) -> str:
    """An exact entry ``value`` printed as ``text``, or, where that is a fraction longer than
    ``max_chars`` — only an authored problem has one (a 9-decimal walkthrough's 36-digit
    fractions): a generated one meets ``max_chars`` — its decimal to the problem's ``digits`` (at
    least 4), marked ≈, as a published walkthrough prints it. The exchange format keeps the exact
    value."""
    spec = problem.spec
    most = getattr(spec, "max_chars", None)
    if most is None or len(text) <= most or "/" not in text:
        return text
    return f"≈{rounded(value, max(int(getattr(spec, 'digits', 4)), 4))}"


def stated_decimals(problem: Problem, step: Any) -> int | None:
    """The decimals a cell is stated to: a table's value, the loss; None for an exact cell."""
    if step is None:
        return None
    if step.op.tabulated:
        return int(problem.spec.digits)
    decimals = step.op.decimals
    return None if decimals is None else int(decimals)
