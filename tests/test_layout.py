"""The layout model: where every matrix sits, which entries are given, blank or filled, and the
grid partial's form-mode contract that the web service relies on."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from fractions import Fraction

import pypdf
import pytest

import handcalc
from handcalc.fonts import width as text_width
from handcalc.graph import PHASES
from handcalc.layout import (
    BAND_MM,
    CHAR_MM,
    GEOMETRIES,
    ONES_MM,
    Block,
    Sheet,
    build_sheet,
    printed,
)
from handcalc.notation import formula, subscript
from handcalc.problem import Problem
from handcalc.render import LABEL_LINE, LABEL_RISE, environment, render_html, render_pdf


@pytest.fixture(scope="module")
def problem() -> handcalc.Problem:
    return handcalc.generate(seed=7)


@pytest.fixture(scope="module")
def sheet(problem):
    return build_sheet(problem)


def _blocks(sheet, key):
    return {b.cell or f"ones@{b.x},{b.y}": b for g in sheet.grids if g.key == key for b in g.blocks}


def _overlap(a: Block, b: Block) -> bool:
    return a.x < b.x + b.cols and b.x < a.x + a.cols and a.y < b.y + b.rows and b.y < a.y + a.rows


def test_forward_grid_of_a_layer_is_the_by_hand_arrangement(sheet, problem):
    blocks = _blocks(sheet, "forward-1")
    w, b, x, z, a = blocks["W1"], blocks["b1"], blocks["X"], blocks["Z1"], blocks["A1"]
    assert (w.role, b.role, x.role, z.role, a.role) == (
        "given",
        "given",
        "given",
        "answer",
        "answer",
    )
    assert w.x + w.cols < b.x, "the bias column is set apart from W"
    assert b.x + b.cols < z.x, "[W | b] sits left of Z"
    assert z.x == x.x and z.y > x.y + x.rows, "Z sits below the input's columns"
    assert w.y == z.y and w.rows == z.rows, "W's rows are Z's rows"
    assert a.y == z.y and a.x > z.x + z.cols, "A is right of Z"
    ones = [blk for blk in blocks.values() if blk.role == "ones"]
    assert any(o.x == x.x and o.y > x.y + x.rows - 1 and o.rows == 1 for o in ones)
    # the next layer steps diagonally down and to the right: Z2 under A1's columns
    z2 = _blocks(sheet, "forward-2")["Z2"]
    assert z2.x == a.x


def test_backward_block_is_a_layers_whole_chain_step(sheet):
    """Each backward grid is one layer's block (dZ, dW | db, dA): dA_{l-1} = W_lᵀ·dZ_l sits
    under the dZ it is made from, on the same grid (so on the same page)."""
    blocks = _blocks(sheet, "backward-2")
    dz, dw, db, at = blocks["dZ2"], blocks["dW2"], blocks["db2"], blocks["A1"]
    assert at.transpose and at.role == "copy" and (at.rows, at.cols) == (2, 3)
    assert dw.x == at.x and dw.y > at.y, "Aᵀ above dW"
    assert dz.y == dw.y and dz.x < dw.x, "dZ left of dW"
    assert db.x > dw.x + dw.cols - 1 and db.cols == 1
    wt, da, mask = blocks["W2"], blocks["dA1"], blocks["dZ2_mask"]
    assert wt.transpose and wt.role == "given" and wt.x + wt.cols <= da.x
    assert da.x == dz.x and da.y > dz.y, "dA under the dZ it is made from"
    assert mask.role == "work" and mask.x == dz.x and mask.y < dz.y, "dZ below the mask"
    assert mask.texts == (("1", "1"), ("1", "0"), ("0", "1"), ("0", "0"))  # relu′(Z2), Z2 > 0
    # the staircase: the next block's columns start where dW starts, so its mask stands beside dA
    below = _blocks(sheet, "backward-1")
    assert below["dZ1_mask"].x == dw.x and below["dZ1"].x == dw.x
    for key, names in {
        "backward-3": {"dZ3", "dW3", "db3", "dA2"},
        "backward-2": {"dZ2", "dW2", "db2", "dA1"},
        "backward-1": {"dZ1", "dW1", "db1"},
    }.items():
        assert {b.cell for b in _blocks(sheet, key).values() if b.role == "answer"} == names


def _rect(b: Block) -> tuple[float, float, float, float]:
    assert b.box is not None
    return (b.box.x, b.box.y, b.box.x + b.cols * b.box.col, b.box.y + b.rows * b.box.row)


def _hits(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] - 1e-6 and b[0] < a[2] - 1e-6 and a[1] < b[3] - 1e-6 and b[1] < a[3] - 1e-6


@pytest.mark.parametrize(
    "options",
    [
        {"seed": 7},
        {"seed": 7, "sizes": "2,3,2"},
        {"seed": 7, "transcendental": "base", "reduction": "mean", "lr": "1/2", "frozen": "1"},
        {"seed": 1, "transcendental": "exact", "sizes": "2,2,2"},
        {"seed": 7, "sizes": "6,5,5,4", "batch": 4},
    ],
)
def test_on_paper_boxes_fit_their_answers_and_labels_sit_on_their_own_box(options):
    """Every column is as wide as its longest entry at the entry size and a character to spare
    on either side (one on the right for a block only printed), rows are 7 mm; a label sits just
    above its own block, nearer to it than to anything above; nothing overlaps."""
    sheet = build_sheet(handcalc.generate(**options))
    for grid in (*sheet.grids, *(sheet.updating.grids if sheet.updating else ())):
        if grid.phase == "table":
            continue
        rects = [_rect(b) for b in grid.blocks]
        for i, b in enumerate(grid.blocks):
            assert b.box is not None and b.box.row >= (ONES_MM if b.role == "ones" else 7.0)
            longest = max(len(t) for row in b.texts for t in row)
            need = longest + (1 if b.role in ("given", "ones") else 2)
            assert b.box.chars >= need, (grid.key, b.cell)
            assert b.box.col == pytest.approx(b.box.chars * CHAR_MM)
            for j in range(i + 1, len(rects)):
                assert not _hits(rects[i], rects[j]), (grid.key, b.cell, grid.blocks[j].cell)
            if not b.label:
                continue
            x0, y0, _, _ = rects[i]
            label = (x0, y0 - BAND_MM, x0 + len(b.printed_label) * CHAR_MM, y0)
            for j, other in enumerate(rects):
                assert j == i or not _hits(label, other), (grid.key, b.cell, grid.blocks[j].cell)
            above = [
                r[3] for r in rects if r[3] <= y0 + 1e-6 and r[0] < label[2] and label[0] < r[2]
            ]
            own_gap = LABEL_RISE - LABEL_LINE  # from the label's line box to its own block
            if above:
                assert (y0 - LABEL_RISE) - max(above) > own_gap, (grid.key, b.cell)


def test_columns_are_shared_down_the_staircase(sheet):
    """Z₂ stands under A₁ (the next layer's input): the same columns in grid units and on paper."""
    f1, f2 = _blocks(sheet, "forward-1"), _blocks(sheet, "forward-2")
    for a, z in ((f1["A1"], f2["Z2"]), (f1["X"], f1["Z1"])):
        assert a.x == z.x and a.box.x == z.box.x and a.box.chars == z.box.chars


def test_step_numbers_and_one_line_instructions(sheet, problem):
    """[1] … [n] in the order of the step graph, on the boxes and in each section's steps."""
    numbered = {b.cell: b.step for g in sheet.grids for b in g.blocks if b.role == "answer"}
    assert sorted(numbered.values()) == list(range(1, len(problem.steps) + 1))
    assert [numbered[s.name] for s in problem.steps] == list(range(1, len(problem.steps) + 1))
    assert _blocks(sheet, "forward-1")["Z1"].printed_label == "[1] Z₁"
    lines = [line for section in sheet.sections for line in section.steps]
    assert [int(line[1 : line.index("]")]) for line in lines] == sorted(numbered.values())
    assert lines[0] == "[1] Z₁ = W₁·A₀ + b₁: row · column, plus b₁"
    assert "[12] dZ₂ = dA₂ ∘ relu′(Z₂): fill in relu′(Z₂), multiply" in lines
    assert all(text_width(line, 8) < 100 for line in lines), "one line each"


def test_operator_glyphs_stand_between_the_blocks_they_join(sheet):
    f1 = next(g for g in sheet.grids if g.key == "forward-1")
    blocks = {b.cell: b for b in f1.blocks}
    (dot,) = [k for k in f1.marks if k.text == "·"]
    b1, z1 = _rect(blocks["b1"]), _rect(blocks["Z1"])
    assert b1[2] <= dot.x and dot.x + dot.width <= z1[0] + 1e-6, "between [W | b] and Z"
    assert dot.y + dot.height / 2 < z1[1], "at the corner where [A ; 1] meets [W | b]"
    b2 = next(g for g in sheet.grids if g.key == "backward-2")
    blocks = {b.cell: b for b in b2.blocks}
    (ring,) = [k for k in b2.marks if k.text == "∘"]
    mask = _rect(blocks["dZ2_mask"])
    assert ring.x + ring.width <= mask[0] + 1e-6 and mask[1] < ring.y + ring.height / 2 < mask[3]
    assert sum(k.text == "·" for k in b2.marks) == 2  # dZ·Aᵀ and Wᵀ·dZ
    assert sheet.updating is not None
    merged = next(g for g in sheet.updating.grids if g.key == "backward-2")
    blocks = {b.cell: b for b in merged.blocks}
    (lr,) = [k for k in merged.marks if k.text == "−lr·"]
    assert _rect(blocks["db2"])[2] <= lr.x and lr.x + lr.width <= _rect(blocks["W2_new"])[0] + 1e-6


def test_colour_roles_and_right_aligned_entries(sheet):
    tones = {b.cell: b.tone for g in sheet.grids for b in g.blocks if b.cell}
    assert tones["W1"] == tones["W2_new"] == "weight" and tones["b3"] == "bias"
    assert tones["X"] == tones["Z1"] == tones["A3"] == tones["Y"] == tones["loss"] == "activation"
    assert tones["dZ2"] == tones["dW1"] == tones["dZ2_mask"] == "derivative"
    db3 = _blocks(sheet, "backward-3")["db3"]
    lines = db3.right_aligned(True).split("\n")
    assert [line.rstrip() for line in lines] == [
        (t + " ").rjust(db3.box.chars).rstrip() for (t,) in db3.texts
    ]
    ends = {len(line) for line in lines}
    assert len(ends) == 1, "each entry ends in the same column: right-aligned"
    assert db3.right_aligned(False) == ""


def test_every_graded_step_is_an_answer_cell_exactly_once(sheet, problem):
    """Every step is an answer, a value read from a lookup table too (found by computing Z)."""
    graded = [s.name for s in problem.steps]
    assert set(sheet.inputs) == set(graded)
    answers = [b.cell for g in sheet.grids for b in g.blocks if b.role == "answer"]
    assert sorted(answers) == sorted(graded)
    assert "A3" in answers and problem.graph["A3"].op.tabulated
    # the table is keyed by Z and sits right after the grid of the layer whose A it gives
    keys = [g.key for g in sheet.sections[0].grids]
    assert keys.index("table-A3") == keys.index("forward-3") + 1
    table = next(g for g in sheet.grids if g.key == "table-A3")
    assert {b.role for b in table.blocks} == {"given"} and not any(b.cell for b in table.blocks)
    a3 = [list(r) for r in printed(problem, "A3")]
    for b in table.blocks:
        assert [list(r) for r in b.texts] != a3


def test_key_texts_are_the_printed_values(sheet, problem):
    for g in sheet.grids:
        for b in g.blocks:
            if b.role in ("answer", "given") and not b.transpose and b.cell:  # (not a table)
                assert [list(r) for r in b.texts] == printed(problem, b.cell)
    assert printed(problem, "X")[0] == ["−1", "−2"]  # a real minus sign
    assert printed(problem, "dZ3")[0] == ["0.47", "0.12"]  # exact decimals, not 47/100
    assert printed(problem, "W1_new")[0] == ["−0.954", "2.069", "−2.977", "−2"]
    assert printed(problem, "A3")[0] == ["0.47", "0.12"]  # table values as the table prints them


def test_frozen_layer_has_no_weight_gradient_blocks():
    sheet = build_sheet(handcalc.generate(seed=3, frozen="1"))
    cells = {b.cell for g in sheet.grids for b in g.blocks}
    assert "dW1" not in cells and "db1" not in cells and "W1_new" not in cells
    assert {"dW2", "db2", "W2_new"} <= cells


def test_exact_mode_lists_expressions_and_prints_decimals():
    p = handcalc.generate(seed=1, transcendental="exact", sizes="2,2,2", loss="sigmoid_bce")
    sheet = build_sheet(p)
    assert sheet.exact, "exact expressions are listed for the key"
    first = sheet.exact[0]
    assert "e" in first.expression and "exp" not in first.expression and "*" not in first.expression
    a2 = _blocks(sheet, "forward-2")["A2"]
    assert a2.texts[0][0].startswith("≈")


def _form(grid, **kwargs) -> str:
    template = environment().from_string('{% from "_grid.html" import grid %}{{ grid(g, **kw) }}')
    return template.render(g=grid, kw=kwargs)


def test_form_mode_contract_inputs_answers_marks_feedback(sheet):
    grid = next(g for g in sheet.grids if g.key == "backward-2")
    html = _form(
        grid,
        mode="form",
        answers={
            "dW2": [["1/2", "0", "3"], ["", "", ""], ["", "", ""], ["", "", ""]],
            "A1": [["11", "1"], ["0", "4"], ["0", "6"]],
        },
        marks={"dW2": [["correct", "carried", "wrong"]] + [["missing"] * 3] * 3},
        feedback={
            "dW2": [["", "", "check the sign"]] + [[""] * 3] * 3,
            "db2": "sum each row of dZ2",
        },
    )
    names = re.findall(r'<input name="([^"]+)"', html)
    expected = {
        f"{c}[{i}][{j}]"
        for c, (r, k) in {"dZ2": (4, 2), "dW2": (4, 3), "db2": (4, 1), "dA1": (3, 2)}.items()
        for i in range(r)
        for j in range(k)
    }
    assert set(names) == expected
    assert 'name="dW2[0][0]" value="1/2"' in html
    assert 'name="dW2[0][2]" value="3"' in html
    assert html.count("mark-correct") == 1 and html.count("mark-wrong") == 1
    assert html.count("mark-missing") == 9
    assert 'title="check the sign"' in html and 'title="sum each row of dZ2"' in html
    # the transposed copy of A1 shows the student's own A1, transposed, and is not an input
    assert not any(n.startswith("A1[") for n in names)
    copy = html.split('data-cell="A1"')[1].split("</table>")[0]
    assert re.findall(r"<td>([^<]*)</td>", copy)[:3] == ["11", "0", "0"]


def test_worksheet_mode_has_no_inputs_and_no_answers(sheet):
    grid = next(g for g in sheet.grids if g.key == "forward-1")
    html = _form(grid, mode="worksheet")
    assert "<input" not in html and "11" not in html  # Z1[1,1] = 11 stays blank
    assert "11" in _form(grid, mode="key")


@pytest.mark.parametrize("seed", range(12))
def test_no_short_decimal_is_printed_as_a_fraction(seed):
    """Keys, solutions and the web print every exact value by one rule: a decimal where its
    expansion ends within 6 places, else a fraction."""
    options = [{}, {"sizes": "2,3,2", "reduction": "mean"}, {"transcendental": "base"}][seed % 3]
    problem = handcalc.generate(seed=seed, **options)
    for step in problem.steps:
        for row in printed(problem, step.name):
            for text in row:
                if "/" in text and not text.startswith("≈"):
                    q = Fraction(text.replace("−", "-"))
                    den = q.denominator
                    while den % 2 == 0:
                        den //= 2
                    while den % 5 == 0:
                        den //= 5
                    assert den != 1 or len(str(q.denominator)) > 6, (step.name, text)


# --- the generic fallback and the guard ---------------------------------------------------------


@pytest.fixture(scope="module")
def unplaced(problem) -> handcalc.Problem:
    """The MLP's graph and values under a kind that has no geometry of its own."""
    return Problem(problem.spec, problem.graph, problem.values, problem.seed, kind="generic-test")


def test_a_kind_without_geometry_gets_every_step_as_answer_boxes_in_phase_order(unplaced):
    assert "generic-test" not in GEOMETRIES
    sheet = build_sheet(unplaced)
    names = unplaced.graph.names
    assert set(sheet.inputs) == set(names) and len(sheet.inputs) == len(names)
    rank = list(PHASES)
    phases = [rank.index(unplaced.graph[n].phase) for n in sheet.inputs]
    assert phases == sorted(phases), "the steps in phase order"
    assert sheet.sections[0].title == "Given"
    given = {b.cell: b for g in sheet.sections[0].grids for b in g.blocks}
    assert set(given) == set(unplaced.graph.given)
    assert all(b.role == "given" for b in given.values())
    # table mode's lookup table after the given values, so that A can be found from Z
    assert unplaced.tables and sheet.sections[1].title == "Lookup tables"
    assert len(sheet.sections[1].grids) == len(unplaced.tables)
    titles = [s.title for s in sheet.sections[2:]]
    assert titles == [PHASES[p] for p in ("forward", "loss", "backward", "update")]
    numbers = {}
    for grid in sheet.grids[len(sheet.sections[0].grids) + len(sheet.sections[1].grids) :]:
        (block,) = grid.blocks  # one cell a grid
        assert block.role == "answer" and grid.phase == unplaced.graph[block.cell].phase
        assert (block.rows, block.cols) == unplaced.value(block.cell).shape
        assert block.texts == tuple(map(tuple, printed(unplaced, block.cell)))
        longest = max(len(t) for row in block.texts for t in row)
        assert block.box is not None and block.box.chars >= max(4, longest + 2)
        assert block.box.row == 7.0 and block.label == subscript(block.cell)
        numbers[block.cell] = block.step
    assert list(numbers.values()) == list(range(1, len(names) + 1))
    lines = [line for s in sheet.sections for line in s.steps]
    for name, n in numbers.items():
        step = unplaced.graph[name]
        assert f"[{n}] {formula(step.formula)}: {step.op.words}" in lines


def test_a_generic_sheet_renders_as_a_worksheet_a_key_and_a_form(unplaced):
    sheet = build_sheet(unplaced)
    worksheet = render_html(unplaced, "worksheet", secret="s", date="2024-01-01")
    key = render_html(unplaced, "key", secret="s", date="2024-01-01")
    for grid in sheet.grids:
        assert f'id="grid-{grid.key}"' in worksheet and f'id="grid-{grid.key}"' in key
    assert "0.89" in key and "0.89" not in worksheet  # the loss, on the key only
    template = environment().from_string(
        '{% from "_grid.html" import grid %}{% for g in gs %}{{ grid(g, mode="form") }}{% endfor %}'
    )
    form = template.render(gs=sheet.grids)
    fields = set(re.findall(r'<input name="([^"\[]+)\[', form))
    assert fields == set(unplaced.graph.names)


def test_the_guard_adds_every_step_a_geometry_leaves_out(problem, monkeypatch):
    """A geometry without the updates: they are added generically after its sections, numbered
    on from its last step, so nothing graded is missing from the sheet or the form."""

    def partial(p: handcalc.Problem) -> Sheet:
        full = GEOMETRIES["mlp"](p)
        return replace(full, sections=full.sections[:2], updating=None)

    monkeypatch.setitem(GEOMETRIES, "partial-test", partial)
    odd = Problem(problem.spec, problem.graph, problem.values, problem.seed, kind="partial-test")
    own = partial(odd)
    left_out = [n for n in problem.graph.names if n not in own.inputs]
    assert left_out and all(n.endswith("_new") for n in left_out)
    sheet = build_sheet(odd)
    assert sheet.sections[:2] == own.sections
    assert set(sheet.inputs) == set(problem.graph.names)
    added = [b for s in sheet.sections[2:] for g in s.grids for b in g.blocks]
    assert [b.cell for b in added] == left_out
    last = max(b.step for g in own.grids for b in g.blocks)
    assert [b.step for b in added] == list(range(last + 1, last + 1 + len(left_out)))
    keys = [g.key for g in sheet.grids]
    assert len(keys) == len(set(keys))
    # the MLP's own geometry leaves nothing out: the guard adds nothing
    assert build_sheet(problem).sections == GEOMETRIES["mlp"](problem).sections


def test_a_generic_worksheet_prints(unplaced):
    """On paper: every step's label, and boxes to write in (see the PNG of page 1 in review)."""
    pdf = render_pdf(unplaced, "worksheet", secret="s", date="2024-01-01")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = " ".join(p.extract_text() for p in reader.pages)
    for n in range(1, len(unplaced.graph.names) + 1):
        assert f"[{n}]" in text


def test_generic_order_is_section_then_phase(problem):
    """Steps grouped by their section (in the order sections first appear), then by phase in
    the order of PHASES, keeping the graph's order within a group."""
    from handcalc.layout.generic import ordered

    steps = list(problem.steps)
    moved = [replace(s, cell=replace(s.cell, section="s1")) for s in steps[:3]]
    groups = ordered([*reversed(steps[3:]), *moved])
    assert [(section, phase) for section, phase, _ in groups] == [
        ("", "forward"),
        ("", "loss"),
        ("", "backward"),
        ("", "update"),
        ("s1", "forward"),
    ]
    assert [s.name for s in groups[-1][2]] == ["s1.Z1", "s1.A1", "s1.Z2"]


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_a_generic_sheet_keeps_its_text_within_its_pieces_and_the_page(paper):
    """The toy kind of test_kinds (two SGD steps in sections s1, s2): on every page, no piece
    overlaps another or passes the page, and each heading and step line fits its own piece (a
    section floated beside another as a block as narrow as its grids once had its step lines
    run into its neighbour and past the page's right edge)."""
    from test_kinds import OPTIONS, TwoSteps

    from handcalc import kinds
    from handcalc.front import HEADING_PT, TEXT_PT
    from handcalc.pages import EPS, paginate

    kind = kinds.register(TwoSteps())
    try:
        problem = handcalc.generate(kind="two_steps", seed=7, **OPTIONS)
    finally:
        del kinds.KINDS[kind.name]
    sheet = build_sheet(problem)
    for mode in ("worksheet", "key"):
        pages = paginate(sheet, paper, "auto", mode)
        for page in pages.pages:
            pieces = page.pieces
            for p in pieces:
                where = (mode, p.kind, p.text or p.lines[:1] or (p.grid and p.grid.key))
                assert p.x >= -EPS and p.x + p.width <= pages.width + EPS, where
                assert p.y >= -EPS and p.y + p.height <= pages.height + EPS, where
                if p.kind == "heading":
                    assert text_width(p.text, HEADING_PT, "bold") <= p.width + EPS, where
                if p.kind == "steps":
                    column = p.width / p.columns
                    assert all(text_width(t, TEXT_PT) <= column + EPS for t in p.lines), where
            for i, a in enumerate(pieces):
                for b in pieces[i + 1 :]:
                    apart = (
                        a.x + a.width <= b.x + EPS
                        or b.x + b.width <= a.x + EPS
                        or a.y + a.height <= b.y + EPS
                        or b.y + b.height <= a.y + EPS
                    )
                    assert apart, (mode, a, b)
