"""The self-checking spreadsheet (``--format xlsx``): read back with openpyxl, its check formulas
evaluated by pycel on the key's values, a wrong entry and blanks; the given values and the layout
against the problem; the checks' tolerance against the grader's; the CLI's file."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

openpyxl = pytest.importorskip("openpyxl", reason="the sheets extra (openpyxl) is not installed")
pycel = pytest.importorskip("pycel", reason="pycel (dev) evaluates the check formulas")

from handcalc import generate  # noqa: E402
from handcalc.cli import cli  # noqa: E402
from handcalc.errors import HandcalcError  # noqa: E402
from handcalc.grading import DEFAULT_TOLERANCE, grade  # noqa: E402
from handcalc.grading.key import answer_key  # noqa: E402
from handcalc.graph import resolve  # noqa: E402
from handcalc.layout import build_sheet  # noqa: E402
from handcalc.matrix import to_fraction  # noqa: E402
from handcalc.spreadsheet import (  # noqa: E402
    CORRECT,
    INCORRECT,
    KEY_SHEET,
    NOT_DONE,
    WORK_SHEET,
    graded_entries,
    workbook_bytes,
)

PROBLEMS = {
    "mlp": lambda: generate(seed=7),
    "sigmoid-table": lambda: generate(
        seed=3, activation="sigmoid", transcendental="table", sizes=[2, 2, 2], digits=1
    ),
    "exact": lambda: generate(seed=3, transcendental="exact", sizes=[2, 2, 2]),
    "finetune": lambda: generate("finetune", seed=3),
}

CHECK = re.compile(r'^=IF\(ISBLANK\(([A-Z]+[0-9]+)\),"NOT DONE"')
ENTRY = re.compile(r"^(\S+)\[(\d+)\]\[(\d+)\] = ")


class Book:
    """A written workbook read back: its check cells, the answer cell each checks, the key."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.book = openpyxl.load_workbook(io.BytesIO(data))
        self.sheet, self.key = self.book[WORK_SHEET], self.book[KEY_SHEET]
        #: answer address → check address
        self.checks: dict[str, str] = {}
        for row in self.sheet.iter_rows():
            for c in row:
                found = CHECK.match(c.value) if isinstance(c.value, str) else None
                if found:
                    self.checks[found.group(1)] = c.coordinate
        #: answer address → (cell, i, j) from the key's comments
        self.entries = {
            a: _entry(self.key[a].comment.text) for a in self.checks if self.key[a].comment
        }

    def evaluate(self, typed: dict[str, float]) -> dict[str, str]:
        """Each check's word with ``typed`` (answer address → value) in the answer cells."""
        xl = pycel.ExcelCompiler(excel=openpyxl.load_workbook(io.BytesIO(self.data)))
        for check in self.checks.values():  # pycel sets only cells it has read
            xl.evaluate(f"{WORK_SHEET}!{check}")
        for address, value in typed.items():
            xl.set_value(f"{WORK_SHEET}!{address}", value)
        return {a: xl.evaluate(f"{WORK_SHEET}!{c}") for a, c in self.checks.items()}

    def keyed(self) -> dict[str, float]:
        return {a: self.key[a].value for a in self.checks}


def _entry(text: str) -> tuple[str, int, int]:
    found = ENTRY.match(text)
    assert found, text
    return found.group(1), int(found.group(2)), int(found.group(3))


@pytest.fixture(scope="module", params=sorted(PROBLEMS))
def written(request: pytest.FixtureRequest) -> tuple[object, Book]:
    problem = PROBLEMS[request.param]()
    return problem, Book(workbook_bytes(problem))


def test_key_sheet_is_hidden(written) -> None:
    _, book = written
    assert book.key.sheet_state == "hidden"
    assert book.sheet.sheet_state == "visible"


def test_every_graded_entry_has_an_answer_cell_and_a_check(written) -> None:
    problem, book = written
    assert set(graded_entries(problem)) <= set(book.entries.values())
    assert len(book.entries) == len(book.checks)
    for address in book.checks:
        assert book.sheet[address].value is None  # blank on the worksheet


def test_key_values_are_the_problems(written) -> None:
    problem, book = written
    key = answer_key(problem)
    for address, (name, i, j) in book.entries.items():
        expected = key.cells[name].expected.numbers[i][j]
        assert book.key[address].value == pytest.approx(float(expected), rel=1e-12, abs=1e-15)


def test_the_key_typed_in_is_all_correct_blanks_not_done(written) -> None:
    _, book = written
    assert set(book.evaluate({}).values()) == {NOT_DONE}
    assert set(book.evaluate(book.keyed()).values()) == {CORRECT}


def test_one_wrong_entry_is_incorrect_the_others_correct(written) -> None:
    _, book = written
    typed = book.keyed()
    wrong = sorted(typed)[len(typed) // 2]
    typed[wrong] += 1 + abs(typed[wrong])
    words = book.evaluate(typed)
    assert words.pop(wrong) == INCORRECT
    assert set(words.values()) == {CORRECT}
    blank = dict(typed)
    del blank[wrong]
    assert book.evaluate(blank)[wrong] == NOT_DONE


def test_given_values_are_the_problems(written) -> None:
    """Every given block of the printed grid is on the worksheet below its label, as the
    problem's values (transposed where the grid prints a transpose)."""
    problem, book = written
    cells = {(c.row, c.column): c.value for row in book.sheet.iter_rows() for c in row if c.value}
    labels: dict[str, list[tuple[int, int]]] = {}
    for (r, c), v in cells.items():
        if isinstance(v, str):
            labels.setdefault(v, []).append((r, c))
    blocks = [
        b for g in build_sheet(problem).grids for b in g.blocks if b.role == "given" and b.cell
    ]
    assert blocks
    for b in blocks:
        rows = problem.value(resolve(b.cell)).to_list()
        want = [
            [to_fraction(rows[b.source(i, j)[0]][b.source(i, j)[1]]) for j in range(b.cols)]
            for i in range(b.rows)
        ]

        def found(r: int, c: int, b=b, want=want) -> bool:
            return all(
                cells.get((r + 1 + i, c + j), 0) == float(want[i][j])
                for i in range(b.rows)
                for j in range(b.cols)
            )

        assert any(found(r, c) for r, c in labels.get(b.label, [])), b.label


def test_tolerance_is_the_graders() -> None:
    """Nudged entries: within half a unit (the loss) or the relative tolerance (exact mode's
    output) the check and the grader both accept, past it both refuse."""
    problem = PROBLEMS["exact"]()
    book = Book(workbook_bytes(problem))
    key = answer_key(problem)
    by_entry = {e: a for a, e in book.entries.items()}
    cases = []
    for name, cell in key.cells.items():
        exp = cell.expected
        x = float(exp.numbers[0][0])
        if exp.half_unit is not None:
            h = float(exp.half_unit)
            cases += [(name, x + 0.9 * h, CORRECT), (name, x - 1.1 * h, INCORRECT)]
        elif exp.approximate and x:
            cases += [
                (name, x * (1 + 0.5 * DEFAULT_TOLERANCE), CORRECT),
                (name, x * (1 + 2 * DEFAULT_TOLERANCE), INCORRECT),
            ]
    assert any(n == "loss" for n, _, _ in cases) and len(cases) > 2
    for name, typed, word in cases:
        address = by_entry[(name, 0, 0)]
        assert book.evaluate({address: typed})[address] == word, (name, typed)
        answers = {"cells": {name: [[""] * len(r) for r in problem.text(name)]}}
        answers["cells"][name][0][0] = repr(typed)
        status = grade(problem, answers)[name].entries[0][0]
        assert (status == "correct") == (word == CORRECT), (name, typed, status)


def test_cli_writes_an_xlsx(tmp_path: Path) -> None:
    out = tmp_path / "sheet.xlsx"
    runner = CliRunner()
    result = runner.invoke(
        cli, ["generate", "--seed", "7", "--sizes", "2,2,2", "--format", "xlsx", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    book = Book(out.read_bytes())
    assert book.checks and book.key.sheet_state == "hidden"
    doc = tmp_path / "p.json"
    doc.write_text(generate(seed=7, sizes=[2, 2, 2]).to_json())
    solved = tmp_path / "solved.xlsx"
    result = runner.invoke(cli, ["solve", str(doc), "--format", "xlsx", "-o", str(solved)])
    assert result.exit_code == 0, result.output
    assert Book(solved.read_bytes()).entries == book.entries
    refused = runner.invoke(
        cli, ["generate", "--seed", "7", "--format", "xlsx", "--key", "-o", str(out)]
    )
    assert refused.exit_code == 2 and "spreadsheet" in refused.output


def test_lookup_tables_are_printed_as_given() -> None:
    problem = PROBLEMS["sigmoid-table"]()
    book = Book(workbook_bytes(problem))
    rows = [tuple(c.value for c in row if c.value is not None) for row in book.sheet.iter_rows()]
    tables = [b for g in build_sheet(problem).grids if g.key.startswith("table") for b in g.blocks]
    printed = [row for b in tables if b.cell == "" and b.rows for row in b.texts]
    assert printed
    for texts in printed:
        plain = [t.replace("−", "-") for t in texts]
        want = tuple(float(t) for t in plain if re.fullmatch(r"-?[0-9.]+", t))
        assert any(want == row[-len(want) :] for row in rows if len(row) >= len(want)), texts


def test_without_openpyxl_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import openpyxl raises ImportError
    with pytest.raises(HandcalcError, match=r"handcalc\[sheets\]"):
        workbook_bytes(PROBLEMS["finetune"]())
