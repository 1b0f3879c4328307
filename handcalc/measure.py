"""How long things are on paper: the type sizes, the row heights and the monospace widths the
layout is measured in, decided here (next to the renderer) so that the layout model holds
millimetres and nothing about fonts.

The layout runs twice (:class:`Metric`): once in grid units, every column one unit wide (the web
form's geometry), once in millimetres on paper, every column as wide as its longest entry at the
entry type size needs (:mod:`handcalc.fonts` knows the fonts' advance widths).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from .fonts import mono_width

#: grid units: space between blocks (room for a label above a block), and the bias column's /
#: ones row's gap
GAP = 0.7
NOTCH = 0.2

#: the monospace face: mm per character per pt of type size, and the largest size a grid in
#: grid units sets its entries in (the web grid's print modes)
MONO_MM_PER_PT = 0.602 * 25.4 / 72
MAX_PT = 8.5

#: print: the type size of every entry and of labels (pt); nothing a person reads is under 8 pt
ENTRY_PT = 8.5
LABEL_PT = ENTRY_PT
MARK_PT = 11.0
#: print: mm per monospace character of an entry, and the least characters of a column
CHAR_MM = mono_width(1, ENTRY_PT)
MIN_CHARS = 4
PRINTED_CHARS = 3
#: print: an entry row, the row of ones, the band for a label above a block, the gaps (mm)
ROW_MM = 7.0
#: a row only printed, never written in (a lookup table)
PRINTED_ROW_MM = 5.6
ONES_MM = 4.2
BAND_MM = 4.4
#: every x on paper is a whole number of entry characters from its section's left, so that a
#: band of labels is one line of monospace text that meets each block's left edge exactly
GAP_MM = 2 * CHAR_MM
NOTCH_MM = CHAR_MM
#: the room for the glyph −lr· between a gradient and the update it makes
LR_GAP_MM = 5 * CHAR_MM


class Column(NamedTuple):
    """A column's width in the metric of a pass, and its characters on paper (0 in grid units)."""

    width: float
    chars: int


class Metric:
    """The lengths of one pass of the layout: grid units (every column 1 wide: the web form's
    geometry) or millimetres on paper, where a column is as wide as its longest entry at the
    entry type size, plus a character's space on either side."""

    def __init__(self, paper: bool) -> None:
        self.paper = paper
        units = (GAP_MM, NOTCH_MM, BAND_MM, ROW_MM, ONES_MM) if paper else (GAP, NOTCH, GAP, 1, 1)
        self.gap, self.notch, self.band, self.row, self.ones = (float(u) for u in units)
        #: mm per monospace character at the entry size (1 in grid units: unused there)
        self.char = CHAR_MM if paper else 1.0

    def column(self, *groups: Sequence[Sequence[str]], printed: bool = False) -> Column:
        """The shared column of blocks stacked in the same columns (``X`` and ``Z₁``): the
        longest entry and a character's room on either side, at least ``MIN_CHARS`` (a box
        written in by hand); ``printed``: a block only printed, never written in, has its
        entries right-aligned with a character to spare on the right."""
        if not self.paper:
            return Column(1.0, 0)
        longest = max((len(t) for rows in groups for row in rows for t in row), default=1)
        chars = max(PRINTED_CHARS, longest + 1) if printed else max(MIN_CHARS, longest + 2)
        return Column(chars * CHAR_MM, chars)

    def label(self, text: str) -> float:
        """The width a label takes above its block, in whole characters of the monospace type
        its band is set in (0 in grid units: the web wraps labels)."""
        return len(text) * CHAR_MM if self.paper and text else 0.0


UNITS = Metric(paper=False)
PAPER = Metric(paper=True)


def label_width(text: str) -> float:
    """Millimetres a label takes on paper (its band is monospace at the entry size)."""
    return PAPER.label(text)
