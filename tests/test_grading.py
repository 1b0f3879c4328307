"""Grading: reading answers, exact and tolerant grading, credit carried forward and its guard."""

from __future__ import annotations

import contextlib
import json
import time
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from students import (
    graded_steps,
    key_answers,
    problems,
    proportional,
    shifted,
    student,
    text,
    zeros_like,
)

import handcalc
from handcalc import Report, grade
from handcalc.answers import read_cell
from handcalc.errors import DocumentError, HandcalcError
from handcalc.matrix import entry_float, rational, to_fraction
from handcalc.mistakes import variants
from handcalc.problem import Problem

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXACT = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def problem() -> Problem:
    return handcalc.generate(seed=7)


@pytest.fixture(scope="module")
def exact_problem() -> Problem:
    return handcalc.generate(seed=7, transcendental="exact")


# --- reading answers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("2", Fraction(2)),
        ("-3", Fraction(-3)),
        ("+4", Fraction(4)),
        ("-3/4", Fraction(-3, 4)),
        ("6/8", Fraction(3, 4)),
        ("0.75", Fraction(3, 4)),
        (".5", Fraction(1, 2)),
        ("-1.25e-1", Fraction(-1, 8)),
        ("2E1", Fraction(20)),
        ("\u22122", Fraction(-2)),  # the unicode minus a word processor puts in
        ("\u2212 3/4", Fraction(-3, 4)),
        ("  7  ", Fraction(7)),
        ("- 3", Fraction(-3)),
        (" 3 / 4 ", Fraction(3, 4)),
        (5, Fraction(5)),  # a JSON number
        (0.5, Fraction(1, 2)),
    ],
)
def test_accepted_forms(typed: object, value: Fraction) -> None:
    cell = read_cell("Z1", [[typed]], (1, 1))
    assert cell.problems == ()
    assert cell.value is not None
    assert to_fraction(cell.value.to_list()[0][0]) == value


@pytest.mark.parametrize(
    "typed",
    [
        "abc",
        "1/0",
        "2x",
        "3/4/5",
        "1e99",
        "9" * 41,
        "1234567890123/2",
        "0x10",
        "1_000",
        "nan",
        "inf",
        "exp(2)",
        "2 3",
        "--2",
        "1/-2",
        "3.4.5",
        ".",
        "e5",
        True,
        {"a": 1},
        [1],
    ],
)
def test_refused_forms_are_invalid_not_wrong(problem: Problem, typed: object) -> None:
    rows = problem.text("Z1")
    rows = [row[:] for row in rows]
    rows[0][0] = typed  # type: ignore[call-overload]
    report = grade(problem, {"cells": {"Z1": rows}})
    cell = report["Z1"]
    assert cell.status == "invalid"
    assert cell.entries[0][0] == "invalid"
    assert report.first_error is None  # a format error is not a wrong answer
    assert "Z1[1][1]" in cell.feedback
    assert "accepted" in cell.feedback or "expected" in cell.feedback
    # the other entries still earn their credit: the student loses only the unreadable one
    n = len(rows) * len(rows[0])
    assert cell.score == pytest.approx((n - 1) / n)


def test_blank_cells(problem: Problem) -> None:
    shape = problem.value("Z1").shape
    for blank in (
        None,
        "",
        [],
        [[""] * shape[1] for _ in range(shape[0])],
        [[None] * shape[1] for _ in range(shape[0])],
    ):
        cell = grade(problem, {"cells": {"Z1": blank}})["Z1"]
        assert cell.status == "missing" and cell.score == 0
        assert {s for row in cell.entries for s in row} == {"missing"}
    assert grade(problem, {"cells": {}})["Z1"].status == "missing"
    partly = [row[:] for row in problem.text("Z1")]
    partly[1][0] = " "
    cell = grade(problem, {"cells": {"Z1": partly}})["Z1"]
    assert cell.status == "invalid" and cell.entries[1][0] == "missing"
    assert "blank" in cell.feedback


def test_wrong_shape_is_a_format_error(problem: Problem) -> None:
    rows, cols = problem.value("Z1").shape
    for raw, got in (
        ([["1"] * cols] * (rows + 1), f"{rows + 1} × {cols}"),
        ([["1"] * cols, ["1"]], "rows of different lengths"),
        ("3", "a matrix"),
        ({"a": 1}, "a matrix"),
    ):
        cell = grade(problem, {"cells": {"Z1": raw}})["Z1"]
        assert cell.status == "invalid" and cell.score == 0 and cell.entries == ()
        assert got in cell.feedback
        assert (
            f"expected a {rows} × {cols} matrix" in cell.feedback or "list of rows" in cell.feedback
        )


def test_scalar_loss_may_be_a_plain_number(problem: Problem) -> None:
    (loss,) = problem.text("loss")[0]
    assert grade(problem, {"cells": {"loss": loss}})["loss"].status == "correct"
    assert grade(problem, {"cells": {"loss": [[loss]]}})["loss"].status == "correct"


def test_the_envelope(problem: Problem) -> None:
    answers = key_answers(problem)
    assert grade(problem, json.dumps(answers)).score == grade(problem, answers).score
    assert grade(problem, json.dumps(answers).encode()).score == grade(problem, answers).score
    assert grade(problem, {"format": "handcalc/answers@1", **answers}).score > 0
    for bad, message in (
        ("{not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        ({"cell": {}}, "unknown field 'cell'"),
        ({"cells": [1]}, "answers.cells"),
        ({"cells": {"z1": [["1"]]}}, "unknown cell 'z1'"),
        ({"cells": {f"c{i}": 1 for i in range(201)}}, "too many"),
        ({"format": "other", "cells": {}}, "answers.format"),
        ("x" * 200_001, "larger than"),
    ):
        with pytest.raises(DocumentError, match=message):
            grade(problem, bad)  # type: ignore[arg-type]
    with pytest.raises(DocumentError) as e:
        grade(problem, {"cells": {"Z9": [["1"]]}})
    assert "Z1, A1, Z2" in str(e.value)  # the message names the cells there are


def test_given_cells_are_not_graded_and_table_values_are(problem: Problem) -> None:
    """A value read from a lookup table (A3) is an answer: graded, exactly the table's value."""
    assert problem.tables  # the default problem prints its softmax as a lookup table
    report = grade(problem, {"cells": {"W1": problem.text("W1"), "A3": problem.text("A3")}})
    assert {c.name for c in report.cells} == {s.name for s in problem.steps}
    assert report["A3"].status == "correct"
    assert any("W1" in note for note in report.notes)
    # the table's rounded values as printed (0.47) are right, the unrounded softmax is not
    table = problem.tables["softmax(Z3)"]
    z3 = [[to_fraction(x) for x in row] for row in problem.value("Z3").to_list()]
    rows = [table.find(col) for col in zip(*z3, strict=True)]
    typed = [
        list(r) for r in zip(*[[str(v) for v in row.value] for row in rows if row], strict=True)
    ]
    assert grade(problem, {"cells": {"A3": typed}})["A3"].status == "correct"
    decimals = [
        [f"{float(to_fraction(x)):.2f}" for x in row] for row in problem.value("A3").to_list()
    ]
    assert grade(problem, {"cells": {"A3": decimals}})["A3"].status == "correct"
    exact = handcalc.generate(seed=7, transcendental="exact")
    unrounded = [[f"{entry_float(x):.6f}" for x in row] for row in exact.value("A3").to_list()]
    assert grade(problem, {"cells": {"A3": unrounded}})["A3"].status == "wrong"


def test_a_table_value_read_for_a_wrong_z_is_carried() -> None:
    """Z3 slips; the student finds the row of their own Z3 in the table (a distractor row made for
    that slip) and writes its values: A3 is carried, and so is everything after it."""
    for seed in range(10):
        problem = handcalc.generate(seed=seed)
        table = problem.tables["softmax(Z3)"]
        slips = [
            v
            for m, v in variants(problem.graph["Z3"], problem.values)
            if m.code in ("bias_forgotten", "negated")
            and all(
                table.find(col)
                for col in zip(*[[to_fraction(x) for x in r] for r in v.to_list()], strict=True)
            )
        ]
        if slips:
            break
    else:
        raise AssertionError("no table of seeds 0 to 9 has the rows of a whole mistaken Z3")
    answers, _ = student(problem, {"Z3": lambda own: slips[0]})
    report = grade(problem, answers)
    assert report["Z3"].status == "wrong" and report["A3"].status == "carried"
    assert report["dZ3"].status == "carried"


def test_options_are_checked(problem: Problem) -> None:
    answers = key_answers(problem)
    for options, message in (
        ({"tolerance": -0.1}, "tolerance"),
        ({"tolerance": 1.0}, "tolerance"),
        ({"tolerance": "0.1"}, "tolerance"),
        ({"carried_credit": 1.5}, "carried_credit"),
        ({"weights": {"Q": 1}}, "no graded cell 'Q'"),
        ({"weights": {"W1": 1}}, "no graded cell 'W1'"),  # given
        ({"weights": {"Z1": -1}}, "weights.Z1"),
    ):
        with pytest.raises(HandcalcError, match=message):
            grade(problem, answers, **options)  # type: ignore[arg-type]


# --- grading against the key ---------------------------------------------------------------------


@FAST
@given(problems())
def test_the_key_scores_full_marks(problem: Problem) -> None:
    report = grade(problem, key_answers(problem))
    assert report.max_score == len(graded_steps(problem))
    assert report.score == report.max_score
    assert report.first_error is None
    assert all(c.status == "correct" and c.diagnosis == () for c in report.cells)
    # and through the exchange format, as the CLI and the web service get it
    assert grade(problem.to_json(), json.dumps(key_answers(problem))).score == report.score


@EXACT
@given(problems(exact=True))
def test_the_key_scores_full_marks_in_exact_mode(problem: Problem) -> None:
    for decimals in (False, True):  # the expressions, or their decimals
        report = grade(problem, key_answers(problem, decimals=decimals))
        assert report.score == report.max_score, report.statuses


@FAST
@given(problems(), st.data())
def test_partial_credit_per_entry(problem: Problem, data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(graded_steps(problem)))
    value = problem.value(name)
    if not value.domain.is_QQ:
        return  # the base-mode loss: tolerant, covered below
    i = data.draw(st.integers(0, value.shape[0] - 1))
    j = data.draw(st.integers(0, value.shape[1] - 1))
    answers = key_answers(problem)
    answers["cells"][name] = text(shifted(value, Fraction(1), (i, j)))
    report = grade(problem, answers)
    cell = report[name]
    n = value.shape[0] * value.shape[1]
    assert cell.entries[i][j] == "wrong"
    assert sum(s == "correct" for row in cell.entries for s in row) == n - 1
    assert cell.status == "wrong" and cell.score == pytest.approx((n - 1) / n)
    assert report.first_error == name
    assert report.score == pytest.approx(report.max_score - 1 / n)


def test_weights_and_carried_credit(problem: Problem) -> None:
    answers = key_answers(problem)
    report = grade(problem, answers, weights={"dW1": 3, "loss": 0})
    assert report.max_score == len(graded_steps(problem)) + 2 - 1
    assert report["dW1"].max_score == 3 and report.score == report.max_score


def test_rounded_loss_accepts_what_rounds_to_the_printed_decimal(problem: Problem) -> None:
    (printed,) = problem.text("loss")[0]
    value = Fraction(printed)
    for typed, status in (
        (printed, "correct"),
        (printed + "0", "correct"),
        (str(float(value + Fraction(4, 1000))), "correct"),
        (str(float(value - Fraction(5, 1000))), "correct"),
        (str(float(value + Fraction(1, 100))), "wrong"),
        (str(float(value - Fraction(6, 1000))), "wrong"),
    ):
        assert grade(problem, {"cells": {"loss": typed}})["loss"].status == status, typed


@EXACT
@given(problems(exact=True, loss="softmax_ce"))
def test_tolerance_for_irrational_cells(problem: Problem) -> None:
    # (the loss is not held to a tolerance: it is written to its stated decimals)
    irrational = [
        n for n in graded_steps(problem) if n != "loss" and not problem.value(n).domain.is_QQ
    ]
    if not irrational:
        return  # a softmax of equal logits is rational: 1/2
    name = irrational[0]
    value = problem.value(name)

    def scaled(factor: float) -> list[list[str]]:
        return [[f"{entry_float(x) * factor:.10g}" for x in row] for row in value.to_list()]

    def status(factor: float, tolerance: float) -> str:
        answers = key_answers(problem)
        answers["cells"][name] = scaled(factor)
        report = grade(problem, answers, tolerance=tolerance)
        assert report.tolerance == tolerance and report.to_dict()["tolerance"] == tolerance
        return report[name].status

    if all(entry_float(x) == 0 for row in value.to_list() for x in row):
        return
    assert status(1.004, 0.01) == "correct"
    assert status(1.05, 0.01) == "wrong"
    assert status(1.05, 0.1) == "correct"
    assert status(1.004, 0.001) == "wrong"


def test_expressions_only_where_the_key_is_irrational() -> None:
    problem = handcalc.generate(seed=3, sizes=[2, 2, 2], transcendental="exact")
    answers = key_answers(problem)
    rational_cell = next(n for n in graded_steps(problem) if problem.value(n).domain.is_QQ)
    answers["cells"][rational_cell] = [["exp(1)"] * len(r) for r in problem.text(rational_cell)]
    assert grade(problem, answers)[rational_cell].status == "invalid"
    irrational = next(n for n in graded_steps(problem) if not problem.value(n).domain.is_QQ)
    for nasty in (
        "tanh(exp(exp(20)))",
        "exp(exp(exp(exp(9))))",
        "log(0)",
        "log(-1)",
        "(-1)**(1/2)",
        "(1+E)**64**64",
        "exp(" * 60 + "1" + ")" * 60,
        "x" * 500,
        "__import__('os')",
    ):
        answers = key_answers(problem)
        answers["cells"][irrational] = [[nasty] * len(r) for r in problem.text(irrational)]
        start = time.perf_counter()
        assert grade(problem, answers)[irrational].status == "invalid", nasty
        assert time.perf_counter() - start < 1  # generous: it takes milliseconds


# --- credit carried forward ----------------------------------------------------------------------


@FAST
@given(problems())
def test_an_early_slip_carries_forward(problem: Problem) -> None:
    """A slip in Z1, then every later cell done right from it: Z1 wrong, the rest carried."""
    z1 = problem.value("Z1")
    where = max(
        ((i, j) for i in range(z1.shape[0]) for j in range(z1.shape[1])),
        key=lambda ij: to_fraction(z1.to_list()[ij[0]][ij[1]]),
    )  # keeps the ReLU mask
    try:
        answers, own = student(problem, {"Z1": lambda own: shifted(own["Z1"], Fraction(1), where)})
    except HandcalcError:
        reject()  # base mode: the slip leaves the output off the integers, where 3^z is exact
    if any(len(entry) > 25 for rows in answers["cells"].values() for row in rows for entry in row):
        reject()  # base mode: the slip makes 3^z huge, beyond what a student writes by hand
    report = grade(problem, answers)
    assert report.first_error == "Z1"
    assert report["Z1"].status == "wrong"
    carried = []
    for c in report.cells[1:]:
        # off the key exactly where the student's own values differ from it (in table mode a
        # hidden sigmoid's table stops the slip: everything after it is plain correct)
        differs = own[c.name].to_list() != problem.value(c.name).to_list()
        if not problem.value(c.name).domain.is_QQ:  # the base-mode loss: within the tolerance?
            assert c.status in ("correct", "carried"), (c.name, c.feedback)
            continue
        assert c.status == ("carried" if differs else "correct"), (c.name, c.feedback)
        if differs:
            carried.append(c)
            assert "first error in the chain is in Z1" in c.feedback
            assert c.carried_from and c.score == c.max_score
    assert report.score == pytest.approx(report.max_score - 1 + report["Z1"].score)
    half = grade(problem, answers, carried_credit=0.5)
    assert half.carried_credit == 0.5
    for c in carried:
        flat = [s for row in c.entries for s in row]
        expected = (flat.count("correct") + flat.count("carried") / 2) / len(flat)
        assert half[c.name].score == pytest.approx(expected)
        assert half[c.name].score < c.score


@EXACT
@given(problems(exact=True))
def test_an_early_slip_carries_forward_in_exact_mode(problem: Problem) -> None:
    """The student's decimals (8 digits) carry forward within the tolerance."""
    z1 = problem.value("Z1")
    where = max(
        ((i, j) for i in range(z1.shape[0]) for j in range(z1.shape[1])),
        key=lambda ij: to_fraction(z1.to_list()[ij[0]][ij[1]]),
    )
    answers, _ = student(problem, {"Z1": lambda own: shifted(own["Z1"], Fraction(1), where)})
    report = grade(problem, answers)
    assert report.first_error == "Z1"
    assert all(c.status in ("correct", "carried") for c in report.cells[1:]), report.statuses
    assert report.score == pytest.approx(report.max_score - 1 + report["Z1"].score)


@FAST
@given(problems(min_layers=2))
def test_a_second_slip_after_a_carried_chain(problem: Problem) -> None:
    """Z1 slips, A1 follows from it, then one entry of Z2 slips too: Z2 is wrong, with its other
    entries still carried or correct, and the chain's first error is still Z1."""
    if "A1" in problem.tables:
        return  # a hidden sigmoid's table stops the chain at A1
    z1 = problem.value("Z1")
    where = max(
        ((i, j) for i in range(z1.shape[0]) for j in range(z1.shape[1])),
        key=lambda ij: to_fraction(z1.to_list()[ij[0]][ij[1]]),
    )
    try:
        answers, _ = student(
            problem,
            {
                "Z1": lambda own: shifted(own["Z1"], Fraction(1), where),
                "Z2": lambda own: shifted(problem.graph["Z2"].run(own), Fraction(1, 2)),
            },
        )
    except HandcalcError:
        reject()
    report = grade(problem, answers)
    assert report.first_error == "Z1"
    z2 = report["Z2"]
    assert z2.status == "wrong" and z2.entries[0][0] == "wrong"
    rest = [s for i, row in enumerate(z2.entries) for j, s in enumerate(row) if (i, j) != (0, 0)]
    assert all(s in ("correct", "carried") for s in rest)
    n = len(rest) + 1
    assert z2.score == pytest.approx((n - 1) / n)
    if "carried" in rest:
        assert "carried forward" in z2.feedback


@FAST
@given(problems())
def test_a_slip_copied_over_from_the_key_is_only_one_error(problem: Problem) -> None:
    answers, _ = student(problem, {"Z1": lambda own: shifted(own["Z1"])}, carry_on=False)
    report = grade(problem, answers)
    assert report.first_error == "Z1"
    assert [c.name for c in report.cells if c.status != "correct"] == ["Z1"]


@FAST
@given(problems())
def test_missing_inputs_fall_back_to_the_key(problem: Problem) -> None:
    answers = key_answers(problem)
    for name in graded_steps(problem)[:2]:
        del answers["cells"][name]
    report = grade(problem, answers)
    assert [c.status for c in report.cells[:2]] == ["missing", "missing"]
    assert all(c.status == "correct" for c in report.cells[2:])
    assert report.first_error is None


# --- the guard against gaming --------------------------------------------------------------------


@FAST
@given(problems())
def test_zeros_carry_no_credit(problem: Problem) -> None:
    n = problem.spec.layers
    answers, _ = student(problem, {f"dZ{n}": lambda own: zeros_like(own[f"dZ{n}"])})
    report = grade(problem, answers)
    after = graded_steps(problem)
    after = after[after.index(f"dZ{n}") + 1 :]
    users = [s.name for s in problem.steps if s.name in after and f"dZ{n}" in s.inputs]
    for name in users:
        cell = report[name]
        if not problem.value(name).is_zero_matrix:
            assert cell.status == "wrong", name
            assert f"from your dZ{n}: it is all zeros" in cell.feedback
    assert report.first_error == f"dZ{n}"


@FAST
@given(problems(sizes=[2, 2, 2]))
def test_a_copied_given_carries_no_credit(problem: Problem) -> None:
    """dW2 := W2 (a copy of the given weights) does not earn W2_new = (1 − lr)·W2."""
    if 2 not in problem.spec.trainable:
        return
    if proportional(problem.value("W2_new"), problem.value("W2")):
        return  # dW2 ∝ W2 in the key too (a rank-one coincidence): trivial for everyone
    answers, _ = student(problem, {"dW2": lambda own: own["W2"]})
    report = grade(problem, answers)
    assert report["dW2"].status == "wrong"
    assert report["W2_new"].status == "wrong"
    assert "dW2 makes this step trivial (its result is" in report["W2_new"].feedback
    feedback = report["W2_new"].feedback
    assert "times W2)" in feedback or (problem.spec.lr == 1 and "all zeros" in feedback)


@FAST
@given(problems(activation="relu", min_layers=2))
def test_inputs_that_make_a_step_trivial_carry_no_credit(problem: Problem) -> None:
    """Z1 all negative (a real attempt, not zeros) makes ReLU(Z1) = 0: not worth carried credit."""

    def negative(own: dict) -> object:
        return rational([[-abs(to_fraction(x)) - 1 for x in row] for row in own["Z1"].to_list()])

    answers, _ = student(problem, {"Z1": negative})
    report = grade(problem, answers)
    assert report["A1"].status == "wrong"
    assert "trivial" in report["A1"].feedback


@FAST
@given(problems())
def test_a_copied_target_carries_no_credit(problem: Problem) -> None:
    """A_L := Y makes dZ_L = 0: no credit carried, where A_L is the student's to write."""
    n = problem.spec.layers
    if f"A{n}" in problem.tables:
        return  # table mode prints A_L: the student cannot choose it
    answers, _ = student(problem, {f"A{n}": lambda own: own["Y"]})
    report = grade(problem, answers)
    assert report[f"dZ{n}"].status == "wrong"
    feedback = report[f"dZ{n}"].feedback
    assert "trivial (its result is all zeros)" in feedback or "is all zeros" in feedback  # Y = 0


# --- the report ----------------------------------------------------------------------------------


def test_report_json(problem: Problem) -> None:
    n = problem.spec.layers
    answers, _ = student(problem, {f"dZ{n}": lambda own: shifted(own[f"dZ{n}"])})
    report = grade(problem, answers)
    assert isinstance(report, Report)
    data = json.loads(report.to_json())
    assert data == json.loads(json.dumps(report.to_dict()))
    assert set(data) == {
        "format",
        "score",
        "max_score",
        "first_error",
        "tolerance",
        "carried_credit",
        "cells",
        "notes",
    }
    assert list(data["cells"]) == graded_steps(problem)  # step order
    for cell in data["cells"].values():
        assert set(cell) == {
            "status",
            "score",
            "max_score",
            "entries",
            "feedback",
            "diagnosis",
            "carried_from",
        }
        assert cell["status"] in ("correct", "carried", "wrong", "missing", "invalid")
    assert data["first_error"] == f"dZ{n}"
    # the report never shows the key: no fraction of a cell the student got wrong appears
    for c in report.cells:
        if c.status != "correct":
            for row in problem.text(c.name):
                for entry in row:
                    if "/" in entry or "." in entry:
                        assert entry not in c.feedback


# --- nothing a student sends crashes the grader --------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=30,
)
ENTRY = st.one_of(
    st.text(alphabet="0123456789-+./eE \u2212()*xp", max_size=45),
    st.integers(-(10**30), 10**30),
    st.floats(),
    JSON,
)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_answers_give_a_report_or_a_document_error(
    problem: Problem, exact_problem: Problem, data: st.DataObject
) -> None:
    names = [*graded_steps(problem), "W1", "A0", "A3"]
    cells = data.draw(
        st.dictionaries(
            st.sampled_from(names),
            st.one_of(JSON, st.lists(st.lists(ENTRY, max_size=4), max_size=5)),
            max_size=6,
        )
    )
    for graded in (problem, exact_problem):
        try:
            report = grade(graded, {"cells": cells})
        except DocumentError:
            continue
        assert 0 <= report.score <= report.max_score
        json.dumps(report.to_dict())
        assert set(report.to_dict()) >= {"score", "max_score", "first_error", "cells"}


@settings(max_examples=100, deadline=None)
@given(JSON)
def test_any_document_gives_a_report_or_a_document_error(problem: Problem, doc: object) -> None:
    for answers in (doc, {"cells": doc}, json.dumps(doc)):
        with contextlib.suppress(DocumentError):
            grade(problem, answers)  # type: ignore[arg-type]


# --- the key's own texts, read once (the fast path) ---------------------------------------------


def _respelled(answers: dict[str, Any]) -> dict[str, Any]:
    """Every entry written another way with the same value ("+3/4", "- 2"), so that no entry is
    the key's text as printed: grading it takes the slow path throughout."""

    def other(t: Any) -> Any:
        if not isinstance(t, str) or len(t) > 37:
            return t
        return "- " + t[1:] if t.startswith("-") else "+" + t

    return {
        "cells": {
            name: [[other(t) for t in row] for row in rows]
            for name, rows in answers["cells"].items()
        }
    }


def _submissions(problem: Problem) -> list[dict[str, Any]]:
    """The key; one slip in each of a few cells (later cells copied from the key); one slip
    carried forward; one diagnosable mistake made on the key's inputs."""
    key = key_answers(problem)
    out = [key]
    names = graded_steps(problem)
    for name in names[:: max(1, len(names) // 4)]:
        cells = json.loads(json.dumps(key["cells"]))
        cells[name][0][0] = "7/3" if cells[name][0][0] != "7/3" else "8/3"
        out.append({"cells": cells})
    with contextlib.suppress(HandcalcError):
        out.append(student(problem, {names[0]: lambda own: shifted(own[names[0]])})[0])
    for step in problem.steps:
        if step.name not in names:
            continue
        found = [
            v
            for m, v in variants(step, problem.values)
            if v.shape == step.run(problem.values).shape
        ]
        if found:
            cells = json.loads(json.dumps(key["cells"]))
            cells[step.name] = text(found[0])
            out.append({"cells": cells})
            if step.name != names[0]:  # and after a slip upstream, from which it may follow
                cells = json.loads(json.dumps(cells))
                cells[names[0]][0][0] = "7/3" if cells[names[0]][0][0] != "7/3" else "8/3"
                out.append({"cells": cells})
            break
    return out


def _same_reports(problem: Problem, answers: dict[str, Any]) -> None:
    fast = grade(problem, answers).to_dict()
    assert grade(problem, answers).to_dict() == fast  # the cache is the same the second time
    slow = grade(Problem.from_json(problem.to_json()), _respelled(answers)).to_dict()
    assert slow == fast


@FAST
@given(problems())
def test_key_texts_grade_as_when_parsed(problem: Problem) -> None:
    """Entries typed as the key prints them (read once, from the problem's cache) grade exactly
    as the same values written otherwise and parsed, on a fresh copy of the problem."""
    for answers in _submissions(problem):
        _same_reports(problem, answers)


@EXACT
@given(problems(exact=True))
def test_key_texts_grade_as_when_parsed_in_exact_mode(problem: Problem) -> None:
    for answers in [*_submissions(problem), key_answers(problem, decimals=True)]:
        _same_reports(problem, answers)


def test_key_text_and_other_spellings_are_both_correct(problem: Problem) -> None:
    key = problem.text("Z1")
    value = to_fraction(problem.value("Z1").to_list()[0][0])
    spellings = [
        key[0][0],
        f"  {key[0][0]} ",  # spaces around the key's text
        f"{2 * value.numerator}/{2 * value.denominator}",  # 1/2 as 2/4
        str(value.numerator) + "/" + str(value.denominator) + " ",
    ]
    if 10**6 % value.denominator == 0:
        spellings.append(str(float(value)))  # 1/2 as 0.5
    for typed in spellings:
        rows = [row[:] for row in key]
        rows[0][0] = typed
        cell = grade(problem, {"cells": {"Z1": rows}})["Z1"]
        assert cell.status == "correct", typed
        assert cell.score == cell.max_score


def test_a_half_as_decimal_and_fraction() -> None:
    """0.5 and 1/2 are both correct where the key is 1/2 (the printed text is one of them)."""
    for seed in range(200):
        problem = handcalc.generate(seed=seed, sizes=[2, 2, 2], lr="1/2")
        found = [
            (name, i, j)
            for name in graded_steps(problem)
            if problem.value(name).domain.is_QQ
            for i, row in enumerate(problem.value(name).to_list())
            for j, x in enumerate(row)
            if to_fraction(x) == Fraction(1, 2) and problem.text(name)[i][j] == "1/2"
        ]
        if found:
            break
    assert found, "no key with an entry of 1/2 in 200 seeds"
    key = key_answers(problem)
    name, i, j = found[0]
    for typed in ("1/2", "0.5", ".5", "2/4", " 1/2"):
        cells = json.loads(json.dumps(key["cells"]))
        cells[name][i][j] = typed
        assert grade(problem, {"cells": cells})[name].status == "correct", typed


def test_a_wrong_entry_among_key_texts(problem: Problem) -> None:
    """A wrong entry is wrong though every other entry of its cell is the key's text."""
    key = key_answers(problem)
    for name in graded_steps(problem):
        rows = [row[:] for row in key["cells"][name]]
        wrong = to_fraction(problem.value(name).to_list()[0][0]) + 1
        rows[0][0] = str(wrong)
        report = grade(problem, {"cells": {**key["cells"], name: rows}})
        cell = report[name]
        assert cell.status == "wrong", name
        assert cell.entries[0][0] == "wrong"
        flat = [s for row in cell.entries for s in row]
        assert flat.count("wrong") == 1 and flat.count("correct") == len(flat) - 1
        assert report.first_error == name
        assert all(c.status == "correct" for c in report.cells if c.name != name)
    # and the key itself is still all correct after those
    assert grade(problem, key).score == grade(problem, key).max_score


def test_carried_credit_after_key_texts_upstream(problem: Problem) -> None:
    """Key texts up to a slip (the fast path), then the student's own values: carried."""
    name = "dZ2"
    answers, _ = student(problem, {name: lambda own: shifted(own[name])})
    names = graded_steps(problem)
    before = names[: names.index(name)]
    for n in before:
        answers["cells"][n] = problem.text(n)  # typed as printed (the loss to its decimals)
    report = grade(problem, answers)
    assert all(report[n].status == "correct" for n in before)
    assert report[name].status == "wrong" and report.first_error == name
    carried = [c for c in report.cells if c.status == "carried"]
    assert carried and all(c.carried_from for c in carried)
    assert all("first error in the chain is in dZ2" in c.feedback for c in carried)
    # the same problem grades the key again as all correct: nothing of the slip stays behind
    assert grade(problem, key_answers(problem)).first_error is None


def test_a_mistake_made_on_the_students_own_values(problem: Problem) -> None:
    """After a slip upstream the key's variants of a step are not the student's: a mistake made
    on the student's own inputs is still named (the variants of the key are reused only while
    every cell so far is the key's)."""

    def averaged(own: dict[str, Any]) -> Any:
        found = dict((m.code, v) for m, v in variants(problem.graph["dW3"], own))
        return found["mean_vs_sum"]

    grade(problem, key_answers(problem))  # the key's variants are made and kept
    answers, own = student(problem, {"dZ3": lambda own: shifted(own["dZ3"]), "dW3": averaged})
    key_variant = dict((m.code, v) for m, v in variants(problem.graph["dW3"], problem.values))
    assert own["dW3"].to_list() != key_variant["mean_vs_sum"].to_list()
    cell = grade(problem, answers)["dW3"]
    assert cell.status == "wrong"
    assert "mean_vs_sum" in cell.diagnosis


def test_the_key_cache_lives_no_longer_than_its_problem() -> None:
    """What grading keeps of a problem goes with the problem (the service keeps its problems;
    a problem graded once from a file leaves nothing behind)."""
    import gc

    from handcalc.grading import key as answer_keys

    problem = handcalc.generate(seed=3, sizes=[2, 2, 2])
    key = key_answers(problem)
    first, second = grade(problem, key), grade(problem, key)  # the second reads the key's texts
    assert first.to_dict() == second.to_dict()
    assert problem in answer_keys._KEYS
    before = len(answer_keys._KEYS)
    del problem
    gc.collect()
    assert len(answer_keys._KEYS) == before - 1


@pytest.mark.parametrize(
    "options",
    [
        {"transcendental": "table"},
        {"transcendental": "table", "loss": "mse"},
        {"transcendental": "table", "loss": "sigmoid_bce", "digits": 3},
        {"transcendental": "base", "reduction": "mean"},
        {"transcendental": "base", "loss": "sigmoid_bce"},
        {"transcendental": "base", "loss": "mse"},
        {"transcendental": "exact", "sizes": [2, 2, 2]},
        {"transcendental": "exact", "sizes": [2, 2, 2], "loss": "mse"},
    ],
)
def test_the_loss_typed_to_the_stated_decimals_is_right_in_every_mode(options: dict) -> None:
    """The sheet says "the loss L to `digits` decimals" in every mode, the key prints it so, and
    the grader accepts exactly that: the exact loss rounded, not one unit off."""
    from handcalc.layout import printed
    from handcalc.transcendental import round_half_up
    from handcalc.values import format_decimal

    for seed in range(3):
        problem = handcalc.generate(seed=seed, **options)
        digits = problem.spec.digits
        exact = problem.value("loss").to_list()[0][0]
        rounded = round_half_up(exact, digits)
        typed = format_decimal(rounded, digits)
        assert printed(problem, "loss") == [[typed.replace("-", "−")]]
        assert grade(problem, {"cells": {"loss": [[typed]]}})["loss"].status == "correct"
        unit = Fraction(1, 10**digits)
        for off in (rounded - unit, rounded + unit):
            wrong = format_decimal(off, digits)
            assert grade(problem, {"cells": {"loss": [[wrong]]}})["loss"].status == "wrong"
        more = f"{float(entry_float(exact)):.{digits + 3}f}"  # more decimals: as right
        assert grade(problem, {"cells": {"loss": [[more]]}})["loss"].status == "correct"
