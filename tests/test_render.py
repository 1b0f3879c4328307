"""Worksheets, keys and solutions as PDFs: opened with pypdf and checked for what they must (and
must not) contain, their pages, title and fonts; one page compared with a reviewed reference image.

The reference image is ``tests/reference/worksheet-seed7-a4-p1.png``. After a deliberate change of
the look, regenerate it with ``HANDCALC_UPDATE_REFERENCE=1 .venv/bin/pytest tests/test_render.py
-k reference``, look at the new PNG, and commit it.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pypdf
import pypdfium2
import pytest
from PIL import Image

import handcalc
from handcalc.layout import build_sheet, printed
from handcalc.render import html_to_pdf, render_html, render_pdf

SECRET = "test-secret"
DATE = "2026-01-01"
REFERENCE = Path(__file__).parent / "reference" / "worksheet-seed7-a4-p1.png"


def _pdf(problem, mode="worksheet", paper="a4") -> bytes:
    return render_pdf(problem, mode, paper, secret=SECRET, date=DATE)


def _reader(pdf: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf))


def _tokens(pdf: bytes) -> list[str]:
    """Whitespace-separated words of every page, page footers ("page 1 of 2") left out."""
    text = "\n".join(p.extract_text() for p in _reader(pdf).pages)
    return re.sub(r"page \d+ of \d+", " ", text).split()


def _values(problem, names) -> set[str]:
    return {t for name in names for row in printed(problem, name) for t in row}


@pytest.fixture(scope="module")
def problem() -> handcalc.Problem:
    return handcalc.generate(seed=7)


@pytest.fixture(scope="module")
def pdfs(problem) -> dict[str, bytes]:
    return {mode: _pdf(problem, mode) for mode in ("worksheet", "key", "solutions")}


def test_key_contains_every_answer_value_as_printed(problem, pdfs):
    tokens = set(_tokens(pdfs["key"]))
    missing = {
        (s.name, t)
        for s in problem.steps
        for row in printed(problem, s.name)
        for t in row
        if t not in tokens
    }
    assert not missing


def test_key_gives_each_matrix_in_reading_order(problem, pdfs):
    tokens = " ".join(_tokens(pdfs["key"]))
    for step in problem.steps:
        rows = " ".join(t for row in printed(problem, step.name) for t in row)
        assert f" {rows} " in f" {tokens} ", step.name


def test_worksheet_has_every_given_value_and_no_answer(problem, pdfs):
    tokens = _tokens(pdfs["worksheet"])
    tables = build_sheet(problem).grids
    printed_tables = {
        t for g in tables if g.phase == "table" for b in g.blocks for r in b.texts for t in r
    }
    given = _values(problem, problem.graph.given) | printed_tables | {"1"}
    assert given <= set(tokens)
    for name in problem.graph.given:  # given matrices in reading order as well
        rows = " ".join(t for row in printed(problem, name) for t in row)
        assert f" {rows} " in f" {' '.join(tokens)} ", name
    # the numbers in the printed conventions ("X is 4 × 2") are not answers
    sheet = build_sheet(problem)
    prose = set(" ".join((*sheet.instructions, sheet.description, DATE)).split())
    answers = _values(problem, problem.graph.names) - given
    assert len(answers) > 20, "the test needs answers that differ from every given value"
    leaked = (answers - prose) & set(tokens)
    assert not leaked


def test_exact_mode_key_prints_expressions_legibly():
    p = handcalc.generate(seed=1, transcendental="exact", sizes="2,2,2", loss="sigmoid_bce")
    text = " ".join(_tokens(_pdf(p, "key")))
    assert "1/(1 + e⁵) ≈ 0.006693" in text
    assert "exp(" not in text and "**" not in text


@pytest.mark.parametrize("paper, size", [("a4", (595, 842)), ("letter", (612, 792))])
def test_default_worksheet_fits_two_pages_of_either_paper(problem, paper, size):
    reader = _reader(_pdf(problem, "worksheet", paper))
    assert 1 <= len(reader.pages) <= 2
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == size


def test_page_counts_title_and_metadata(problem, pdfs):
    assert len(_reader(pdfs["key"]).pages) <= 2
    assert len(_reader(pdfs["solutions"]).pages) >= 2
    code = handcalc.verification_code(problem, SECRET)
    for mode, heading in (
        ("worksheet", "worksheet"),
        ("key", "answer key"),
        ("solutions", "worked solutions"),
    ):
        meta = _reader(pdfs[mode]).metadata
        assert meta.title == f"Backpropagation by hand — {heading} ({code})"


def test_every_sheet_identifies_its_variant(problem, pdfs):
    code = handcalc.verification_code(problem, SECRET)
    for pdf in pdfs.values():
        first = _reader(pdf).pages[0].extract_text()
        assert code in first and DATE in first and problem.describe() in first
        assert "Name" in first and "ID" in first


def _fonts(reader: pypdf.PdfReader) -> Iterator[tuple[str, bool]]:
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = (
                font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            )
            descriptor = descendant["/FontDescriptor"].get_object()
            embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            yield str(font["/BaseFont"]), embedded


def test_fonts_are_dejavu_and_embedded(pdfs):
    for pdf in pdfs.values():
        fonts = list(_fonts(_reader(pdf)))
        assert fonts
        assert all(embedded for _, embedded in fonts), fonts
        assert all("DejaVu" in name for name, _ in fonts), fonts


def test_instructions_state_the_conventions(problem, pdfs):
    text = " ".join(_tokens(pdfs["worksheet"]))
    assert "reduction “sum”" in text and "lr = 0.1" in text and "ReLU′(0) = 0." in text
    assert "rounded to 2 decimals" in text and "Lookup table" in text
    mean = handcalc.generate(seed=7, reduction="mean", transcendental="base")
    text = " ".join(_tokens(_pdf(mean)))
    assert "reduction “mean”" in text and "divided by B = 2" in text
    assert "3^z in place of e^z" in text and "Lookup table" not in text


def test_a_grid_never_splits_across_pages():
    import weasyprint

    big = handcalc.generate(seed=5, sizes="6,6,6,6,6", batch=3)
    html = render_html(big, "key", secret=SECRET, date=DATE)
    document = weasyprint.HTML(string=html).render()
    assert len(document.pages) >= 3, "the test needs grids on several pages"
    pages_of: dict[str, set[int]] = {}
    for number, page in enumerate(document.pages):
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is not None and str(element.get("id", "")).startswith("grid-"):
                pages_of.setdefault(element.get("id"), set()).add(number)
    sheet = build_sheet(big)
    tables = sheet.tables.grids if sheet.tables else ()
    grids = {f"grid-{g.key}" for g in (*sheet.grids, *tables)}
    assert set(pages_of) == grids
    assert all(len(pages) == 1 for pages in pages_of.values()), pages_of


def test_bad_mode_or_paper_is_a_clear_error(problem):
    with pytest.raises(handcalc.HandcalcError, match="mode: 'answers' is not accepted"):
        render_html(problem, "answers")
    with pytest.raises(handcalc.HandcalcError, match="paper: 'a3' is not accepted"):
        render_html(problem, paper="a3")


def test_jupyter_shows_the_key_grid(problem):
    html = problem._repr_html_()
    assert 'class="grid forward"' in html and "<style>" in html
    assert "47/100" in html  # a key value: the answer-key mode


def test_html_to_pdf_is_plain_weasyprint():
    assert html_to_pdf("<p>1/2</p>").startswith(b"%PDF")


def _page_image(pdf: bytes) -> Image.Image:
    document = pypdfium2.PdfDocument(pdf)
    image = document[0].render(scale=0.75, grayscale=True).to_pil().convert("L")
    document.close()
    return image


def test_worksheet_looks_like_the_reference_image(problem):
    image = _page_image(_pdf(problem, "worksheet"))
    if os.environ.get("HANDCALC_UPDATE_REFERENCE"):
        REFERENCE.parent.mkdir(exist_ok=True)
        image.save(REFERENCE, optimize=True)
    reference = Image.open(REFERENCE).convert("L")
    assert image.size == reference.size
    a = np.asarray(image, dtype=np.int16)
    b = np.asarray(reference, dtype=np.int16)
    diff = np.abs(a - b)
    # tolerant: anti-aliasing may differ by a few levels, but nothing may move or vanish
    assert diff.mean() < 1.5, diff.mean()
    assert (diff > 64).mean() < 0.002, (diff > 64).mean()
