"""The text pieces around the grids, each as high as its lines (measured with the fonts' own
widths, :mod:`handcalc.fonts`): the header, the conventions and the legend of the first page, a
section's numbered steps, the key's list of exact values, and the "Scratch work" left at the
bottom of a worksheet page."""

from __future__ import annotations

from .flow import SPACE, Flow, Piece
from .fonts import lines as text_lines
from .fonts import width as text_width
from .layout import Sheet

#: text sizes (pt) and line heights (mm) of the pieces around the grids
TEXT_PT, TEXT_LINE = 8.0, 3.4
HEADING_PT, HEADING_H = 10.0, 5.2
TITLE_H, IDENT_H = 6.0, 6.6
INDENT = 5.0
#: the least height worth a "Scratch work" box
SCRATCH_MIN = 14.0
RULE_SENTENCE = (
    "Exact values — a fraction or an exact decimal; never round, except where a table or the "
    "loss line says so."
)
LEGEND_STYLES = (
    ("given", "given"),
    ("answer", "fill in"),
    ("copy", "copy (Aᵀ)"),
    ("work", "working (f′)"),
)
LEGEND_TONES = (
    ("weight", "W weights"),
    ("bias", "b biases"),
    ("activation", "X Z A Y L activations"),
    ("derivative", "d… derivatives"),
)
LEGEND_KEY = "answer (filled)"


def steps_piece(lines: tuple[str, ...], width: float, beside: str | bool) -> Piece | None:
    """The numbered steps: as many columns as the longest line allows across the page, or one
    column as wide as its longest line (``beside``: at most half the page)."""
    if not lines:
        return None
    longest = max(text_width(line, TEXT_PT) for line in lines) + 2.0
    if beside:
        if longest > width * 0.6:
            return None
        return Piece("steps", 0.0, 0.0, longest, len(lines) * TEXT_LINE, lines=lines, columns=1)
    columns = max(1, min(3, int(width // longest)))
    rows = -(-len(lines) // columns)
    return Piece("steps", 0.0, 0.0, width, rows * TEXT_LINE, lines=lines, columns=columns)


def front(sheet: Sheet, width: float) -> list[Piece]:
    """The header, the conventions and the legend, each as high as its lines."""
    desc = text_lines(sheet.description, width, 8.5)
    header = Piece("header", 0.0, 0.0, width, TITLE_H + desc * 3.8 + IDENT_H)
    rules = (RULE_SENTENCE, *sheet.instructions)
    count = sum(text_lines(r, width - INDENT - 1.0, TEXT_PT) for r in rules)
    ruled = Piece("rules", 0.0, 0.0, width, count * TEXT_LINE + 0.3 * len(rules), lines=rules)
    count = legend_lines(width)
    legend = Piece("legend", 0.0, 0.0, width, count * 4.6, columns=count)
    return [header, ruled, legend]


def legend_lines(width: float) -> int:
    """One line for the box styles and one for the colours, or both on one where they fit."""
    styles = sum(text_width(t, TEXT_PT) + 8.2 for _, t in LEGEND_STYLES)
    tones = sum(text_width(t + ", ", TEXT_PT, "bold") for _, t in LEGEND_TONES)
    return 1 if styles + 4.0 + tones + 8.0 < width else 2


def exact(flow: Flow, sheet: Sheet) -> None:
    """The key's list of exact values, two columns, across as many pages as it needs."""
    heading = Piece("heading", 0.0, 0.0, flow.width, HEADING_H, text="Exact values")
    lines = tuple(f"{v.label} = {v.expression} ≈ {v.approx}" for v in sheet.exact)
    columns = 2 if max(text_width(t, TEXT_PT) for t in lines) < flow.width / 2 - 4 else 1
    flow.full(heading, keep=2 * TEXT_LINE)
    rest = lines
    while rest:
        room = int((flow.height - flow.bottom - SPACE) // TEXT_LINE) * columns
        if room < columns:
            flow.new_page()
            continue
        chunk, rest = rest[:room], rest[room:]
        rows = -(-len(chunk) // columns)
        flow.full(
            Piece("exact", 0.0, 0.0, flow.width, rows * TEXT_LINE, lines=chunk, columns=columns)
        )


def scratch(flow: Flow) -> None:
    """The room left at the bottom of each worksheet page, as "Scratch work"."""
    for page in flow.pages:
        if not page:
            continue
        bottom = max(p.y + p.height for p in page if p.kind != "scratch")
        for p in page:
            if p.kind == "grid" and p.grid is not None:
                bottom = max(bottom, p.y + p.grid.size[1])
        y = bottom + SPACE + 1.0
        if flow.height - y >= SCRATCH_MIN:
            page.append(Piece("scratch", 0.0, y, flow.width, flow.height - y - 0.5))
