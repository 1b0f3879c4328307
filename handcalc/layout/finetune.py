"""The fine-tuning kind's sheet: the MLP's forward staircase (shared by both schemes), then the
two backward passes side by side, a row per layer.

Geometry of ``compare``
    The forward pass, its lookup tables and the loss are the MLP's (:func:`.mlp.mlp_sheet`:
    the cells are unprefixed, as the MLP's). Then one grid per layer, from the output down: on
    the left the ``full`` scheme's work, on the right the ``frozen`` scheme's, each as ::

        dZ_l        [dW_l | db_l]
        dA_{l-1}    [W_l new | b_l new]

    so that a layer's work in both schemes stands on the same row and the right-hand column
    starts at the same x on every row. Where the frozen scheme does not train a layer, a grey
    block says so (``no update``; ``no gradient`` below the lowest trained layer, where backprop
    stopped). Under the last row, ``full.updated`` and ``frozen.updated``. Steps are numbered on
    from the forward pass's: the left column top to bottom, then the right one.

``warmup`` prints the shared forward the same way, then its sections' steps generically
(:func:`.generic.step_sections`): they follow one another rather than stand side by side.
"""

from __future__ import annotations

from .. import kinds
from ..cells import Cell
from ..measure import PAPER, UNITS, Metric
from ..notation import subscript
from ..problem import Problem
from .generic import step_sections
from .mlp import mlp_sheet
from .model import Block, Section, Sheet
from .place import Layout, Placer, Raw, exact_values, finish
from .prose import step_lines

TITLE = "Fine-tuning by hand"
#: the two sections of ``compare``, left and right, and their column headings
SIDES = FULL_SIDE, FROZEN_SIDE = ("full", "frozen")
#: room between the two columns (units of the metric's gap)
BETWEEN = 3.0
#: on paper, the height of the column headings above the first row (mm)
HEADER_MM = 5.0


def finetune_sheet(problem: Problem) -> Sheet:
    """The fine-tuning sheet: the shared forward pass as the MLP prints it, then ``compare``'s
    two schemes side by side, or ``warmup``'s sections one after the other."""
    forward = mlp_sheet(problem)
    last = max((b.step for g in forward.grids for b in g.blocks), default=0)
    if getattr(problem.spec, "schedule", "compare") == "compare":
        sections: tuple[Section, ...] = (_side_by_side(problem, last + 1),)
    else:
        shared = set(forward.inputs)
        rest = [s for s in problem.steps if s.name not in shared]
        sections = step_sections(problem, rest, start=last + 1)
    kind = kinds.KINDS.get(problem.kind)
    return Sheet(
        title=TITLE,
        description=problem.describe(),
        instructions=kind.instructions(problem) if kind is not None else forward.instructions,
        tables=None,
        sections=(*forward.sections, *sections),
        exact=exact_values(problem),
    )


def _side_by_side(problem: Problem, start: int) -> Section:
    """Both schemes' backward passes and updates, a grid per layer, then the counts."""
    steps = set(problem.graph.names)
    layout = Layout(problem, steps)
    order = [name for side in SIDES for name in _column(problem, side, steps)]
    layout.numbers = {name: i for i, name in enumerate(order, start=start)}
    passes = [_rows(problem, steps, m, layout) for m in (UNITS, PAPER)]
    grids = finish(passes[0], passes[1], "backward", scale=1.0, each=True)
    lines = tuple(
        line
        for side in SIDES
        for line in step_lines(
            problem,
            grids,
            {k: v for k, v in layout.numbers.items() if Cell.parse(k).section == side},
        )
    )
    frozen = ", ".join(map(str, problem.spec.frozen))
    title = (
        f"Backward pass and update: full fine-tuning (left) beside layer"
        f"{'s' if len(problem.spec.frozen) > 1 else ''} {frozen} frozen (right)"
    )
    return Section(title, grids, steps=lines)


def _column(problem: Problem, side: str, steps: set[str]) -> list[str]:
    """The cells of one side in the order they print: layer by layer from the output, each
    ``dZ``, ``dW``, ``db``, ``dA``, ``W new``, ``b new``; then the count."""
    out = []
    for layer in range(problem.spec.layers, 0, -1):
        for symbol, at, new in (
            ("dZ", layer, False),
            ("dW", layer, False),
            ("db", layer, False),
            ("dA", layer - 1, False),
            ("W", layer, True),
            ("b", layer, True),
        ):
            name = Cell(symbol, at, side, new=new).name
            if name in steps:
                out.append(name)
    count = Cell("updated", None, side).name
    return [*out, count] if count in steps else out


def _rows(problem: Problem, steps: set[str], m: Metric, layout: Layout) -> list[Raw]:
    """One grid a layer, both sides on it (the right one where the widest left one ends), and
    a last grid with the counts."""
    n = problem.spec.layers
    places = [Placer(problem, steps, m, layout) for _ in range(n + 1)]
    top = m.band + (HEADER_MM if m.paper else 0.0)
    rights = [
        _side(places[n - layer], problem, FULL_SIDE, layer, 0.0, top if layer == n else m.band)
        for layer in range(n, 0, -1)
    ]
    heading = _heading(problem, FULL_SIDE)
    x_right = max(*rights, m.label(heading)) + BETWEEN * m.gap
    for layer in range(n, 0, -1):
        y = top if layer == n else m.band
        _side(places[n - layer], problem, FROZEN_SIDE, layer, x_right, y)
    first = places[0]
    first.formula(heading, 0.0, HEADER_MM / 2)
    first.formula(_heading(problem, FROZEN_SIDE), x_right, HEADER_MM / 2)
    counts = places[n]
    for side, x in ((FULL_SIDE, 0.0), (FROZEN_SIDE, x_right)):
        name = Cell("updated", None, side).name
        if name in steps:
            counts.cell(name, x, m.band, label="parameters updated")
    raws = [Raw(f"finetune-{layer}", layer, places[n - layer]) for layer in range(n, 0, -1)]
    if counts.blocks:
        raws.append(Raw("finetune-updated", 0, counts, "Parameters updated"))
    return raws


def _heading(problem: Problem, side: str) -> str:
    spec = problem.spec
    if side == FULL_SIDE:
        return "full: every layer trained"
    trained = ", ".join(map(str, spec.trainable))
    return f"frozen: only layer{'s' if len(spec.trainable) > 1 else ''} {trained} trained"


def _side(place: Placer, problem: Problem, side: str, layer: int, x: float, y: float) -> float:
    """One side's work on ``layer`` from ``x``: ``dZ`` over ``dA`` on the left, ``[dW | db]``
    over ``[W new | b new]`` on the right; a grey block where the side does not train the
    layer. Where it ends on the right."""
    m, text, steps = place.m, place.layout.texts, place.steps
    batch = problem.spec.batch

    def name(symbol: str, at: int, new: bool = False) -> str:
        return Cell(symbol, at, side, new=new).name

    dz, da = name("dZ", layer), name("dA", layer - 1)
    dw, db = name("dW", layer), name("db", layer)
    w_new, b_new = name("W", layer, True), name("b", layer, True)
    if dz not in steps:
        note = _note(place, "backprop stopped · no update", f"layer {layer} frozen", x, y)
        return place.right(note)
    has_da = da in steps
    col_dz = m.column(text(dz), *([text(da)] if has_da else []))
    numbered = [_label(place, c) for c in (dz, *([da] if has_da else []))]
    x_dw = x + max(batch * col_dz.width, *(m.label(t) for t in numbered)) + m.gap
    below = y + place.rows(len(text(dz))) + m.band
    trained = dw in steps
    col_dw = m.column(text(dw), text(w_new)) if trained else None
    col_db = m.column(text(db), text(b_new)) if trained else None
    # placed in the order they are numbered (the step lines follow the blocks)
    right = place.right(place.cell(dz, x, y, label=_local(dz), col=col_dz))
    for second, (top, wn, bn, labels) in enumerate(
        (
            (y, dw, db, (_local(dw), _local(db))),
            (below, w_new, b_new, (f"W{_sub(layer)} new", f"b{_sub(layer)} new")),
        )
    ):
        if second and has_da:
            right = max(right, place.right(place.cell(da, x, below, label=_local(da), col=col_dz)))
        if col_dw is None or col_db is None:
            continue
        w = place.cell(wn, x_dw, top, label=labels[0], col=col_dw)
        x_b = x_dw + place.width(w) + m.notch
        b = place.cell(bn, x_b, top, label=labels[1], col=col_db)
        right = max(right, place.right(w), place.right(b))
    if not trained:
        right = max(right, place.right(_note(place, "no update", f"layer {layer} frozen", x_dw, y)))
    return right


def _local(name: str) -> str:
    """A cell's label within its column: its name in the section (``dW₃``)."""
    return subscript(Cell.parse(name).local)


def _note(place: Placer, words: str, label: str, x: float, y: float) -> Block:
    """A grey block that is printed, never written in: what a scheme does not do to a layer."""
    texts = ((words,),)
    block = Block("", label, "given", 1, 1, x, y, texts)
    return place._add(block, place.m.column(texts, printed=True))


def _label(place: Placer, name: str) -> str:
    number = place.layout.numbers.get(name)
    local = subscript(Cell.parse(name).local)
    return f"[{number}] {local}" if number else local


def _sub(layer: int) -> str:
    return subscript(f"x{layer}")[1:]
