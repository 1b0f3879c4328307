"""A problem's answer key as questions for a learning platform's own quiz engine.

Three formats, each one file: **QTI 2.1** (an IMS content package: ``imsmanifest.xml``, one
``assessmentItem`` a cell, an ``assessmentTest`` with a section a variant), **QTI 1.2** as Canvas
imports it (a zip: ``imsmanifest.xml`` and a ``questestinterop`` object bank a variant, one
``numerical_question`` an entry, since Canvas's numerical question has one blank) and **Moodle
XML** (a ``<quiz>``: a category a variant, a ``cloze`` question a cell whose entries are
``NUMERICAL`` sub-answers, a ``numerical`` question for a single number such as the loss).

Every question's stem holds the problem's given matrices and lookup tables as HTML tables (a
question may be drawn alone), the step's formula and what to type. Every graded entry (every entry
of every step) is asked exactly once; table cells are given, never asked.

Which decimals are accepted, and why, is :mod:`handcalc.export.entries`.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import DocumentError
from ..problem import Problem
from .common import Variant
from .entries import Entry, graded
from .moodle import moodle
from .qti12 import qti12
from .qti21 import qti21

FORMATS = ("qti21", "qti12", "moodle")


def export(problems: Sequence[Problem], fmt: str, title: str = "handcalc") -> bytes:
    """``problems`` (one, or a variant a student) as one bank in ``fmt`` (:data:`FORMATS`): the
    bytes of a zip (QTI) or of an XML file (Moodle)."""
    if fmt not in FORMATS:
        raise DocumentError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    if not problems:
        raise DocumentError("problems: at least one problem is needed")
    variants = [Variant(n, p) for n, p in enumerate(problems, 1)]
    if fmt == "moodle":
        return moodle(variants, title)
    return qti21(variants, title) if fmt == "qti21" else qti12(variants, title)


__all__ = ["FORMATS", "Entry", "Variant", "export", "graded"]
