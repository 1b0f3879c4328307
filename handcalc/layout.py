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

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .conventions import instructions
from .matrix import to_fraction
from .notation import approx, entry, expression, is_expression, number, subscript
from .notation import printed as printed_value
from .ops import ActivationGrad
from .problem import Problem
from .transcendental import round_half_up
from .values import format_decimal

#: space between blocks (room for a label above a block), and the bias column's / ones row's gap
GAP = 0.7
NOTCH = 0.2
ROLES = ("given", "answer", "copy", "work", "ones")
STATUSES = ("correct", "carried", "wrong", "missing", "invalid")
#: DejaVu Sans Mono advances 0.602 em: mm per character per pt of font size; the largest size
MONO_MM_PER_PT = 0.602 * 25.4 / 72
MAX_PT = 8.5


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
    """A cell's entries as the sheet prints them: fractions, table values as decimals, and
    exact expressions as their decimal (the expressions are listed apart, see ``Sheet.exact``)."""
    value = problem.value(name)
    step = problem.graph[name] if name in problem.graph.names else None
    if step is not None and step.op.tabulated and value.domain.is_QQ:
        digits = problem.spec.digits
        return [
            [number(format_decimal(to_fraction(x), digits)) for x in row] for row in value.to_list()
        ]
    if step is not None and step.op.decimals is not None:  # the loss, to its decimals in every mode
        digits = step.op.decimals
        return [
            [number(format_decimal(round_half_up(x, digits), digits)) for x in row]
            for row in value.to_list()
        ]
    texts = problem.text(name)
    return [
        [
            ("≈" + approx(float(x)) if is_expression(x) else number(t))
            for x, t in zip(raw, row, strict=True)
        ]
        for raw, row in zip(value.to_list(), texts, strict=True)
    ]


def _transposed(rows: list[list[str]]) -> list[list[str]]:
    return [list(col) for col in zip(*rows, strict=True)]


# --- building the sheet ------------------------------------------------------------------------


class _Placer:
    """Collects blocks of one grid; ``x`` positions are shared by a section and normalised later."""

    def __init__(self, problem: Problem, steps: set[str]):
        self.problem = problem
        self.steps = steps
        self.blocks: list[Block] = []

    def cell(
        self,
        name: str,
        x: float,
        y: float,
        transpose: bool = False,
        label: str | None = None,
        role: str | None = None,
    ) -> Block:
        rows = printed(self.problem, name)
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
        self.blocks.append(block)
        return block

    def ones(self, rows: int, cols: int, x: float, y: float) -> None:
        self.blocks.append(
            Block("", "", "ones", rows, cols, x, y, tuple(("1",) * cols for _ in range(rows)))
        )

    def work(self, name: str, label: str, rows: list[list[str]], x: float, y: float) -> None:
        self.blocks.append(
            Block(name, label, "work", len(rows), len(rows[0]), x, y, tuple(map(tuple, rows)))
        )


def build_sheet(problem: Problem) -> Sheet:
    """The layout of ``problem``'s worksheet, key and solutions."""
    steps = set(problem.graph.names)
    forward = _forward(problem, steps)
    forward = _beside(forward, _tables(problem, forward))
    backward = _backward(problem, steps)
    updates = _updates(problem, steps)
    sections = [Section("Forward pass", forward)]
    if backward:
        sections.append(Section("Backward pass", backward))
    if updates:
        lr = number(problem.text("lr")[0][0])
        sections.append(Section(f"Update (learning rate {lr})", updates, inline=True))
    return Sheet(
        title="Backpropagation by hand",
        description=problem.describe(),
        instructions=instructions(problem),
        tables=None,  # each lookup table sits below the layer whose A it gives
        sections=tuple(sections),
        exact=_exact_values(problem),
    )


def _forward(problem: Problem, steps: set[str]) -> tuple[Grid, ...]:
    n, batch, layers = problem.spec.sizes, problem.spec.batch, problem.spec.layers
    grids: list[tuple[str, int, list[Block]]] = []
    x_in = 0.0
    for layer in range(1, layers + 1):
        place = _Placer(problem, steps)
        y = GAP
        if layer == 1:
            place.cell("X", x_in, y, label="A₀ = X")
            place.ones(1, batch, x_in, y + n[0] + NOTCH)
            y += n[0] + NOTCH + 1 + GAP
        place.cell(f"W{layer}", x_in - GAP - 1 - NOTCH - n[layer - 1], y)
        place.cell(f"b{layer}", x_in - GAP - 1, y)
        place.cell(f"Z{layer}", x_in, y)
        x_a = x_in + batch + GAP
        place.cell(f"A{layer}", x_a, y)
        if layer < layers:
            place.ones(1, batch, x_a, y + n[layer] + NOTCH)
        else:  # the targets beside the output, the loss below them
            place.cell("Y", x_a + batch + GAP, y)
            if "loss" in steps:
                place.cell("loss", x_a + batch + GAP, y + n[layer] + GAP, label="L")
        grids.append((f"forward-{layer}", layer, place.blocks))
        x_in = x_a
    return _normalise(grids, "forward", "Layer {layer}")


def _backward(problem: Problem, steps: set[str]) -> tuple[Grid, ...]:
    """dZ_l, then [dW_l | db_l] to its right under [A_{l-1}ᵀ | 1]; the next layer's dA below dZ_l
    with W_lᵀ on its left and the mask f′ on its right, and that layer's dZ below the mask."""
    n, batch, layers = problem.spec.sizes, problem.spec.batch, problem.spec.layers
    grids: list[tuple[str, int, list[Block]]] = []
    x_dz = 0.0
    step = batch + GAP
    for layer in range(layers, 0, -1):
        if f"dZ{layer}" not in steps:
            continue
        place = _Placer(problem, steps)
        has_dw, has_da = f"dW{layer}" in steps, f"dA{layer}" in steps
        x_dw = x_dz + step
        above = max(n[layer] if has_da else 0, batch if has_dw else 0)
        y = GAP + (above + GAP if above else 0)  # the row of dZ_l
        if has_da:  # this layer's gradient comes down from the layer above
            x_da = x_dz - step
            top = y - GAP - n[layer]
            place.cell(f"W{layer + 1}", x_da - GAP - n[layer + 1], top, transpose=True)
            place.cell(f"dA{layer}", x_da, top)
            _mask(place, problem, f"dZ{layer}", x_dz, top)
        if has_dw:
            place.cell(f"A{layer - 1}", x_dw, y - GAP - batch, transpose=True)
            place.ones(batch, 1, x_dw + n[layer - 1] + NOTCH, y - GAP - batch)
        place.cell(f"dZ{layer}", x_dz, y)
        if has_dw:
            place.cell(f"dW{layer}", x_dw, y)
        if f"db{layer}" in steps:
            place.cell(f"db{layer}", x_dw + n[layer - 1] + NOTCH, y)
        grids.append((f"backward-{layer}", layer, place.blocks))
        x_dz += step
    return _normalise(grids, "backward", "Layer {layer}")


def _mask(place: _Placer, problem: Problem, dz: str, x: float, y: float) -> None:
    """The activation's derivative f′ as its own block: the ReLU mask, or A∘(1 − A) for sigmoid."""
    step = problem.graph[dz]
    op = step.op
    if not isinstance(op, ActivationGrad):
        return
    source = step.inputs[1]
    derivative = op.activation.derivative(problem.value(source))
    rows = [
        [("≈" + approx(float(v)) if is_expression(v) else entry(v)) for v in row]
        for row in derivative.to_list()
    ]
    label = op.activation.derivative_symbol(subscript(source))
    place.work(f"{dz}_mask", label.replace("'", "′"), rows, x, y)


def _updates(problem: Problem, steps: set[str]) -> tuple[Grid, ...]:
    grids = []
    for layer in problem.spec.trainable:
        name_w, name_b = f"W{layer}_new", f"b{layer}_new"
        if name_w not in steps:
            continue
        place = _Placer(problem, steps)
        w = place.cell(name_w, 0, GAP, label=f"W{_sub(layer)} new")
        place.cell(name_b, w.cols + NOTCH, GAP, label=f"b{_sub(layer)} new")
        width = w.cols + NOTCH + 1
        grids.append(
            Grid(
                f"update-{layer}",
                f"Layer {layer}",
                "update",
                layer,
                width,
                GAP + w.rows,
                tuple(place.blocks),
                scale=1.9,
            )
        )
    return tuple(grids)


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


def _normalise(
    grids: list[tuple[str, int, list[Block]]], phase: str, title: str
) -> tuple[Grid, ...]:
    """Shift a section's shared x positions so the leftmost block starts at 0."""
    blocks = [b for _, _, bs in grids for b in bs]
    if not blocks:
        return ()
    left = min(b.x for b in blocks)
    right = max(b.x + b.cols for b in blocks) - left
    out = []
    for key, layer, bs in grids:
        moved = tuple(_moved(b, -left) for b in bs)
        height = max(b.y + b.rows for b in moved)
        out.append(Grid(key, title.format(layer=layer), phase, layer, right, height, moved))
    return tuple(out)


def _moved(b: Block, dx: float) -> Block:
    return Block(
        b.cell,
        b.label,
        b.role,
        b.rows,
        b.cols,
        round(b.x + dx, 3),
        round(b.y, 3),
        b.texts,
        b.transpose,
    )


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
