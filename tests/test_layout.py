"""The layout model: where every matrix sits, which entries are given, blank or filled, and the
grid partial's form-mode contract that the web service relies on."""

from __future__ import annotations

import re

import pytest

import handcalc
from handcalc.layout import Block, build_sheet, printed
from handcalc.render import environment


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


def test_backward_grid_places_products_like_by_hand(sheet):
    blocks = _blocks(sheet, "backward-2")
    dz, dw, db, at = blocks["dZ2"], blocks["dW2"], blocks["db2"], blocks["A1"]
    assert at.transpose and at.role == "copy" and (at.rows, at.cols) == (2, 3)
    assert dw.x == at.x and dw.y > at.y, "Aᵀ above dW"
    assert dz.y == dw.y and dz.x < dw.x, "dZ left of dW"
    assert db.x > dw.x + dw.cols - 1 and db.cols == 1
    wt, da, mask = blocks["W3"], blocks["dA2"], blocks["dZ2_mask"]
    assert wt.transpose and wt.role == "given" and wt.x + wt.cols <= da.x
    assert mask.role == "work" and mask.x == dz.x and mask.y < dz.y, "dZ below the mask"
    assert mask.texts == (("1", "1"), ("1", "0"), ("0", "1"), ("0", "0"))  # relu′(Z2), Z2 > 0
    # dA2 sits under dZ3 (the layer above), the staircase continuing down and to the right
    assert da.x == _blocks(sheet, "backward-3")["dZ3"].x


def test_no_blocks_overlap_and_all_sit_inside_their_grid(sheet):
    for grid in sheet.grids:
        for i, a in enumerate(grid.blocks):
            assert a.x >= 0 and a.y >= 0.5
            assert a.x + a.cols <= grid.width + 1e-9 and a.y + a.rows <= grid.height + 1e-9
            for b in grid.blocks[i + 1 :]:
                assert not _overlap(a, b), (grid.key, a.cell, b.cell)


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
    assert printed(problem, "dZ3")[0] == ["47/100", "3/25"]  # fractions stay fractions
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
        for c, (r, k) in {"dZ2": (4, 2), "dW2": (4, 3), "db2": (4, 1), "dA2": (4, 2)}.items()
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
    assert "A1[" not in "".join(names)
    copy = html.split('data-cell="A1"')[1].split("</table>")[0]
    assert re.findall(r"<td>([^<]*)</td>", copy)[:3] == ["11", "0", "0"]


def test_worksheet_mode_has_no_inputs_and_no_answers(sheet):
    grid = next(g for g in sheet.grids if g.key == "forward-1")
    html = _form(grid, mode="worksheet")
    assert "<input" not in html and "11" not in html  # Z1[1,1] = 11 stays blank
    assert "11" in _form(grid, mode="key")
