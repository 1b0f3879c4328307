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

One cell at a time, a pipeline of small modules: ``key`` (the answer key as grading reads it, the
one module that caches, per problem) → ``expected`` (what the entries must be: the number rules)
→ ``carry`` (credit carried forward, on the ``ledger`` of the student's own values) →
``diagnose`` (which mistake it shows) → ``feedback`` (what the cell says); ``report`` holds the
result and its JSON, ``scheme`` the options (tolerance, carried credit, weights).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..answers import check_names, load_answers
from ..problem import Problem
from .carry import NOTHING, carry_forward
from .diagnose import diagnosis
from .feedback import message
from .key import KeyCell, answer_key
from .ledger import Ledger
from .report import REPORT_FORMAT, STATUSES, CellGrade, Report, cell_status, score
from .scheme import DEFAULT_TOLERANCE, Scheme, weights_of

__all__ = ["DEFAULT_TOLERANCE", "REPORT_FORMAT", "STATUSES", "CellGrade", "Report", "grade"]


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
    scheme = Scheme.of(tolerance, carried_credit)
    raw = load_answers(answers)
    key = answer_key(problem)
    if not raw.keys() <= key.known:
        check_names(raw, key.names, key.ignored)  # names the first unknown cell
    cell_weights = weights_of(weights, key.names)
    notes = [
        f"{name}: given on the sheet, not graded"
        for name in raw
        if name not in cell_weights and raw[name] not in (None, "", [])
    ]
    ledger = Ledger(key)
    cells = [
        _grade_cell(key.cells[name], raw.get(name), cell_weights[name], ledger, scheme)
        for name in key.names
    ]
    return Report(
        score=sum(c.score for c in cells),
        max_score=sum(c.max_score for c in cells),
        first_error=next((c.name for c in cells if c.status == "wrong"), None),
        tolerance=tolerance,
        carried_credit=float(carried_credit),
        cells=tuple(cells),
        notes=tuple(notes),
    )


def _grade_cell(
    cell: KeyCell, raw: Any, weight: float, ledger: Ledger, scheme: Scheme
) -> CellGrade:
    """One cell, in the order the steps are worked: read → compare → carry → diagnose → feedback.
    The ledger learns the student's readable value after the diagnosis (which looks at the
    values before it) and before the feedback (which names where a chain starts)."""
    name, tolerance = cell.name, scheme.tolerance
    answer = cell.read(raw)
    done = cell.correct(answer, tolerance, weight)
    if done is not None:  # the key as printed, every entry correct: nothing to carry or find
        assert answer.value is not None
        ledger.remember(name, answer.value, "correct", cell.same(answer))
        return done
    if answer.blank:
        blank = tuple(tuple("missing" for _ in row) for row in answer.entries)
        return CellGrade(name, "missing", blank, 0.0, weight, "No answer.")
    statuses = cell.statuses(answer, tolerance)
    carried = NOTHING
    if answer.value is not None:  # (an unreadable cell is invalid, never wrong)
        carried = carry_forward(cell, answer.value, statuses, ledger, tolerance)
        for i, j in carried.entries:
            statuses[i][j] = "carried"
    status = cell_status(answer, statuses)
    mistakes = diagnosis(cell, answer, status, statuses, ledger, tolerance)
    if answer.value is not None:
        ledger.remember(name, answer.value, status, cell.same(answer))
    return CellGrade(
        name,
        status,
        tuple(tuple(r) for r in statuses),
        score([s for row in statuses for s in row], weight, scheme.carried_credit),
        weight,
        message(
            status, answer, statuses, carried.inputs, ledger.start(name), mistakes, carried.refused
        ),
        tuple(m.code for m in mistakes),
        carried.inputs,
    )
