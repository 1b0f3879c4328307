"""The fine-tuning kind: ``compare`` (full beside frozen, one shared forward pass) and ``warmup``
(a new head trained on a frozen body, then every layer with ``lr2``) — every cell against PyTorch
float64 over many seeds and options, JSON, the sheet, the worked solutions and grading."""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import torch
from oracle import oracle
from pictures import assert_looks_like
from students import worked

import handcalc
from handcalc import kinds
from handcalc.cells import Cell
from handcalc.errors import BudgetError, DocumentError, SpecError
from handcalc.kinds.finetune import Finetune
from handcalc.layout import GEOMETRIES, build_sheet
from handcalc.matrix import Mat, rational, to_fraction
from handcalc.problem import Problem
from handcalc.render import render_html, render_pdf

#: option sets each schedule is checked with (defaults: sizes 2,2,2,2, batch 1, relu, table)
BOTH: list[dict[str, Any]] = [
    {},
    {"loss": "mse", "batch": 2, "reduction": "mean"},
    {"activation": "tanh", "loss": "sigmoid_bce", "sizes": [2, 2, 2], "max_chars": 40},
    {"activation": "sigmoid", "loss": "mse", "sizes": [2, 2, 1], "digits": 1, "max_chars": 40},
    {"sizes": [2, 3, 2, 2], "frozen": [1], "lr": "1/5", "max_chars": 40},
]
OPTION_SETS: dict[str, list[dict[str, Any]]] = {
    "compare": [
        *BOTH,
        {"activation": "leaky_relu", "sizes": [2, 3, 2, 2, 2], "frozen": [2], "max_chars": 40},
        {"sizes": [3, 2, 2, 2], "frozen": [1], "batch": 2, "transcendental": "base"},
        {"activation": "identity", "transcendental": "exact", "sizes": [2, 2, 2]},
    ],
    "warmup": [
        *BOTH,
        {"sizes": [2, 2, 2, 2, 2], "max_chars": 40},
        {"activation": "identity", "transcendental": "exact", "loss": "mse", "sizes": [2, 2, 2]},
    ],
}
SEEDS = range(5)


def _cases() -> list[tuple[str, dict[str, Any], int]]:
    return [
        (schedule, options, seed)
        for schedule, sets in OPTION_SETS.items()
        for options in sets
        for seed in SEEDS
        # exact mode's expressions are slow to solve: two seeds are plenty there
        if not (options.get("transcendental") == "exact" and seed > 1)
    ]


def _approx(problem: Problem) -> dict[str, np.ndarray]:
    return {s["name"]: np.array(s["approx"]) for s in problem.to_dict()["steps"]}


def _assert_close(name: str, value: np.ndarray, expected: np.ndarray, spec: dict) -> None:
    if Cell.parse(name).symbol == "loss" and spec["transcendental"] == "table":
        # the loss is the exact loss rounded to the table's decimals
        assert abs(value - expected).max() <= 0.5 * 10 ** -spec["digits"] + 1e-12, name
        return
    np.testing.assert_allclose(value, expected, rtol=1e-9, atol=1e-12, err_msg=name)


def _section_doc(doc: dict, frozen: list[int], params: dict[str, Any], lr: str) -> dict:
    """The document of one section read as an MLP problem: its frozen layers, the parameters it
    starts from and its learning rate."""
    spec = {**doc["spec"], "frozen": frozen}
    given = {**doc["given"], **params, "lr": lr}
    return {"spec": spec, "given": given}


def _rows(m: Mat) -> list[list[str]]:
    return [[str(to_fraction(x)) for x in row] for row in m.to_list()]


@pytest.mark.parametrize(("schedule", "options", "seed"), _cases())
def test_every_cell_agrees_with_float64_autograd(
    schedule: str, options: dict[str, Any], seed: int
) -> None:
    """Each section is the MLP problem it claims to be, recomputed by PyTorch: ``full`` with
    every layer trained, ``frozen`` and ``warmup`` with the spec's frozen layers detached,
    ``unfreeze`` from the warmed-up head with ``lr2``; the shared forward pass in both."""
    problem = handcalc.generate(kind="finetune", seed=seed, schedule=schedule, **options)
    doc = problem.to_dict()
    spec, n = doc["spec"], problem.spec.layers
    every = list(range(1, n + 1))
    cells = _approx(problem)
    expected: dict[str, np.ndarray] = {}
    if schedule == "compare":
        sections = {"full": [], "frozen": spec["frozen"]}
    else:
        sections = {"warmup": spec["frozen"]}
    for section, frozen in sections.items():
        found = oracle(_section_doc(doc, frozen, {}, doc["given"]["lr"]))
        for name, value in found.items():
            cell = Cell.parse(name)
            shared = cell.symbol in ("Z", "A", "loss")
            expected[name if shared else cell.within(section).name] = value
    if schedule == "warmup":
        moved = {
            f"{p}{layer}": (
                _rows(problem.value(f"warmup.{p}{layer}_new"))
                if layer in problem.spec.trainable
                else doc["given"][f"{p}{layer}"]
            )
            for layer in every
            for p in ("W", "b")
        }
        lr2 = doc["given"]["lr2"][0][0]
        for name, value in oracle(_section_doc(doc, [], moved, lr2)).items():
            expected[Cell.parse(name).within("unfreeze").name] = value
    else:
        expected["full.updated"] = np.array([[_params(problem, every)]])
        expected["frozen.updated"] = np.array([[_params(problem, problem.spec.trainable)]])
    assert set(cells) == set(expected), "the key has other cells than backprop computes"
    for name, value in cells.items():
        _assert_close(name, value, expected[name], spec)
    if schedule == "compare":
        for layer in problem.spec.trainable:
            for p in ("dW", "db", "dZ"):
                assert problem.value(f"frozen.{p}{layer}") == problem.value(f"full.{p}{layer}")


def _params(problem: Problem, layers: Any) -> int:
    sizes = problem.spec.sizes
    return sum(sizes[layer] * sizes[layer - 1] + sizes[layer] for layer in layers)


#: the warm-up schedule without lookup tables, so that PyTorch needs nothing but its own rules
PLAIN: list[dict[str, Any]] = [
    {"loss": "mse"},
    {"activation": "leaky_relu", "loss": "mse", "batch": 2, "reduction": "mean", "max_chars": 40},
    {"loss": "mse", "sizes": [2, 3, 2, 2], "frozen": [1], "lr": "1/5", "max_chars": 40},
]


@pytest.mark.parametrize(("options", "seed"), [(o, s) for o in PLAIN for s in range(3)])
def test_warmup_is_two_torch_sgd_steps(options: dict[str, Any], seed: int) -> None:
    """The whole schedule as PyTorch trains it, from the given values alone: ``torch.optim.SGD``
    on the head (the body detached) with ``lr``, then on every layer with ``lr2``; the
    parameters after both steps are the key's ``unfreeze`` ones."""
    problem = handcalc.generate(kind="finetune", seed=seed, schedule="warmup", **options)
    spec, given = problem.spec, problem.to_dict()["given"]
    n = spec.layers
    params = {
        f"{p}{layer}": torch.tensor(_floats(given[f"{p}{layer}"]), dtype=torch.float64)
        for layer in range(1, n + 1)
        for p in ("W", "b")
    }
    head = [f"{p}{layer}" for layer in spec.trainable for p in ("W", "b")]
    for names, lr in ((head, float(spec.lr)), (list(params), float(spec.lr2))):
        for name in params:
            params[name] = params[name].detach().requires_grad_(name in names)
        optimiser = torch.optim.SGD([params[name] for name in names], lr=lr)
        optimiser.zero_grad()
        a = torch.tensor(_floats(given["X"]), dtype=torch.float64)
        for layer in range(1, n + 1):
            z = params[f"W{layer}"] @ a + params[f"b{layer}"]
            a = z if layer == n else torch.nn.functional.leaky_relu(z, _slope(spec))
        y = torch.tensor(_floats(given["Y"]), dtype=torch.float64)
        (0.5 * ((a - y) ** 2).sum() * float(spec.factor)).backward()
        optimiser.step()
    cells = _approx(problem)
    for name, value in params.items():
        np.testing.assert_allclose(
            value.detach().numpy(), cells[f"unfreeze.{name}_new"], rtol=1e-9, err_msg=name
        )


def _floats(rows: list[list[str]]) -> list[list[float]]:
    return [[float(Fraction(v)) for v in row] for row in rows]


def _slope(spec: Any) -> float:
    return float(spec.slope) if spec.activation == "leaky_relu" else 0.0


def test_cells_are_named_by_the_contract() -> None:
    compare = handcalc.generate(kind="finetune", seed=3)
    names = set(compare.graph.names)
    assert {"Z1", "A3", "loss", "full.dW1", "full.W1_new", "full.b3_new"} <= names
    assert {"frozen.dZ3", "frozen.dW3", "frozen.W3_new", "full.updated", "frozen.updated"} <= names
    assert not any(
        Cell.parse(n).section == "frozen" and Cell.parse(n).layer in (1, 2) for n in names
    )
    assert compare.value("full.updated") == rational([[18]])
    assert compare.value("frozen.updated") == rational([[6]])
    assert compare.graph["frozen.dW3"].inputs == ("frozen.dZ3", "A2")
    warm = handcalc.generate(kind="finetune", seed=3, schedule="warmup", lr="1/5")
    assert warm.spec.lr2 == to_fraction(rational([[1]]).to_list()[0][0]) / 50
    assert warm.graph["unfreeze.Z3"].inputs == ("warmup.W3_new", "unfreeze.A2", "warmup.b3_new")
    assert warm.graph["unfreeze.Z1"].inputs == ("W1", "A0", "b1")
    assert warm.graph["unfreeze.W1_new"].inputs == ("W1", "unfreeze.dW1", "lr2")
    assert warm.graph["warmup.W3_new"].inputs[2] == "lr"
    assert "warmup.dW2" not in warm.graph and "warmup.dA2" not in warm.graph
    # the body is unchanged by the warm-up: its forward values are the shared ones
    assert warm.value("unfreeze.Z2") == warm.value("Z2")


def test_options_are_checked_with_clear_messages() -> None:
    kind = kinds.get("finetune")
    assert kind.Options.from_options({"sizes": "2,3,3,2,2"}).frozen == (1, 2, 3)
    assert kind.Options.from_options({"lr": "1/2"}).lr2 == kind.Options().lr2 * 5
    assert kind.Options.from_options({"frozen": "2,1,2"}).frozen == (1, 2)
    for options, message in (
        ({"frozen": "3"}, "layer 3 is the last layer"),
        ({"frozen": ""}, "no layer frozen"),
        ({"sizes": "2,2"}, "at least 2 layers"),
        ({"frozen": "5"}, "layer 5 does not exist"),
        ({"schedule": "later"}, "accepted: compare, warmup"),
    ):
        with pytest.raises(SpecError, match=message):
            kind.Options.from_options(options)
    assert "finetune" in kinds.KINDS and isinstance(kind, Finetune)
    assert GEOMETRIES["finetune"] is not GEOMETRIES["mlp"]


def test_draws_are_deterministic_and_redrawn_from_sub_seeds() -> None:
    a = handcalc.generate(kind="finetune", seed=11, schedule="warmup")
    assert a == handcalc.generate(kind="finetune", seed=11, schedule="warmup")
    # compare draws the MLP problem of the same seed (every layer trained)
    mlp = handcalc.generate(seed=11, sizes=[2, 2, 2, 2], batch=1)
    compare = handcalc.generate(kind="finetune", seed=11)
    assert all(compare.value(n) == mlp.value(n) for n in ("X", "W1", "b3", "Y", "Z3", "loss"))
    assert compare.value("full.dW1") == mlp.value("dW1")
    # a section that breaks a budget (here: every lr2 update too long to print) is re-drawn
    with pytest.raises(BudgetError, match="in every section"):
        handcalc.generate(kind="finetune", seed=1, schedule="warmup", lr2="1/997")


@pytest.mark.parametrize(("schedule", "options", "seed"), _cases())
def test_a_draw_is_its_own_solution(schedule: str, options: dict[str, Any], seed: int) -> None:
    """The draw takes the cells the MLP problem has from it and computes the rest (a head drawn
    again, its checks ahead of the others): every cell, and their order, as solving the given
    values from scratch gives them."""
    kind = kinds.get("finetune")
    spec = kind.Options.from_options({"schedule": schedule, **options})
    values = kind.draw(spec, seed)
    graph = kind.build(spec)
    given = {name: values[name] for name in graph.given}
    again = graph.evaluate(given, spec.treatment().finish)
    assert list(values) == list(again)
    assert all(values[name] == again[name] for name in again)


@pytest.mark.parametrize("seed", range(40))
def test_warmup_keeps_the_mlp_body_and_compare_the_whole_mlp_problem(seed: int) -> None:
    """``compare`` is the MLP problem of the same seed; ``warmup`` too where its ``unfreeze``
    meets the budgets, else the same body (or a later sub-seed's) with a new head."""
    mlp = handcalc.generate(seed=seed, sizes=[2, 2, 2, 2], batch=1)
    compare = handcalc.generate(kind="finetune", seed=seed)
    assert all(compare.value(n) == mlp.value(n) for n in ("X", "W1", "W3", "b3", "Y", "loss"))
    assert compare.value("full.W1_new") == mlp.value("W1_new")
    warm = handcalc.generate(kind="finetune", seed=seed, schedule="warmup")
    if warm.value("X") == mlp.value("X"):  # the seed's own draw (not a later sub-seed's)
        assert all(warm.value(n) == mlp.value(n) for n in ("W1", "b1", "W2", "b2"))
    if warm.value("W3") == mlp.value("W3") and warm.value("Y") == mlp.value("Y"):
        assert warm.value("Z3") == mlp.value("Z3") and warm.value("loss") == mlp.value("loss")
        assert all(warm.value(f"warmup.{n}") == mlp.value(n) for n in ("dZ3", "dW3", "W3_new"))


@pytest.mark.parametrize("schedule", ["compare", "warmup"])
def test_round_trips_through_json_and_authored_documents(schedule: str) -> None:
    problem = handcalc.generate(kind="finetune", seed=5, schedule=schedule)
    again = Problem.from_json(problem.to_json())
    assert again == problem and again.to_json() == problem.to_json()
    assert handcalc.solve(problem.to_dict()) == problem
    doc = problem.to_dict()
    authored = {"kind": "finetune", "spec": {"schedule": schedule}, "given": dict(doc["given"])}
    if schedule == "warmup":
        del authored["given"]["lr2"]  # spec.lr2 (lr/10) fills it in
    solved = handcalc.solve(authored)
    assert all(solved.value(s.name) == problem.value(s.name) for s in problem.steps)
    if schedule == "warmup":
        authored["given"]["lr2"] = "1/3"
        authored["spec"]["lr2"] = "1/100"
        with pytest.raises(DocumentError, match=r"given.lr2: '1/3' differs from spec.lr2"):
            handcalc.solve(authored)


@pytest.fixture(scope="module")
def compare() -> Problem:
    return handcalc.generate(kind="finetune", seed=7)


def test_the_sheet_prints_both_schemes_side_by_side(compare: Problem) -> None:
    """Full left, frozen right, a layer's work on one row (one grid), the right column at the
    same x on every row; the frozen layers as grey blocks; every step an answer."""
    sheet = build_sheet(compare)
    assert set(sheet.inputs) == set(compare.graph.names)
    rows = [g for g in sheet.grids if g.key.startswith("finetune-")]
    assert [g.layer for g in rows] == [3, 2, 1, 0]
    starts = set()
    for grid in rows:
        full = [b for b in grid.blocks if b.cell.startswith("full.")]
        right = [b for b in grid.blocks if not b.cell.startswith("full.")]
        assert full and right, grid.key
        assert max(b.box.x + b.cols * b.box.col for b in full) < min(b.box.x for b in right)
        starts.add(min(b.box.x for b in right))
    assert len(starts) == 1
    notes = [b for g in rows for b in g.blocks if b.role == "given" and not b.cell]
    assert [b.label for b in notes] == ["layer 2 frozen", "layer 1 frozen"]
    assert any("why is frozen.dW₃ equal to full.dW₃" in t for t in sheet.instructions)
    assert any("layers 1, 2 frozen" in s.title for s in sheet.sections)


def test_worksheet_key_and_solutions_render(compare: Problem, tmp_path: Any) -> None:
    worksheet = render_pdf(compare, "worksheet", secret="s", date="2026-01-01")
    assert_looks_like(worksheet, "worksheet-finetune-p1.png")
    assert_looks_like(worksheet, "worksheet-finetune-p2.png", page=1)
    key = render_html(compare, "key")
    assert "backprop stopped · no update" in key and "full: every layer trained" in key
    solutions = render_html(compare, "solutions")
    assert "The same as full.dW₃" in solutions
    assert "Backprop stops here" in solutions  # frozen.db3: layers 1 to 2 frozen there
    assert "Only 6 of the network&#39;s 18 parameters change" in solutions
    assert "Every layer is trained: all 18 parameters" in solutions
    warm = handcalc.generate(kind="finetune", seed=7, schedule="warmup")
    assert render_pdf(warm, "key").startswith(b"%PDF")
    text = render_html(warm, "worksheet")
    assert "new head, randomly initialised" in text and "lr2 = 0.01" in text
    assert "Backprop stops here" in render_html(warm, "solutions")  # warmup.db3


def test_why_reads_the_steps_own_section() -> None:
    """A layer frozen in one section and trained in the other: each step's why says what its
    own section does (frozen 2 of 3: the gradient passes through layer 2 to layer 1)."""
    problem = handcalc.generate(kind="finetune", seed=2, frozen=[2])
    graph = problem.graph
    assert "frozen.dW2" not in graph and "frozen.dW1" in graph
    assert "Layer 2 is frozen" in graph["frozen.dA1"].op.why(graph["frozen.dA1"], problem)
    assert graph["full.dA1"].op.why(graph["full.dA1"], problem) == ""
    assert graph["full.db3"].op.why(graph["full.db3"], problem) == ""
    frozen_mlp = handcalc.generate(seed=2, sizes=[2, 2, 2, 2], frozen=[1, 2])
    db3 = frozen_mlp.graph["db3"]
    assert db3.op.why(db3, frozen_mlp).startswith("Backprop stops here: layers 1 to 2")


def _slip(m: Mat) -> Mat:
    rows = [[to_fraction(x) for x in row] for row in m.to_list()]
    rows[0][0] += 1
    return rational(rows)


def test_a_slip_in_the_warmup_carries_into_the_unfreeze_section() -> None:
    problem = handcalc.generate(kind="finetune", seed=7, schedule="warmup")
    report = handcalc.grade(problem, worked(problem, {"warmup.db3": _slip}))
    statuses = report.statuses
    assert statuses["warmup.db3"] == "wrong"
    for later in ("warmup.b3_new", "unfreeze.Z3", "unfreeze.loss", "unfreeze.dZ3"):
        assert statuses[later] == "carried", (later, statuses[later])
    assert statuses["unfreeze.Z1"] == "correct" and statuses["warmup.dW3"] == "correct"
    assert "warmup.b3_new" in report["unfreeze.Z3"].carried_from
    assert 0 < report.score < report.max_score


def test_a_slip_in_the_shared_forward_pass_carries_into_both_schemes(compare: Problem) -> None:
    report = handcalc.grade(compare, worked(compare, {"A2": _slip}))
    statuses = report.statuses
    assert statuses["A2"] == "wrong"
    for later in ("Z3", "full.dW3", "frozen.dW3", "full.W3_new", "frozen.W3_new"):
        assert statuses[later] == "carried", (later, statuses[later])
    assert statuses["full.updated"] == "correct" and statuses["Z1"] == "correct"


def test_counting_mistakes_are_diagnosed(compare: Problem) -> None:
    for name, wrong, code in (
        ("frozen.updated", 4, "weights_only"),
        ("frozen.updated", 18, "frozen_counted"),
        ("full.updated", 6, "matrices_counted"),
    ):
        report = handcalc.grade(
            compare, worked(compare, {name: lambda m, w=wrong: rational([[w]])})
        )
        cell = report[name]
        assert cell.status == "wrong" and code in cell.diagnosis, (name, cell.diagnosis)
        assert cell.feedback
    assert all(
        s == "correct" for s in handcalc.grade(compare, worked(compare, {})).statuses.values()
    )


def test_generate_and_solve_are_fast() -> None:
    """Not a benchmark (bench/ is): a guard that a draw does not search for long."""
    start = time.perf_counter()
    for seed in range(10):
        handcalc.solve(handcalc.generate(kind="finetune", seed=seed).to_dict())
    assert (time.perf_counter() - start) / 10 < 0.5
