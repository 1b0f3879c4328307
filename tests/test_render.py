"""Worksheets, keys and solutions as PDFs: opened with pypdf and checked for what they must (and
must not) contain, their pages, title and fonts; one page compared with a reviewed reference image.

The reference image is ``tests/reference/worksheet-seed7-a4-p1.png``. After a deliberate change of
the look, regenerate it with ``HANDCALC_UPDATE_REFERENCE=1 .venv/bin/pytest tests/test_render.py
-k reference``, look at the new PNG, and commit it.
"""

from __future__ import annotations

import ctypes
import io
import re
from collections.abc import Iterator

import numpy as np
import pypdf
import pypdfium2
import pytest
from pictures import assert_looks_like

import handcalc
from handcalc.layout import build_sheet, printed
from handcalc.render import html_to_pdf, page_css, render_html, render_pdf

SECRET = "test-secret"
DATE = "2026-01-01"
REFERENCE = "worksheet-seed7-a4-p1.png"


def _pdf(problem, mode="worksheet", paper="a4") -> bytes:
    return render_pdf(problem, mode, paper, secret=SECRET, date=DATE)


def _reader(pdf: bytes) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(pdf))


def _tokens(pdf: bytes) -> list[str]:
    """Whitespace-separated words of every page, page footers ("page 1 of 2") left out."""
    text = "\n".join(p.extract_text() for p in _reader(pdf).pages)
    # (a label "[12] dW₂" may follow the last entry of a block with no space in between)
    return re.sub(r"page \d+ of \d+", " ", text).replace("[", " [").split()


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
    # (lr is given as a scalar: the sheet prints it in a title, "learning rate 0.1")
    matrices = [name for name in problem.graph.given if name != "lr"]
    given = _values(problem, matrices) | printed_tables | {"1"}
    assert given <= set(tokens)
    for name in matrices:  # given matrices in reading order as well
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


@pytest.mark.parametrize("paper, size, most", [("a4", (595, 842), 2), ("letter", (612, 792), 3)])
def test_default_worksheet_pages_of_either_paper(problem, paper, size, most):
    reader = _reader(_pdf(problem, "worksheet", paper))
    assert 1 <= len(reader.pages) <= most
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == size


@pytest.mark.parametrize("paper", ["a4", "letter"])
@pytest.mark.parametrize("mode", ["worksheet", "key"])
def test_a_small_net_is_one_page(paper, mode):
    """A 2-3-2 sheet packs onto one page: its passes side by side where they fit."""
    small = handcalc.generate(seed=7, sizes="2,3,2")
    pdf = _pdf(small, mode, paper)
    assert len(_reader(pdf).pages) == 1
    tokens = set(_tokens(pdf))
    assert "[16]" in tokens and "Backward" in tokens and "Update" in tokens


def _sizes(pdf: bytes) -> dict[float, str]:
    """Every printed character's type size (pt, its matrix included), with the text in it."""
    sizes: dict[float, str] = {}
    document = pypdfium2.PdfDocument(pdf)
    matrix = pypdfium2.raw.FS_MATRIX()
    for page in document:
        text = page.get_textpage()
        for i in range(text.count_chars()):
            char = text.get_text_range(i, 1)
            if not char.strip():
                continue
            pypdfium2.raw.FPDFText_GetMatrix(text.raw, i, ctypes.byref(matrix))
            scale = abs(matrix.a * matrix.d - matrix.b * matrix.c) ** 0.5
            size = round(pypdfium2.raw.FPDFText_GetFontSize(text.raw, i) * scale, 2)
            sizes[size] = sizes.get(size, "") + char
    document.close()
    return sizes


@pytest.mark.parametrize(
    "options, paper",
    [
        ({"seed": 7}, "a4"),
        ({"seed": 7, "sizes": "6,5,5,4", "batch": 4}, "a4"),
        ({"seed": 1, "sizes": "8,8,8,8", "batch": 8, "weight_max": 1, "input_max": 1}, "a3"),
    ],
)
def test_nothing_on_a_key_is_under_8_pt(options, paper):
    """Measured from the PDF: every character of the key (numbers, labels, footers) is set at
    8 pt or more; the entries at 8.5 pt."""
    sizes = _sizes(_pdf(handcalc.generate(**options), "key", paper))
    assert min(sizes) >= 8.0, {k: v[:40] for k, v in sizes.items() if k < 8}
    assert any(ch.isdigit() for ch in sizes[8.5])


def test_big_nets_go_landscape_or_a3_and_what_cannot_print_is_refused_with_advice():
    big = handcalc.generate(seed=1, sizes="8,8,8,8", batch=8, weight_max=1, input_max=1)
    landscape = _reader(_pdf(big, "worksheet", "a4"))
    box = landscape.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)
    a3 = _reader(_pdf(big, "worksheet", "a3"))
    assert (round(float(a3.pages[0].mediabox.height))) in (842, 1191)
    with pytest.raises(handcalc.HandcalcError) as refused:
        render_pdf(big, "worksheet", "letter", secret=SECRET, date=DATE)
    message = str(refused.value)
    assert "does not fit on letter" in message and re.search(r"needs \d+ mm across", message)
    assert "options that work: --paper a3" in message
    with pytest.raises(handcalc.HandcalcError, match=r"in portrait, .*options that work: "):
        render_pdf(big, "worksheet", "a4", orientation="portrait", secret=SECRET, date=DATE)


def test_orientation_can_be_chosen():
    small = handcalc.generate(seed=7, sizes="2,3,2")
    pdf = render_pdf(small, orientation="landscape", secret=SECRET, date=DATE)
    box = _reader(pdf).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (842, 595)
    with pytest.raises(handcalc.HandcalcError, match="orientation: 'sideways' is not accepted"):
        render_html(small, orientation="sideways")


def test_leftover_room_on_a_worksheet_is_scratch_work():
    one_layer = handcalc.generate(seed=7, sizes="2,2")
    assert "Scratch work" in " ".join(_tokens(_pdf(one_layer, "worksheet")))
    assert "Scratch work" not in " ".join(_tokens(_pdf(one_layer, "key")))


def test_the_sheet_states_how_values_are_written(pdfs):
    text = " ".join(_tokens(pdfs["worksheet"]))
    assert (
        "Exact values — a fraction or an exact decimal; never round, except where a table or "
        "the loss line says so." in text
    )


def test_key_prints_short_decimals_as_decimals(problem, pdfs):
    tokens = _tokens(pdfs["key"])
    assert "−4.77" in tokens and "2.069" in tokens and "0.12" in tokens
    assert "−477/100" not in tokens and "2069/1000" not in tokens and "3/25" not in tokens


def test_legend_boxes_are_drawn_as_the_grids_draw_them():
    """The legend's samples are boxes of the grids' own classes; copies are dashed and the
    working (f′) dotted, in the tile of every entry and in the block's border."""
    html = render_html(handcalc.generate(seed=7, sizes="2,3,2"), secret=SECRET, date=DATE)
    legend = html.split('<p class="legend"')[1].split("</p>")[0]
    for role in ("given", "answer", "copy", "work"):
        assert f'class="b {role} t-none"' in legend
    css = page_css("a4")
    copy = re.search(r"\.b\.copy\.t-none \{ background-image: url\((.*?)\); \}", css)
    work = re.search(r"\.b\.work\.t-none \{ background-image: url\((.*?)\); \}", css)
    answer = re.search(r"\.b\.answer\.t-none \{ background-image: url\((.*?)\); \}", css)
    assert copy and "stroke-dasharray='1.6 1.1'" in copy.group(1)
    assert work and "stroke-dasharray='0.2 1.1'" in work.group(1)
    assert answer and "dasharray" not in answer.group(1)
    assert ".b.copy { border-right-style: dashed; border-bottom-style: dashed; }" in css
    assert "dotted" in css.split("\n.b.work {")[1].split("}")[0]


def _saturation(pdf: bytes) -> float:
    """The share of page 1's pixels that are clearly coloured (not grey)."""
    document = pypdfium2.PdfDocument(pdf)
    image = np.asarray(document[0].render(scale=0.5).to_pil().convert("RGB"), dtype=np.int16)
    document.close()
    spread = image.max(axis=2) - image.min(axis=2)
    return float((spread > 40).mean())


def test_colour_roles_and_mono_for_photocopiers(problem):
    coloured = render_pdf(problem, "key", secret=SECRET, date=DATE)
    grey = render_pdf(problem, "key", mono=True, secret=SECRET, date=DATE)
    assert _saturation(coloured) > 0.002
    assert _saturation(grey) == 0.0
    html = render_html(problem, "key", mono=True, secret=SECRET, date=DATE)
    assert '<body class="key mono">' in html and "t-weight" in html and "t-derivative" in html


def test_a_mono_sheet_is_grey_on_every_page():
    """Every pixel of every page grey (its channels within 3 levels): the lookup working boxes'
    tint and the scratch box's blue-grey border were the last colours left."""
    working = handcalc.generate(
        seed=7, activation="sigmoid", loss="sigmoid_bce", sizes=[2, 3, 2], digits=1
    )
    assert 'class="b work' in render_html(working, "worksheet", mono=True)  # it has them
    for mode in ("worksheet", "key"):
        document = pypdfium2.PdfDocument(render_pdf(working, mode, mono=True, date=DATE))
        try:
            for page in document:
                image = np.asarray(page.render(scale=0.5).to_pil().convert("RGB"), np.int16)
                assert (image.max(axis=2) - image.min(axis=2)).max() <= 3, mode
        finally:
            document.close()


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
    with pytest.raises(handcalc.HandcalcError, match="paper: 'a5' is not accepted"):
        render_html(problem, paper="a5")


def test_jupyter_shows_the_key_grid(problem):
    html = problem._repr_html_()
    assert 'class="g forward"' in html and "<style>" in html
    assert "0.47" in html  # a key value: the answer-key mode


def test_html_to_pdf_is_plain_weasyprint():
    assert html_to_pdf("<p>1/2</p>").startswith(b"%PDF")


def test_worksheet_looks_like_the_reference_image(problem):
    assert_looks_like(_pdf(problem, "worksheet"), REFERENCE)
