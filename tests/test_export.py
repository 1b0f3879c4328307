"""Export to quiz engines: each format parsed back with lxml and every answer held against the key.

For each format the file is read as the platform would (the manifest, the items, the categories),
every graded entry is found exactly once, and the decimal it accepts is checked against the key's
exact value (``handcalc.grading.expected.numbers``, not the exporter's own numbers) within the
tolerance the file states; the tolerances themselves are checked against the rules of
``handcalc.export.entries``.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from fractions import Fraction
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from handcalc import api, kinds
from handcalc.cli import cli
from handcalc.export import export, graded
from handcalc.export.common import ident
from handcalc.grading.expected import approximate_cells, numbers
from handcalc.printing import stated_decimals
from handcalc.problem import Problem

etree = pytest.importorskip("lxml.etree")

QTI21 = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
QTI12 = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
IMSCP = "{http://www.imsglobal.org/xsd/imscp_v1p1}"
CLOZE = re.compile(r"\{1:NUMERICAL:=([^:}]+):([^}#]+)\}")

#: one of each kind of tolerance: fractions without a finite decimal (mean over 3), a table's
#: stated decimals (table mode), decimals from a calculator (exact mode)
CASES = {
    "fractions": dict(seed=1, reduction="mean", batch=3, sizes=[2, 2, 2]),
    "table": dict(seed=7, transcendental="table", activation="sigmoid", sizes=[2, 2, 2], digits=1),
    "exact": dict(seed=7, transcendental="exact", sizes=[2, 2, 2]),
}


@cache
def problem(case: str) -> Problem:
    return api.generate(**CASES[case])


def keys(p: Problem) -> dict[tuple[str, int, int], Fraction | float]:
    """Every graded entry of ``p``'s key, exact (a float where the key is irrational)."""
    return {
        (step.name, i, j): x
        for step in p.steps
        for i, row in enumerate(numbers(p.value(step.name)))
        for j, x in enumerate(row)
    }


def held(found: dict[tuple[str, int, int], tuple[str, float]], p: Problem) -> None:
    """``found`` (entry → the decimal written, its absolute tolerance) is the key: every entry
    once, the decimal within the tolerance of the exact value, the tolerance by the rules."""
    key = keys(p)
    assert set(found) == set(key)
    for where, (text, tolerance) in found.items():
        exact = key[where]
        assert re.fullmatch(r"-?\d+(\.\d+)?", text), text  # plain decimals, no exponent
        assert abs(Fraction(text) - Fraction(exact)) <= Fraction(tolerance) * (
            1 + Fraction(1, 10**6)
        )
        assert (
            abs(Fraction(text) - Fraction(exact)) <= Fraction(1, 10**14) + Fraction(tolerance) / 100
        )
        if isinstance(exact, Fraction) and tolerance == 0:
            assert Fraction(text) == exact  # a finite decimal, written exactly
        assert tolerance == pytest.approx(rule(p, where[0], exact), rel=1e-6, abs=1e-15)


def rule(p: Problem, cell: str, exact: Fraction | float) -> float:
    """The tolerance the module's docstring promises for an entry (written out again here)."""
    decimals = stated_decimals(p, p.graph[cell])
    if decimals is not None:
        return 0.5 * 10.0**-decimals
    if cell in approximate_cells(p.steps, p.values):
        return 0.01 * abs(float(exact))
    exact = Fraction(exact)
    if 10**12 % exact.denominator == 0:
        return 0.0
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(exact))) - 3)


def test_tolerances_follow_the_rules() -> None:
    fractions = {
        (e.cell, e.i, e.j): e for _, rows in graded(problem("fractions")) for r in rows for e in r
    }
    one = next(e for e in fractions.values() if "/" in e.key and e.cell != "loss")
    x = float(Fraction(one.key))
    assert one.tolerance > 0
    assert one.accepts(float(f"{x:.4g}")) and one.accepts(float(f"{x:.6g}"))  # 4 digits or more
    assert not one.accepts(float(f"{x:.2g}"))  # 2 are not enough
    assert not one.accepts(x + 2 * one.tolerance)
    finite = next(e for e in fractions.values() if "/" not in e.key and e.key != "0")
    assert finite.tolerance == 0 and Fraction(finite.text) == Fraction(finite.key)
    stated = {e.cell: e for _, rows in graded(problem("table")) for r in rows for e in r}
    assert stated["A1"].tolerance == stated["loss"].tolerance == 0.05  # digits 1
    loose = {e.cell: e for _, rows in graded(problem("exact")) for r in rows for e in r}
    a2 = loose["A2"]
    assert a2.tolerance == pytest.approx(0.01 * abs(a2.value))  # the grader's 1 %


def check_moodle(p: Problem) -> None:
    quiz = etree.fromstring(export([p], "moodle"))
    assert quiz.tag == "quiz"
    questions = quiz.findall("question")
    assert questions[0].get("type") == "category"
    assert "$course$/top/handcalc/" in questions[0].findtext("category/text")
    found: dict[tuple[str, int, int], tuple[str, float]] = {}
    types = set()
    for q in questions[1:]:
        types.add(q.get("type"))
        cell = q.findtext("name/text").split(" ", 1)[1]
        stem = q.findtext("questiontext/text")
        assert q.find("questiontext").get("format") == "html"
        for name in p.graph.given:
            assert f"<caption>{name}</caption>" in stem  # every given matrix
        for table in p.tables:
            assert f"<caption>{table}:" in stem  # given, never asked
        shape = p.value(cell).shape
        if q.get("type") == "numerical":
            assert shape == (1, 1)
            (answer,) = q.findall("answer")
            assert answer.get("fraction") == "100"
            found[(cell, 0, 0)] = (answer.findtext("text"), float(answer.findtext("tolerance")))
        else:
            assert q.get("type") == "cloze"
            grid = etree.fromstring(
                stem[stem.index(f'<table border="1"><caption>{cell}<') :].split("</table>")[0]
                + "</table>"
            )
            rows = grid.findall("tbody/tr")
            assert len(rows) == shape[0]
            for i, row in enumerate(rows):
                cells = row.findall("td")
                assert len(cells) == shape[1]
                for j, td in enumerate(cells):
                    ((text, tolerance),) = CLOZE.findall(td.text)
                    assert (cell, i, j) not in found
                    found[(cell, i, j)] = (text, float(tolerance))
    single = {p.value(s.name).shape == (1, 1) for s in p.steps}
    assert types == {"numerical" if one else "cloze" for one in single}
    held(found, p)


def check_qti21(p: Problem) -> None:
    package = zipfile.ZipFile(io.BytesIO(export([p], "qti21")))
    manifest = etree.fromstring(package.read("imsmanifest.xml"))
    hrefs = [r.get("href") for r in manifest.iter(f"{IMSCP}resource")]
    assert set(hrefs) == set(package.namelist()) - {"imsmanifest.xml"}
    test = etree.fromstring(package.read("test.xml"))
    refs = [r.get("href") for r in test.iter(f"{QTI21}assessmentItemRef")]
    assert len(refs) == len(p.steps)
    found: dict[tuple[str, int, int], tuple[str, float]] = {}
    names = {ident(s.name): s.name for s in p.steps}
    for href in refs:
        item = etree.fromstring(package.read(href))
        assert item.tag == f"{QTI21}assessmentItem"
        for attribute in ("identifier", "title", "adaptive", "timeDependent"):
            assert item.get(attribute)
        cell = names[item.get("identifier").removeprefix("v1_")]
        outcomes = {o.get("identifier") for o in item.findall(f"{QTI21}outcomeDeclaration")}
        assert outcomes == {"SCORE", "MAXSCORE"}
        body = item.find(f"{QTI21}itemBody")
        assert all(t.get("border") is None for t in body.iter(f"{QTI21}table"))
        captions = [c.text for c in body.iter(f"{QTI21}caption")]
        assert set(p.graph.given) < set(captions) and cell in captions
        asked = [t.get("responseIdentifier") for t in body.iter(f"{QTI21}textEntryInteraction")]
        declared = item.findall(f"{QTI21}responseDeclaration")
        assert asked == [d.get("identifier") for d in declared]
        assert len(asked) == len(set(asked)) == p.value(cell).shape[0] * p.value(cell).shape[1]
        conditions = item.findall(f"{QTI21}responseProcessing/{QTI21}responseCondition")
        assert len(conditions) == len(declared)
        for declaration, condition in zip(declared, conditions, strict=True):
            response = declaration.get("identifier")
            assert declaration.get("baseType") == "float"
            text = declaration.findtext(f"{QTI21}correctResponse/{QTI21}value")
            equal = condition.find(f"{QTI21}responseIf/{QTI21}equal")
            assert equal.find(f"{QTI21}variable").get("identifier") == response
            assert equal.find(f"{QTI21}correct").get("identifier") == response
            if equal.get("toleranceMode") == "exact":
                tolerance = 0.0
            else:
                assert equal.get("toleranceMode") == "absolute"
                low, high = map(float, equal.get("tolerance").split())
                assert low == high
                tolerance = low
            i, j = (int(n) - 1 for n in response.removeprefix("RESPONSE_").split("_"))
            assert (cell, i, j) not in found
            found[(cell, i, j)] = (text, tolerance)
    held(found, p)


def check_qti12(p: Problem) -> None:
    package = zipfile.ZipFile(io.BytesIO(export([p], "qti12")))
    manifest = etree.fromstring(package.read("imsmanifest.xml"))
    (resource,) = manifest.iter(f"{IMSCP}resource")
    assert resource.get("type") == "imsqti_xmlv1p2"
    root = etree.fromstring(package.read(resource.get("href")))
    assert root.tag == f"{QTI12}questestinterop"
    (bank,) = root.findall(f"{QTI12}objectbank")
    found: dict[tuple[str, int, int], tuple[str, float]] = {}
    for item in bank.findall(f"{QTI12}item"):
        fields = {
            f.findtext(f"{QTI12}fieldlabel"): f.findtext(f"{QTI12}fieldentry")
            for f in item.iter(f"{QTI12}qtimetadatafield")
        }
        assert fields["question_type"] == "numerical_question"
        assert item.find(f".//{QTI12}render_fib").get("fibtype") == "Decimal"
        cell, at = item.get("title").rstrip("]").split("[")
        i, j = (int(n) - 1 for n in at.split(","))
        condition = item.find(f".//{QTI12}conditionvar/{QTI12}or")
        text = condition.findtext(f"{QTI12}varequal")
        low = condition.findtext(f"{QTI12}and/{QTI12}vargte")
        high = condition.findtext(f"{QTI12}and/{QTI12}varlte")
        tolerance = 0.0 if low is None else (float(high) - float(low)) / 2
        if low is not None:
            assert float(high) - float(text) == pytest.approx(float(text) - float(low))
        assert (cell, i, j) not in found
        found[(cell, i, j)] = (text, tolerance)
    held(found, p)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fmt", ["moodle", "qti21", "qti12"])
def test_each_format_holds_the_key(case: str, fmt: str) -> None:
    CHECKS[fmt](problem(case))


@pytest.mark.parametrize("kind", sorted(kinds.KINDS))
def test_every_kind_exports(kind: str) -> None:
    p = api.generate(kind=kind, seed=3)
    for check in CHECKS.values():
        check(p)


CHECKS = {"moodle": check_moodle, "qti21": check_qti21, "qti12": check_qti12}


def test_a_bank_of_three_variants_has_three_categories() -> None:
    problems = [api.generate(seed=s, sizes=[2, 2, 2]) for s in (1, 2, 3)]
    quiz = etree.fromstring(export(problems, "moodle", title="Week 3"))
    categories = [q.findtext("category/text") for q in quiz.findall("question[@type='category']")]
    assert categories == [f"$course$/top/Week 3/Week 3: variant {n} (seed {n})" for n in (1, 2, 3)]
    # each category's questions carry its own numbers
    stems, current = {}, None
    for q in quiz.findall("question"):
        if q.get("type") == "category":
            current = q.findtext("category/text")
        elif q.findtext("name/text").endswith(" Z1"):
            stems[current] = CLOZE.findall(q.findtext("questiontext/text"))
    assert len(stems) == 3 and len({tuple(s) for s in stems.values()}) == 3

    package = zipfile.ZipFile(io.BytesIO(export(problems, "qti21")))
    test = etree.fromstring(package.read("test.xml"))
    sections = test.findall(f".//{QTI21}assessmentSection")
    assert [s.get("identifier") for s in sections] == ["v1", "v2", "v3"]
    assert all(len(s) == len(problems[0].steps) for s in sections)
    canvas = zipfile.ZipFile(io.BytesIO(export(problems, "qti12")))
    banks = [n for n in canvas.namelist() if n != "imsmanifest.xml"]
    titles = {etree.fromstring(canvas.read(n)).findtext(f".//{QTI12}fieldentry") for n in banks}
    assert len(banks) == len(titles) == 3


def test_cli_writes_each_format(tmp_path: Path) -> None:
    runner = CliRunner()
    for fmt, name in (("qti21", "a.zip"), ("qti12", "b.zip"), ("moodle", "c.xml")):
        out = tmp_path / name
        result = runner.invoke(
            cli,
            [
                "export",
                "--format",
                fmt,
                "--seed",
                "5",
                "--sizes",
                "2,2,2",
                "--variants",
                "2",
                "-o",
                str(out),
            ],
        )
        assert result.exit_code == 0, result.output
        data = out.read_bytes()
        assert zipfile.is_zipfile(out) == (fmt != "moodle")
    quiz = etree.fromstring(data)
    assert len(quiz.findall("question[@type='category']")) == 2
    assert "(seed 6)" in quiz.findall("question[@type='category']")[1].findtext("category/text")


@pytest.mark.parametrize(
    "args, says",
    [
        (["--format", "qti13", "--seed", "1"], "'--format'"),
        (["--format", "moodle", "--seed", "1", "--variants", "0"], "'--variants'"),
        (["--format", "moodle", "--seed", "-1"], "'--seed'"),
        (["--format", "moodle", "--seed", "1", "--sizes", "2,x"], "sizes"),
        (["--format", "moodle", "--seed", "1", "--kind", "nope"], "'--kind'"),
        (["--format", "moodle", "--seed", str(2**63 - 1), "--variants", "2"], "--seed"),
    ],
)
def test_cli_refuses_bad_options_with_one_line(tmp_path: Path, args: list[str], says: str) -> None:
    out = tmp_path / "x"
    result = CliRunner().invoke(cli, ["export", *args, "-o", str(out)])
    assert result.exit_code in (1, 2)
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and says in errors[0], result.output
    assert "Traceback" not in result.output and not out.exists()
