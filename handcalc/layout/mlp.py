"""The MLP's sheet: each layer's forward and backward work as the by-hand staircase.

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
"""

from __future__ import annotations

from ..conventions import instructions
from ..measure import LR_GAP_MM, PAPER, UNITS, Metric
from ..notation import approx, entry, is_expression, number, subscript
from ..ops import ActivationGrad
from ..printing import shortened
from ..problem import Problem
from .model import Section, Sheet
from .place import Layout, Placer, Raw, exact_values, finish, layer_subscript
from .prose import step_lines
from .tables import beside, lookup_grids


def mlp_sheet(problem: Problem) -> Sheet:
    """The layout of ``problem``'s worksheet, key and solutions."""
    steps = set(problem.graph.names)
    layout = Layout(problem, steps)
    builders = (_forward, _backward, _updates, _backward_updating)
    in_units = [build(problem, steps, UNITS, layout) for build in builders[:3]]
    layout.number([raw.place.blocks for grids in in_units for raw in grids])
    in_units.append(_backward_updating(problem, steps, UNITS, layout))
    on_paper = [build(problem, steps, PAPER, layout) for build in builders]
    forward = finish(in_units[0], on_paper[0], "forward", scale=1.0)
    forward = beside(forward, lookup_grids(problem, forward))
    backward = finish(in_units[1], on_paper[1], "backward", scale=1.0)
    updates = finish(in_units[2], on_paper[2], "update", scale=1.9, each=True)
    updating = finish(in_units[3], on_paper[3], "backward", scale=1.0)
    numbers = layout.numbers
    sections = [Section("Forward pass", forward, steps=step_lines(problem, forward, numbers))]
    if backward:
        lines = step_lines(problem, backward, numbers)
        sections.append(Section("Backward pass", backward, steps=lines))
    if updates:
        lr = number(problem.text("lr")[0][0])
        lines = step_lines(problem, updates, numbers)
        sections.append(Section(f"Update (learning rate {lr})", updates, True, lines))
    return Sheet(
        title="Backpropagation by hand",
        description=problem.describe(),
        instructions=instructions(problem),
        tables=None,  # each lookup table sits below the layer whose A it gives
        sections=tuple(sections),
        exact=exact_values(problem),
        updating=Section(
            f"Backward pass and update (learning rate {number(problem.text('lr')[0][0])})",
            updating,
            steps=step_lines(problem, updating, numbers),
        )
        if updates and backward
        else None,
    )


def _backward_updating(problem: Problem, steps: set[str], m: Metric, layout: Layout) -> list[Raw]:
    return _backward(problem, steps, m, layout, updates=True)


def _forward(problem: Problem, steps: set[str], m: Metric, layout: Layout) -> list[Raw]:
    """Layer l: ``[W_l | b_l]`` left of ``Z_l``, the input ``[A_{l-1} ; 1]`` above it, ``A_l``
    to its right; ``A_l`` and its ones are the next layer's input (the staircase)."""
    n, batch, layers = problem.spec.sizes, problem.spec.batch, problem.spec.layers
    text = layout.texts
    grids: list[Raw] = []
    x_in = 0.0
    col_in = m.column(text("X"), text("Z1"))
    for layer in range(1, layers + 1):
        place = Placer(problem, steps, m, layout)
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
        grids.append(Raw(f"forward-{layer}", layer, place))
        x_in, col_in = x_a, col_a
    return grids


def _backward(
    problem: Problem, steps: set[str], m: Metric, layout: Layout, updates: bool = False
) -> list[Raw]:
    """One block a layer, in the order of the chain, each ``(dZ_l, dW_l | db_l, dA_{l-1})``:
    the mask ``f′(Z_l)`` above ``dZ_l`` and ``[A_{l-1}ᵀ | 1]`` above ``[dW_l | db_l]`` to its
    right; ``dA_{l-1} = W_lᵀ·dZ_l`` below ``dZ_l`` with ``W_lᵀ`` on its left. The next block's
    columns start where ``dW_l`` does, so its mask comes to stand beside ``dA_{l-1}`` (the
    staircase, as by hand) whenever the two blocks share a page. With ``updates``, each layer's
    ``[W_l new | b_l new]`` follows ``[dW_l | db_l]`` on its right, after the glyph ``−lr·``."""
    n, batch, layers = problem.spec.sizes, problem.spec.batch, problem.spec.layers
    text = layout.texts
    grids: list[Raw] = []
    x_dz = 0.0
    for layer in range(layers, 0, -1):
        dz = f"dZ{layer}"
        if dz not in steps:
            continue
        place = Placer(problem, steps, m, layout)
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
        grids.append(Raw(f"backward-{layer}", layer, place))
        x_dz = x_dw
    return grids


def _update(place: Placer, layer: int, x: float, y: float, gap: float) -> None:
    """``[W_l new | b_l new]`` from ``x`` on, after the glyph ``−lr·`` (``W − lr·dW``)."""
    sub = layer_subscript(layer)
    rows = place.rows(len(place.layout.texts(f"W{layer}_new")))
    place.glyph("−lr·", x + gap / 2, y + rows / 2, width=gap)
    w = place.cell(f"W{layer}_new", x + gap, y, label=f"W{sub} new")
    if f"b{layer}_new" in place.steps:
        place.cell(
            f"b{layer}_new", x + gap + place.width(w) + place.m.notch, y, label=f"b{sub} new"
        )


def _label(layout: Layout, name: str) -> str:
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
        [
            ("≈" + approx(float(v)) if is_expression(v) else shortened(problem, v, entry(v)))
            for v in row
        ]
        for row in derivative.to_list()
    ]
    label = op.activation.derivative_symbol(subscript(source))
    return label.replace("'", "′"), rows


def _updates(problem: Problem, steps: set[str], m: Metric, layout: Layout) -> list[Raw]:
    """``[W_l new | b_l new]``, a grid each (where the paper is too narrow to print each beside
    its gradient, after the glyph ``−lr·``: see :func:`_backward`)."""
    grids = []
    for layer in problem.spec.trainable:
        name_w, name_b = f"W{layer}_new", f"b{layer}_new"
        if name_w not in steps:
            continue
        place = Placer(problem, steps, m, layout)
        sub = layer_subscript(layer)
        w = place.cell(name_w, 0.0, m.band, label=f"W{sub} new")
        place.cell(name_b, place.width(w) + m.notch, m.band, label=f"b{sub} new")
        grids.append(Raw(f"update-{layer}", layer, place, f"Layer {layer}"))
    return grids
