"""The lookup tables of ``table`` mode as by-hand tables, each beside the forward grid of the
layer whose A it gives."""

from __future__ import annotations

from fractions import Fraction

from ..measure import GAP, NOTCH
from ..notation import printed as printed_value
from ..notation import subscript
from ..printing import shortened
from ..problem import Problem
from ..values import format_decimal
from .model import Block, Grid
from .place import MONO, layer_subscript, moved, transposed
from .prose import SYMBOLS


def lookup_grids(problem: Problem, forward: tuple[Grid, ...]) -> tuple[Grid, ...]:
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
        symbol = SYMBOLS.get(table.function, table.function)
        if table.columns:
            heads = (
                [f"z{layer_subscript(i)}" for i in range(1, k + 1)],
                [f"p{layer_subscript(i)}" for i in range(1, k + 1)],
            )
        else:
            heads = ["z"], [f"{symbol}(z)"]
        args = [[shortened(problem, q, printed_value(q)) for q in r.argument] for r in table.rows]
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
                shown = transposed(rows[chunk])
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
                tuple(moved(b, shift) for b in blocks),
                mono=MONO,
            )
        )
    return tuple(grids)


def _rows(rows: list[list[str]]) -> tuple[tuple[str, ...], ...]:
    return tuple(map(tuple, rows))


def beside(forward: tuple[Grid, ...], tables: tuple[Grid, ...]) -> tuple[Grid, ...]:
    """Each lookup table right after the forward grid of the layer whose A it gives."""
    out: list[Grid] = []
    for grid in forward:
        out.append(grid)
        out += [t for t in tables if t.layer == grid.layer]
    return tuple(out)
