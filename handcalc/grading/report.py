"""The graded submission: each cell's grade, the totals, and the JSON ``handcalc grade`` prints.

Statuses, scores and the serialisation live here, apart from how they are reached, so that the
report's format is read in one place (the web service stores it; ``REPORT_FORMAT`` names it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ..answers import CellAnswer
from ..problem import dumps

REPORT_FORMAT = "handcalc/report@1"
#: an entry's or a cell's status, in the order a cell's status is decided (see ``cell_status``)
STATUSES = ("correct", "carried", "wrong", "missing", "invalid")


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


def cell_status(answer: CellAnswer, statuses: list[list[str]]) -> str:
    """A cell's status from its entries': ``invalid`` where it cannot be read as a whole (it is
    not wrong then), else ``correct``, ``carried`` (correct or carried, one carried at least) or
    ``wrong``. (A blank cell is ``missing`` before it gets here.)"""
    if answer.problems or answer.value is None:
        return "invalid"
    flat = {s for row in statuses for s in row}
    if flat == {"correct"}:
        return "correct"
    if flat <= {"correct", "carried"}:
        return "carried"
    return "wrong"


def score(flat: list[str], weight: float, carried_credit: Fraction) -> float:
    """``weight`` times the mean credit of the entries (their statuses, ``flat``)."""
    if not flat:
        return 0.0
    correct, carried = flat.count("correct"), flat.count("carried")
    if not carried:  # int / int rounds as float(Fraction(…)) does: correctly
        return weight * (correct / len(flat))
    return weight * float((correct + carried_credit * carried) / len(flat))


def _round(x: float) -> float:
    return round(x, 6)
