"""The student's own values, as grading walks the steps: what each later step is re-run on.

Credit is carried forward from these values, and mistakes are looked for on them. Where a student
left a cell blank or wrote it so that it cannot be read, the key's value stands in (given cells
and tables come from the problem). The ledger also keeps where each chain of mistakes starts:
the guard against gaming looks at the values a student chose, not at those derived from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..graph import Step
from ..matrix import Mat
from .expected import same

if TYPE_CHECKING:
    from .key import AnswerKey


class Ledger:
    """One submission's own values, filled in step by step."""

    def __init__(self, key: AnswerKey) -> None:
        self.key = key
        #: the student's own values where readable; the key's (and the given cells) elsewhere
        self.values: dict[str, Mat] = dict(key.values)
        #: the student's readable cells that differ from the key: inputs that can carry credit
        self.attempts: set[str] = set()
        #: where the chain of mistakes behind a cell starts
        self.origin: dict[str, str] = {}
        #: every readable cell so far is the key's, the same numbers in the same domain (so the
        #: student's values are the key's, as far as any step can tell)
        self.as_key = True

    def remember(self, name: str, value: Mat, status: str, same_as_key: bool) -> None:
        """The student's readable cell ``name``, as their own value for the steps that use it
        (``same_as_key``: its value is the key's)."""
        self.values[name] = value
        if self.as_key and not (
            status == "correct" and same_as_key and value.domain == self.key.values[name].domain
        ):
            self.as_key = False
        # within the tolerance is not the same: a slip that hides in one cell (σ(6) for σ(5))
        # shows in the next, which then follows from the student's own value
        if status != "correct" or not same_as_key:
            self.attempts.add(name)
        if status == "wrong":
            self.origin[name] = name
        elif name in self.attempts:
            origins = [self.origin[n] for n in self.key.inputs[name] if n in self.origin]
            if origins:
                self.origin[name] = min(origins, key=self.key.position)

    def own_inputs(self, step: Step) -> tuple[str, ...]:
        """The step's inputs where the student's value differs from the key's."""
        return tuple(n for n in self.key.inputs[step.name] if n in self.attempts)

    def chosen(self, names: tuple[str, ...]) -> list[str]:
        """Of ``names``, the cells where a chain of mistakes starts: values the student chose,
        not derived from earlier ones."""
        return [n for n in names if self.origin.get(n) == n]

    def start(self, name: str) -> str | None:
        """The cell where the chain of mistakes behind ``name`` starts, if any."""
        return self.origin.get(name)

    def same_as_key(self, name: str) -> bool:
        """Whether the student's own value of a cell (the key's where none) is the key's."""
        cell = self.key.cells.get(name)
        if cell is not None:
            return cell.same_value(self.values[name])
        return same(self.values[name], self.key.values[name])
