"""Credit carried forward: a wrong entry that is right given the student's own earlier cells.

The step is re-run on the student's own values (``step.run``; the key fills in what they left
blank or could not write). The guard against gaming: no credit is carried where one of the
student's inputs that differs from the key is not a real attempt (all zeros), or where those
inputs make the step trivial when the key's do not: its result all zeros, or a copy or a multiple
of one of its inputs (a given matrix copied into dW2 makes W2_new = (1 − lr)·W2; Y copied into A3
makes dZ3 = 0). The guard looks at the cells where a chain of mistakes starts (values the student
chose); cells carried from them are derived honestly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

from sympy.polys.matrices.exceptions import DMError

from ..graph import Step, resolve
from ..matrix import Mat
from .expected import Number, Numbers, numbers

if TYPE_CHECKING:
    from .key import KeyCell
    from .ledger import Ledger

#: a step that cannot be done on a student's values (a base-b power of a fraction, a shape)
CANNOT = (ValueError, ArithmeticError, DMError)


@dataclass(frozen=True)
class Carried:
    """What follows from the student's own values: the wrong entries that are right given them
    (``entries``), the inputs they follow from (``inputs``), or why no credit is carried."""

    entries: tuple[tuple[int, int], ...] = ()
    inputs: tuple[str, ...] = ()
    refused: str | None = None


NOTHING = Carried()


def carry_forward(
    cell: KeyCell, value: Mat, statuses: list[list[str]], ledger: Ledger, tolerance: float
) -> Carried:
    """The wrong entries of ``value`` (the student's readable cell) that are right given the
    student's own inputs; say why not where the guard refuses them."""
    wrong = [(i, j) for i, row in enumerate(statuses) for j, s in enumerate(row) if s == "wrong"]
    if not wrong:
        return NOTHING
    step = cell.step
    mine = ledger.own_inputs(step)
    if not mine:
        return NOTHING
    # only where a chain of mistakes starts (values the student chose, not derived): a small
    # derived matrix may vanish, or equal another, by coincidence
    chosen = ledger.chosen(mine)
    key, own = ledger.key.values, ledger.values
    for n in chosen:
        if own[n].is_zero_matrix and not key[n].is_zero_matrix:
            return Carried(
                refused=f"No credit is carried forward from your {n}: it is all zeros, which "
                f"does not count as an attempt."
            )
    try:
        result = step.run(own)
    except CANNOT:
        return NOTHING  # the step cannot be done on these values (e.g. a base-b power)
    why = trivial(step, own, result) if chosen else None
    if why:
        # trivial only because of the chosen values: with the key's in their place it is not
        instead = {**own, **{n: key[n] for n in chosen}}
        try:
            natural = trivial(step, instead, step.run(instead))
        except CANNOT:
            natural = None
        if not natural:
            verb = "makes" if len(chosen) == 1 else "make"
            return Carried(
                refused=f"No credit is carried forward: your {' and '.join(chosen)} {verb} this "
                f"step trivial ({why})."
            )
    expected = cell.expected
    right = numbers(result)
    written = numbers(value)
    carried = tuple(
        (i, j)
        for i, j in wrong
        if expected.accepts(
            written[i][j],
            right[i][j],
            tolerance,
            isinstance(expected.numbers[i][j], float) or isinstance(right[i][j], float),
        )
    )
    return Carried(carried, mine) if carried else NOTHING


def trivial(step: Step, values: Mapping[str, Mat], result: Mat) -> str | None:
    """Why a step's result takes no work: it is all zeros, or a multiple of one of its inputs
    (dW2 := W2 makes W2_new = (1 − lr)·W2; A3 := Y makes dZ3 = 0)."""
    if result.is_zero_matrix:
        return "its result is all zeros"
    if result.shape == (1, 1) or not result.domain.is_QQ:
        return None
    out = numbers(result)
    for name in dict.fromkeys(resolve(n) for n in step.inputs):
        m = values[name]
        if m.shape == result.shape and m.domain.is_QQ:
            factor = _factor(out, numbers(m))
            if factor is not None:
                return (
                    f"its result is {name}"
                    if factor == 1
                    else f"its result is {factor} times {name}"
                )
    return None


def _factor(result: Numbers, m: Numbers) -> Number | None:
    """c where ``result`` = c·``m`` entry by entry, else None."""
    pivot = next(((i, j) for i, row in enumerate(m) for j, x in enumerate(row) if x), None)
    if pivot is None:
        return None
    c = Fraction(result[pivot[0]][pivot[1]]) / Fraction(m[pivot[0]][pivot[1]])
    same = all(
        r == c * x
        for rrow, mrow in zip(result, m, strict=True)
        for r, x in zip(rrow, mrow, strict=True)
    )
    return c if same else None
