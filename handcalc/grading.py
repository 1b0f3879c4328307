"""Grading a student's answers cell by cell, with credit carried forward and mistakes diagnosed.

``grade(problem, answers) -> Report``. Each cell a student works (every step; a value read from
a lookup table, ``A1`` in ``table`` mode, is graded against the table's value exactly) is graded
entry by entry:

- against the key: exact rational equality where the key is rational; a relative ``tolerance``
  for every entry of a cell whose key holds irrational expressions (``exact`` mode, the loss in
  ``base`` mode: the student types decimals from a calculator there), and of every cell computed
  from such a cell (its key may be rational, 1/3, but the student's decimals give 0.3333); the
  loss, written to the ``digits`` decimals the sheet states in every mode, accepts any value
  within half a unit of its last digit of the exact loss (``0.36`` and ``0.3604`` for
  0.36043…);
- then, where an entry is wrong, against the step re-run on the student's *own* earlier cells (the
  key fills in cells the student left blank or could not write; given cells and tables come from
  the problem). An entry right given the student's own inputs is ``carried`` and earns
  ``carried_credit`` (full credit by default). The guard against gaming: no credit is carried where
  one of the student's inputs that differs from the key is not a real attempt (all zeros), or where
  those inputs make the step trivial when the key's do not: its result all zeros, or a copy or a
  multiple of one of its inputs (a given matrix copied into dW2 makes W2_new = (1 − lr)·W2; Y
  copied into A3 makes dZ3 = 0). The feedback says so. The guard looks at the cells where a chain
  of mistakes starts (values the student chose); cells carried from them are derived honestly.
- A wrong cell is compared with the step re-run under each common mistake (``mistakes.py``); every
  match is named in ``diagnosis`` and explained in the feedback.

Entry statuses: ``correct``, ``carried``, ``wrong``, ``missing`` (blank), ``invalid`` (does not
parse). A cell's status, in this order:

- ``missing``: nothing written (absent, or every entry blank); no score;
- ``invalid``: the cell cannot be read as a whole (a wrong shape, an entry that does not parse,
  some entries blank); it is not graded as wrong: readable entries of the right shape still earn
  their credit against the key, and the message says what is accepted;
- ``correct``: every entry correct;
- ``carried``: every entry correct or carried, at least one carried;
- ``wrong``: anything else (at least one entry wrong).

A cell's score is its weight (1 unless ``weights`` says otherwise) times the mean credit of its
entries. ``first_error`` is the first ``wrong`` cell in step order: where the chain of mistakes
starts. Feedback never shows the key's values.

``Report.to_dict()`` (``handcalc grade`` prints it)::

    {"format": "handcalc/report@1", "score": 21.5, "max_score": 23.0, "first_error": "dZ3",
     "tolerance": 0.01, "carried_credit": 1.0, "notes": [],
     "cells": {"Z1": {"status": "correct", "score": 1.0, "max_score": 1.0,
                      "entries": [["correct", "correct"], …], "feedback": "Correct.",
                      "diagnosis": [], "carried_from": []},
               "dZ3": {"status": "wrong", …, "diagnosis": ["sign_flipped"]},
               "dW3": {"status": "carried", …, "carried_from": ["dZ3"]}, …}}

``cells`` lists the graded cells in step order; ``notes`` says which submitted cells were ignored
(given on the sheet).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy
from sympy.polys.matrices.exceptions import DMError

from .answers import CellAnswer, KnownCell, approximate, check_names, load_answers, read_cell
from .errors import HandcalcError
from .graph import Step, resolve
from .matrix import Mat, entry_float, to_fraction
from .mistakes import MISTAKES, RESHAPING, Mistake, variants
from .ops import Op
from .problem import Problem, dumps
from .transcendental import Exact

DEFAULT_TOLERANCE = 1e-2
#: a step that cannot be done on a student's values (a base-b power of a fraction, a shape)
_CANNOT = (ValueError, ArithmeticError, DMError)
REPORT_FORMAT = "handcalc/report@1"
STATUSES = ("correct", "carried", "wrong", "missing", "invalid")

#: an exact entry is a Fraction; an irrational one (exact mode, a logarithm) is its float
Number = Fraction | float


@dataclass(frozen=True)
class CellGrade:
    """The grade of one cell: its status, each entry's status, score, feedback and diagnosis."""

    name: str
    status: str
    entries: tuple[tuple[str, ...], ...]
    score: float
    max_score: float
    feedback: str
    diagnosis: tuple[str, ...] = ()
    #: the student's earlier cells a carried entry follows from
    carried_from: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "score": _round(self.score),
            "max_score": _round(self.max_score),
            "entries": [list(r) for r in self.entries],
            "feedback": self.feedback,
            "diagnosis": list(self.diagnosis),
            "carried_from": list(self.carried_from),
        }


@dataclass(frozen=True)
class Report:
    """A graded submission. ``report["dZ2"]`` is a cell's grade; ``to_dict()`` is the JSON."""

    score: float
    max_score: float
    first_error: str | None
    tolerance: float
    carried_credit: float
    cells: tuple[CellGrade, ...]
    notes: tuple[str, ...] = field(default=())

    def __getitem__(self, name: str) -> CellGrade:
        for cell in self.cells:
            if cell.name == name:
                return cell
        raise KeyError(f"no graded cell {name!r}; cells: {', '.join(c.name for c in self.cells)}")

    @property
    def statuses(self) -> dict[str, str]:
        return {c.name: c.status for c in self.cells}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "score": _round(self.score),
            "max_score": _round(self.max_score),
            "first_error": self.first_error,
            "tolerance": self.tolerance,
            "carried_credit": self.carried_credit,
            "cells": {c.name: c.to_dict() for c in self.cells},
            "notes": list(self.notes),
        }

    def to_json(self) -> str:
        """The report as JSON text, one matrix of entry statuses per line."""
        return dumps(self.to_dict())


def grade(
    problem: Problem | Mapping[str, Any] | str | bytes,
    answers: Mapping[str, Any] | str | bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    carried_credit: float = 1.0,
    weights: Mapping[str, float] | None = None,
) -> Report:
    """Grade ``answers`` (``{"cells": {"Z1": [["2", "1"], …]}}``, parsed or JSON) on ``problem``.

    ``tolerance`` is relative, for irrational key entries; ``carried_credit`` (0 to 1) is what an
    entry carried forward earns; ``weights`` maps cell names to their weight (default 1 each).

    >>> from handcalc import generate
    >>> p = generate(seed=7, sizes=[2, 2, 2])
    >>> key = {"cells": {s.name: p.text(s.name) for s in p.steps}}
    >>> grade(p, key).score == grade(p, key).max_score
    True
    """
    if not isinstance(problem, Problem):
        problem = Problem.from_json(problem)
    _check_options(tolerance, carried_credit)
    raw = load_answers(answers)
    sheet = _sheet(problem)
    graded = sheet.graded
    if not raw.keys() <= sheet.known:
        check_names(raw, sheet.names, sheet.ignored)  # names the first unknown cell
    cell_weights = _weights(weights, sheet.names)
    notes = [
        f"{name}: given on the sheet, not graded"
        for name in raw
        if name not in cell_weights and raw[name] not in (None, "", [])
    ]
    grader = _Grader(problem, tolerance, Fraction(carried_credit), sheet)
    cells = [
        grader.grade_step(step, raw.get(step.name), cell_weights[step.name]) for step in graded
    ]
    first_error = next((c.name for c in cells if c.status == "wrong"), None)
    return Report(
        score=sum(c.score for c in cells),
        max_score=sum(c.max_score for c in cells),
        first_error=first_error,
        tolerance=tolerance,
        carried_credit=float(carried_credit),
        cells=tuple(cells),
        notes=tuple(notes),
    )


# --- what a problem's grading needs, made once ---------------------------------------------------


class _KeyCell:
    """One graded cell of a problem: its key as numbers, how it is compared, and the key's own
    printed texts read once (a student who writes a key entry as printed is not parsed again)."""

    def __init__(
        self, step: Step, key: Mat, approximate: bool, problem: weakref.ref[Problem]
    ) -> None:
        self.step = step
        #: weak: the sheet lives in a WeakKeyDictionary keyed by the problem
        self._problem = problem
        self.key = key
        self.approximate = approximate
        expected = _numbers(key)
        if approximate:  # floats are compared with the tolerance, here and in carried credit
            expected = [[float(x) for x in row] for row in expected]
        #: read-only: the grader never changes it
        self.expected: list[list[Number]] = expected
        self.half_unit = _half_unit(step, key)
        self._known: KnownCell | None = None
        self._read_once = False
        self._same: bool | None = None
        self._statuses: dict[float, tuple[tuple[str, ...], ...]] = {}
        self._grades: dict[tuple[float, float], CellGrade] = {}
        self._variants: list[tuple[Mistake, Mat]] | None = None
        self._key_numbers: list[list[Number]] | None = None
        self._variant_numbers: dict[int, list[list[Number]]] = {}

    @property
    def known(self) -> KnownCell:
        """The key's texts as the grader reads them, whatever that makes of them."""
        if self._known is None:
            problem = self._problem()
            assert problem is not None  # it is being graded
            texts = tuple(tuple(t.strip() for t in row) for row in problem.text(self.step.name))
            rows = [list(row) for row in texts]
            answer = read_cell(self.step.name, rows, self.key.shape, irrational=self.approximate)
            self._known = KnownCell(texts, answer)
        return self._known

    def read(self, raw: Any) -> CellAnswer:
        if self._known is None and not self._read_once:
            # the key's texts pay off from the second submission on (an irrational one is
            # printed by sympy, milliseconds a cell): a problem graded once never makes them
            self._read_once = True
            return read_cell(self.step.name, raw, self.key.shape, irrational=self.approximate)
        known = self.known
        if known.usable and raw == known.rows:  # read_cell's own first test, without the call
            return known.answer
        return read_cell(
            self.step.name, raw, self.key.shape, irrational=self.approximate, known=known
        )

    def statuses(self, answer: CellAnswer, tolerance: float) -> list[list[str]]:
        """Each entry against the key (the key's own texts, as printed, are compared once per
        tolerance)."""
        if not answer.entries:
            return []  # a wrongly shaped cell has no entries to line up with the key's
        if self._is_key_text(answer):
            found = self._statuses.get(tolerance)
            if found is None:
                found = tuple(tuple(r) for r in self._compare(answer, tolerance))
                if len(self._statuses) < 16:  # a few tolerances a problem, not every one asked
                    self._statuses[tolerance] = found
            return [list(r) for r in found]
        return self._compare(answer, tolerance)

    def _is_key_text(self, answer: CellAnswer) -> bool:
        return self._known is not None and answer is self._known.answer

    def _compare(self, answer: CellAnswer, tolerance: float) -> list[list[str]]:
        half_unit = self.half_unit
        return [
            [_status(e, x, half_unit, tolerance) for e, x in zip(row, xrow, strict=True)]
            for row, xrow in zip(answer.entries, self.expected, strict=True)
        ]

    def correct(self, answer: CellAnswer, tolerance: float, weight: float) -> CellGrade | None:
        """The grade of the key's own texts when every entry of them is correct (then nothing
        is carried or diagnosed); else None."""
        if not self._is_key_text(answer):
            return None
        found = self._grades.get((tolerance, weight))
        if found is None:
            statuses = self.statuses(answer, tolerance)
            if _cell_status(answer, statuses) != "correct":
                return None
            flat = [s for row in statuses for s in row]
            found = CellGrade(
                self.step.name,
                "correct",
                tuple(tuple(r) for r in statuses),
                _score(flat, weight, Fraction(1)),
                weight,
                "Correct.",
            )
            if len(self._grades) < 16:
                self._grades[(tolerance, weight)] = found
        return found

    def variants(self, key: Mapping[str, Mat]) -> list[tuple[Mistake, Mat]]:
        """``mistakes.variants`` of this step on the key's values (``key``), computed once."""
        if self._variants is None:
            self._variants = variants(self.step, key)
        return self._variants

    def variant_numbers(self, result: Mat) -> list[list[Number]]:
        """``_numbers`` of one of ``variants``' matrices, made once (by identity: the cell
        keeps them)."""
        found = self._variant_numbers.get(id(result))
        if found is None:
            assert self._variants is not None and any(v is result for _, v in self._variants)
            found = self._variant_numbers[id(result)] = _numbers(result)
        return found

    def same(self, answer: CellAnswer) -> bool:
        """Whether the student's readable cell is the key, value for value."""
        assert answer.value is not None
        if self._is_key_text(answer):
            if self._same is None:
                self._same = _same(answer.value, self.key)
            return self._same
        return self.same_value(answer.value)

    def same_value(self, value: Mat) -> bool:
        """``_same(value, key)``, with the key's numbers made once."""
        key = self.key
        if value is key:
            return True
        if value.shape != key.shape:
            return False
        if value.domain == key.domain:
            return bool(value == key)
        if self._key_numbers is None:
            self._key_numbers = _numbers(key)
        return _numbers(value) == self._key_numbers


class _Sheet:
    """What grading a problem needs that no submission changes: made on the problem's first
    grading and kept while the problem lives (the service keeps its problems)."""

    def __init__(self, problem: Problem) -> None:
        key = problem.values
        # every step is worked, a value read from a lookup table too (it is found by its Z)
        self.graded = problem.steps
        self.names = tuple(s.name for s in self.graded)
        self.ignored = problem.graph.given
        #: cells a student works from decimals: an irrational key, or an input that is one (in
        #: exact mode even a rational entry downstream, such as 1/3, is typed as 0.3333)
        self.approximate: set[str] = set()
        for step in problem.steps:
            inputs = (resolve(n) for n in step.inputs)
            if (
                not key[step.name].domain.is_QQ
                or _transcendental(step.op)
                or any(n in self.approximate for n in inputs)
            ):
                self.approximate.add(step.name)
        self.cells = {
            s.name: _KeyCell(s, key[s.name], s.name in self.approximate, weakref.ref(problem))
            for s in self.graded
        }
        self.inputs = {
            s.name: tuple(dict.fromkeys(resolve(n) for n in s.inputs)) for s in self.graded
        }
        self.order = {name: i for i, name in enumerate(problem.graph.names)}
        #: every cell name an answers document may have (``check_names`` refuses the others)
        self.known = frozenset((*self.names, *self.ignored, "A0"))


_SHEETS: weakref.WeakKeyDictionary[Problem, _Sheet] = weakref.WeakKeyDictionary()
_SHEETS_LOCK = threading.Lock()


def _sheet(problem: Problem) -> _Sheet:
    found = _SHEETS.get(problem)
    if found is None:
        found = _Sheet(problem)
        with _SHEETS_LOCK:
            found = _SHEETS.setdefault(problem, found)
    return found


# --- the grader --------------------------------------------------------------------------------


class _Grader:
    """Walks the steps in order, keeping the student's own values for credit carried forward."""

    def __init__(
        self,
        problem: Problem,
        tolerance: float,
        carried_credit: Fraction,
        sheet: _Sheet | None = None,
    ) -> None:
        self.problem = problem
        self.sheet = sheet = sheet or _sheet(problem)
        self.tolerance = tolerance
        self.carried_credit = carried_credit
        self.key = problem.values
        #: the student's own values where readable; the key's (and the given cells) elsewhere
        self.own: dict[str, Mat] = dict(problem.values)
        #: the student's readable cells that differ from the key: inputs that can carry credit
        self.attempts: set[str] = set()
        #: where the chain of mistakes behind a cell starts
        self.origin: dict[str, str] = {}
        self.approximate = sheet.approximate
        #: every readable cell so far is the key's, the same numbers in the same domain (so the
        #: student's values are the key's, as far as any step can tell)
        self.as_key = True

    def grade_step(self, step: Step, raw: Any, weight: float) -> CellGrade:
        name = step.name
        cell = self.sheet.cells[name]
        answer = cell.read(raw)
        done = cell.correct(answer, self.tolerance, weight)
        if done is not None:  # the key as printed, every entry correct: nothing to carry or find
            assert answer.value is not None
            self._remember(step, answer.value, "correct", cell.same(answer))
            return done
        if answer.blank:
            blank = tuple(tuple("missing" for _ in row) for row in answer.entries)
            return CellGrade(name, "missing", blank, 0.0, weight, "No answer.")
        expected = cell.expected
        half_unit = cell.half_unit
        statuses = cell.statuses(answer, self.tolerance)
        messages: list[str] = []
        carried_from: tuple[str, ...] = ()
        wrong = [
            (i, j) for i, row in enumerate(statuses) for j, s in enumerate(row) if s == "wrong"
        ]
        if wrong and answer.value is not None:
            carried_from, guard = self._carry(
                step, answer.value, expected, statuses, wrong, half_unit
            )
            messages += guard
        status = _cell_status(answer, statuses)
        diagnosis: tuple[Mistake, ...] = ()
        if status == "wrong" or answer.as_written is not None:
            # a cell done right on the student's own inputs is no mistake, so carried cells skip
            diagnosis = self._diagnose(step, answer, expected, half_unit)
            # (a cell typed from a calculator, exact mode, is never "rounded": it is decimals)
            typed_to_decimals = half_unit is not None or not cell.approximate
            if status == "wrong" and typed_to_decimals and _rounded(answer, expected, statuses):
                # the advice fits the cell: an exact one wants a fraction, a rounded one (the
                # loss) its printed number of decimals
                diagnosis += (MISTAKES["rounded" if half_unit is None else "too_few_decimals"],)
        if answer.value is not None:  # (an unreadable cell is invalid, never wrong)
            self._remember(step, answer.value, status, cell.same(answer))
        flat = [s for row in statuses for s in row]
        score = _score(flat, weight, self.carried_credit)
        feedback = self._feedback(name, status, answer, statuses, carried_from, diagnosis, messages)
        return CellGrade(
            name,
            status,
            tuple(tuple(r) for r in statuses),
            score,
            weight,
            feedback,
            tuple(m.code for m in diagnosis),
            carried_from,
        )

    def _remember(self, step: Step, value: Mat, status: str, same: bool) -> None:
        """The student's readable cell, as their own value for the steps that use it."""
        name = step.name
        self.own[name] = value
        if self.as_key and not (
            status == "correct" and same and value.domain == self.key[name].domain
        ):
            self.as_key = False
        # within the tolerance is not the same: a slip that hides in one cell (σ(6) for σ(5))
        # shows in the next, which then follows from the student's own value
        if status != "correct" or not same:
            self.attempts.add(name)
        if status == "wrong":
            self.origin[name] = name
        elif name in self.attempts:
            origins = [self.origin[n] for n in self._inputs(step) if n in self.origin]
            if origins:
                self.origin[name] = min(origins, key=self._order)

    # --- credit carried forward ------------------------------------------------------------

    def _carry(
        self,
        step: Step,
        value: Mat,
        expected: list[list[Number]],
        statuses: list[list[str]],
        wrong: list[tuple[int, int]],
        half_unit: Fraction | None,
    ) -> tuple[tuple[str, ...], list[str]]:
        """Mark wrong entries that are right given the student's own inputs; say why not if not."""
        mine = tuple(n for n in self._inputs(step) if n in self.attempts)
        if not mine:
            return (), []
        # only where a chain of mistakes starts (values the student chose, not derived): a small
        # derived matrix may vanish, or equal another, by coincidence
        chosen = [n for n in mine if self.origin.get(n) == n]
        for n in chosen:
            if self.own[n].is_zero_matrix and not self.key[n].is_zero_matrix:
                return (), [
                    f"No credit is carried forward from your {n}: it is all zeros, which does "
                    f"not count as an attempt."
                ]
        try:
            result = step.run(self.own)
        except _CANNOT:
            return (), []  # the step cannot be done on these values (e.g. a base-b power)
        why = self._trivial(step, self.own, result) if chosen else None
        if why:
            # trivial only because of the chosen values: with the key's in their place it is not
            instead = {**self.own, **{n: self.key[n] for n in chosen}}
            try:
                natural = self._trivial(step, instead, step.run(instead))
            except _CANNOT:
                natural = None
            if not natural:
                verb = "makes" if len(chosen) == 1 else "make"
                return (), [
                    f"No credit is carried forward: your {' and '.join(chosen)} {verb} this "
                    f"step trivial ({why})."
                ]
        own = _numbers(result)
        carried = False
        written = _numbers(value)
        for i, j in wrong:
            tolerant = isinstance(expected[i][j], float) or isinstance(own[i][j], float)
            if _matches(written[i][j], own[i][j], half_unit, self.tolerance, tolerant):
                statuses[i][j] = "carried"
                carried = True
        return (mine if carried else ()), []

    @staticmethod
    def _trivial(step: Step, values: Mapping[str, Mat], result: Mat) -> str | None:
        """Why a step's result takes no work: it is all zeros, or a multiple of one of its inputs
        (dW2 := W2 makes W2_new = (1 − lr)·W2; A3 := Y makes dZ3 = 0)."""
        if result.is_zero_matrix:
            return "its result is all zeros"
        if result.shape == (1, 1) or not result.domain.is_QQ:
            return None
        out = _numbers(result)
        for name in dict.fromkeys(resolve(n) for n in step.inputs):
            m = values[name]
            if m.shape == result.shape and m.domain.is_QQ:
                factor = _factor(out, _numbers(m))
                if factor is not None:
                    return (
                        f"its result is {name}"
                        if factor == 1
                        else f"its result is {factor} times {name}"
                    )
        return None

    def _same_as_key(self, name: str) -> bool:
        """Whether the student's own value of a cell (the key's where none) is the key's."""
        cell = self.sheet.cells.get(name)
        if cell is not None:
            return cell.same_value(self.own[name])
        return _same(self.own[name], self.key[name])

    def _inputs(self, step: Step) -> tuple[str, ...]:
        found = self.sheet.inputs.get(step.name)
        return found if found is not None else tuple(dict.fromkeys(resolve(n) for n in step.inputs))

    def _order(self, name: str) -> int:
        return self.sheet.order.get(name, -1)

    # --- diagnosis -------------------------------------------------------------------------

    def _diagnose(
        self,
        step: Step,
        answer: CellAnswer,
        expected: list[list[Number]],
        half_unit: Fraction | None,
    ) -> tuple[Mistake, ...]:
        """Mistakes whose result equals what the student wrote (on their inputs or the key's)."""
        written = answer.value if answer.value is not None else answer.as_written
        if written is None:
            return ()
        mine = _numbers(written)
        exact = half_unit is None and self.key[step.name].domain.is_QQ
        found: dict[str, Mistake] = {}
        sources = (
            [self.own]
            if all(self._same_as_key(n) for n in self._inputs(step))
            else [self.own, self.key]
        )
        cell = self.sheet.cells[step.name]
        for values in sources:
            # the key's own values (or the student's, where every cell so far is the key's to
            # the last entry and domain) give the same variants on every submission
            same = values is self.key or (values is self.own and self.as_key)
            for mistake, result in cell.variants(self.key) if same else variants(step, values):
                if mistake.code in found or result.shape != written.shape:
                    continue
                if answer.value is None and mistake.code not in RESHAPING:
                    continue
                if exact and result.domain.is_QQ:
                    if result == written:  # the common case, compared without conversions
                        found[mistake.code] = mistake
                    continue
                candidate = cell.variant_numbers(result) if same else _numbers(result)
                if all(
                    _matches(s, c, half_unit, self.tolerance, _irrational(c, expected, i, j))
                    for i, (srow, crow) in enumerate(zip(mine, candidate, strict=True))
                    for j, (s, c) in enumerate(zip(srow, crow, strict=True))
                ):
                    found[mistake.code] = mistake
        return tuple(found.values())

    # --- feedback --------------------------------------------------------------------------

    def _feedback(
        self,
        name: str,
        status: str,
        answer: CellAnswer,
        statuses: list[list[str]],
        carried_from: tuple[str, ...],
        diagnosis: tuple[Mistake, ...],
        messages: list[str],
    ) -> str:
        parts: list[str] = []
        flat = [s for row in statuses for s in row]
        if status == "correct":
            parts.append("Correct.")
        elif status == "carried":
            start = self.origin.get(name)
            parts.append(
                f"Not what the key says, but right given your own "
                f"{', '.join(carried_from)}: credit carried forward"
                + (f" (the first error in the chain is in {start})." if start else ".")
            )
        elif status == "invalid":
            parts += [m if m.endswith(".") else m + "." for m in answer.problems]
            parts.append(
                "This cell is not graded as wrong: write it in the accepted form and submit again."
            )
        else:
            n_wrong = flat.count("wrong")
            parts.append(
                f"{n_wrong} of {len(flat)} entr{'y is' if len(flat) == 1 else 'ies are'} wrong."
                if len(flat) > 1
                else "Wrong."
            )
            if "carried" in flat:
                parts.append(
                    f"{flat.count('carried')} follow from your own "
                    f"{', '.join(carried_from)} (carried forward)."
                )
        parts += [m.feedback for m in diagnosis]
        parts += messages
        return " ".join(parts)


# --- entries -----------------------------------------------------------------------------------


def _numbers(m: Mat) -> list[list[Number]]:
    """Entries as Fractions, or as floats in a cell of expressions (exact mode, a logarithm).

    Every entry of such a cell is a float, the rational ones too: the student works it with a
    calculator, so 1/3 there is typed as 0.3333 and graded with the tolerance."""
    if m.domain.is_QQ:
        return [[to_fraction(x) for x in row] for row in m.to_list()]
    return [[_number(x) for x in row] for row in m.to_list()]


def _number(x: Any) -> Number:
    if not isinstance(x, sympy.Basic):
        return to_fraction(x)
    try:
        return approximate(x)  # by math: sympy's evalf costs milliseconds an entry
    except HandcalcError:
        return entry_float(x)


def _transcendental(op: Op) -> bool:
    """An op that gives irrational values on most inputs (exp in ``exact`` mode), even where the
    key's happen to be rational (a softmax of equal logits is 1/2)."""
    treatment = getattr(op, "treatment", None) or getattr(
        getattr(op, "activation", None), "treatment", None
    )
    return isinstance(treatment, Exact)


def _factor(result: list[list[Number]], m: list[list[Number]]) -> Number | None:
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


def _irrational(c: Number, expected: list[list[Number]], i: int, j: int) -> bool:
    if isinstance(c, float):
        return True
    inside = i < len(expected) and j < len(expected[i])
    return inside and isinstance(expected[i][j], float)


def _matches(
    student: Number, expected: Number, half_unit: Fraction | None, tolerance: float, tolerant: bool
) -> bool:
    if half_unit is not None:  # a value written to stated decimals: within half their unit
        return abs(Fraction(student) - Fraction(expected)) <= half_unit
    if tolerant or isinstance(expected, float):
        target = float(expected)
        return abs(float(student) - target) <= tolerance * abs(target)
    return student == expected


def _status(
    entry: Fraction | str, expected: Number, half_unit: Fraction | None, tolerance: float
) -> str:
    if isinstance(entry, str):
        return entry  # missing or invalid: not compared
    return "correct" if _matches(entry, expected, half_unit, tolerance, False) else "wrong"


def _half_unit(step: Step, key: Mat) -> Fraction | None:
    """Half a unit of the last printed digit, for cells the sheet asks for to so many decimals
    (the loss, in every mode: its key may be a rounded decimal, an exact fraction, or an
    irrational expression)."""
    digits = step.op.decimals
    if digits is None:
        return None
    return Fraction(1, 2 * 10**digits)


def _rounded(answer: CellAnswer, expected: list[list[Number]], statuses: list[list[str]]) -> bool:
    """Every wrong entry is a decimal that is the exact key value cut to its decimals (0.33 or
    0.333 for 1/3): rounded, not miscalculated."""
    cut = [
        _cut(e, x)
        for row, erow, srow in zip(expected, answer.entries, statuses, strict=True)
        for x, e, s in zip(row, erow, srow, strict=True)
        if s == "wrong"
    ]
    return bool(cut) and all(cut)


def _cut(typed: Any, exact: Number) -> bool:
    if not isinstance(typed, Fraction) or not isinstance(exact, Fraction | float):
        return False
    exact = Fraction(exact)  # a float (an irrational loss) exactly as the grader holds it
    # typed·10^k is whole where its denominator divides 10^k (a Fraction is in lowest terms)
    denominator = typed.denominator
    decimals = next((k for k in range(13) if 10**k % denominator == 0), 0)
    return decimals > 0 and abs(typed - exact) < Fraction(1, 10**decimals)


def _cell_status(answer: CellAnswer, statuses: list[list[str]]) -> str:
    if answer.problems or answer.value is None:
        return "invalid"
    flat = {s for row in statuses for s in row}
    if flat == {"correct"}:
        return "correct"
    if flat <= {"correct", "carried"}:
        return "carried"
    return "wrong"


def _score(flat: list[str], weight: float, carried_credit: Fraction) -> float:
    """``weight`` times the mean credit of the entries."""
    if not flat:
        return 0.0
    correct, carried = flat.count("correct"), flat.count("carried")
    if not carried:  # int / int rounds as float(Fraction(…)) does: correctly
        return weight * (correct / len(flat))
    return weight * float((correct + carried_credit * carried) / len(flat))


def _same(a: Mat, b: Mat) -> bool:
    if a.shape != b.shape:
        return False
    if a.domain == b.domain:
        return bool(a == b)
    return _numbers(a) == _numbers(b)


def _round(x: float) -> float:
    return round(x, 6)


# --- options -----------------------------------------------------------------------------------


def _check_options(tolerance: float, carried_credit: float) -> None:
    if (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, int | float)
        or not (0 <= tolerance < 1)
    ):
        raise HandcalcError(
            f"tolerance: {tolerance!r} is not accepted; accepted: a relative "
            f"tolerance from 0 to below 1, such as 0.01"
        )
    if (
        isinstance(carried_credit, bool)
        or not isinstance(carried_credit, int | float | Fraction)
        or not 0 <= carried_credit <= 1
    ):
        raise HandcalcError(
            f"carried_credit: {carried_credit!r} is not accepted; accepted: a "
            f"number from 0 (no credit) to 1 (full credit)"
        )


def _weights(weights: Mapping[str, float] | None, names: Iterable[str]) -> dict[str, float]:
    out = dict.fromkeys(names, 1.0)
    for name, w in (weights or {}).items():
        if name not in out:
            raise HandcalcError(f"weights: no graded cell {name!r}; graded cells: {', '.join(out)}")
        if isinstance(w, bool) or not isinstance(w, int | float) or not 0 <= w <= 1000:
            raise HandcalcError(
                f"weights.{name}: {w!r} is not accepted; accepted: a number from 0 to 1000"
            )
        out[name] = float(w)
    return out
