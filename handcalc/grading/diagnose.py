"""Which common mistake a wrong cell shows: the step re-run under each mistake
(``mistakes.variants``), on the student's own inputs and on the key's, compared with what the
student wrote; and whether a wrong cell is the key's exact value rounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING

from ..answers import CellAnswer
from ..graph import Step
from ..matrix import Mat
from ..mistakes import MISTAKES, RESHAPING, Mistake, variants
from .expected import Numbers, numbers

if TYPE_CHECKING:
    from .key import KeyCell
    from .ledger import Ledger


class Variant:
    """A step's result under one mistake; its numbers are made when a comparison needs them."""

    def __init__(self, mistake: Mistake, value: Mat) -> None:
        self.mistake = mistake
        self.value = value

    @cached_property
    def numbers(self) -> Numbers:
        return numbers(self.value)


def candidates(step: Step, values: Mapping[str, Mat]) -> list[Variant]:
    """The step's result under each mistake that applies, on ``values``."""
    return [Variant(mistake, value) for mistake, value in variants(step, values)]


def diagnosis(
    cell: KeyCell,
    answer: CellAnswer,
    status: str,
    statuses: list[list[str]],
    ledger: Ledger,
    tolerance: float,
) -> tuple[Mistake, ...]:
    """The mistakes a cell shows: every mistake whose result is what the student wrote, then
    ``rounded`` (or ``too_few_decimals``) where each wrong entry is the key's value cut short.

    A cell done right on the student's own inputs is no mistake: only a wrong cell, or one
    written in the wrong shape (a transposed result), is diagnosed."""
    if status != "wrong" and answer.as_written is None:
        return ()
    found = _matching(cell, answer, ledger, tolerance)
    expected = cell.expected
    if status == "wrong" and expected.typed_to_decimals and expected.rounded(answer, statuses):
        # the advice fits the cell: an exact one wants a fraction, a rounded one (the loss) its
        # printed number of decimals
        found += (MISTAKES["rounded" if expected.half_unit is None else "too_few_decimals"],)
    return found


def _matching(
    cell: KeyCell, answer: CellAnswer, ledger: Ledger, tolerance: float
) -> tuple[Mistake, ...]:
    """Mistakes whose result equals what the student wrote (on their inputs or the key's)."""
    written = answer.value if answer.value is not None else answer.as_written
    if written is None:
        return ()
    mine = numbers(written)
    expected = cell.expected
    exact = expected.half_unit is None and cell.key.domain.is_QQ
    # the key's own mistakes (the student's too, where every cell so far is the key's to the
    # last entry and domain) are the same on every submission: the answer key keeps them
    own = cell.mistakes if ledger.as_key else candidates(cell.step, ledger.values)
    sources = [own]
    if own is not cell.mistakes and not all(
        ledger.same_as_key(n) for n in ledger.key.inputs[cell.name]
    ):
        sources.append(cell.mistakes)
    found: dict[str, Mistake] = {}
    for source in sources:
        for variant in source:
            mistake, result = variant.mistake, variant.value
            if mistake.code in found or result.shape != written.shape:
                continue
            if answer.value is None and mistake.code not in RESHAPING:
                continue
            if exact and result.domain.is_QQ:
                if result == written:  # the common case, compared without conversions
                    found[mistake.code] = mistake
                continue
            if all(
                expected.accepts(s, c, tolerance, expected.tolerant_at(c, i, j))
                for i, (srow, crow) in enumerate(zip(mine, variant.numbers, strict=True))
                for j, (s, c) in enumerate(zip(srow, crow, strict=True))
            ):
                found[mistake.code] = mistake
    return tuple(found.values())
