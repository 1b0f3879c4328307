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

This module decides the arrangement; :mod:`handcalc.flow` is the page-filling machinery it uses
(papers, pieces, free room) and :mod:`handcalc.front` makes the text pieces around the grids.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from .errors import HandcalcError
from .flow import (
    EPS,
    HGAP,
    MARGINS,
    ORIENTATIONS,
    PAPERS,
    SPACE,
    VGAP,
    Flow,
    Page,
    Pages,
    Piece,
    area,
)
from .fonts import width as text_width
from .front import (
    HEADING_H,
    HEADING_PT,
    LEGEND_KEY,
    LEGEND_STYLES,
    LEGEND_TONES,
    RULE_SENTENCE,
    TEXT_PT,
    exact,
    front,
    scratch,
    steps_piece,
)
from .layout import Grid, Section, Sheet, on_paper, shapes
from .measure import ENTRY_PT, ROW_MM

#: the width allowed for a section's steps beside its grids, and the least room worth filling
STEPS_BESIDE = 80.0
ROOM = 40.0


class SheetTooLarge(HandcalcError):
    """The sheet cannot be printed at its type size on the paper asked for."""


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
        exact(flow, sheet)
    if mode == "worksheet":
        scratch(flow)
    pages = tuple(Page(tuple(p)) for p in flow.pages if p)
    return Pages(paper, arranged.turn, flow.width, flow.height, arranged.staircase, pages)


@dataclass(frozen=True)
class _Arranged:
    turn: str
    staircase: bool
    flow: Flow


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
        drawn = [f for f in sheet.figures if f.width > width + EPS or f.height > height + EPS]
        if drawn:
            reasons.append(
                f"in {turn}, the drawing is {drawn[0].width:.0f} × {drawn[0].height:.0f} mm and "
                f"the paper has {width:.0f} × {height:.0f} mm"
            )
        elif _own_width(wide) > width + 0.01:
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


def _attempt(sheet: Sheet, paper: str, turn: str, staircase: bool) -> Flow | None:
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


def _worse(a: Flow, b: Flow) -> bool:
    return (len(a.pages), a.bottom) > (len(b.pages), b.bottom)


def _attempt_with(
    sheet: Sheet, sections: Sequence[Section], paper: str, turn: str, staircase: bool
) -> Flow | None:
    width, height = area(paper, turn)
    grids = {g.key: _placed(g, staircase) for s in sections for g in s.grids}
    if any(g.size[0] > width + 0.01 or g.size[1] > height + 0.01 for g in grids.values()):
        return None
    flow = Flow(width, height)
    for piece in front(sheet, width):
        flow.full(piece)
    for figure in sheet.figures:  # a drawing with its heading, kept together, never split
        if figure.width > width + EPS or HEADING_H + SPACE + figure.height > height + EPS:
            return None
        across = max(figure.width, text_width(figure.title, HEADING_PT, "bold") + 1.0)
        heading = Piece("heading", 0.0, 0.0, min(across, width), HEADING_H, text=figure.title)
        flow.full(heading, keep=SPACE + figure.height)
        flow.full(Piece("figure", 0.0, 0.0, figure.width, figure.height, figure=figure))
    owned = [(s, [grids[g.key] for g in s.grids]) for s in sections if s.grids]
    best = _sequence(flow.copy(), owned)
    if len(owned) >= 2 and not owned[0][0].inline and not owned[1][0].inline:
        beside = _columns(flow.copy(), owned)
        if beside is not None and _worse(best, beside):
            best = beside
    return best


def _sequence(flow: Flow, owned: list[tuple[Section, list[Grid]]], since: float = 0.0) -> Flow:
    """The sections one after the other, each where it fits best (:func:`_best`)."""
    at = (len(flow.pages), since)  # where the previous section began: its page and y
    for section, own in owned:
        floor = at[1] if at[0] == len(flow.pages) else 0.0
        page, count = len(flow.pages), len(flow.pages[-1])
        flow = _best(flow, section, own, floor)
        new = flow.pages[page - 1][count:] if len(flow.pages[page - 1]) > count else []
        at = (page, min(p.y for p in new)) if new else (len(flow.pages), 0.0)
    return flow


def _columns(flow: Flow, owned: list[tuple[Section, list[Grid]]]) -> Flow | None:
    """A small net: the first two sections (forward, backward) side by side as two columns,
    each as narrow as its widest grid, the rest after them; None where they do not fit."""
    top = flow.floor
    x = 0.0
    placed = []
    for section, own in owned[:2]:
        widest = max(g.size[0] for g in own)
        if section.steps and max(text_width(t, TEXT_PT) for t in section.steps) + 2 > widest:
            return None  # the steps would not fit the column
        column = Flow(widest, flow.height - top, known=flow.known)
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


def _section(flow: Flow, section: Section, own: list[Grid]) -> Flow:
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
    flow: Flow, section: Section, grids: list[Grid], beside: str, alone: bool = False
) -> Flow | None:
    """The section with its steps across the page above the grids (``beside`` ""), or where
    they fit first once its first grid (``"early"``) or all its grids (``"late"``) stand;
    None where the heading would stay behind on a page without the first grid."""
    heading = Piece("heading", 0.0, 0.0, flow.width, HEADING_H, text=section.title)
    steps = steps_piece(section.steps, flow.width, beside)
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


def _put_steps(flow: Flow, steps: Piece, start: tuple[int, float]) -> bool:
    """The steps in the room the grids leave: the highest spot after the heading, on its page."""
    spot = flow.spot(steps.width, steps.height, start[1]) if len(flow.pages) == start[0] else None
    if spot is not None:
        flow.put(replace(steps, x=spot[0], y=spot[1]))
    return spot is not None


def _best(flow: Flow, section: Section, own: list[Grid], floor: float) -> Flow:
    """The section flowing down the page (:func:`_section`), or as one block where it stands
    highest at or below ``floor`` (beside the section before, where there is room), whichever
    takes fewer pages and ends higher."""
    options = [_section(flow.copy(), section, own)]
    widest = max(g.size[0] for g in own)
    if not section.inline and widest + HGAP + ROOM > flow.width:
        return options[0]  # nothing would stand beside it
    widths = {widest, min(flow.width, widest + HGAP + STEPS_BESIDE)}
    # a section's heading and steps fit the block it floats as (else they run into what stands
    # beside it, or past the page)
    title = text_width(section.title, HEADING_PT, "bold")
    across = max((text_width(t, TEXT_PT) + 2.0 for t in section.steps), default=0.0)
    for width in sorted(widths | {flow.width} if section.inline else widths):
        if title > width + EPS:
            continue  # the heading would run into what stands beside the block
        for beside in ("", "late"):
            if not beside and across > width + EPS:
                continue  # the steps across the block would run past it
            fresh = Flow(width, flow.height, known=flow.known)
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


__all__ = [
    "EPS",
    "HGAP",
    "LEGEND_KEY",
    "LEGEND_STYLES",
    "LEGEND_TONES",
    "MARGINS",
    "ORIENTATIONS",
    "PAPERS",
    "RULE_SENTENCE",
    "VGAP",
    "Page",
    "Pages",
    "Piece",
    "SheetTooLarge",
    "area",
    "fits",
    "paginate",
]
