"""The by-hand sheet as a model: which matrix sits where; which entries are given, blank, filled.

The layout is decided once, here, from a problem's step graph; templates only turn it into markup,
so the worksheet, the answer key, the worked solutions and the web page are views of one model.

Geometry
    Each layer is one :class:`Grid`; positions are in grid units (one unit = one entry's width, or
    one entry's height for ``y``), so an emitter only chooses how large a unit is. Forward, layer
    l: the block ``[W_l | b_l]`` on the left with the bias column set apart, the input ``[A_{l-1} ;
    1]`` above (a row of ones under the inputs), ``Z_l`` below the input columns, ``A_l`` to the
    right of ``Z_l``; ``A_l`` with its row of ones is the next layer's input, so the layers step
    diagonally down and to the right. Backward, layer l: ``[dW_l | db_l] = dZ_l · [A_{l-1}ᵀ | 1]``
    (the transposed input above, ``dZ_l`` on the left), then below ``dZ_l`` the next gradient
    ``dA_{l-1} = W_lᵀ · dZ_l`` (``W_lᵀ`` on its left), the mask ``f′`` and ``dZ_{l-1}`` to its
    right, stepping down and to the right again. Updates ``[W_l new | b_l new]`` get a grid each.

Roles of a :class:`Block`
    ``given`` printed on every sheet · ``answer`` a step's cell: a blank box on the worksheet,
    filled on the key, an input in form mode · ``copy`` a transposed copy of an answer (blank on
    the worksheet, filled on the key, filled from the student's own answer in form mode) · ``work``
    scratch values such as the ReLU mask (blank on the worksheet, filled on the key) · ``ones`` the
    row/column of ones.

The grid partial (``templates/_grid.html``) — a stable contract for the web service
    ::

        {% from "_grid.html" import grid %}
        {{ grid(g, mode="form", answers=answers, marks=marks, feedback=feedback,
                u=12, h=8, unit="mm") }}

    ``g`` is a :class:`Grid` (``build_sheet(problem).grids`` lists all of them; ``sheet.sections``
    groups them). ``mode`` is ``"worksheet"``, ``"key"`` or ``"form"``. In form mode every entry of
    an ``answer`` block is ``<input name="{cell}[{i}][{j}]">`` with 0-based ``i``, ``j`` (e.g.
    ``dW2[0][1]``); ``answers`` (cell → rows of strings, optional) pre-fills them; ``marks`` (cell
    → rows of statuses among ``correct``, ``carried``, ``wrong``, ``missing``, ``invalid``,
    optional) adds the class ``mark-{status}`` to each entry; ``feedback`` (cell → rows of strings,
    or cell → one string for the whole cell, optional) becomes the entry's or block's ``title``
    tooltip. ``u`` and ``h`` are an entry's width and height in ``unit``. The CSS the partial needs
    is ``grid_css()`` in :mod:`handcalc.render` (file ``templates/grid.css``);
    ``template_loader()`` there is a Jinja loader for the templates. :attr:`Sheet.inputs` lists the
    cells a student fills. With ``marks`` (or in form mode) a grid is a table with one cell per
    entry; otherwise it is the lean print markup (one text box per matrix).
"""

from __future__ import annotations

import decimal
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import singledispatch
from typing import Any, NamedTuple

import sympy

from .conventions import instructions
from .fonts import mono_width
from .graph import Step
from .matrix import to_fraction
from .notation import approx, entry, expression, formula, is_expression, number, subscript
from .notation import printed as printed_value
from .ops import (
    Activate,
    ActivationGrad,
    Affine,
    BiasGrad,
    Identity,
    InputGrad,
    LeakyReLU,
    Loss,
    Op,
    OutputGrad,
    ReLU,
    Softmax,
    Update,
    WeightGrad,
)
from .problem import Problem
from .values import format_decimal

#: space between blocks (room for a label above a block), and the bias column's / ones row's gap
GAP = 0.7
NOTCH = 0.2
ROLES = ("given", "answer", "copy", "work", "ones")
STATUSES = ("correct", "carried", "wrong", "missing", "invalid")
#: DejaVu Sans Mono advances 0.602 em: mm per character per pt of font size; the largest size
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


@dataclass(frozen=True)
class Box:
    """Where a block prints: ``x``, ``y`` mm from its grid's left and top (its section's left, for
    the grids of a staircase), every column ``chars`` monospace characters of the entry type size
    wide, every row ``row`` mm high."""

    x: float
    y: float
    chars: int
    row: float

    @property
    def col(self) -> float:
        return self.chars * CHAR_MM


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

    def fit(self, width: float) -> tuple[int, float]:
        """Characters per entry and font size (pt) so a row of monospace text fills ``width`` mm
        per entry exactly: one line of text per matrix row is the leanest markup WeasyPrint has."""
        longest = max((len(t) for row in self.texts for t in row), default=1)
        # a space on each side of the longest entry: centring never leaves it touching a line
        chars = max(longest + 2, math.ceil(width / (MONO_MM_PER_PT * MAX_PT)))
        return chars, width / (chars * MONO_MM_PER_PT)

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

    def label_bands(self) -> list[tuple[float, float, str]]:
        """The labels on paper as a few lines of monospace text (WeasyPrint charges for every
        text box), one line per height at which labels sit, each label spaced to its block's
        left edge (every x is a whole number of characters from the left: see ``GAP_MM``); a
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
                column = round((x - start) / CHAR_MM)
                on_grid = abs(start + column * CHAR_MM - x) < 0.05
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
        char = pt * MONO_MM_PER_PT
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


# --- printed values ----------------------------------------------------------------------------


def printed(problem: Problem, name: str) -> list[list[str]]:
    """A cell's entries as the sheet prints them (keys, solutions and the web alike): an exact
    value as a decimal where its expansion ends within 6 places (``0.12``, ``−4.77``), else as a
    fraction (``1/55``); a value read from a table, and the loss, with the decimals they are
    stated to; an exact-mode expression as its decimal (the expressions are listed apart, see
    ``Sheet.exact``)."""
    value = problem.value(name)
    step = problem.graph[name] if name in problem.graph.names else None
    digits = _stated_decimals(problem, step)
    if digits is not None:
        return [[_rounded(x, digits) for x in row] for row in value.to_list()]
    return [
        [
            ("≈" + approx(float(x)) if is_expression(x) else printed_value(to_fraction(x)))
            for x in row
        ]
        for row in value.to_list()
    ]


def _stated_decimals(problem: Problem, step: Any) -> int | None:
    """The decimals a cell is stated to: a table's value, the loss; None for an exact cell."""
    if step is None:
        return None
    if step.op.tabulated:
        return int(problem.spec.digits)
    decimals = step.op.decimals
    return None if decimals is None else int(decimals)


def _rounded(x: Any, digits: int) -> str:
    """An entry to ``digits`` decimals, halves away from zero, exactly (an expression too)."""
    if is_expression(x):
        exact = decimal.Decimal(str(sympy.N(x, 40)))
    else:
        q = to_fraction(x)
        exact = decimal.Decimal(q.numerator) / decimal.Decimal(q.denominator)
    text = str(exact.quantize(decimal.Decimal(1).scaleb(-digits), decimal.ROUND_HALF_UP))
    return number(text.removeprefix("-") if text.strip("-0.") == "" else text)


def _transposed(rows: list[list[str]]) -> list[list[str]]:
    return [list(col) for col in zip(*rows, strict=True)]


# --- building the sheet ------------------------------------------------------------------------


class _Column(NamedTuple):
    """A column's width in the metric of a pass, and its characters on paper (0 in grid units)."""

    width: float
    chars: int


class _Metric:
    """The lengths of one pass of the layout: grid units (every column 1 wide: the web form's
    geometry) or millimetres on paper, where a column is as wide as its longest entry at the
    entry type size, plus a character's space on either side."""

    def __init__(self, paper: bool) -> None:
        self.paper = paper
        units = (GAP_MM, NOTCH_MM, BAND_MM, ROW_MM, ONES_MM) if paper else (GAP, NOTCH, GAP, 1, 1)
        self.gap, self.notch, self.band, self.row, self.ones = (float(u) for u in units)

    def column(self, *groups: Sequence[Sequence[str]], printed: bool = False) -> _Column:
        """The shared column of blocks stacked in the same columns (``X`` and ``Z₁``): the
        longest entry and a character's room on either side, at least ``MIN_CHARS`` (a box
        written in by hand); ``printed``: a block only printed, never written in, has its
        entries right-aligned with a character to spare on the right."""
        if not self.paper:
            return _Column(1.0, 0)
        longest = max((len(t) for rows in groups for row in rows for t in row), default=1)
        chars = max(PRINTED_CHARS, longest + 1) if printed else max(MIN_CHARS, longest + 2)
        return _Column(chars * CHAR_MM, chars)

    def label(self, text: str) -> float:
        """The width a label takes above its block, in whole characters of the monospace type
        its band is set in (0 in grid units: the web wraps labels)."""
        return len(text) * CHAR_MM if self.paper and text else 0.0


_UNITS = _Metric(paper=False)
_PAPER = _Metric(paper=True)


class _Layout:
    """What both passes of the layout read: the printed texts (made once) and the step numbers
    (known after the first pass, used by the second: a label's width depends on it)."""

    def __init__(self, problem: Problem, steps: set[str]) -> None:
        self.problem = problem
        self.steps = steps
        self.numbers: dict[str, int] = {}
        self._texts: dict[str, list[list[str]]] = {}

    def texts(self, name: str, transpose: bool = False) -> list[list[str]]:
        if name not in self._texts:
            self._texts[name] = printed(self.problem, name)
        rows = self._texts[name]
        return _transposed(rows) if transpose else rows

    def number(self, grids: Sequence[Sequence[Block]]) -> None:
        """Step numbers [1] … [n] in the order of the step graph, for the cells with boxes."""
        answered = {b.cell for blocks in grids for b in blocks if b.role == "answer"}
        order = [s.name for s in self.problem.steps if s.name in answered]
        self.numbers = {name: i for i, name in enumerate(order, start=1)}


class _Placer:
    """Collects blocks of one grid; ``x`` positions are shared by a section and normalised later."""

    def __init__(
        self,
        problem: Problem,
        steps: set[str],
        metric: _Metric = _UNITS,
        layout: _Layout | None = None,
    ):
        self.problem = problem
        self.steps = steps
        self.blocks: list[Block] = []
        self.marks: list[Mark] = []
        self.m = metric
        self.layout = layout or _Layout(problem, steps)

    def cell(
        self,
        name: str,
        x: float,
        y: float,
        transpose: bool = False,
        label: str | None = None,
        role: str | None = None,
        col: _Column | None = None,
    ) -> Block:
        rows = self.layout.texts(name)
        if transpose:
            rows = _transposed(rows)
        if role is None:
            role = "given"
            if name in self.steps:
                # every step is an answer, a value read from a lookup table too (the table is
                # keyed by Z, so it is found by computing Z; graded as the table's value)
                role = "copy" if transpose else "answer"
        shown = label or subscript(name) + ("ᵀ" if transpose else "")
        block = Block(
            name, shown, role, len(rows), len(rows[0]), x, y, tuple(map(tuple, rows)), transpose
        )
        return self._add(block, col)

    def ones(self, rows: int, cols: int, x: float, y: float, col: _Column | None = None) -> Block:
        texts = tuple(("1",) * cols for _ in range(rows))
        # a row of ones is printed, never written: lower than an entry row
        height = self.m.ones if rows == 1 else self.m.row
        return self._add(Block("", "", "ones", rows, cols, x, y, texts), col, height)

    def work(
        self, name: str, label: str, rows: list[list[str]], x: float, y: float, col: _Column
    ) -> Block:
        texts = tuple(map(tuple, rows))
        return self._add(Block(name, label, "work", len(rows), len(rows[0]), x, y, texts), col)

    def _add(self, block: Block, col: _Column | None, height: float | None = None) -> Block:
        if self.m.paper:
            chars = (col or self.m.column(block.texts)).chars
            step = self.layout.numbers.get(block.cell, 0) if block.role == "answer" else 0
            box = Box(block.x, block.y, chars, height or self.m.row)
            block = replace(block, box=box, step=step)
        self.blocks.append(block)
        return block

    def width(self, block: Block) -> float:
        """The block's width in this pass's metric."""
        return block.cols * (block.box.col if block.box else 1.0)

    def right(self, block: Block) -> float:
        """Where the block ends on the right, its label included."""
        return block.x + max(self.width(block), self.m.label(block.printed_label))

    def rows(self, n: int) -> float:
        return n * self.m.row

    def glyph(self, text: str, x: float, y: float, width: float | None = None) -> None:
        """An operator glyph centred at ``x``, ``y`` (on paper only)."""
        if self.m.paper:
            w, h = width or self.m.gap, 5.0
            self.marks.append(Mark(x - w / 2, y - h / 2, w, h, text))

    def formula(self, text: str, x: float, y: float) -> float:
        """A formula written from ``x``, centred on ``y``; its width (on paper only, else 0)."""
        if not self.m.paper:
            return 0.0
        w, h = self.m.label(text) + 0.6, 5.0
        self.marks.append(Mark(x, y - h / 2, w, h, text, glyph=False))
        return w


@dataclass
class _Raw:
    """One grid of one pass, before its section is normalised."""

    key: str
    layer: int
    place: _Placer
    title: str = ""


def build_sheet(problem: Problem) -> Sheet:
    """The layout of ``problem``'s worksheet, key and solutions."""
    steps = set(problem.graph.names)
    layout = _Layout(problem, steps)
    builders = (_forward, _backward, _updates, _backward_updating)
    in_units = [build(problem, steps, _UNITS, layout) for build in builders[:3]]
    layout.number([raw.place.blocks for grids in in_units for raw in grids])
    in_units.append(_backward_updating(problem, steps, _UNITS, layout))
    on_paper = [build(problem, steps, _PAPER, layout) for build in builders]
    forward = _finish(in_units[0], on_paper[0], "forward", scale=1.0)
    forward = _beside(forward, _tables(problem, forward))
    backward = _finish(in_units[1], on_paper[1], "backward", scale=1.0)
    updates = _finish(in_units[2], on_paper[2], "update", scale=1.9, each=True)
    updating = _finish(in_units[3], on_paper[3], "backward", scale=1.0)
    numbers = layout.numbers
    sections = [Section("Forward pass", forward, steps=_step_lines(problem, forward, numbers))]
    if backward:
        lines = _step_lines(problem, backward, numbers)
        sections.append(Section("Backward pass", backward, steps=lines))
    if updates:
        lr = number(problem.text("lr")[0][0])
        lines = _step_lines(problem, updates, numbers)
        sections.append(Section(f"Update (learning rate {lr})", updates, True, lines))
    return Sheet(
        title="Backpropagation by hand",
        description=problem.describe(),
        instructions=instructions(problem),
        tables=None,  # each lookup table sits below the layer whose A it gives
        sections=tuple(sections),
        exact=_exact_values(problem),
        updating=Section(
            f"Backward pass and update (learning rate {number(problem.text('lr')[0][0])})",
            updating,
            steps=_step_lines(problem, updating, numbers),
        )
        if updates and backward
        else None,
    )


def _backward_updating(
    problem: Problem, steps: set[str], m: _Metric, layout: _Layout
) -> list[_Raw]:
    return _backward(problem, steps, m, layout, updates=True)


def _forward(problem: Problem, steps: set[str], m: _Metric, layout: _Layout) -> list[_Raw]:
    """Layer l: ``[W_l | b_l]`` left of ``Z_l``, the input ``[A_{l-1} ; 1]`` above it, ``A_l``
    to its right; ``A_l`` and its ones are the next layer's input (the staircase)."""
    n, batch, layers = problem.spec.sizes, problem.spec.batch, problem.spec.layers
    text = layout.texts
    grids: list[_Raw] = []
    x_in = 0.0
    col_in = m.column(text("X"), text("Z1"))
    for layer in range(1, layers + 1):
        place = _Placer(problem, steps, m, layout)
        y = m.band
        if layer == 1:
            place.cell("X", x_in, y, label="A₀ = X", col=col_in)
            place.ones(1, batch, x_in, y + place.rows(n[0]) + m.notch, col_in)
            y += place.rows(n[0]) + m.notch + m.ones + m.band
        col_b = m.column(text(f"b{layer}"), printed=True)
        x_b = x_in - m.gap - col_b.width
        place.cell(f"b{layer}", x_b, y, col=col_b)
        col_w = m.column(text(f"W{layer}"), printed=True)
        place.cell(f"W{layer}", x_b - m.notch - n[layer - 1] * col_w.width, y, col=col_w)
        z = place.cell(f"Z{layer}", x_in, y, col=col_in)
        place.glyph("·", x_in - m.gap / 2, y - m.band / 2)  # [W | b] · [A ; 1]
        col_a = m.column(text(f"A{layer}"), *([text(f"Z{layer + 1}")] if layer < layers else []))
        x_a = place.right(z) + m.gap
        a = place.cell(f"A{layer}", x_a, y, col=col_a)
        if layer < layers:
            place.ones(1, batch, x_a, y + place.rows(n[layer]) + m.notch, col_a)
        else:  # the targets beside the output, the loss below them
            x_y = place.right(a) + m.gap
            place.cell("Y", x_y, y, col=m.column(text("Y"), printed=True))
            if "loss" in steps:
                place.cell("loss", x_y, y + place.rows(n[layer]) + m.band, label="L")
        grids.append(_Raw(f"forward-{layer}", layer, place))
        x_in, col_in = x_a, col_a
    return grids


def _backward(
    problem: Problem, steps: set[str], m: _Metric, layout: _Layout, updates: bool = False
) -> list[_Raw]:
    """One block a layer, in the order of the chain, each ``(dZ_l, dW_l | db_l, dA_{l-1})``:
    the mask ``f′(Z_l)`` above ``dZ_l`` and ``[A_{l-1}ᵀ | 1]`` above ``[dW_l | db_l]`` to its
    right; ``dA_{l-1} = W_lᵀ·dZ_l`` below ``dZ_l`` with ``W_lᵀ`` on its left. The next block's
    columns start where ``dW_l`` does, so its mask comes to stand beside ``dA_{l-1}`` (the
    staircase, as by hand) whenever the two blocks share a page. With ``updates``, each layer's
    ``[W_l new | b_l new]`` follows ``[dW_l | db_l]`` on its right, after the glyph ``−lr·``."""
    n, batch, layers = problem.spec.sizes, problem.spec.batch, problem.spec.layers
    text = layout.texts
    grids: list[_Raw] = []
    x_dz = 0.0
    for layer in range(layers, 0, -1):
        dz = f"dZ{layer}"
        if dz not in steps:
            continue
        place = _Placer(problem, steps, m, layout)
        has_dw, has_db = f"dW{layer}" in steps, f"db{layer}" in steps
        has_da = f"dA{layer - 1}" in steps
        mask = _mask(problem, dz)
        col_dz = m.column(
            text(dz), *([text(f"dA{layer - 1}")] if has_da else []), *([mask[1]] if mask else [])
        )
        col_dw = (
            m.column(text(f"A{layer - 1}", transpose=True), text(f"dW{layer}")) if has_dw else None
        )
        col_db = m.column(text(f"db{layer}")) if has_db else m.column([["1"]])
        width = batch * col_dz.width
        x_dw = (
            x_dz + max(width, *(m.label(_label(layout, c)) for c in (dz, f"dA{layer - 1}"))) + m.gap
        )
        y = m.band
        above = max(n[layer] if mask else 0, batch if has_dw else 0)
        if above:
            if mask:
                y_mask = y + place.rows(above - n[layer])
                place.work(f"{dz}_mask", mask[0], mask[1], x_dz, y_mask, col_dz)
                place.glyph("∘", x_dz - m.gap / 2, y_mask + place.rows(n[layer]) / 2)
            if has_dw and col_dw:
                y_a = y + place.rows(above - batch)
                a = place.cell(f"A{layer - 1}", x_dw, y_a, transpose=True, col=col_dw)
                x_ones = x_dw + place.width(a) + m.notch
                place.ones(batch, 1, x_ones, y_a, col_db)
            y += place.rows(above) + m.band
        place.cell(dz, x_dz, y, col=col_dz)
        if has_dw and col_dw:
            place.glyph("·", x_dw - m.gap / 2, y - m.band / 2)  # dZ · Aᵀ
            dw = place.cell(f"dW{layer}", x_dw, y, col=col_dw)
            right = place.right(dw)
            if has_db:
                db = place.cell(f"db{layer}", x_dw + place.width(dw) + m.notch, y, col=col_db)
                right = place.right(db)
            if updates and f"W{layer}_new" in steps:
                _update(place, layer, right, y, LR_GAP_MM if m.paper else m.gap)
        if has_da:
            y += place.rows(n[layer]) + m.band
            col_wt = m.column(text(f"W{layer}", transpose=True), printed=True)
            x_wt = x_dz - m.gap - n[layer] * col_wt.width
            place.cell(f"W{layer}", x_wt, y, transpose=True, col=col_wt)
            place.glyph("·", x_dz - m.gap / 2, y - m.band / 2)  # Wᵀ · dZ
            place.cell(f"dA{layer - 1}", x_dz, y, col=col_dz)
        grids.append(_Raw(f"backward-{layer}", layer, place))
        x_dz = x_dw
    return grids


def _update(place: _Placer, layer: int, x: float, y: float, gap: float) -> None:
    """``[W_l new | b_l new]`` from ``x`` on, after the glyph ``−lr·`` (``W − lr·dW``)."""
    sub = _sub(layer)
    rows = place.rows(len(place.layout.texts(f"W{layer}_new")))
    place.glyph("−lr·", x + gap / 2, y + rows / 2, width=gap)
    w = place.cell(f"W{layer}_new", x + gap, y, label=f"W{sub} new")
    if f"b{layer}_new" in place.steps:
        place.cell(
            f"b{layer}_new", x + gap + place.width(w) + place.m.notch, y, label=f"b{sub} new"
        )


def _label(layout: _Layout, name: str) -> str:
    """A cell's label as printed with its step number (for widths)."""
    number_ = layout.numbers.get(name)
    return f"[{number_}] {subscript(name)}" if number_ else subscript(name)


def _mask(problem: Problem, dz: str) -> tuple[str, list[list[str]]] | None:
    """The activation's derivative f′ as its own block: the ReLU mask, or A∘(1 − A) for sigmoid;
    its label and its entries (None where dz is not an activation's gradient)."""
    step = problem.graph[dz]
    op = step.op
    if not isinstance(op, ActivationGrad):
        return None
    source = step.inputs[1]
    derivative = op.activation.derivative(problem.value(source))
    rows = [
        [("≈" + approx(float(v)) if is_expression(v) else entry(v)) for v in row]
        for row in derivative.to_list()
    ]
    label = op.activation.derivative_symbol(subscript(source))
    return label.replace("'", "′"), rows


def _updates(problem: Problem, steps: set[str], m: _Metric, layout: _Layout) -> list[_Raw]:
    """``[W_l new | b_l new]``, a grid each (where the paper is too narrow to print each beside
    its gradient, after the glyph ``−lr·``: see :func:`_backward`)."""
    grids = []
    for layer in problem.spec.trainable:
        name_w, name_b = f"W{layer}_new", f"b{layer}_new"
        if name_w not in steps:
            continue
        place = _Placer(problem, steps, m, layout)
        sub = _sub(layer)
        w = place.cell(name_w, 0.0, m.band, label=f"W{sub} new")
        place.cell(name_b, place.width(w) + m.notch, m.band, label=f"b{sub} new")
        grids.append(_Raw(f"update-{layer}", layer, place, f"Layer {layer}"))
    return grids


# --- one line of instruction per step ----------------------------------------------------------


def _step_lines(
    problem: Problem, grids: Sequence[Grid], numbers: Mapping[str, int]
) -> tuple[str, ...]:
    """``[n] formula: what to do`` for each step whose boxes the section's grids hold."""
    lines = []
    for grid in grids:
        for b in grid.blocks:
            if b.role == "answer" and b.cell in numbers and b.cell in problem.graph.names:
                step = problem.graph[b.cell]
                names = [subscript(n) for n in (step.name, *step.inputs)]
                lines.append(f"[{numbers[b.cell]}] {_instruction(step.op, problem, step, *names)}")
    return tuple(lines)


@singledispatch
def _instruction(op: Op, problem: Problem, step: Step, out: str, *inputs: str) -> str:
    """The step's formula (a kind's own op says no more than that)."""
    return formula(step.formula)


@_instruction.register
def _(op: Affine, problem: Problem, step: Step, z: str, w: str, a: str, b: str) -> str:
    return f"{z} = {w}·{a} + {b}: row · column, plus {b}"


@_instruction.register
def _(op: Activate, problem: Problem, step: Step, a: str, z: str) -> str:
    f = op.activation
    if op.tabulated:
        return f"{a} = {_SYMBOLS.get(f.name, f.name)}({z}): look up each entry"
    if isinstance(f, ReLU):
        return f"{a} = relu({z}): negatives become 0"
    if isinstance(f, LeakyReLU):
        return f"{a} = leaky_relu({z}): negatives times {printed_value(f.slope)}"
    if isinstance(f, Identity):
        return f"{a} = {z}: the same entries"
    return f"{a} = {_SYMBOLS.get(f.name, f.name)}({z}), entry by entry"


@_instruction.register
def _(op: Softmax, problem: Problem, step: Step, a: str, z: str) -> str:
    if op.tabulated:
        return f"{a} = softmax({z}): look up each column"
    base = getattr(op.treatment, "base", None)
    power = f"{base}ᶻ" if base else "eᶻ"
    return f"{a} = softmax({z}): {power} over its column's sum"


@_instruction.register
def _(op: Loss, problem: Problem, step: Step, out: str, *inputs: str) -> str:
    text = formula(step.formula).replace("loss =", "L =", 1)
    return f"{text}, to {op.decimals} decimals" if op.decimals is not None else text


@_instruction.register
def _(op: OutputGrad, problem: Problem, step: Step, dz: str, a: str, y: str) -> str:
    return f"{formula(step.formula)}, entry by entry"


@_instruction.register
def _(op: WeightGrad, problem: Problem, step: Step, dw: str, dz: str, a: str) -> str:
    return f"{dw} = {dz}·{a}ᵀ: row · column"


@_instruction.register
def _(op: BiasGrad, problem: Problem, step: Step, db: str, dz: str) -> str:
    return f"{db} = the sum of each row of {dz}"


@_instruction.register
def _(op: InputGrad, problem: Problem, step: Step, da: str, w: str, dz: str) -> str:
    return f"{da} = {w}ᵀ·{dz}: row · column"


@_instruction.register
def _(op: ActivationGrad, problem: Problem, step: Step, dz: str, da: str, x: str) -> str:
    f = op.activation.derivative_symbol(x).replace("'", "′")
    if isinstance(op.activation, Identity):
        return f"{dz} = {da}: the same entries"
    return f"{dz} = {da} ∘ {f}: fill in {f}, multiply"


@_instruction.register
def _(op: Update, problem: Problem, step: Step, new: str, p: str, grad: str, lr: str) -> str:
    return f"{new} = {p} − lr·{grad}, entry by entry"


_SYMBOLS = {"sigmoid": "σ"}


def _tables(problem: Problem, forward: tuple[Grid, ...]) -> tuple[Grid, ...]:
    """The lookup tables as by-hand tables keyed by their argument, one grid each, as wide as
    the ``forward`` grids at most and under the A they give where there is room: a row of
    arguments ``z`` over a row of values ``σ(z)`` (for a softmax, a column of arguments
    ``z₁ … z_K`` over its column of probabilities ``p₁ … p_K``), sorted by argument and wrapped
    into bands. A probability that largest remainder moved off its own rounding is starred and
    footnoted."""
    grids = []
    width = forward[0].width if forward else 8.0
    for table in problem.tables.values():
        step = problem.graph[table.cell]
        under = [b.x for g in forward if g.layer == step.layer for b in g.blocks]
        fed = [b.x for g in forward for b in g.blocks if b.cell == table.cell]
        k = len(table.rows[0].argument)
        symbol = _SYMBOLS.get(table.function, table.function)
        if table.columns:
            heads = (
                [f"z{_sub(i)}" for i in range(1, k + 1)],
                [f"p{_sub(i)}" for i in range(1, k + 1)],
            )
        else:
            heads = ["z"], [f"{symbol}(z)"]
        args = [[printed_value(q) for q in r.argument] for r in table.rows]
        values = [
            [
                format_decimal(q, table.digits).replace("-", "−") + ("*" if i in r.moved else "")
                for i, q in enumerate(r.value)
            ]
            for r in table.rows
        ]
        z = subscript(table.argument)
        title = f"{subscript(table.cell)} = {symbol}({z}): look up each " + (
            f"column of {z}" if table.columns else f"entry of {z}"
        )
        band = max(3, int(width) - 2)  # entries a band holds beside its heading column
        blocks: list[Block] = []
        y = GAP
        for start in range(0, len(table.rows), band):
            chunk = slice(start, start + band)
            for i, (head, rows) in enumerate(((heads[0], args), (heads[1], values))):
                top = y + i * (k + NOTCH)
                label = title if start == 0 and i == 0 else ""
                shown = _transposed(rows[chunk])
                blocks.append(Block("", label, "given", k, 1, 0, top, tuple((h,) for h in head)))
                blocks.append(
                    Block("", "", "given", k, len(shown[0]), 1 + NOTCH, top, _rows(shown))
                )
            y += 2 * k + NOTCH + GAP
        if table.moved:
            unit = format_decimal(Fraction(1, 10**table.digits), table.digits)
            note = f"* rounded the other way (by {unit}) so that its column sums to exactly 1"
            blocks.append(Block("", note, "given", 0, 0, 0, y, ()))
        right = max(b.x + b.cols for b in blocks)
        # below the A it gives, as far right as the forward grids reach, else further left
        shift = max(0.0, min(fed[0] if fed else 0.0, width - right)) if under else 0.0
        grids.append(
            Grid(
                f"table-{table.cell}",
                f"Lookup table for {subscript(table.cell)} ({table.function}, rounded to "
                f"{table.digits} decimals)",
                "table",
                step.layer,
                right + shift,
                max(b.y + b.rows for b in blocks),
                tuple(_moved(b, shift) for b in blocks),
            )
        )
    return tuple(grids)


def _rows(rows: list[list[str]]) -> tuple[tuple[str, ...], ...]:
    return tuple(map(tuple, rows))


def _beside(forward: tuple[Grid, ...], tables: tuple[Grid, ...]) -> tuple[Grid, ...]:
    """Each lookup table right after the forward grid of the layer whose A it gives."""
    out: list[Grid] = []
    for grid in forward:
        out.append(grid)
        out += [t for t in tables if t.layer == grid.layer]
    return tuple(out)


def _finish(
    in_units: list[_Raw], on_paper: list[_Raw], phase: str, scale: float, each: bool = False
) -> tuple[Grid, ...]:
    """A section's grids from both passes: positions shifted so that the leftmost block starts at
    0 (for the whole section, so a staircase keeps its steps; ``each``: grid by grid), every
    block with its box on paper and its step number."""
    grids: list[Grid] = []
    groups = [[i] for i in range(len(in_units))] if each else [list(range(len(in_units)))]
    for group in groups:
        unit_blocks = [b for i in group for b in in_units[i].place.blocks]
        if not unit_blocks:
            continue
        left = min(b.x for b in unit_blocks)
        right = max(b.x + b.cols for b in unit_blocks) - left
        left_mm = min(x0 for i in group for x0, _, _, _ in _extents(on_paper[i].place))
        right_mm = max(x1 for i in group for _, _, x1, _ in _extents(on_paper[i].place))
        for i in group:
            raw, paper = in_units[i], on_paper[i]
            blocks = []
            for b, p in zip(raw.place.blocks, paper.place.blocks, strict=True):
                assert p.box is not None
                box = replace(p.box, x=round(p.box.x - left_mm, 3), y=round(p.box.y, 3))
                blocks.append(replace(_moved(b, -left), box=box, step=p.step))
            marks = tuple(
                replace(k, x=round(k.x - left_mm, 3), y=round(k.y, 3)) for k in paper.place.marks
            )
            height = max(b.y + b.rows for b in blocks)
            height_mm = max(y1 for _, _, _, y1 in _extents(paper.place))
            title = raw.title or f"Layer {raw.layer}"
            grids.append(
                Grid(
                    raw.key,
                    title,
                    phase,
                    raw.layer,
                    right,
                    height,
                    tuple(blocks),
                    scale,
                    (round(right_mm - left_mm, 3), round(height_mm, 3)),
                    marks,
                )
            )
    return tuple(grids)


def _extents(place: _Placer) -> list[tuple[float, float, float, float]]:
    """Every rectangle a paper pass's grid covers (blocks, labels, marks): x0, y0, x1, y1."""
    out = []
    for b in place.blocks:
        assert b.box is not None
        w, h = b.cols * b.box.col, b.rows * b.box.row
        out.append((b.x, b.y, b.x + w, b.y + h))
        if b.label:
            out.append((b.x, b.y - BAND_MM, b.x + _PAPER.label(b.printed_label), b.y))
    out += [(k.x, k.y, k.x + k.width, k.y + k.height) for k in place.marks]
    return out


def shapes(grid: Grid) -> list[tuple[float, float, float, float]]:
    """The rectangles a grid covers on paper (blocks, labels, marks: x0, y0, x1, y1 in mm from
    its own top left, its staircase x included), for packing grids into each other's free room."""
    out = []
    for b in grid.blocks:
        if b.box is None:
            continue
        x, y = b.box.x, b.box.y
        out.append((x, y, x + b.cols * b.box.col, y + b.rows * b.box.row))
        if b.label:
            out.append((x, y - BAND_MM, x + _PAPER.label(b.printed_label), y))
    out += [(k.x, k.y, k.x + k.width, k.y + k.height) for k in grid.marks]
    return out


def on_paper(grid: Grid) -> Grid:
    """``grid`` with boxes for print: as laid out, or (a grid laid out in grid units only, such as
    a lookup table) every unit as wide as its longest entry needs and as high as an entry row."""
    if grid.size != (0.0, 0.0) and all(b.box is not None for b in grid.blocks):
        return grid
    longest = max((len(t) for b in grid.blocks for row in b.texts for t in row), default=1)
    # a grid only printed (a table): its entries right-aligned, rows as low as its label bands
    # allow; a grid written in: boxes as everywhere
    printed = all(b.role in ("given", "ones") for b in grid.blocks)
    chars = max(PRINTED_CHARS, longest + 1) if printed else max(MIN_CHARS, longest + 2)
    row = max(BAND_MM / GAP, PRINTED_ROW_MM) if printed else ROW_MM
    unit = chars * CHAR_MM * grid.scale
    blocks = tuple(
        replace(b, box=Box(round(b.x * unit, 3), round(b.y * row, 3), chars, row))
        for b in grid.blocks
    )
    boxed = replace(grid, blocks=blocks)
    extents = shapes(boxed)
    width = max((x1 for _, _, x1, _ in extents), default=0.0)
    height = max((y1 for _, _, _, y1 in extents), default=0.0)
    return replace(boxed, size=(round(width, 3), round(height, 3)))


def _moved(b: Block, dx: float) -> Block:
    return replace(b, x=round(b.x + dx, 3), y=round(b.y, 3))


def _sub(layer: int) -> str:
    return subscript(f"x{layer}")[1:]


def _exact_values(problem: Problem) -> tuple[ExactValue, ...]:
    out = []
    for step in problem.steps:
        value = problem.value(step.name)
        if value.domain.is_QQ:
            continue
        for i, (raw, row) in enumerate(zip(value.to_list(), problem.text(step.name), strict=True)):
            for j, (x, text) in enumerate(zip(raw, row, strict=True)):
                if is_expression(x):
                    label = f"{subscript(step.name)}[{i + 1},{j + 1}]"
                    out.append(ExactValue(label, expression(text), approx(float(x))))
    return tuple(out)
