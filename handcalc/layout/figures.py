"""A single neuron drawn as a computation graph, in SVG made here (no script, no plotting library):
inputs ``xᵢ`` and weights ``wᵢ`` into products ``×``, the products and the bias ``b`` into the
sum ``Σ`` (its output is ``z``), the activation (``σ`` or ``id``), the loss ``L`` with its target
``y``. On every edge, the value it carries sits above the line and ∂L/∂ of that value below it,
one entry a sample, in boxes drawn as the grids draw them: given values printed on grey, a
graded cell's entries as solid boxes (blank on the worksheet, filled on the key), working (the
products, the gradient reaching them, ∂L/∂a) as dotted boxes.

The figure is a picture of values the grids hold: nothing on it is an input or graded. Lengths are
millimetres (the SVG's user unit), text is DejaVu at no less than 8 pt (as the rest of the sheet,
``templates/sheet.css``), every text is escaped with markupsafe.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy
from markupsafe import escape

from ..matrix import to_fraction
from ..notation import MINUS, approx, printed_entries, subscript
from ..ops import Activate, Sigmoid
from ..printing import printed
from ..problem import Problem
from .model import FILL, MONO_FILL, MONO_TONES, TONES, Figure

PT = 25.4 / 72  # mm per point
#: type: entries in DejaVu Sans Mono at the grids' size, node labels and notes in DejaVu Sans
ENTRY_PT, NODE_PT, NOTE_PT = 8.5, 10.0, 8.0
ENTRY, NODE_TEXT, NOTE = ENTRY_PT * PT, NODE_PT * PT, NOTE_PT * PT
CHAR = 1233 / 2048 * ENTRY  # DejaVu Sans Mono's advance
#: a box's height, the room between an edge and its boxes, and along an edge around them
BOX_H, GAP, PAD = 4.8, 0.9, 2.0
#: node radius, the sum's bar width, the slant into a product node, the margin around all
R, BAR, SLANT, MARGIN = 3.5, 7.0, 6.0, 1.0
LINE, INK = "#555555", "#222222"
SHORTCUT = "(taken with the loss)"
TITLE = "The neuron as a graph: values above each edge, gradients ∂L/∂· below"


@dataclass(frozen=True)
class Slot:
    """A row of boxes on an edge: one entry a sample (or one for a parameter), ``x``, ``y`` its
    top left; ``cell`` and ``index`` say which graded entries it shows (``""`` for working)."""

    x: float
    y: float
    texts: tuple[str, ...]
    role: str  # given, answer, work
    tone: str
    cell: str = ""
    index: tuple[tuple[int, int], ...] = ()
    width: float = 0.0  # of one entry

    @property
    def right(self) -> float:
        return self.x + self.width * len(self.texts)


@dataclass(frozen=True)
class Node:
    key: str
    label: str
    x: float
    y: float
    tone: str = "none"
    op: bool = False  # an operation (×, Σ, σ, L) rather than a value (x, w, b, y)
    height: float = 0.0  # the sum's bar: its height (a circle otherwise)


@dataclass
class Scene:
    """What the drawing holds, in mm: nodes, lines (polylines ending in an arrowhead or not),
    slots and notes; its size."""

    nodes: list[Node]
    lines: list[tuple[tuple[tuple[float, float], ...], bool]]
    slots: list[Slot]
    notes: list[tuple[float, float, str, str]]  # x, y (baseline), text, anchor
    width: float = 0.0
    height: float = 0.0


def neuron_figure(problem: Problem) -> Figure:
    """The neuron of ``problem`` (one layer: ``Z1``, ``A1``, ``loss``) drawn, blank and filled."""
    scene = layout(problem)
    return Figure(
        "figure-neuron",
        TITLE,
        round(scene.width, 2),
        round(scene.height, 2),
        svg(scene, filled=False),
        svg(scene, filled=True),
        svg(scene, filled=False, mono=True),
        svg(scene, filled=True, mono=True),
    )


def _row(rows: list[list[str]], i: int) -> tuple[str, ...]:
    return tuple(rows[i])


def _entry_width(*rows: Sequence[str]) -> float:
    """One entry's width: the longest text of the rows with a character to spare each side."""
    longest = max((len(t) for row in rows for t in row), default=1)
    return (max(longest, 3) + 1.6) * CHAR


def _exact_text(value: Any) -> str:
    """A working value (a Fraction or a sympy expression) as the sheet prints its cells."""
    if isinstance(value, Fraction):
        return printed_entries([[value]])[0][0]
    value = sympy.nsimplify(value) if not isinstance(value, sympy.Basic) else value
    if value.is_Rational:
        return printed_entries([[Fraction(int(value.p), int(value.q))]])[0][0]
    return "≈" + approx(float(value))


def _values(problem: Problem, name: str) -> list[list[Any]]:
    """A cell's entries as Fractions where rational, else as sympy expressions."""
    out: list[list[Any]] = []
    for row in problem.value(name).to_list():
        out.append(
            [x if isinstance(x, sympy.Basic) and not x.is_Rational else to_fraction(x) for x in row]
        )
    return out


def _output(problem: Problem) -> str:
    """``sigmoid`` or ``identity``: the activation the graph's ``A1`` applies."""
    op = problem.graph["A1"].op
    sigmoid = isinstance(op, Activate) and isinstance(op.activation, Sigmoid)
    return "sigmoid" if sigmoid else "identity"


def layout(problem: Problem) -> Scene:
    """Where every node, line and box of the drawing goes."""
    n, batch = problem.spec.sizes[0], problem.spec.batch
    text = {name: printed(problem, name) for name in ("X", "W1", "b1", "Y", "Z1", "A1", "loss")}
    grads = {name: printed(problem, name) for name in ("dZ1", "dW1", "db1")}
    w_rows, x_rows = _values(problem, "W1"), _values(problem, "X")
    products = [
        tuple(_exact_text(w_rows[0][i] * x_rows[i][b]) for b in range(batch)) for i in range(n)
    ]
    output = _output(problem)
    factor = problem.spec.factor
    shortcut = problem.spec.loss == "sigmoid_bce"
    da: tuple[str, ...] = ()
    if not shortcut:  # ∂L/∂a of ½Σ(a − y)², times 1/B for the mean
        a_row, y_row = _values(problem, "A1")[0], _values(problem, "Y")[0]
        da = tuple(_exact_text((a_row[b] - y_row[b]) * factor) for b in range(batch))
    dz_row = _row(grads["dZ1"], 0)

    # an entry's width on each edge, and each edge as long as its boxes with room either side
    x_texts = [_row(text["X"], i) for i in range(n)]
    w1 = _entry_width(*x_texts, text["W1"][0], grads["dW1"][0], text["b1"][0], grads["db1"][0])
    w2 = _entry_width(*products, dz_row)
    w3 = _entry_width(text["Z1"][0], dz_row)
    w4 = _entry_width(text["A1"][0], da)
    w5 = _entry_width(text["loss"][0], ("1",))
    first, second, third, fifth = w1 * batch, w2 * batch, w3 * batch, w5
    fourth = w4 * batch
    if shortcut:  # the note that ∂L/∂a is taken with the loss
        fourth = max(fourth, len(SHORTCUT) * 0.62 * NOTE)
    c0 = MARGIN + R
    seg1 = (c0 + R + PAD, c0 + R + PAD + first)
    x1 = seg1[1] + PAD + SLANT + R  # the products' column
    seg2 = (x1 + R + PAD, x1 + R + PAD + second)
    x2 = seg2[1] + PAD  # the sum's bar, left edge
    seg3 = (x2 + BAR + PAD, x2 + BAR + PAD + third)
    x3 = seg3[1] + PAD + R  # the activation
    seg4 = (x3 + R + PAD, x3 + R + PAD + fourth)
    x4 = seg4[1] + PAD + R  # the loss
    seg5 = (x4 + R + PAD, x4 + R + PAD + fifth)
    right = seg5[1] + PAD + 1.5

    nodes: list[Node] = []
    lines: list[tuple[tuple[tuple[float, float], ...], bool]] = []
    slots: list[Slot] = []
    notes: list[tuple[float, float, str, str]] = []
    # from an input's line to its weight's: room for the weight's box, and for both nodes
    lane = max(BOX_H + 2 * GAP + 0.8, 2 * R + 0.6)
    y = MARGIN + BOX_H + GAP  # the first x line

    def put(x0: float, x1_: float, y_line: float, above: Slot | None, below: Slot | None) -> None:
        """Centre the boxes above and below a horizontal edge between x0 and x1_."""
        for s, top in ((above, y_line - GAP - BOX_H), (below, y_line + GAP)):
            if s is not None:
                left = (x0 + x1_ - s.width * len(s.texts)) / 2
                slots.append(Slot(left, top, s.texts, s.role, s.tone, s.cell, s.index, s.width))

    def slot(
        texts: Sequence[str],
        role: str,
        tone: str,
        cell: str = "",
        index: Sequence[tuple[int, int]] = (),
        width: float | None = None,
    ) -> Slot:
        return Slot(
            0.0,
            0.0,
            tuple(texts),
            role,
            tone,
            cell,
            tuple(index),
            width if width is not None else _entry_width(texts),
        )

    mids = []
    for i in range(n):
        yx, yw = y, y + lane
        ym = (yx + yw) / 2
        mids.append(ym)
        label = subscript(f"x{i + 1}")
        nodes.append(Node(f"x{i + 1}", label, c0, yx, "activation"))
        nodes.append(Node(f"w{i + 1}", subscript(f"w{i + 1}"), c0, yw, "weight"))
        nodes.append(Node(f"times{i + 1}", "×", x1, ym, op=True))
        for yy in (yx, yw):
            lines.append(
                (((c0 + R, yy), (seg1[1] + PAD, yy), _toward((seg1[1] + PAD, yy), (x1, ym))), True)
            )
        put(*seg1, yx, slot(_row(text["X"], i), "given", "activation", width=w1), None)
        put(
            *seg1,
            yw,
            slot((text["W1"][0][i],), "given", "weight", width=w1),
            slot((grads["dW1"][0][i],), "answer", "derivative", "dW1", ((0, i),), w1),
        )
        lines.append((((x1 + R, ym), (x2, ym)), True))
        put(
            *seg2,
            ym,
            slot(products[i], "work", "activation", width=w2),
            slot(dz_row, "work", "derivative", width=w2),
        )
        y = yw + 2 * (BOX_H + GAP) + 1.8  # the next pair: its x box clear of this dW box
    yb = y
    nodes.append(Node("b", "b", c0, yb, "bias"))
    lines.append((((c0 + R, yb), (x2, yb)), True))
    put(
        *seg1,
        yb,
        slot(_row(text["b1"], 0), "given", "bias", width=w1),
        slot(_row(grads["db1"], 0), "answer", "derivative", "db1", ((0, 0),), w1),
    )
    top, bottom = mids[0] - R - 1.0, yb + R
    yc = (top + bottom) / 2
    nodes.append(Node("sum", "Σ", x2 + BAR / 2, top, op=True, height=bottom - top))
    batch_index = [(0, b) for b in range(batch)]
    lines.append((((x2 + BAR, yc), (x3 - R, yc)), True))
    put(
        *seg3,
        yc,
        slot(_row(text["Z1"], 0), "answer", "activation", "Z1", batch_index, w3),
        slot(dz_row, "answer", "derivative", "dZ1", batch_index, w3),
    )
    nodes.append(Node("activation", "σ" if output == "sigmoid" else "id", x3, yc, op=True))
    lines.append((((x3 + R, yc), (x4 - R, yc)), True))
    put(
        *seg4,
        yc,
        slot(_row(text["A1"], 0), "answer", "activation", "A1", batch_index, w4),
        slot(da, "work", "derivative", width=w4) if da else None,
    )
    if shortcut:
        notes.append(((seg4[0] + seg4[1]) / 2, yc + GAP + NOTE, SHORTCUT, "middle"))
    nodes.append(Node("loss", "L", x4, yc, op=True))
    lines.append((((x4 + R, yc), (seg5[1] + PAD, yc)), True))
    put(
        *seg5,
        yc,
        slot(_row(text["loss"], 0), "answer", "activation", "loss", ((0, 0),), w5),
        slot(("1",), "given", "derivative", width=w5),
    )
    # the target, from below into the loss, its values beside the line
    yy = yc + R + 2 * (GAP + BOX_H) + 1.0 + R
    nodes.append(Node("y", "y", x4, yy, "activation"))
    lines.append((((x4, yy - R), (x4, yc + R)), True))
    target = slot(_row(text["Y"], 0), "given", "activation")
    slots.append(
        Slot(
            x4 + 1.2,
            yy - R - GAP - BOX_H,
            target.texts,
            "given",
            "activation",
            width=target.width,
        )
    )
    scene = Scene(nodes, lines, slots, notes)
    scene.width = max(right, max(s.right for s in slots) + MARGIN)
    scene.height = max(yb + R + GAP + BOX_H, yy + R, bottom) + MARGIN
    return scene


def _toward(start: tuple[float, float], centre: tuple[float, float]) -> tuple[float, float]:
    """The point of the circle of radius R about ``centre`` on the way from ``start``."""
    dx, dy = centre[0] - start[0], centre[1] - start[1]
    d = (dx * dx + dy * dy) ** 0.5 or 1.0
    return centre[0] - dx / d * R, centre[1] - dy / d * R


def _f(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _size(v: float) -> str:
    """A type size (mm) rounded up, never below the size asked for."""
    return _f(math.ceil(v * 100) / 100)


def svg(scene: Scene, filled: bool, mono: bool = False) -> str:
    """The scene as an SVG element (mm), the key's entries written where ``filled``, in the
    colour roles or (``mono``) black and grey."""
    tones = MONO_TONES if mono else TONES
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="neuron-graph" style="display:block" '
        f'width="{_f(scene.width)}mm" height="{_f(scene.height)}mm" '
        f'viewBox="0 0 {_f(scene.width)} {_f(scene.height)}" role="img" '
        f'aria-label="{escape(TITLE)}">'
    ]
    for points, arrow in scene.lines:
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{_f(x)} {_f(y)}" for i, (x, y) in enumerate(points)
        )
        out.append(f'<path d="{path}" fill="none" stroke="{LINE}" stroke-width="0.3"/>')
        if arrow:
            out.append(_arrow(points[-2], points[-1]))
    for node in scene.nodes:
        out.append(_node(node, tones))
    for s in scene.slots:
        out.append(_slot(s, filled, tones, MONO_FILL if mono else FILL))
    for x, y, text, anchor in scene.notes:
        out.append(
            f'<text x="{_f(x)}" y="{_f(y)}" font-family="DejaVu Sans" '
            f'font-size="{_size(NOTE)}" font-style="italic" fill="{tones["derivative"][0]}" '
            f'text-anchor="{anchor}">{escape(text)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _arrow(a: tuple[float, float], b: tuple[float, float]) -> str:
    """An arrowhead at ``b`` pointing from ``a``."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    d = (dx * dx + dy * dy) ** 0.5 or 1.0
    ux, uy = dx / d, dy / d
    size, half = 1.6, 0.7
    base = (b[0] - ux * size, b[1] - uy * size)
    p1 = (base[0] - uy * half, base[1] + ux * half)
    p2 = (base[0] + uy * half, base[1] - ux * half)
    pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in (b, p1, p2))
    return f'<polygon points="{pts}" fill="{LINE}"/>'


def _node(node: Node, tones: dict[str, tuple[str, str]]) -> str:
    ink = tones[node.tone][0]
    fill = "#f1f2f4" if node.op else "#ffffff"
    label = escape(node.label)
    attrs = f'data-node="{escape(node.key)}"'
    if node.height:
        x0 = node.x - BAR / 2
        shape = (
            f'<rect x="{_f(x0)}" y="{_f(node.y)}" width="{_f(BAR)}" height="{_f(node.height)}" '
            f'rx="2" fill="{fill}" stroke="{INK}" stroke-width="0.35"/>'
        )
        cy = node.y + node.height / 2
    else:
        shape = (
            f'<circle cx="{_f(node.x)}" cy="{_f(node.y)}" r="{_f(R)}" fill="{fill}" '
            f'stroke="{INK if node.op else tones[node.tone][1]}" stroke-width="0.35"/>'
        )
        cy = node.y
    weight = ' font-weight="bold"' if node.op else ""
    text = (
        f'<text x="{_f(node.x)}" y="{_f(cy + NODE_TEXT * 0.36)}" font-family="DejaVu Sans" '
        f'font-size="{_size(NODE_TEXT)}" text-anchor="middle" fill="{ink}"{weight}>{label}</text>'
    )
    return f"<g {attrs}>{shape}{text}</g>"


def _slot(s: Slot, filled: bool, tones: dict[str, tuple[str, str]], fills: dict[str, str]) -> str:
    ink, line = tones[s.tone]
    width = s.width * len(s.texts)
    fill = fills["key"] if filled and s.role == "answer" else fills[s.role]
    dash = ' stroke-dasharray="0.3 0.7" stroke-linecap="round"' if s.role == "work" else ""
    stroke = "0.35" if s.role == "work" else "0.3"
    attrs = f' data-cell="{escape(s.cell)}"' if s.cell else ""
    attrs += f' data-role="{s.role}"'
    parts = [
        f"<g{attrs}>",
        f'<rect x="{_f(s.x)}" y="{_f(s.y)}" width="{_f(width)}" height="{_f(BOX_H)}" '
        f'rx="{0.8 if s.role == "given" else 0}" fill="{fill}" stroke="{line}" '
        f'stroke-width="{stroke}"{dash}/>',
    ]
    for k in range(1, len(s.texts)):
        x = s.x + k * s.width
        parts.append(
            f'<path d="M{_f(x)} {_f(s.y)}V{_f(s.y + BOX_H)}" stroke="{line}" '
            f'stroke-width="0.25"{dash}/>'
        )
    if s.role == "given" or filled:
        for k, t in enumerate(s.texts):
            x = s.x + (k + 1) * s.width - 0.8 * CHAR
            parts.append(
                f'<text x="{_f(x)}" y="{_f(s.y + BOX_H / 2 + ENTRY * 0.36)}" '
                f'font-family="DejaVu Sans Mono" font-size="{_size(ENTRY)}" text-anchor="end" '
                f'fill="{ink}">{escape(t.replace("-", MINUS))}</text>'
            )
    parts.append("</g>")
    return "".join(parts)
