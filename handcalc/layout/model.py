"""The layout model: what a sheet is made of — grids of blocks (matrices), their boxes on paper,
the cues between them, sections and the sheet — as plain frozen dataclasses.

Nothing here measures: lengths on paper (mm) are decided by :mod:`handcalc.measure` and stored
in the model as numbers (a :class:`Box` knows the width of its characters, a :class:`Grid` the
monospace type its grid-unit markup is fitted with), so the model knows no font.

Roles of a :class:`Block`
    ``given`` printed on every sheet · ``answer`` a step's cell: a blank box on the worksheet,
    filled on the key, an input in form mode · ``copy`` a transposed copy of an answer (blank on
    the worksheet, filled on the key, filled from the student's own answer in form mode) · ``work``
    scratch values such as the ReLU mask (blank on the worksheet, filled on the key) · ``ones`` the
    row/column of ones. A mark's statuses are the grader's (:data:`handcalc.grading.STATUSES`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ROLES = ("given", "answer", "copy", "work", "ones")


#: colour roles (a block's ``tone``): ink (text, labels) and line (boxes, brackets), as the grids,
#: the legend and the figures print them
TONES = {
    "weight": ("#1b4a8c", "#6d8dbd"),
    "bias": ("#2a6f2e", "#73a576"),
    "activation": ("#8f4309", "#c58b5a"),
    "derivative": ("#7d1d58", "#b37399"),
    "none": ("#222222", "#6b7280"),
}
#: the same roles for photocopiers (``--mono``): black ink, grey lines
MONO_TONES = {role: ("#111111", "#666666") for role in TONES}
#: boxes' fills by role ("key": an answer box on the key), and for photocopiers (greys only)
FILL = {"given": "#eef0f3", "work": "#fbfaf0", "answer": "#ffffff", "key": "#f3f6fb"}
MONO_FILL = {"given": "#f0f0f0", "work": "#ffffff", "answer": "#ffffff", "key": "#f4f4f4"}


@dataclass(frozen=True)
class Mono:
    """The monospace type a grid in grid units is fitted with (the web grid's print modes), as
    measured: mm per character per pt of type size, and the largest size (pt)."""

    mm_per_pt: float
    max_pt: float


@dataclass(frozen=True)
class Box:
    """Where a block prints: ``x``, ``y`` mm from its grid's left and top (its section's left, for
    the grids of a staircase), every column ``chars`` monospace characters of ``char`` mm (the
    entry type size) wide, every row ``row`` mm high."""

    x: float
    y: float
    chars: int
    row: float
    char: float

    @property
    def col(self) -> float:
        return self.chars * self.char


@dataclass(frozen=True)
class Mark:
    """A printed cue on a grid, in mm: an operator glyph (``·``, ``∘``) in the gap between the
    blocks it joins, or a formula written before a block (``W₁ − lr·dW₁ =``)."""

    x: float
    y: float
    width: float
    height: float
    text: str
    glyph: bool = True


@dataclass(frozen=True)
class Block:
    """A matrix placed on a grid. ``texts`` are the key's printed entries (row by row)."""

    cell: str
    label: str
    role: str
    rows: int
    cols: int
    x: float
    y: float
    texts: tuple[tuple[str, ...], ...]
    transpose: bool = False
    #: where it prints (mm); None for a block laid out in grid units only
    box: Box | None = None
    #: its step number on the sheet ([1] … [n]), 0 for a block that is not a step's answer
    step: int = 0

    @property
    def tone(self) -> str:
        """Its colour role on paper: ``weight``, ``bias``, ``activation`` (inputs, Z, A, Y and
        the loss) or ``derivative`` (every d… cell and the mask f′); "" for ones and tables."""
        name = self.cell.rpartition(".")[2]
        if self.role == "ones" or not name:
            return ""
        if name.startswith("d") or name.endswith("_mask"):
            return "derivative"
        if name.startswith("W"):
            return "weight"
        if name.startswith("b"):
            return "bias"
        return "activation"

    @property
    def printed_label(self) -> str:
        """The label on paper: with its step number where it is a step's answer."""
        return f"[{self.step}] {self.label}" if self.step and self.label else self.label

    def right_aligned(self, show: bool) -> str:
        """The block's rows as monospace text for print: each entry right-aligned in its column
        with a space to spare on the right ("" where the block is blank)."""
        if not show or self.box is None:
            return ""
        chars = self.box.chars
        return "\n".join(
            "".join((t + " ").rjust(chars) for t in row).rstrip(" ") for row in self.texts
        )

    def source(self, i: int, j: int) -> tuple[int, int]:
        """The entry of ``cell`` shown at row ``i``, column ``j`` of this block."""
        return (j, i) if self.transpose else (i, j)

    def lookup(self, mapping: Mapping[str, Any] | None, i: int, j: int) -> str:
        """Entry ``i, j`` of this block read from ``mapping`` (cell → rows), or "" when absent."""
        if not mapping or self.cell not in mapping:
            return ""
        rows = mapping[self.cell]
        if isinstance(rows, str):  # whole-cell feedback is not an entry's
            return ""
        si, sj = self.source(i, j)
        try:
            value = rows[si][sj]
        except (IndexError, KeyError, TypeError):
            return ""
        return "" if value is None else str(value)

    def note(self, feedback: Mapping[str, Any] | None) -> str:
        """Whole-cell feedback (a plain string in ``feedback``), or ""."""
        if feedback and isinstance(feedback.get(self.cell), str):
            return str(feedback[self.cell])
        return ""

    def lines(self, show: bool, chars: int) -> str:
        """The block's rows as text, each entry centred in ``chars`` characters ("" if blank)."""
        if not show:
            return ""  # a blank block is its background alone: no text to lay out
        return "\n".join("".join(t.center(chars) for t in row) for row in self.texts)


@dataclass(frozen=True)
class Grid:
    """One by-hand grid: a layer's forward or backward work, an update, or a lookup table."""

    key: str
    title: str
    phase: str
    layer: int | None
    width: float
    height: float
    blocks: tuple[Block, ...]
    #: update grids print long fractions: their entries are this many units wide
    scale: float = 1.0
    #: print: width and height in mm (0, 0 where the blocks have no boxes), and the cues
    size: tuple[float, float] = (0.0, 0.0)
    marks: tuple[Mark, ...] = ()
    #: the monospace type of the grid-unit markup (:meth:`fit`, :meth:`label_rows`)
    mono: Mono | None = None

    @property
    def _mono(self) -> Mono:
        if self.mono is None:
            raise ValueError(f"grid {self.key} has no measured type to fit its text with")
        return self.mono

    def label_bands(self) -> list[tuple[float, float, str]]:
        """The labels on paper as a few lines of monospace text (WeasyPrint charges for every
        text box), one line per height at which labels sit, each label spaced to its block's
        left edge (every x is a whole number of characters from the left: see
        :data:`handcalc.measure.GAP_MM`); a
        label off that grid (a table laid out in grid units) starts a line of its own. Each
        line: its x and y (mm; y is the top of the blocks below it) and its text."""
        rows: dict[float, list[Block]] = {}
        for b in self.blocks:
            if b.label and b.box is not None:
                rows.setdefault(round(b.box.y, 2), []).append(b)
        out: list[tuple[float, float, str]] = []
        for y, blocks in sorted(rows.items()):
            start, line = 0.0, ""
            for b in sorted(blocks, key=lambda b: b.box.x if b.box else 0.0):
                x = b.box.x if b.box else 0.0
                char = b.box.char if b.box else 1.0
                column = round((x - start) / char)
                on_grid = abs(start + column * char - x) < 0.05
                if line and on_grid and column > len(line):
                    line += " " * (column - len(line)) + b.printed_label
                    continue
                if line:
                    out.append((start, y, line))
                start, line = x, b.printed_label
            out.append((start, y, line))
        return out

    def label_rows(self, width: float, pt: float) -> list[tuple[float, str]]:
        """The blocks' labels as lines of monospace text, one line per height at which labels
        sit, each label shifted right to its block's column (``width`` mm per unit, font ``pt``):
        a handful of text boxes instead of one per label."""
        char = pt * self._mono.mm_per_pt
        rows: dict[float, list[Block]] = {}
        for b in self.blocks:
            if b.label:
                rows.setdefault(b.y, []).append(b)
        out = []
        for y, blocks in sorted(rows.items()):
            line = ""
            for b in sorted(blocks, key=lambda b: b.x):
                column = round(b.x * width / char)
                gap = column - len(line)
                line += " " * max(gap, 1 if line else 0) + b.label
            out.append((y, line))
        return out

    def fit(self, block: Block, width: float) -> tuple[int, float]:
        """Characters per entry and font size (pt) so a row of ``block``'s monospace text fills
        ``width`` mm per entry exactly: one line of text per matrix row is the leanest markup
        WeasyPrint has."""
        mono = self._mono
        longest = max((len(t) for row in block.texts for t in row), default=1)
        # a space on each side of the longest entry: centring never leaves it touching a line
        chars = max(longest + 2, math.ceil(width / (mono.mm_per_pt * mono.max_pt)))
        return chars, width / (chars * mono.mm_per_pt)


@dataclass(frozen=True)
class Section:
    title: str
    grids: tuple[Grid, ...]
    #: grids side by side (updates, tables) rather than one below the other
    inline: bool = False
    #: one line per step of the section: its number, its formula, what to do
    steps: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExactValue:
    """An exact-mode entry: the grid prints its decimal, the key lists the expression too."""

    label: str
    expression: str
    approx: str


@dataclass(frozen=True)
class Figure:
    """A drawing on the sheet beside the grids (a neuron's computation graph): SVG markup, its
    text already escaped, ``width`` × ``height`` mm, in two fillings as a grid has — ``blank``
    for the worksheet and the web form (answer boxes empty), ``filled`` for the key. It shows
    values the grids hold; nothing on it is an input."""

    key: str
    title: str
    width: float
    height: float
    blank: str
    filled: str
    #: the two fillings in black and grey (``--mono``); empty: the coloured ones serve
    blank_mono: str = ""
    filled_mono: str = ""

    def svg(self, mode: str, mono: bool = False) -> str:
        """The markup for ``mode`` (worksheet, key, form), in black and grey when ``mono``."""
        if mode == "key":
            return (self.filled_mono if mono else "") or self.filled
        return (self.blank_mono if mono else "") or self.blank


@dataclass(frozen=True)
class Sheet:
    title: str
    description: str
    instructions: tuple[str, ...]
    tables: Section | None
    sections: tuple[Section, ...]
    exact: tuple[ExactValue, ...] = field(default=())
    #: on paper wide enough: the backward pass with each layer's update beside its gradient, in
    #: place of the last two sections
    updating: Section | None = None
    #: drawings printed after the sheet's instructions, before its sections
    figures: tuple[Figure, ...] = ()

    @property
    def grids(self) -> tuple[Grid, ...]:
        return tuple(g for s in self.sections for g in s.grids)

    @property
    def inputs(self) -> tuple[str, ...]:
        """The cells a student fills, in the order of the sheet."""
        seen: dict[str, None] = {}
        for g in self.grids:
            for b in g.blocks:
                if b.role == "answer":
                    seen.setdefault(b.cell)
        return tuple(seen)

    @property
    def width(self) -> float:
        """The widest grid that is not inline, in units (the renderer fits it to the paper)."""
        return max(
            (g.width * g.scale for s in self.sections if not s.inline for g in s.grids), default=1.0
        )
