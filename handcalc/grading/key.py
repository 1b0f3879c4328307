"""The answer key as grading reads it, made on a problem's first grading and kept while the
problem lives (the web service keeps its problems; a problem graded once leaves nothing behind).

This is the one module of the grader that caches: the key's numbers, its texts as printed, read
once (a student who types a key entry as printed is not parsed again), the grades of those texts,
and the mistakes made on the key's values. Every cache is a function of the problem alone, so a
report is the same whether it comes from them or from a fresh problem.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from fractions import Fraction
from functools import cached_property
from typing import Any

from ..answers import CellAnswer, KnownCell, read_cell
from ..graph import Step, resolve
from ..matrix import Mat
from ..problem import Problem
from .diagnose import Variant, candidates
from .expected import Expected, approximate_cells, numbers, same
from .report import CellGrade, cell_status, score

#: a few tolerances and weights a problem is graded with, not every one ever asked
_PER_CELL = 16


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    """``memo[key] = value``, the oldest entry dropped past a few (a service grades a problem with
    one tolerance and weight; an attacker varying them must not grow it)."""
    if len(memo) >= _PER_CELL:
        del memo[next(iter(memo))]
    memo[key] = value


class KeyCell:
    """One graded cell: its step, the key's value, what its entries must be, and what the grader
    reads of the key once."""

    def __init__(
        self,
        step: Step,
        values: Mapping[str, Mat],
        approximate: bool,
        problem: weakref.ref[Problem],
    ) -> None:
        self.step = step
        self.name = step.name
        self.key = values[step.name]
        #: typed from a calculator (exact mode): entries are read as expressions too
        self.approximate = approximate
        self.expected = Expected.of(step, self.key, approximate)
        self._values = values
        #: weak: the answer key lives in a WeakKeyDictionary keyed by the problem
        self._problem = problem
        self._read_before = False
        #: the key's texts as printed, compared and graded per tolerance (and weight); plain
        #: dicts, not lru_caches of bound methods (which weigh a kilobyte a cell and a cycle)
        self._statuses_by: dict[float, tuple[tuple[str, ...], ...]] = {}
        self._grades_by: dict[tuple[float, float], CellGrade | None] = {}

    # --- reading -----------------------------------------------------------------------------

    @cached_property
    def printed(self) -> KnownCell:
        """The key's texts as printed, and what reading them gives, whatever that is."""
        problem = self._problem()
        assert problem is not None  # it is being graded
        texts = tuple(tuple(t.strip() for t in row) for row in problem.text(self.name))
        rows = [list(row) for row in texts]
        answer = read_cell(self.name, rows, self.key.shape, irrational=self.approximate)
        return KnownCell(texts, answer)

    def read(self, raw: Any) -> CellAnswer:
        """The student's cell, as ``read_cell`` reads it (the key's texts as printed are known)."""
        if not self._read_before:
            # the key's texts pay off from the second submission on (an irrational one is
            # printed by sympy, milliseconds a cell): a problem graded once never makes them
            self._read_before = True
            return read_cell(self.name, raw, self.key.shape, irrational=self.approximate)
        printed = self.printed
        if printed.usable and raw == printed.rows:  # read_cell's own first test, without the call
            return printed.answer
        return read_cell(self.name, raw, self.key.shape, irrational=self.approximate, known=printed)

    def is_printed(self, answer: CellAnswer) -> bool:
        """Whether ``answer`` is the key's texts as printed (read once: the very same object)."""
        printed = self.__dict__.get("printed")  # made by a read, never by this question
        return printed is not None and answer is printed.answer

    # --- comparing -----------------------------------------------------------------------------

    def statuses(self, answer: CellAnswer, tolerance: float) -> list[list[str]]:
        """Each entry against the key (the key's texts as printed are compared once)."""
        if self.is_printed(answer):
            return [list(r) for r in self._printed_statuses(tolerance)]
        return self.expected.statuses(answer, tolerance)

    def _printed_statuses(self, tolerance: float) -> tuple[tuple[str, ...], ...]:
        found = self._statuses_by.get(tolerance)
        if found is None:
            statuses = self.expected.statuses(self.printed.answer, tolerance)
            found = tuple(tuple(r) for r in statuses)
            _remember(self._statuses_by, tolerance, found)
        return found

    def correct(self, answer: CellAnswer, tolerance: float, weight: float) -> CellGrade | None:
        """The grade of the key's texts as printed when every entry of them is correct (then
        nothing is carried or diagnosed); else None."""
        if not self.is_printed(answer):
            return None
        if (tolerance, weight) not in self._grades_by:
            _remember(self._grades_by, (tolerance, weight), self._grade_printed(tolerance, weight))
        return self._grades_by[(tolerance, weight)]

    def _grade_printed(self, tolerance: float, weight: float) -> CellGrade | None:
        statuses = self._printed_statuses(tolerance)
        if cell_status(self.printed.answer, [list(r) for r in statuses]) != "correct":
            return None
        flat = [s for row in statuses for s in row]
        return CellGrade(
            self.name, "correct", statuses, score(flat, weight, Fraction(1)), weight, "Correct."
        )

    def same(self, answer: CellAnswer) -> bool:
        """Whether the student's readable cell is the key, value for value."""
        assert answer.value is not None
        if self.is_printed(answer):
            return self._printed_is_key
        return self.same_value(answer.value)

    @cached_property
    def _printed_is_key(self) -> bool:
        value = self.printed.answer.value
        assert value is not None
        return same(value, self.key)

    def same_value(self, value: Mat) -> bool:
        """``same(value, key)``, with the key's numbers made once."""
        key = self.key
        if value is key:
            return True
        if value.shape != key.shape:
            return False
        if value.domain == key.domain:
            return bool(value == key)
        return numbers(value) == self._key_numbers

    @cached_property
    def _key_numbers(self) -> list[list[Any]]:
        return numbers(self.key)

    # --- mistakes ------------------------------------------------------------------------------

    @cached_property
    def mistakes(self) -> list[Variant]:
        """The step re-run under each common mistake on the key's values (the same on every
        submission)."""
        return candidates(self.step, self._values)


class AnswerKey:
    """What grading a problem needs that no submission changes."""

    def __init__(self, problem: Problem) -> None:
        values = problem.values
        self.values = values
        # every step is worked, a value read from a lookup table too (it is found by its Z)
        self.graded = problem.steps
        self.names = tuple(s.name for s in self.graded)
        self.ignored = problem.graph.given
        self.approximate = approximate_cells(self.graded, values)
        ref = weakref.ref(problem)
        self.cells = {
            s.name: KeyCell(s, values, s.name in self.approximate, ref) for s in self.graded
        }
        #: each step's inputs, by their cells' names (A0 is X), each once
        self.inputs = {
            s.name: tuple(dict.fromkeys(resolve(n) for n in s.inputs)) for s in self.graded
        }
        self._order = {name: i for i, name in enumerate(problem.graph.names)}
        #: every cell name an answers document may have (``check_names`` refuses the others)
        self.known = frozenset((*self.names, *self.ignored, "A0"))

    def position(self, name: str) -> int:
        """Where a step comes in the order a student works them (-1 for a given cell)."""
        return self._order.get(name, -1)


_KEYS: weakref.WeakKeyDictionary[Problem, AnswerKey] = weakref.WeakKeyDictionary()
_KEYS_LOCK = threading.Lock()


def answer_key(problem: Problem) -> AnswerKey:
    """The problem's answer key for grading: made once, kept while the problem lives."""
    found = _KEYS.get(problem)
    if found is None:
        found = AnswerKey(problem)
        with _KEYS_LOCK:
            found = _KEYS.setdefault(problem, found)
    return found
