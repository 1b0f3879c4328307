"""Every diagnosis, on generated problems: the student's mistaken cell is built here by hand (plain
Fraction arithmetic, not the grader's own variants), and the report must name the mistake."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from students import graded_steps as graded
from students import has, key_answers, problems, student

import handcalc
from handcalc import grade
from handcalc.matrix import Mat, rational, to_fraction
from handcalc.mistakes import MISTAKES
from handcalc.problem import Problem

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Rows = list[list[Fraction]]


def rows(m: Mat) -> Rows:
    return [[to_fraction(x) for x in row] for row in m.to_list()]


def mat(r: Rows) -> Mat:
    return rational(r)


def transpose(a: Rows) -> Rows:
    return [list(col) for col in zip(*a, strict=True)]


def matmul(a: Rows, b: Rows) -> Rows:
    return [
        [
            sum((x * y for x, y in zip(row, col, strict=True)), Fraction(0))
            for col in zip(*b, strict=True)
        ]
        for row in a
    ]


def entrywise(fn: Callable[..., Fraction], *ms: Rows) -> Rows:
    return [[fn(*xs) for xs in zip(*rs, strict=True)] for rs in zip(*ms, strict=True)]


def plus_bias(z: Rows, b: Rows) -> Rows:
    return [[x + b[i][0] for x in row] for i, row in enumerate(z)]


TESTED: set[str] = set()


def diagnose(problem: Problem, cell: str, written: Rows, code: str, carry_on: bool = False) -> None:
    """Write ``written`` into ``cell`` of the key; the report must name ``code`` there."""
    TESTED.add(code)
    key = rows(problem.value(cell))
    assume(written != key)
    answers, _ = student(problem, {cell: lambda own: mat(written)}, carry_on=carry_on)
    report = grade(problem, answers)
    graded = report[cell]
    assert code in graded.diagnosis, (code, graded.feedback)
    assert MISTAKES[code].feedback in graded.feedback
    if (len(written), len(written[0])) == (len(key), len(key[0])):
        assert graded.status == "wrong"
        assert report.first_error == cell
    else:
        assert graded.status == "invalid"  # a wrong shape is a format error, still diagnosed
    # the key itself is never diagnosed
    assert all(c.diagnosis == () for c in grade(problem, key_answers(problem)).cells)


def hidden(problem: Problem, data: st.DataObject) -> int:
    """A hidden layer the backward pass reaches (none below a frozen first layer)."""
    lowest = min(problem.spec.trainable)
    assume(lowest < problem.spec.layers)
    return data.draw(st.integers(lowest, problem.spec.layers - 1))


# --- the output gradient -------------------------------------------------------------------------


@FAST
@given(problems())
def test_sign_flipped(problem: Problem) -> None:
    n = problem.spec.layers
    a, y = rows(problem.value(f"A{n}")), rows(problem.value("Y"))
    factor = problem.spec.factor
    diagnose(problem, f"dZ{n}", entrywise(lambda a, y: (y - a) * factor, a, y), "sign_flipped")


@FAST
@given(problems(batch=2))
def test_mean_vs_sum_in_the_output_gradient(problem: Problem) -> None:
    n = problem.spec.layers
    a, y = rows(problem.value(f"A{n}")), rows(problem.value("Y"))
    other = Fraction(1) if problem.spec.reduction == "mean" else Fraction(1, 2)
    diagnose(problem, f"dZ{n}", entrywise(lambda a, y: (a - y) * other, a, y), "mean_vs_sum")


@FAST
@given(problems(loss="mse", batch=3))
def test_mean_vs_sum_in_the_loss(problem: Problem) -> None:
    n = problem.spec.layers
    z, y = rows(problem.value(f"Z{n}")), rows(problem.value("Y"))
    total = sum((d * d for row in entrywise(lambda a, b: a - b, z, y) for d in row), Fraction(0))
    other = Fraction(1) if problem.spec.reduction == "mean" else Fraction(1, 3)
    diagnose(problem, "loss", [[total * other / 2]], "mean_vs_sum")


# --- the backward pass ---------------------------------------------------------------------------


@FAST
@given(problems(activation="relu", min_layers=2), st.data())
def test_mask_skipped_in_the_backward_pass(problem: Problem, data: st.DataObject) -> None:
    layer = hidden(problem, data)
    diagnose(problem, f"dZ{layer}", rows(problem.value(f"dA{layer}")), "mask_skipped")


@FAST
@given(problems(activation="leaky_relu", min_layers=2), st.data())
def test_mask_and_slope_of_a_leaky_relu(problem: Problem, data: st.DataObject) -> None:
    layer = hidden(problem, data)
    da, z = rows(problem.value(f"dA{layer}")), rows(problem.value(f"Z{layer}"))
    diagnose(problem, f"dZ{layer}", da, "mask_skipped")
    diagnose(
        problem,
        f"dZ{layer}",
        entrywise(lambda g, z: g if z > 0 else Fraction(0), da, z),
        "slope_forgotten",
    )
    diagnose(problem, f"A{layer}", entrywise(lambda z: max(z, Fraction(0)), z), "slope_forgotten")


@FAST
@given(problems(activation="relu", min_layers=2), st.data())
def test_mask_from_the_gradient_itself(problem: Problem, data: st.DataObject) -> None:
    layer = hidden(problem, data)
    da = rows(problem.value(f"dA{layer}"))
    diagnose(
        problem,
        f"dZ{layer}",
        entrywise(lambda g: g if g > 0 else Fraction(0), da),
        "mask_wrong_cell",
    )


@FAST
@given(problems(activation="relu", sizes=[2, 3, 3, 2]))
def test_mask_from_the_wrong_layer(problem: Problem) -> None:
    assume(has(problem, "dZ1"))
    da, z2 = rows(problem.value("dA1")), rows(problem.value("Z2"))
    diagnose(
        problem,
        "dZ1",
        entrywise(lambda g, z: g if z > 0 else Fraction(0), da, z2),
        "mask_wrong_cell",
    )


@FAST
@given(problems(activation="sigmoid", transcendental="table", min_layers=2), st.data())
def test_sigmoid_derivative_from_z_instead_of_a(problem: Problem, data: st.DataObject) -> None:
    layer = hidden(problem, data)
    da, z = rows(problem.value(f"dA{layer}")), rows(problem.value(f"Z{layer}"))
    diagnose(
        problem, f"dZ{layer}", entrywise(lambda g, z: g * z * (1 - z), da, z), "mask_wrong_cell"
    )


@FAST
@given(problems(activation="tanh", transcendental="table", min_layers=2), st.data())
def test_tanh_derivative_from_z_instead_of_a(problem: Problem, data: st.DataObject) -> None:
    layer = hidden(problem, data)
    da, z = rows(problem.value(f"dA{layer}")), rows(problem.value(f"Z{layer}"))
    diagnose(
        problem, f"dZ{layer}", entrywise(lambda g, z: g * (1 - z * z), da, z), "mask_wrong_cell"
    )


@FAST
@given(problems(sizes=[2, 3, 3]))
def test_w_not_transposed(problem: Problem) -> None:
    assume(has(problem, "dA1"))
    w, dz = rows(problem.value("W2")), rows(problem.value("dZ2"))
    diagnose(problem, "dA1", matmul(w, dz), "w_not_transposed")


@FAST
@given(problems(batch=3), st.data())
def test_bias_not_summed(problem: Problem, data: st.DataObject) -> None:
    layer = data.draw(st.sampled_from(sorted(problem.spec.trainable)))
    dz = rows(problem.value(f"dZ{layer}"))
    column = data.draw(st.integers(0, 2))
    diagnose(problem, f"db{layer}", [[row[column]] for row in dz], "bias_not_summed")
    diagnose(problem, f"db{layer}", dz, "bias_not_summed")  # the whole dZ: a wrong shape too
    diagnose(problem, f"db{layer}", [[sum(row) / 3] for row in dz], "mean_vs_sum")


@FAST
@given(problems(batch=2), st.data())
def test_mean_vs_sum_in_the_weight_gradient(problem: Problem, data: st.DataObject) -> None:
    layer = data.draw(st.sampled_from(sorted(problem.spec.trainable)))
    dz, a = rows(problem.value(f"dZ{layer}")), rows(problem.value(f"A{layer - 1}"))
    averaged = [[x / 2 for x in row] for row in matmul(dz, transpose(a))]
    diagnose(problem, f"dW{layer}", averaged, "mean_vs_sum")


@FAST
@given(problems(), st.data())
def test_transposed(problem: Problem, data: st.DataObject) -> None:
    layer = data.draw(st.sampled_from(sorted(problem.spec.trainable)))
    dw = rows(problem.value(f"dW{layer}"))
    diagnose(problem, f"dW{layer}", transpose(dw), "transposed")  # invalid if not square


@FAST
@given(problems(min_layers=2), st.data())
def test_negated_anywhere(problem: Problem, data: st.DataObject) -> None:
    """A sign lost on the way back (dA2 = −W3ᵀ·dZ3 reported "6 of 8 entries are wrong"), or in
    any other cell."""
    cell = data.draw(st.sampled_from([n for n in graded(problem) if n != "loss"]))
    assume(not cell.startswith("dZ") or cell != f"dZ{problem.spec.layers}")  # sign_flipped there
    diagnose(problem, cell, [[-x for x in row] for row in rows(problem.value(cell))], "negated")


# --- the forward pass ----------------------------------------------------------------------------


@FAST
@given(problems(), st.data())
def test_bias_forgotten(problem: Problem, data: st.DataObject) -> None:
    layer = data.draw(st.integers(1, problem.spec.layers))
    w, a = rows(problem.value(f"W{layer}")), rows(problem.value(f"A{layer - 1}"))
    diagnose(problem, f"Z{layer}", matmul(w, a), "bias_forgotten")


@FAST
@given(problems(sizes=[3, 3, 2]))
def test_w_transposed_in_the_forward_pass(problem: Problem) -> None:
    w, x, b = (rows(problem.value(n)) for n in ("W1", "X", "b1"))
    diagnose(problem, "Z1", plus_bias(matmul(transpose(w), x), b), "w_transposed")


@FAST
@given(problems(activation="relu", min_layers=2), st.data())
def test_mask_skipped_in_the_forward_pass(problem: Problem, data: st.DataObject) -> None:
    layer = hidden(problem, data)
    diagnose(problem, f"A{layer}", rows(problem.value(f"Z{layer}")), "mask_skipped")


# --- the update ----------------------------------------------------------------------------------


@FAST
@given(problems(), st.data())
def test_lr_forgotten_and_update_sign(problem: Problem, data: st.DataObject) -> None:
    layer = data.draw(st.sampled_from(sorted(problem.spec.trainable)))
    lr = problem.spec.lr
    for p in ("W", "b"):
        param, grad = rows(problem.value(f"{p}{layer}")), rows(problem.value(f"d{p}{layer}"))
        if lr != 1:  # with lr = 1 forgetting it changes nothing
            diagnose(
                problem,
                f"{p}{layer}_new",
                entrywise(lambda w, g: w - g, param, grad),
                "lr_forgotten",
            )
        diagnose(
            problem,
            f"{p}{layer}_new",
            entrywise(lambda w, g: w + lr * g, param, grad),
            "update_sign",
        )


def test_a_rounded_cell_typed_with_too_few_decimals() -> None:
    """The loss, printed to 2 decimals, typed to 1: the advice is about decimals, not fractions."""
    TESTED.add("too_few_decimals")
    for seed in range(20):
        problem = handcalc.generate(seed=seed)
        loss = problem.text("loss")[0][0]
        shorter = f"{float(loss):.1f}"
        if Fraction(shorter) != Fraction(loss):
            break
    answers = key_answers(problem)
    answers["cells"]["loss"] = [[shorter]]
    cell = grade(problem, answers)["loss"]
    assert cell.status == "wrong" and cell.diagnosis == ("too_few_decimals",), cell
    assert MISTAKES["too_few_decimals"].feedback in cell.feedback
    assert "fractions" not in cell.feedback


def test_rounded_decimals_for_exact_fractions() -> None:
    TESTED.add("rounded")
    problem = handcalc.generate(seed=5, sizes=[2, 2, 2], batch=3, reduction="mean")
    fractional = next(
        name
        for name in graded(problem)
        if any(
            to_fraction(x).denominator not in (1, 2, 4, 5, 8, 10, 20, 25, 50, 100)
            for row in problem.value(name).to_list()
            for x in row
        )
    )  # a cell with an entry such as 1/3 that no short decimal writes exactly
    rounded = [
        [f"{float(to_fraction(x)):.3f}" for x in row] for row in problem.value(fractional).to_list()
    ]
    answers = key_answers(problem)
    answers["cells"][fractional] = rounded
    cell = grade(problem, answers)[fractional]
    assert cell.status == "wrong" and "rounded" in cell.diagnosis
    assert MISTAKES["rounded"].feedback in cell.feedback
    # a miscalculation is not called rounding
    answers["cells"][fractional] = [
        [str(to_fraction(x) + 1) for x in row] for row in problem.value(fractional).to_list()
    ]
    assert "rounded" not in grade(problem, answers)[fractional].diagnosis


# --- a mistake, then carrying on -----------------------------------------------------------------


@FAST
@given(problems())
def test_a_diagnosed_mistake_carries_forward(problem: Problem) -> None:
    n = problem.spec.layers
    answers, _ = student(
        problem, {f"dZ{n}": lambda own: mat([[-x for x in row] for row in rows(own[f"dZ{n}"])])}
    )
    report = grade(problem, answers)
    assert report.first_error == f"dZ{n}"
    assert report[f"dZ{n}"].diagnosis == ("sign_flipped",)
    after = [
        c
        for c in report.cells
        if problem.graph.names.index(c.name) > problem.graph.names.index(f"dZ{n}")
    ]
    assert after and all(c.status in ("correct", "carried") for c in after)
    assert all(c.diagnosis == () for c in after)  # done right on their own values: no mistake
    assert any(c.status == "carried" and f"in dZ{n}" in c.feedback for c in after)


def test_every_mistake_is_tested() -> None:
    """Runs last in this module: every code the grader knows was diagnosed above."""
    if len(TESTED) < 3:
        pytest.skip("run with the whole module")
    assert set(MISTAKES) == TESTED
