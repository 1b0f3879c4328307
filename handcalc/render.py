"""Worksheets, answer keys and worked solutions: the layout model through Jinja2, then WeasyPrint.

``render_html`` and ``render_pdf`` are the API; ``template_loader`` and ``grid_css`` let another
application (the grading service) render the same grid partial in its own pages.
"""

from __future__ import annotations

import datetime
from functools import lru_cache
from importlib.resources import files
from typing import Any

import jinja2

from .errors import HandcalcError
from .layout import Sheet, build_sheet
from .problem import Problem
from .verify import verification_code

MODES = ("worksheet", "key", "solutions")
HEADINGS = {"worksheet": "worksheet", "key": "answer key", "solutions": "worked solutions"}
#: paper: CSS size, and the width and height inside the margins of sheet.css, in mm
PAPERS = {"a4": ("A4", 184.0, 273.0), "letter": ("letter", 189.9, 255.4)}
#: an entry's largest width, and its height as a share of the width (mm)
MAX_UNIT = 10.0
ROW_SHARE = 0.74
MIN_ROW, MAX_ROW = 4.6, 6.2


def templates_dir() -> Any:
    """The templates, found the same way in a checkout and in an installed wheel."""
    return files("handcalc.templates")


def template_loader() -> jinja2.BaseLoader:
    """A Jinja loader for handcalc's templates (``{% from "_grid.html" import grid %}``)."""
    return jinja2.FileSystemLoader(str(templates_dir()))


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=template_loader(), autoescape=True, trim_blocks=True, lstrip_blocks=True
    )


@lru_cache(maxsize=4)
def _css(name: str) -> str:
    return templates_dir().joinpath(name).read_text(encoding="utf-8")


def grid_css() -> str:
    """The CSS the grid partial needs (cells, boxes, marks), to inline in another page."""
    return _css("grid.css")


def units(sheet: Sheet, paper: str) -> tuple[float, float]:
    """An entry's width and height in mm: as large as fits the widest grid across the page."""
    width = PAPERS[paper][1]
    u = min(MAX_UNIT, width / sheet.width)
    return round(u, 3), round(min(MAX_ROW, max(MIN_ROW, u * ROW_SHARE)), 3)


def render_html(
    problem: Problem,
    mode: str = "worksheet",
    paper: str = "a4",
    *,
    secret: str | bytes | None = None,
    date: str | datetime.date | None = None,
    sheet: Sheet | None = None,
    student: tuple[str, str] | None = None,
) -> str:
    """A printable HTML page: ``mode`` is worksheet, key or solutions; ``paper`` a4 or letter.

    The page carries the problem's verification code (HMAC with ``secret``, else the environment's
    ``HANDCALC_SECRET_KEY``), ``date`` (today unless given) and, with ``student`` (name, ID), the
    student's name and ID on its Name and ID lines. Its CSS is inline: the page stands
    alone.
    """
    return _page(problem, mode, paper, secret, date, sheet, inline_css=True, student=student)


def _page(
    problem: Problem,
    mode: str,
    paper: str,
    secret: str | bytes | None,
    date: str | datetime.date | None,
    sheet: Sheet | None,
    inline_css: bool,
    student: tuple[str, str] | None = None,
) -> str:
    if mode not in MODES:
        raise HandcalcError(f"mode: {mode!r} is not accepted; accepted: {', '.join(MODES)}")
    if paper not in PAPERS:
        raise HandcalcError(f"paper: {paper!r} is not accepted; accepted: {', '.join(PAPERS)}")
    sheet = sheet or build_sheet(problem)
    u, h = units(sheet, paper)
    when = date or datetime.date.today()
    code = verification_code(problem, secret)
    context: dict[str, Any] = {
        "sheet": sheet,
        "mode": mode,
        "u": u,
        "h": h,
        "css": page_css(paper) if inline_css else "",
        "title": f"{sheet.title} — {HEADINGS[mode]} ({code})",
        "heading": HEADINGS[mode],
        "code": code,
        "date": when.isoformat() if isinstance(when, datetime.date) else str(when),
        #: the student's (name, ID) printed on the Name and ID lines (a class's batch), or None
        "student": student,
    }
    if mode == "solutions":
        from .explain import PHASES, worked_solutions

        context.update(worked=worked_solutions(problem), phases=PHASES)
        return environment().get_template("solutions.html").render(context)
    return environment().get_template("worksheet.html").render(context)


def page_css(paper: str) -> str:
    """All the CSS of a printed sheet on ``paper``."""
    return f"@page {{ size: {PAPERS[paper][0]}; }}\n{_css('sheet.css')}\n{grid_css()}"


@lru_cache(maxsize=1)
def _font_config() -> Any:
    """One font configuration per process: WeasyPrint then loads DejaVu once, not per PDF."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@lru_cache(maxsize=4)
def _stylesheet(paper: str) -> Any:
    """The sheet's CSS parsed once per process and paper, instead of once per PDF."""
    import weasyprint

    return weasyprint.CSS(string=page_css(paper), font_config=_font_config())


def html_to_pdf(html: str, paper: str | None = None) -> bytes:
    """WeasyPrint on a page of ours (fonts come from fontconfig: DejaVu, embedded as subsets).

    With ``paper`` the page is expected without inline CSS and gets the cached stylesheet.
    """
    import weasyprint

    document = weasyprint.HTML(string=html, base_url=str(templates_dir()))
    sheets = [_stylesheet(paper)] if paper else None
    return document.write_pdf(stylesheets=sheets, font_config=_font_config())


def render_pdf(
    problem: Problem,
    mode: str = "worksheet",
    paper: str = "a4",
    *,
    secret: str | bytes | None = None,
    date: str | datetime.date | None = None,
    sheet: Sheet | None = None,
    student: tuple[str, str] | None = None,
) -> bytes:
    """The same page as ``render_html``, as PDF bytes (title, embedded fonts, A4 or letter)."""
    html = _page(problem, mode, paper, secret, date, sheet, inline_css=False, student=student)
    return html_to_pdf(html, paper)


def grid_html(problem: Problem) -> str:
    """The answer key's grids alone, with their CSS inlined: a problem's picture in Jupyter."""
    sheet = build_sheet(problem)
    template = environment().from_string(
        '{% from "_grid.html" import grid %}<div class="handcalc key">'
        "<style>{{ css|safe }} .handcalc h4{margin:6px 0 2px;font:bold 12px sans-serif}"
        " .handcalc .grid{margin-bottom:4px}</style>"
        "<p>{{ sheet.description }}</p>"
        "{% for s in sheet.sections %}<h4>{{ s.title }}</h4>"
        '{% for g in s.grids %}{{ grid(g, "key", u=12, h=7, unit="mm") }}{% endfor %}'
        "{% endfor %}</div>"
    )
    return template.render(sheet=sheet, css=grid_css())
