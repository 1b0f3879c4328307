"""Pages being filled: the paper, the pieces placed on each page, and the free room left.

:class:`Flow` is the machinery :mod:`handcalc.pages` arranges a sheet with — a piece across the
page, a grid as high as the pieces above leave room, a float where it stands highest — and
:class:`Pages` what it hands the templates: each page's pieces in mm on a paper.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .layout import Figure, Grid, shapes

#: paper: CSS name and size (mm, portrait)
PAPERS = {
    "a4": ("A4", 210.0, 297.0),
    "letter": ("letter", 215.9, 279.4),
    "a3": ("A3", 297.0, 420.0),
}
ORIENTATIONS = ("auto", "portrait", "landscape")
#: page margins (top, right, bottom, left; mm), as sheet.css sets them; the footer sits below
MARGINS = (11.0, 13.0, 13.0, 13.0)
#: room between pieces: below a text piece, between grids, beside a float
SPACE, VGAP, HGAP = 1.6, 1.0, 3.5
#: what two lengths may differ by and still count as the same (mm)
EPS = 0.01


@dataclass(frozen=True)
class Piece:
    """One thing on a page at ``x``, ``y`` (mm from the top left of the printable area)."""

    kind: str  # header, rules, legend, heading, steps, grid, figure, exact, scratch
    x: float
    y: float
    width: float
    height: float
    grid: Grid | None = None
    figure: Figure | None = None
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


@dataclass
class Flow:
    """Pages being filled: the pieces of each page and, on the current one, the rectangles taken."""

    width: float
    height: float
    pages: list[list[Piece]] = field(default_factory=lambda: [[]])
    taken: list[tuple[float, float, float, float]] = field(default_factory=list)
    #: nothing goes above this on the current page (the last full-width piece's bottom)
    floor: float = 0.0
    #: each grid's shapes, by its id (shared by copies: the grids outlive the arrangement)
    known: dict[int, list[tuple[float, float, float, float]]] = field(default_factory=dict)

    def copy(self) -> Flow:
        return Flow(
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
