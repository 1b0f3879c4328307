"""A sheet onto paper: which page each piece goes on and where, decided before WeasyPrint runs.

The layout (:mod:`handcalc.layout`) says where every block of a grid sits, in millimetres; this
module places the pieces of a sheet on pages of a given paper and orientation:

- the header, the conventions and the legend on the first page, each as high as its lines
  (measured with the fonts' own widths, :mod:`handcalc.fonts`);
- each section's heading with its numbered steps, kept with the section's first grid;
- the grids of the forward and backward passes at their staircase positions, each pulled up as far
  as the grids above leave room (so a layer's mask comes to stand beside the gradient it
  multiplies), never split: a grid that does not fit starts the next page (a backward grid is a
  layer's whole block, ``dZ``, ``dW | db`` and ``dA``);
- the lookup tables and the updates where they fit first, beside the staircase or below it;
- what is left at the bottom of a worksheet page becomes "Scratch work".

A net too wide for its paper as a staircase is laid out one layer at a time (each grid from the
left margin); ``auto`` orientation takes portrait or landscape, whichever needs fewer pages
(portrait on a tie). What cannot be printed at the sheet's type size on the paper is refused with
:class:`SheetTooLarge`, whose message the renderer completes with options that work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .errors import HandcalcError
from .fonts import lines as text_lines
from .fonts import width as text_width
from .layout import Grid, Section, Sheet, on_paper, shapes
from .measure import ENTRY_PT, ROW_MM

#: paper: CSS name and size (mm, portrait)
PAPERS = {
    "a4": ("A4", 210.0, 297.0),
    "letter": ("letter", 215.9, 279.4),
    "a3": ("A3", 297.0, 420.0),
}
ORIENTATIONS = ("auto", "portrait", "landscape")
#: page margins (top, right, bottom, left; mm), as sheet.css sets them; the footer sits below
MARGINS = (11.0, 13.0, 13.0, 13.0)
#: text sizes (pt) and line heights (mm) of the pieces around the grids
TEXT_PT, TEXT_LINE = 8.0, 3.4
HEADING_PT, HEADING_H = 10.0, 5.2
TITLE_H, IDENT_H = 6.0, 6.6
#: room between pieces: below a text piece, between grids, beside a float
SPACE, VGAP, HGAP = 1.6, 1.0, 3.5
INDENT = 5.0
#: the width allowed for a section's steps beside its grids, and the least room worth filling
STEPS_BESIDE = 80.0
ROOM = 40.0
#: what two lengths may differ by and still count as the same (mm)
EPS = 0.01
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


class SheetTooLarge(HandcalcError):
    """The sheet cannot be printed at its type size on the paper asked for."""


@dataclass(frozen=True)
class Piece:
    """One thing on a page at ``x``, ``y`` (mm from the top left of the printable area)."""

    kind: str  # header, rules, legend, heading, steps, grid, exact, scratch
    x: float
    y: float
    width: float
    height: float
    grid: Grid | None = None
    text: str = ""
    lines: tuple[str, ...] = ()
    columns: int = 1

    def split(self) -> list[tuple[float, str]]:
        """The lines in ``columns`` columns: each column's x offset (mm) and its lines."""
        rows = -(-len(self.lines) // self.columns)
        step = self.width / self.columns
        return [
            (i * step, "\n".join(self.lines[i * rows : (i + 1) * rows]))
            for i in range(self.columns)
            if self.lines[i * rows : (i + 1) * rows]
        ]


@dataclass(frozen=True)
class Page:
    pieces: tuple[Piece, ...]


@dataclass(frozen=True)
class Pages:
    """A sheet on paper: the pages, and the paper they are for."""

    paper: str
    orientation: str  # portrait or landscape
    width: float  # the printable area, mm
    height: float
    staircase: bool
    pages: tuple[Page, ...]

    @property
    def size(self) -> str:
        """The CSS page size: ``A4``, ``A3 landscape``."""
        name = PAPERS[self.paper][0]
        return name if self.orientation == "portrait" else f"{name} landscape"


def area(paper: str, orientation: str) -> tuple[float, float]:
    """The printable width and height (mm) of ``paper`` in ``orientation``."""
    _, w, h = PAPERS[paper]
    if orientation == "landscape":
        w, h = h, w
    top, right, bottom, left = MARGINS
    return w - left - right, h - top - bottom


def paginate(sheet: Sheet, paper: str, orientation: str = "auto", mode: str = "worksheet") -> Pages:
    """The pages of ``sheet`` (``mode`` worksheet or key) on ``paper``; ``orientation`` auto,
    portrait or landscape. Raises :class:`SheetTooLarge` where nothing fits."""
    if paper not in PAPERS:
        raise HandcalcError(f"paper: {paper!r} is not accepted; accepted: {', '.join(PAPERS)}")
    if orientation not in ORIENTATIONS:
        raise HandcalcError(
            f"orientation: {orientation!r} is not accepted; accepted: {', '.join(ORIENTATIONS)}"
        )
    arranged = _arranged(sheet, paper, orientation)
    flow = arranged.flow.copy()
    if mode == "key" and sheet.exact:
        _exact(flow, sheet)
    if mode == "worksheet":
        _scratch(flow)
    pages = tuple(Page(tuple(p)) for p in flow.pages if p)
    return Pages(paper, arranged.turn, flow.width, flow.height, arranged.staircase, pages)


@dataclass(frozen=True)
class _Arranged:
    turn: str
    staircase: bool
    flow: _Flow


#: the last sheet arranged, with its paper and orientation: a worksheet and its key (rendered one
#: after the other, from the same sheet) are arranged once
_LAST: list[tuple[Sheet, str, str, _Arranged]] = []


def _arranged(sheet: Sheet, paper: str, orientation: str) -> _Arranged:
    for cached, on, turned, found in _LAST:
        if cached is sheet and on == paper and turned == orientation:
            return found
    turns = ("portrait", "landscape") if orientation == "auto" else (orientation,)
    options: list[_Arranged] = []
    for turn in turns:
        # the staircase as by hand; one layer a page where the staircase is too wide, or where
        # that takes fewer pages (a small net's passes side by side on one page)
        staircase = _attempt(sheet, paper, turn, True)
        if staircase is not None:
            options.append(_Arranged(turn, True, staircase))
        if staircase is None or len(staircase.pages) > 1:
            one_layer = _attempt(sheet, paper, turn, False)
            if one_layer is not None:
                options.append(_Arranged(turn, False, one_layer))
        if staircase is not None or any(len(a.flow.pages) == 1 for a in options):
            break  # landscape is for a staircase too wide for portrait
    if not options:
        raise SheetTooLarge(_too_large(sheet, paper, turns))
    # the fewest pages; on a tie portrait (tried first)
    best = min(options, key=lambda a: len(a.flow.pages))
    _LAST[:] = [(sheet, paper, orientation, best)]
    return best


def fits(sheet: Sheet, paper: str, orientation: str = "auto") -> bool:
    """Whether ``sheet`` can be printed on ``paper``."""
    try:
        paginate(sheet, paper, orientation)
    except SheetTooLarge:
        return False
    return True


def _too_large(sheet: Sheet, paper: str, turns: Sequence[str]) -> str:
    """Why nothing fits: for each orientation, the grid that is too wide or too high."""
    grids = [on_paper(g) for g in sheet.grids]
    wide = max(grids, key=_own_width)
    tall = max(grids, key=lambda g: g.size[1])
    reasons = []
    for turn in turns:
        width, height = area(paper, turn)
        if _own_width(wide) > width + 0.01:
            reasons.append(
                f"in {turn}, the {wide.phase} grid of layer {wide.layer} needs "
                f"{_own_width(wide):.0f} mm across (entries at {ENTRY_PT:g} pt, one layer a "
                f"page) and the paper has {width:.0f} mm"
            )
        elif tall.size[1] > height + 0.01:
            reasons.append(
                f"in {turn}, the {tall.phase} grid of layer {tall.layer} is {tall.size[1]:.0f} mm "
                f"high (rows of {ROW_MM:g} mm) and the paper has {height:.0f} mm"
            )
    return f"the sheet does not fit on {PAPERS[paper][0]}: " + "; ".join(reasons)


def _own_width(grid: Grid) -> float:
    """A grid's width laid out on its own (one layer a page): its staircase offset dropped."""
    xs = shapes(grid)
    return max(x1 for _, _, x1, _ in xs) - min(x0 for x0, _, _, _ in xs) if xs else 0.0


# --- one attempt: a paper, an orientation, staircase or not --------------------------------------


@dataclass
class _Flow:
    """Pages being filled: the pieces of each page and, on the current one, the rectangles taken."""

    width: float
    height: float
    pages: list[list[Piece]] = field(default_factory=lambda: [[]])
    taken: list[tuple[float, float, float, float]] = field(default_factory=list)
    #: nothing goes above this on the current page (the last full-width piece's bottom)
    floor: float = 0.0
    #: each grid's shapes, by its id (shared by copies: the grids outlive the arrangement)
    known: dict[int, list[tuple[float, float, float, float]]] = field(default_factory=dict)

    def copy(self) -> _Flow:
        return _Flow(
            self.width,
            self.height,
            [list(p) for p in self.pages],
            list(self.taken),
            self.floor,
            self.known,
        )

    def shapes(self, grid: Grid) -> list[tuple[float, float, float, float]]:
        found = self.known.get(id(grid))
        if found is None:
            found = self.known[id(grid)] = shapes(grid)
        return found

    @property
    def bottom(self) -> float:
        return max((y1 for _, _, _, y1 in self.taken), default=0.0)

    def new_page(self) -> None:
        self.pages.append([])
        self.taken, self.floor = [], 0.0

    def put(self, piece: Piece, rects: Sequence[tuple[float, float, float, float]] = ()) -> None:
        self.pages[-1].append(piece)
        x, y = piece.x, piece.y
        if rects:
            self.taken += [(x + a, y + b, x + c, y + d) for a, b, c, d in rects]
        else:
            self.taken.append((x, y, x + piece.width, y + piece.height))

    def full(self, piece: Piece, keep: float = 0.0) -> None:
        """A piece across the page, below everything so far (with ``keep`` mm more after it on
        the same page, else it starts the next page)."""
        y = self.bottom + (SPACE if self.taken else 0.0)
        if y + piece.height + keep > self.height and self.taken:
            self.new_page()
            y = 0.0
        self.put(replace(piece, y=y))
        self.floor = y + piece.height + SPACE

    def lowest(
        self, rects: Sequence[tuple[float, float, float, float]], x: float, floor: float
    ) -> float:
        """The least y at which ``rects`` (relative to x, 0) can stand at ``x``, at or below
        ``floor``, clear of everything taken (VGAP apart)."""
        y = floor
        left = x + min(a for a, _, _, _ in rects)
        right = x + max(c for _, _, c, _ in rects)
        # (rectangles that only touch do not collide: a glyph fills the gap between two blocks)
        near = [
            (p0 + EPS, p1 - EPS, q1 + VGAP)
            for p0, _, p1, q1 in self.taken
            if p0 < right - EPS and left < p1 - EPS
        ]
        for a, b, c, _ in rects:
            for p0, p1, q in near:
                if x + a < p1 and p0 < x + c and q - b > y:
                    y = q - b
        return y

    def grid(self, grid: Grid, x: float, floor: float | None = None) -> Piece:
        """A grid at ``x``, as high as it fits; on the next page if it does not."""
        rects = self.shapes(grid)
        h = grid.size[1]
        y = self.lowest(rects, x, self.floor if floor is None else floor)
        if y + h > self.height:
            self.new_page()
            y = self.lowest(rects, x, 0.0)
        piece = Piece("grid", x, y, grid.size[0], h, grid)
        self.put(piece, rects)
        return piece

    def spot(self, w: float, h: float, floor: float) -> tuple[float, float] | None:
        """Where a ``w`` × ``h`` rectangle stands highest (then furthest left) on this page, at or
        below ``floor``; None where it does not fit."""
        xs = {0.0, round(self.width - w, 1)}
        xs |= {round(p1 + HGAP, 1) for _, _, p1, _ in self.taken if p1 + HGAP + w <= self.width}
        taken = [(p0 + EPS, p1 - EPS, q1 + VGAP) for p0, _, p1, q1 in self.taken]
        best: tuple[float, float] | None = None
        for x in sorted(xs):
            if x < 0 or x + w > self.width + 0.01:
                continue
            y = max([floor, *(q for p0, p1, q in taken if x < p1 and p0 < x + w)])
            if y + h <= self.height and (best is None or y < best[1] - 0.01):
                best = (x, y)
        return best

    def float(self, grid: Grid, floor: float) -> Piece:
        """A grid where it stands highest (then furthest left), at or below ``floor``; on the
        next page if it fits nowhere on this one."""
        w, h = grid.size
        spot = self.spot(w, h, floor)
        if spot is None:
            self.new_page()
            spot = self.spot(w, h, 0.0) or (0.0, 0.0)
        piece = Piece("grid", spot[0], spot[1], w, h, grid)
        self.put(piece)
        return piece


def _attempt(sheet: Sheet, paper: str, turn: str, staircase: bool) -> _Flow | None:
    """The sheet on this paper: with each update beside its gradient where that fits and takes
    no more pages, else with the updates in a section of their own; None where a grid does not
    fit the page."""
    separate = _attempt_with(sheet, sheet.sections, paper, turn, staircase)
    if sheet.updating is None or len(sheet.sections) < 3:
        return separate
    sections = (sheet.sections[0], sheet.updating, *sheet.sections[3:])
    merged = _attempt_with(sheet, sections, paper, turn, staircase)
    if merged is None or (separate is not None and _worse(merged, separate)):
        return separate
    return merged


def _worse(a: _Flow, b: _Flow) -> bool:
    return (len(a.pages), a.bottom) > (len(b.pages), b.bottom)


def _attempt_with(
    sheet: Sheet, sections: Sequence[Section], paper: str, turn: str, staircase: bool
) -> _Flow | None:
    width, height = area(paper, turn)
    grids = {g.key: _placed(g, staircase) for s in sections for g in s.grids}
    if any(g.size[0] > width + 0.01 or g.size[1] > height + 0.01 for g in grids.values()):
        return None
    flow = _Flow(width, height)
    for piece in _front(sheet, width):
        flow.full(piece)
    owned = [(s, [grids[g.key] for g in s.grids]) for s in sections if s.grids]
    best = _sequence(flow.copy(), owned)
    if len(owned) >= 2 and not owned[0][0].inline and not owned[1][0].inline:
        beside = _columns(flow.copy(), owned)
        if beside is not None and _worse(best, beside):
            best = beside
    return best


def _sequence(flow: _Flow, owned: list[tuple[Section, list[Grid]]], since: float = 0.0) -> _Flow:
    """The sections one after the other, each where it fits best (:func:`_best`)."""
    at = (len(flow.pages), since)  # where the previous section began: its page and y
    for section, own in owned:
        floor = at[1] if at[0] == len(flow.pages) else 0.0
        page, count = len(flow.pages), len(flow.pages[-1])
        flow = _best(flow, section, own, floor)
        new = flow.pages[page - 1][count:] if len(flow.pages[page - 1]) > count else []
        at = (page, min(p.y for p in new)) if new else (len(flow.pages), 0.0)
    return flow


def _columns(flow: _Flow, owned: list[tuple[Section, list[Grid]]]) -> _Flow | None:
    """A small net: the first two sections (forward, backward) side by side as two columns,
    each as narrow as its widest grid, the rest after them; None where they do not fit."""
    top = flow.floor
    x = 0.0
    placed = []
    for section, own in owned[:2]:
        widest = max(g.size[0] for g in own)
        if section.steps and max(text_width(t, TEXT_PT) for t in section.steps) + 2 > widest:
            return None  # the steps would not fit the column
        column = _Flow(widest, flow.height - top, known=flow.known)
        local = _section_with(column, section, own, "")
        if local is None or len(local.pages) > 1:
            return None
        pieces = local.pages[0]
        w = max(p.x + p.width for p in pieces)
        if x + w > flow.width + 0.01:
            return None
        placed.append([replace(p, x=p.x + x, y=p.y + top) for p in pieces])
        x += w + HGAP
    for pieces in placed:
        for piece in pieces:
            flow.put(piece, flow.shapes(piece.grid) if piece.grid is not None else ())
    return _sequence(flow, owned[2:], top)


_PLACED: dict[tuple[int, bool], tuple[Grid, Grid]] = {}


def _placed(grid: Grid, staircase: bool) -> Grid:
    """:func:`_place` kept for the grid (by id; the grid is kept too, so the id stays its own)."""
    found = _PLACED.get((id(grid), staircase))
    if found is None or found[0] is not grid:
        if len(_PLACED) > 512:
            _PLACED.clear()
        found = _PLACED[(id(grid), staircase)] = (grid, _place(on_paper(grid), staircase))
    return found[1]


def _place(grid: Grid, staircase: bool) -> Grid:
    """``grid`` as placed: at its staircase x, or (one layer a page) from the left margin; a table
    or an update always from the left (it floats)."""
    if staircase and grid.phase in ("forward", "backward"):
        return grid
    rects = shapes(grid)
    left = min((x0 for x0, _, _, _ in rects), default=0.0)
    blocks = tuple(
        replace(b, box=replace(b.box, x=round(b.box.x - left, 3))) if b.box else b
        for b in grid.blocks
    )
    marks = tuple(replace(k, x=round(k.x - left, 3)) for k in grid.marks)
    right = max(x1 for _, _, x1, _ in rects) - left
    return replace(grid, blocks=blocks, marks=marks, size=(round(right, 3), grid.size[1]))


def _section(flow: _Flow, section: Section, own: list[Grid]) -> _Flow:
    """A section's heading, steps and grids: the steps across the page above the grids, or in
    the room the grids leave (beside a staircase), whichever takes fewer pages and ends higher;
    the heading never stays behind on a page without the section's first grid."""
    options = []
    for fresh in (False, True):
        for beside in ("", "early", "late"):
            start = flow.copy()
            if fresh:
                if not start.taken:
                    continue
                start.new_page()
            placed = _section_with(start, section, own, beside)
            if placed is not None:
                options.append(placed)
        if options:
            break
    if not options:  # a first grid as high as a page: its heading on the page before
        options.append(_section_with(flow.copy(), section, own, "", alone=True) or flow)
    return min(options, key=lambda f: (len(f.pages), f.bottom))


def _section_with(
    flow: _Flow, section: Section, grids: list[Grid], beside: str, alone: bool = False
) -> _Flow | None:
    """The section with its steps across the page above the grids (``beside`` ""), or where
    they fit first once its first grid (``"early"``) or all its grids (``"late"``) stand;
    None where the heading would stay behind on a page without the first grid."""
    heading = Piece("heading", 0.0, 0.0, flow.width, HEADING_H, text=section.title)
    steps = _steps(section.steps, flow.width, beside)
    if beside and steps is None:
        return None
    first = 0.0 if alone else grids[0].size[1]
    if steps is not None and not beside:
        flow.full(heading, keep=steps.height + SPACE + first)
        flow.full(steps, keep=first)
    else:
        flow.full(heading, keep=first)
    page, top = len(flow.pages), flow.floor
    start = (page, top)
    previous = top  # grids keep their reading order: none starts above the one before
    for i, grid in enumerate(grids):
        if len(flow.pages) > page:  # the section went on to another page
            page, top, previous = len(flow.pages), 0.0, 0.0
        if section.inline or grid.phase not in ("forward", "backward"):
            # a table or an update where it fits first after the heading
            piece = flow.float(grid, top)
        else:
            piece = flow.grid(grid, 0.0, previous)
        if i == 0 and len(flow.pages) > start[0] and not alone:
            return None  # the heading would stay behind
        previous = piece.y
        if (
            steps is not None
            and beside == "early"
            and i == 0
            and not _put_steps(flow, steps, start)
        ):
            return None
    if steps is not None and beside == "late" and not _put_steps(flow, steps, start):
        return None
    return flow


def _put_steps(flow: _Flow, steps: Piece, start: tuple[int, float]) -> bool:
    """The steps in the room the grids leave: the highest spot after the heading, on its page."""
    spot = flow.spot(steps.width, steps.height, start[1]) if len(flow.pages) == start[0] else None
    if spot is not None:
        flow.put(replace(steps, x=spot[0], y=spot[1]))
    return spot is not None


def _best(flow: _Flow, section: Section, own: list[Grid], floor: float) -> _Flow:
    """The section flowing down the page (:func:`_section`), or as one block where it stands
    highest at or below ``floor`` (beside the section before, where there is room), whichever
    takes fewer pages and ends higher."""
    options = [_section(flow.copy(), section, own)]
    widest = max(g.size[0] for g in own)
    if not section.inline and widest + HGAP + ROOM > flow.width:
        return options[0]  # nothing would stand beside it
    widths = {widest, min(flow.width, widest + HGAP + STEPS_BESIDE)}
    for width in sorted(widths | {flow.width} if section.inline else widths):
        for beside in ("", "late"):
            fresh = _Flow(width, flow.height, known=flow.known)
            local = _section_with(fresh, section, own, beside)
            if local is None or len(local.pages) > 1 or not local.pages[0]:
                continue
            pieces = local.pages[0]
            w = max(p.x + p.width for p in pieces)
            h = max(p.y + p.height for p in pieces)
            spot = flow.spot(w, h, floor)
            if spot is None:
                continue
            placed = flow.copy()
            for piece in pieces:
                moved = replace(piece, x=piece.x + spot[0], y=piece.y + spot[1])
                placed.put(moved, placed.shapes(piece.grid) if piece.grid is not None else ())
            options.append(placed)
    return min(options, key=lambda f: (len(f.pages), f.bottom))


def _steps(lines: tuple[str, ...], width: float, beside: str | bool) -> Piece | None:
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


def _front(sheet: Sheet, width: float) -> list[Piece]:
    """The header, the conventions and the legend, each as high as its lines."""
    desc = text_lines(sheet.description, width, 8.5)
    header = Piece("header", 0.0, 0.0, width, TITLE_H + desc * 3.8 + IDENT_H)
    rules = (RULE_SENTENCE, *sheet.instructions)
    count = sum(text_lines(r, width - INDENT - 1.0, TEXT_PT) for r in rules)
    ruled = Piece("rules", 0.0, 0.0, width, count * TEXT_LINE + 0.3 * len(rules), lines=rules)
    count = _legend_lines(width)
    legend = Piece("legend", 0.0, 0.0, width, count * 4.6, columns=count)
    return [header, ruled, legend]


def _legend_lines(width: float) -> int:
    """One line for the box styles and one for the colours, or both on one where they fit."""
    styles = sum(text_width(t, TEXT_PT) + 8.2 for _, t in LEGEND_STYLES)
    tones = sum(text_width(t + ", ", TEXT_PT, "bold") for _, t in LEGEND_TONES)
    return 1 if styles + 4.0 + tones + 8.0 < width else 2


def _exact(flow: _Flow, sheet: Sheet) -> None:
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


def _scratch(flow: _Flow) -> None:
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
