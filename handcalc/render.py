"""Worksheets, answer keys and worked solutions: the layout model through Jinja2, then WeasyPrint.

``render_html`` and ``render_pdf`` are the API; ``template_loader`` and ``grid_css`` let another
application (the grading service) render the same grid partial in its own pages.
"""

from __future__ import annotations

import datetime
import threading
from functools import lru_cache
from importlib.resources import files
from typing import Any

import jinja2

from .cells import field_name
from .errors import HandcalcError
from .graph import PHASES
from .layout import Sheet, build_sheet, on_paper
from .layout.model import FILL, MONO_FILL, MONO_TONES, TONES
from .pages import (
    LEGEND_STYLES,
    LEGEND_TONES,
    ORIENTATIONS,
    PAPERS,
    SheetTooLarge,
    fits,
    paginate,
)
from .problem import Problem
from .verify import verification_code

MODES = ("worksheet", "key", "solutions")
HEADINGS = {"worksheet": "worksheet", "key": "answer key", "solutions": "worked solutions"}
#: the line height of a label over its block, and how far its top sits above the block (mm)
LABEL_LINE, LABEL_RISE = 3.4, 3.75


def templates_dir() -> Any:
    """The templates, found the same way in a checkout and in an installed wheel."""
    return files("handcalc.templates")


def template_loader() -> jinja2.BaseLoader:
    """A Jinja loader for handcalc's templates (``{% from "_grid.html" import grid %}``)."""
    return jinja2.FileSystemLoader(str(templates_dir()))


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=template_loader(), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )
    env.globals["field_name"] = field_name  # a form's entry names, written in one place
    return env


@lru_cache(maxsize=4)
def _css(name: str) -> str:
    return templates_dir().joinpath(name).read_text(encoding="utf-8")


def grid_css() -> str:
    """The CSS the grid partial needs (cells, boxes, marks), to inline in another page."""
    return _css("grid.css")


def render_html(
    problem: Problem,
    mode: str = "worksheet",
    paper: str = "a4",
    *,
    secret: str | bytes | None = None,
    date: str | datetime.date | None = None,
    sheet: Sheet | None = None,
    orientation: str = "auto",
    mono: bool = False,
    student: tuple[str, str] | None = None,
) -> str:
    """A printable HTML page: ``mode`` is worksheet, key or solutions; ``paper`` a4, letter or
    a3; ``orientation`` auto (portrait or landscape, whichever takes fewer pages), portrait or
    landscape; ``mono`` prints the colour roles in black and grey (for photocopiers).

    The page carries the problem's verification code (HMAC with ``secret``, else the environment's
    ``HANDCALC_SECRET_KEY``), ``date`` (today unless given) and, with ``student`` (name, ID), the
    student's name and ID on its Name and ID lines. Its CSS is inline: the page stands
    alone. A sheet that cannot be printed on ``paper`` raises :class:`HandcalcError` naming the
    options that work.
    """
    html, _ = _page(problem, mode, paper, secret, date, sheet, True, orientation, mono, student)
    return html


def _page(
    problem: Problem,
    mode: str,
    paper: str,
    secret: str | bytes | None,
    date: str | datetime.date | None,
    sheet: Sheet | None,
    inline_css: bool,
    orientation: str = "auto",
    mono: bool = False,
    student: tuple[str, str] | None = None,
) -> tuple[str, str]:
    """The page's HTML, and its CSS page size (``A4``, ``A3 landscape``)."""
    if mode not in MODES:
        raise HandcalcError(f"mode: {mode!r} is not accepted; accepted: {', '.join(MODES)}")
    if paper not in PAPERS:
        raise HandcalcError(f"paper: {paper!r} is not accepted; accepted: {', '.join(PAPERS)}")
    if orientation not in ORIENTATIONS:
        raise HandcalcError(
            f"orientation: {orientation!r} is not accepted; accepted: {', '.join(ORIENTATIONS)}"
        )
    sheet = sheet or build_sheet(problem)
    when = date or datetime.date.today()
    code = verification_code(problem, secret)
    context: dict[str, Any] = {
        "sheet": sheet,
        "mode": mode,
        "mono": mono,
        "title": f"{sheet.title} — {HEADINGS[mode]} ({code})",
        "heading": HEADINGS[mode],
        "code": code,
        "date": when.isoformat() if isinstance(when, datetime.date) else str(when),
        #: the student's (name, ID) printed on the Name and ID lines (a class's batch), or None
        "student": student,
    }
    if mode == "solutions":
        from .explain import worked_solutions

        size = PAPERS[paper][0]
        context.update(
            worked=worked_solutions(problem),
            phases=PHASES,
            css=page_css(size) if inline_css else "",
        )
        return environment().get_template("solutions.html").render(context), size
    try:
        pages = paginate(sheet, paper, orientation, mode)
    except SheetTooLarge as e:
        raise SheetTooLarge(f"{e}; {advice(problem, paper, orientation)}") from None
    context.update(
        pages=pages,
        css=page_css(pages.size) if inline_css else "",
        rise=LABEL_RISE,
        label_line=LABEL_LINE,
        legend_styles=LEGEND_STYLES,
        legend_tones=LEGEND_TONES,
        ruled=ruled if RULED else None,
    )
    return environment().get_template("worksheet.html").render(context), pages.size


def advice(problem: Problem, paper: str, orientation: str = "auto") -> str:
    """What makes ``problem``'s sheet printable: another paper or orientation, then (for a
    generated problem) smaller numbers or a smaller batch, each tried on the same seed."""
    sheet = build_sheet(problem)
    works: list[str] = []
    if orientation != "auto" and fits(sheet, paper):
        works.append("--orientation auto")
    for other in ("a3",):
        if other != paper and fits(sheet, other):
            works.append(f"--paper {other}")
    if problem.seed is not None and problem.kind == "mlp":
        works += _smaller(problem, paper, orientation)
    if not works:
        return "no paper, orientation or smaller option prints it: use fewer units or samples"
    return "options that work: " + "; or ".join(works)


def _smaller(problem: Problem, paper: str, orientation: str) -> list[str]:
    """Smaller ranges or batches that print on ``paper`` with the same seed (the first of each)."""
    from .api import generate

    spec = problem.spec
    tries: list[tuple[str, dict[str, Any]]] = []
    for most in (2, 1):
        if spec.weight_max > most or spec.input_max > most:
            tries.append(
                (f"--weight-max {most} --input-max {most}", {"weight_max": most, "input_max": most})
            )
    for batch in sorted({spec.batch // 2, 2} - {0}, reverse=True):
        if batch < spec.batch:
            tries.append((f"--batch {batch}", {"batch": batch}))
    found = []
    for text, change in tries:
        try:
            options = {**spec_options(spec), **change}
            candidate = generate(problem.kind, problem.seed, **options)
        except HandcalcError:
            continue
        if fits(build_sheet(candidate), paper, orientation):
            found.append(text)
            if len(found) == 2:
                break
    return found


def spec_options(spec: Any) -> dict[str, Any]:
    """A spec as the keyword options ``generate`` takes (what the spec's JSON holds)."""
    return dict(spec.to_dict())


def page_css(size: str) -> str:
    """All the CSS of a printed sheet on paper of CSS ``size`` (``A4``, ``A3 landscape``; the
    paper names of :data:`PAPERS` are accepted too)."""
    if size in PAPERS:
        size = PAPERS[size][0]
    return f"@page {{ size: {size}; }}\n{_css('sheet.css')}\n{_css('boxes.css')}\n{box_css()}"


@lru_cache(maxsize=1)
def box_css() -> str:
    """The boxes of print grids and the legend: the drawing of each role (solid, dashed or
    dotted lines) in each colour role, and the fills; in black and greys under ``.mono``."""
    out = []
    for role, dash in (("answer", ""), ("copy", "1.6 1.1"), ("work", "0.2 1.1")):
        for tone, (_, line) in TONES.items():
            out.append(f".b.{role}.t-{tone} {{ background-image: url({_tile(line, dash)}); }}")
        out.append(f".mono .b.{role} {{ background-image: url({_tile(MONO_LINE, dash)}); }}")
    for tone, (ink, line) in TONES.items():
        out.append(f".t-{tone} {{ color: {ink}; border-color: {line}; }}")
    mono = ", ".join(f".mono .t-{tone}" for tone in TONES)
    out.append(f"{mono} {{ color: {MONO_INK}; border-color: {MONO_LINE}; }}")
    for fill, body in ((FILL, ""), (MONO_FILL, ".mono")):
        out.append(f"{body} .b.given {{ background-color: {fill['given']}; }}")
        out.append(f"{body} .b.work {{ background-color: {fill['work']}; }}")
        out.append(f"{body}.key .b.answer {{ background-color: {fill['key']}; }}")
    return "\n".join(out)


#: the black ink and grey line of ``--mono`` (the photocopier's roles)
MONO_INK, MONO_LINE = MONO_TONES["none"]
#: an answer block's right and bottom border (boxes.css), and the share of an entry's side its
#: tile's line covers (stroke 0.5 of a 10-unit tile, centred on the edge: half of it inside)
RULE_MM, TILE_LINE = 0.25, 0.025
#: a printed page's answer blocks drawn by :func:`ruled`, one SVG a page (False: each block by
#: its CSS, as in a grid shown on its own; the same print, slower)
RULED = True


def ruled(
    page: Any, width: float, height: float, mode: str = "worksheet", mono: bool = False
) -> str:
    """The answer blocks of a printed page as one inline SVG over its content box (mm): every
    entry's top and left line, each block's right and bottom border and, on a key, its fill.

    It draws what ``boxes.css`` draws for an answer block (its tile repeated as its background,
    its border, its key background) at the places the template writes, to 1/100 mm, but as a few
    paths a page: WeasyPrint lays out a CSS background and border one block at a time and draws
    each tiled background as a pattern of its own (about 0.5 ms a block). The template leaves
    these blocks their text only (none on a worksheet)."""
    shapes: dict[str, list[str]] = {}  # colour → path data
    for piece in page.pieces:
        if piece.kind != "grid":
            continue
        gx, gy = _mm(piece.x), _mm(piece.y)
        for b in piece.grid.blocks:
            box = b.box
            if b.role != "answer" or not (b.rows and b.cols) or box is None:
                continue
            x, y = gx + _mm(box.x), gy + _mm(box.y)
            w, h = _mm(b.cols * box.col), _mm(b.rows * box.row)
            col, row = _mm(box.col, 3), _mm(box.row, 3)
            right, bottom = x + w + RULE_MM, y + h + RULE_MM
            ink, line = TONES[b.tone or "none"]
            # the border shorthand of boxes.css takes the text's colour (currentColor)
            border, line = (MONO_LINE, MONO_LINE) if mono else (ink, line)
            if mode == "key":
                fill = (MONO_FILL if mono else FILL)["key"]
                shapes.setdefault(fill, []).append(_rect(x, y, right, bottom))
            # the tile's lines: its top edge across the block, its left edge down it (over the
            # border box, as a background is); then the border, over them
            across, down = TILE_LINE * row, TILE_LINE * col
            lines = shapes.setdefault(line, [])
            lines += (_rect(x, y + i * row, right, y + i * row + across) for i in range(b.rows))
            lines += (_rect(x + j * col, y, x + j * col + down, bottom) for j in range(b.cols))
            edges = shapes.setdefault(border, [])
            edges += (_rect(x + w, y, right, bottom), _rect(x, y + h, right, bottom))
    if not shapes:
        return ""
    # filled rectangles, not strokes: a viewer draws a stroke at least a pixel wide, a fill as much
    # of a pixel as it covers; the key's fills first (the dict keeps their order), under the lines
    paths = "".join(f'<path fill="{colour}" d="{"".join(d)}"/>' for colour, d in shapes.items())
    return (
        f'<svg class="ruled" xmlns="http://www.w3.org/2000/svg" width="{width:.2f}mm" '
        f'height="{height:.2f}mm" viewBox="0 0 {width:.2f} {height:.2f}">{paths}</svg>'
    )


def _rect(x0: float, y0: float, x1: float, y1: float) -> str:
    """A rectangle from corner to corner as SVG path data (mm, to the micrometre)."""
    return f"M{x0:.3f} {y0:.3f}H{x1:.3f}V{y1:.3f}H{x0:.3f}Z"


def _mm(value: float, places: int = 2) -> float:
    """A length as the template writes it (``'%.2f'|format``): the lines drawn here fall where
    the blocks' text is placed."""
    return float(f"{value:.{places}f}")


def _tile(colour: str, dash: str) -> str:
    """An entry's box as a tile of 10 × 10 units stretched over one entry: its top and left edge
    (the block's right and bottom border close the last ones); dashed or dotted by ``dash``."""
    style = f" stroke-dasharray='{dash}' stroke-linecap='round'" if dash else ""
    width = "0.9" if dash.startswith("0.2") else "0.5"
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10' viewBox='0 0 10 10' "
        "preserveAspectRatio='none'><path d='M0 0H10M0 0V10' "
        f"stroke='{colour.replace('#', '%23')}' stroke-width='{width}' fill='none'{style}/></svg>"
    )
    return f'"data:image/svg+xml,{svg}"'


@lru_cache(maxsize=1)
def _font_config() -> Any:
    """One font configuration per process: WeasyPrint then loads DejaVu once, not per PDF."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@lru_cache(maxsize=8)
def _stylesheet(size: str) -> Any:
    """The sheet's CSS parsed once per process and page size, instead of once per PDF."""
    import weasyprint

    return weasyprint.CSS(string=page_css(size), font_config=_font_config())


_IMAGES = threading.local()


def _image_cache() -> dict[str, Any]:
    """WeasyPrint's image cache, kept per thread: the stylesheet's few SVG tiles (data URLs) are
    parsed once instead of once per PDF (a WeasyPrint image is not shared between threads)."""
    cache: dict[str, Any] | None = getattr(_IMAGES, "cache", None)
    if cache is None or len(cache) > 64:
        cache = _IMAGES.cache = {}
    return cache


def html_to_pdf(html: str, size: str | None = None) -> bytes:
    """WeasyPrint on a page of ours (fonts come from fontconfig: DejaVu, embedded as subsets).

    With ``size`` (a paper, ``a4``, or a CSS page size, ``A3 landscape``) the page is expected
    without inline CSS and gets the cached stylesheet, and the stylesheet's tiles come from the
    thread's image cache.
    """
    import weasyprint

    document = weasyprint.HTML(string=html, base_url=str(templates_dir()))
    if not size:
        return document.write_pdf(font_config=_font_config())
    return document.write_pdf(
        stylesheets=[_stylesheet(size)], font_config=_font_config(), cache=_image_cache()
    )


def render_pdf(
    problem: Problem,
    mode: str = "worksheet",
    paper: str = "a4",
    *,
    secret: str | bytes | None = None,
    date: str | datetime.date | None = None,
    sheet: Sheet | None = None,
    orientation: str = "auto",
    mono: bool = False,
    student: tuple[str, str] | None = None,
) -> bytes:
    """The same page as ``render_html``, as PDF bytes (title, embedded fonts, the paper's size)."""
    html, size = _page(problem, mode, paper, secret, date, sheet, False, orientation, mono, student)
    return html_to_pdf(html, size)


def grid_html(problem: Problem) -> str:
    """The answer key's grids alone, as printed, and its figures (a neuron's graph), with their CSS
    inlined: a problem's picture in Jupyter."""
    sheet = build_sheet(problem)
    template = environment().from_string(
        '{% from "_grid.html" import paper_grid %}<div class="handcalc key">'
        "<style>{{ css|safe }} .handcalc h4{margin:6px 0 2px;font:bold 12px sans-serif}"
        " .handcalc .stair{position:relative;margin-bottom:2mm}</style>"
        "<p>{{ sheet.description }}</p>"
        "{% for s in sheet.sections %}<h4>{{ s.title }}</h4>"
        "{% for g in s.grids %}{% set g = boxed(g) %}"
        '<div class="stair" style="width:{{ "%.1f"|format(g.size[0]) }}mm;'
        'height:{{ "%.1f"|format(g.size[1]) }}mm">'
        '{{ paper_grid(g, "key", 0, 0, rise, label_line) }}</div>'
        "{% endfor %}{% endfor %}"
        '{% for f in sheet.figures %}<h4>{{ f.title }}</h4>{{ f.svg("key")|safe }}{% endfor %}'
        "</div>"
    )
    return template.render(
        sheet=sheet,
        css=_css("boxes.css") + box_css(),
        boxed=on_paper,
        rise=LABEL_RISE,
        label_line=LABEL_LINE,
    )
