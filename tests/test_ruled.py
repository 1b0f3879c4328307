"""The answer blocks of a printed page drawn as one SVG (``handcalc.render.ruled``) instead of a
CSS tile and border a block: the same drawing, placed where the blocks' text is, in colour, in
mono and on a key; and the page's image cache of WeasyPrint.
"""

from __future__ import annotations

import re

import numpy as np
import pypdfium2
import pytest

import handcalc
import handcalc.render as render
from handcalc.layout import build_sheet
from handcalc.layout.model import FILL, MONO_FILL, TONES
from handcalc.pages import paginate
from handcalc.render import MONO_LINE, render_html, render_pdf, ruled

SECRET = "test-secret"
DATE = "2026-01-01"


@pytest.fixture(scope="module")
def problem() -> handcalc.Problem:
    return handcalc.generate(seed=7)


def _answers(pages):
    """(page number, grid piece, block) of every answer block on the pages."""
    for number, page in enumerate(pages.pages):
        for piece in page.pieces:
            if piece.kind == "grid":
                for b in piece.grid.blocks:
                    if b.role == "answer" and b.rows and b.cols:
                        yield number, piece, b


def _rects(svg: str) -> dict[str, list[tuple[float, ...]]]:
    """The SVG's rectangles by fill colour, each as (x0, y0, x1, y1)."""
    found: dict[str, list[tuple[float, ...]]] = {}
    for colour, data in re.findall(r'<path fill="([^"]+)" d="([^"]+)"/>', svg):
        for x0, y0, x1, y1 in re.findall(r"M([\d.]+) ([\d.]+)H([\d.]+)V([\d.]+)H[\d.]+Z", data):
            found.setdefault(colour, []).append((float(x0), float(y0), float(x1), float(y1)))
    return found


def test_every_answer_block_is_ruled_where_its_text_is_placed(problem):
    sheet = build_sheet(problem)
    pages = paginate(sheet, "a4")
    blocks = list(_answers(pages))
    assert len(blocks) > 20
    svgs = [ruled(page, pages.width, pages.height) for page in pages.pages]
    drawn = [_rects(svg) for svg in svgs]
    for number, piece, b in blocks:
        box = b.box
        ink, line = TONES[b.tone or "none"]
        # the block's box as the template places its text (mm, to 1/100)
        x, y = round(piece.x, 2) + round(box.x, 2), round(piece.y, 2) + round(box.y, 2)
        w, h = round(b.cols * box.col, 2), round(b.rows * box.row, 2)
        rects = drawn[number]
        # the right and bottom border (0.25 mm) in the text's colour
        assert pytest.approx((x + w, y, x + w + 0.25, y + h + 0.25), abs=1e-3) in rects[ink], b.cell
        assert pytest.approx((x, y + h, x + w + 0.25, y + h + 0.25), abs=1e-3) in rects[ink]
        # a line along the top of every row and down the left of every column, in the role's
        # lighter colour
        col, row = round(box.col, 3), round(box.row, 3)
        for i in range(b.rows):
            top = (x, y + i * row, x + w + 0.25, y + i * row + 0.025 * row)
            assert pytest.approx(top, abs=1e-3) in rects[line]
        for j in range(b.cols):
            left = (x + j * col, y, x + j * col + 0.025 * col, y + h + 0.25)
            assert pytest.approx(left, abs=1e-3) in rects[line]
    total = sum(len(r) for page in drawn for r in page.values())
    assert total == sum(b.rows + b.cols + 2 for _, _, b in blocks)


def test_a_key_fills_its_answer_blocks_under_the_lines_and_mono_draws_them_grey(problem):
    sheet = build_sheet(problem)
    pages = paginate(sheet, "a4", mode="key")
    key = ruled(pages.pages[0], pages.width, pages.height, "key")
    assert key.index(f'fill="{FILL["key"]}"') < min(
        key.index(f'fill="{line}"') for _, line in TONES.values() if f'fill="{line}"' in key
    )
    n = sum(1 for number, _, _ in _answers(pages) if number == 0)
    assert len(_rects(key)[FILL["key"]]) == n
    mono = _rects(ruled(pages.pages[0], pages.width, pages.height, "worksheet", mono=True))
    assert set(mono) == {MONO_LINE}
    mono_key = _rects(ruled(pages.pages[0], pages.width, pages.height, "key", mono=True))
    assert set(mono_key) == {MONO_FILL["key"], MONO_LINE} and len(mono_key[MONO_FILL["key"]]) == n
    # a page without answer blocks draws nothing
    assert ruled(type(pages.pages[0])(()), pages.width, pages.height) == ""


def test_the_page_draws_the_boxes_and_the_blocks_keep_their_text(problem):
    worksheet = render_html(problem, secret=SECRET, date=DATE)
    key = render_html(problem, "key", secret=SECRET, date=DATE)
    pages = len(paginate(build_sheet(problem), "a4").pages)
    assert worksheet.count('<svg class="ruled"') == pages
    # a worksheet's answer blocks are blank: the SVG is all there is of them
    assert 'class="b ruled' not in worksheet
    assert not re.search(r'class="g[^"]*".*class="b answer', worksheet)
    # the legend's sample boxes keep their CSS tile
    assert 'class="b answer t-none"' in worksheet
    # a key's answer blocks keep their text (and no tile of their own)
    filled = re.findall(r'<div class="b ruled t-\w+" style="([^"]*)">([^<]*)</div>', key)
    assert filled and all(text.strip() for _, text in filled)
    assert not any("background-size" in style for style, _ in filled)
    # a grid shown on its own (Jupyter) still draws its boxes with CSS
    assert 'class="b answer' in problem._repr_html_()


@pytest.mark.parametrize("mode", ["worksheet", "key"])
def test_the_svg_prints_what_the_css_printed(problem, mode, monkeypatch):
    """Both drawings of the same pages, rasterised at 150 dpi: the same ink, in the same places
    to within a pixel; only anti-aliasing differs (a viewer snaps a tiled pattern to its pixels, a
    path it does not). Without the borders, or moved by 0.5 mm, the blocks of 5 mm differ by 6
    to 13 levels."""
    fast = render_pdf(problem, mode, secret=SECRET, date=DATE)
    monkeypatch.setattr(render, "RULED", False)
    slow = render_pdf(problem, mode, secret=SECRET, date=DATE)
    assert fast != slow
    a, b = pypdfium2.PdfDocument(fast), pypdfium2.PdfDocument(slow)
    assert len(a) == len(b)
    for i in range(len(a)):
        ink = [
            255.0
            - np.asarray(d[i].render(scale=150 / 72, grayscale=True).to_pil().convert("L"), float)
            for d in (a, b)
        ]
        assert np.abs(ink[0] - ink[1]).mean() < 1.5
        assert ink[0].sum() == pytest.approx(ink[1].sum(), rel=0.03)
        n = 30  # 5 mm
        h, w = (size - size % n for size in ink[0].shape)
        blocks = [x[:h, :w].reshape(h // n, n, w // n, n).mean(axis=(1, 3)) for x in ink]
        assert np.abs(blocks[0] - blocks[1]).max() < 5.0, i


def test_the_tiles_of_the_stylesheet_are_parsed_once_a_thread(problem):
    render_pdf(problem, "key", secret=SECRET, date=DATE)
    cache = render._image_cache()
    tiles = [url for url in cache if str(url).startswith("data:image/svg+xml")]
    assert tiles
    render_pdf(problem, "key", secret=SECRET, date=DATE)
    assert render._image_cache() is cache
    assert [url for url in cache if str(url).startswith("data:image/svg+xml")] == tiles
