"""Placing blocks, shared by every geometry: each grid is laid out twice, in grid units (the web
form's geometry) and in millimetres on paper (:mod:`handcalc.measure`), then the two passes are
joined into the model's :class:`~handcalc.layout.model.Grid`, every block with its box on paper
and its step number."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..measure import (
    BAND_MM,
    CHAR_MM,
    GAP,
    MAX_PT,
    MIN_CHARS,
    MONO_MM_PER_PT,
    PRINTED_CHARS,
    PRINTED_ROW_MM,
    ROW_MM,
    UNITS,
    Column,
    Metric,
    label_width,
)
from ..notation import approx, expression, is_expression, subscript
from ..printing import printed
from ..problem import Problem
from .model import Block, Box, ExactValue, Grid, Mark, Mono

#: the monospace type every grid's grid-unit markup is fitted with
MONO = Mono(MONO_MM_PER_PT, MAX_PT)


class Layout:
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
        return transposed(rows) if transpose else rows

    def number(self, grids: Sequence[Sequence[Block]]) -> None:
        """Step numbers [1] … [n] in the order of the step graph, for the cells with boxes."""
        answered = {b.cell for blocks in grids for b in blocks if b.role == "answer"}
        order = [s.name for s in self.problem.steps if s.name in answered]
        self.numbers = {name: i for i, name in enumerate(order, start=1)}


class Placer:
    """Collects blocks of one grid; ``x`` positions are shared by a section and normalised later."""

    def __init__(
        self,
        problem: Problem,
        steps: set[str],
        metric: Metric = UNITS,
        layout: Layout | None = None,
    ):
        self.problem = problem
        self.steps = steps
        self.blocks: list[Block] = []
        self.marks: list[Mark] = []
        self.m = metric
        self.layout = layout or Layout(problem, steps)

    def cell(
        self,
        name: str,
        x: float,
        y: float,
        transpose: bool = False,
        label: str | None = None,
        role: str | None = None,
        col: Column | None = None,
    ) -> Block:
        rows = self.layout.texts(name)
        if transpose:
            rows = transposed(rows)
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

    def ones(self, rows: int, cols: int, x: float, y: float, col: Column | None = None) -> Block:
        texts = tuple(("1",) * cols for _ in range(rows))
        # a row of ones is printed, never written: lower than an entry row
        height = self.m.ones if rows == 1 else self.m.row
        return self._add(Block("", "", "ones", rows, cols, x, y, texts), col, height)

    def work(
        self, name: str, label: str, rows: list[list[str]], x: float, y: float, col: Column
    ) -> Block:
        texts = tuple(map(tuple, rows))
        return self._add(Block(name, label, "work", len(rows), len(rows[0]), x, y, texts), col)

    def _add(self, block: Block, col: Column | None, height: float | None = None) -> Block:
        if self.m.paper:
            chars = (col or self.m.column(block.texts)).chars
            step = self.layout.numbers.get(block.cell, 0) if block.role == "answer" else 0
            box = Box(block.x, block.y, chars, height or self.m.row, self.m.char)
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
class Raw:
    """One grid of one pass, before its section is normalised."""

    key: str
    layer: int
    place: Placer
    title: str = ""


def finish(
    in_units: list[Raw], on_paper: list[Raw], phase: str, scale: float, each: bool = False
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
                blocks.append(replace(moved(b, -left), box=box, step=p.step))
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
                    MONO,
                )
            )
    return tuple(grids)


def _extents(place: Placer) -> list[tuple[float, float, float, float]]:
    """Every rectangle a paper pass's grid covers (blocks, labels, marks): x0, y0, x1, y1."""
    out = []
    for b in place.blocks:
        assert b.box is not None
        w, h = b.cols * b.box.col, b.rows * b.box.row
        out.append((b.x, b.y, b.x + w, b.y + h))
        if b.label:
            out.append((b.x, b.y - BAND_MM, b.x + label_width(b.printed_label), b.y))
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
            out.append((x, y - BAND_MM, x + label_width(b.printed_label), y))
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
    only_printed = all(b.role in ("given", "ones") for b in grid.blocks)
    chars = max(PRINTED_CHARS, longest + 1) if only_printed else max(MIN_CHARS, longest + 2)
    row = max(BAND_MM / GAP, PRINTED_ROW_MM) if only_printed else ROW_MM
    unit = chars * CHAR_MM * grid.scale
    blocks = tuple(
        replace(b, box=Box(round(b.x * unit, 3), round(b.y * row, 3), chars, row, CHAR_MM))
        for b in grid.blocks
    )
    boxed = replace(grid, blocks=blocks)
    extents = shapes(boxed)
    width = max((x1 for _, _, x1, _ in extents), default=0.0)
    height = max((y1 for _, _, _, y1 in extents), default=0.0)
    return replace(boxed, size=(round(width, 3), round(height, 3)))


def moved(b: Block, dx: float) -> Block:
    return replace(b, x=round(b.x + dx, 3), y=round(b.y, 3))


def layer_subscript(layer: int) -> str:
    return subscript(f"x{layer}")[1:]


def exact_values(problem: Problem) -> tuple[ExactValue, ...]:
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


def transposed(rows: list[list[str]]) -> list[list[str]]:
    return [list(col) for col in zip(*rows, strict=True)]
