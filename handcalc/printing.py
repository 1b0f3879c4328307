"""How a cell of a problem prints on paper — keys, solutions and the web alike.

The spelling is :func:`handcalc.notation.printed_entries`; what this module adds is the one fact
it needs from the problem: the decimals a cell is stated to. It sits between :mod:`handcalc.problem`
and the layout (not in :mod:`handcalc.notation`, which stays below the problem in the import order,
nor in the layout, so that the solutions and the web need no layout to spell a cell).
"""

from __future__ import annotations

from typing import Any

from .notation import printed_entries
from .problem import Problem


def printed(problem: Problem, name: str) -> list[list[str]]:
    """A cell's entries as the sheet prints them (keys, solutions and the web alike): an exact
    value as a decimal where its expansion ends within 6 places (``0.12``, ``−4.77``), else as a
    fraction (``1/55``); a value read from a table, and the loss, with the decimals they are
    stated to; an exact-mode expression as its decimal (the expressions are listed apart, see
    ``Sheet.exact``)."""
    step = problem.graph[name] if name in problem.graph.names else None
    return printed_entries(problem.value(name).to_list(), stated_decimals(problem, step))


def stated_decimals(problem: Problem, step: Any) -> int | None:
    """The decimals a cell is stated to: a table's value, the loss; None for an exact cell."""
    if step is None:
        return None
    if step.op.tabulated:
        return int(problem.spec.digits)
    decimals = step.op.decimals
    return None if decimals is None else int(decimals)
