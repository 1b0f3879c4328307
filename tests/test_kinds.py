"""A kind registered in one place gets everything: the toy kind here (two SGD steps of the MLP,
sections ``s1`` and ``s2``) is defined in this module only, and generates, solves, round-trips
through JSON, renders through the generic layout, is offered whole in the web form and is graded
with credit carried from a student's own mistakes."""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
from students import worked

import handcalc
from handcalc import kinds
from handcalc.cells import Cell, field_name, read_field
from handcalc.errors import DocumentError, SpecError
from handcalc.graph import Graph, Step
from handcalc.kinds.mlp import Pass, given_shapes, sgd_step
from handcalc.layout import build_sheet
from handcalc.matrix import Mat, rational, to_fraction
from handcalc.ops import Cells, Mistake, Op, Variant, sub
from handcalc.ops.words import at
from handcalc.printing import printed
from handcalc.problem import Problem
from handcalc.render import render_html, render_pdf
from handcalc.spec import Spec

OPTIONS: dict[str, Any] = {"sizes": [2, 2, 2], "batch": 2}


@dataclass(frozen=True)
class Change(Op):
    """A toy op: how far a parameter moved, new minus old — with a mistake of its own."""

    words: ClassVar[str] = "how far the parameter moved over both steps"
    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake("one_step_only", "It looks like only the first step's change was counted."),
    )

    def __call__(self, new: Mat, old: Mat) -> Mat:
        return sub(new, old)

    def formula(self, out: str, new: str, old: str) -> str:
        return f"{out} = {new} − {old}"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        new, old = step.inputs
        return [
            f"{at(step.name, i, j)} = {cells.at(new, i, j)} − {cells.at(old, i, j)} = "
            f"{cells.result(step.name, i, j)}"
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        old = inputs[1]
        first = values[step.inputs[0].replace("s2.", "s1.")]
        return [("one_step_only", lambda: sub(first, old))]


class TwoSteps(kinds.Kind):
    """Two steps of SGD on the same batch: ``s2`` starts from ``s1``'s updated parameters; then
    how far the output layer's weights moved (the toy op)."""

    name = "two_steps"
    description = "two SGD steps of an MLP on the same batch"
    Options = Spec

    def build(self, options: Spec) -> Graph:
        n = options.layers
        steps = sgd_step(options, Pass("s1")) + sgd_step(options, Pass("s2", params="s1"))
        shape = (options.sizes[n], options.sizes[n - 1])
        change = Step(Cell("shift", n), "update", Change(), (f"s2.W{n}_new", f"W{n}"), shape)
        return Graph.of(given_shapes(options), [*steps, change])

    def draw(self, options: Spec, seed: int) -> dict[str, Mat]:
        first = kinds.get("mlp").draw(options, seed)
        given = {name: first[name] for name in self.build(options).given}
        return self.solve(options, given)

    def solve(self, options: Spec, given: Any) -> dict[str, Mat]:
        return self.build(options).evaluate(given, options.treatment().finish)


@pytest.fixture
def toy() -> Iterator[kinds.Kind]:
    kind = kinds.register(TwoSteps())
    yield kind
    del kinds.KINDS[kind.name]


@pytest.fixture
def problem(toy: kinds.Kind) -> Problem:
    return handcalc.generate(kind="two_steps", seed=7, **OPTIONS)


def test_the_registry_names_every_kind_and_refuses_others(toy: kinds.Kind) -> None:
    assert kinds.get("two_steps") is toy and kinds.get("mlp").name == "mlp"
    with pytest.raises(SpecError, match=r"kind: unknown 'three_steps'; accepted: mlp, .*two_steps"):
        handcalc.generate(kind="three_steps", seed=1)


def test_a_sectioned_kind_solves_each_pass_as_the_mlp_would(problem: Problem) -> None:
    """``s1`` is the MLP problem of the same seed; ``s2`` the MLP problem whose parameters are
    ``s1``'s updated ones — cell for cell, under the section's prefix."""
    spec = problem.spec
    mlp = handcalc.generate(seed=7, **OPTIONS)
    second_given = dict(mlp.given)
    for layer in range(1, spec.layers + 1):
        for p in ("W", "b"):
            second_given[f"{p}{layer}"] = mlp.value(f"{p}{layer}_new")
    second = handcalc.solve({"spec": mlp.spec.to_dict(), "given": _texts(second_given)})
    for step in mlp.steps:
        assert problem.value(f"s1.{step.name}") == mlp.value(step.name), step.name
        assert problem.value(f"s2.{step.name}") == second.value(step.name), step.name
    assert problem.graph["s2.Z1"].inputs == ("s1.W1_new", "A0", "s1.b1_new")
    assert problem.graph["s2.W2_new"].cell == Cell("W", 2, "s2", new=True)
    assert problem.graph.shape("s2.dW1") == (2, 2) and problem.graph.shape("X") == (2, 2)


def test_a_sectioned_problem_round_trips_through_json(problem: Problem) -> None:
    doc = problem.to_dict()
    assert doc["kind"] == "two_steps"
    assert [s["name"] for s in doc["steps"]][:3] == ["s1.Z1", "s1.A1", "s1.Z2"]
    again = Problem.from_json(problem.to_json())
    assert again == problem and again.to_json() == problem.to_json()
    assert handcalc.solve(problem.to_dict()) == problem
    doc["steps"][0]["value"] = [["1"]]
    with pytest.raises(DocumentError, match=r"steps.s1.Z1.value: expected a 2 × 2 matrix"):
        Problem.from_json(doc)


def test_names_are_read_and_written_in_one_place() -> None:
    for cell in (Cell("dW", 2, "s1"), Cell("W", 3, "frozen", new=True), Cell("loss")):
        assert Cell.parse(cell.name) == cell
        assert read_field(field_name(cell.name, 1, 0)) == (cell.name, 1, 0)
    assert Cell.parse("running_mean1_new") == Cell("running_mean", 1, new=True)
    assert Cell("dZ", 2, "s1").local == "dZ2"
    for bad in ("s1..Z1", "1Z", "Z1_old", "x" * 60, "S1.Z1"):
        with pytest.raises(DocumentError, match="is not a cell name"):
            Cell.parse(bad)
    assert read_field("s1.dW2[0]") is None


def _texts(values: dict[str, Mat]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, m in values.items():
        rows = [[str(to_fraction(x)) for x in row] for row in m.to_list()]
        out[name] = rows[0][0] if name == "lr" else rows
    return out


def test_options_declare_what_they_accept() -> None:
    declared = {name: meta for name, meta, _ in Spec.declared()}
    assert declared["activation"].choices == ("relu", "leaky_relu", "identity", "sigmoid", "tanh")
    assert declared["batch"].low == 1 and declared["batch"].high == 8
    assert Spec.from_options({"frozen": "2,1,2", "sizes": "2,2,2,2"}).frozen == (1, 2)
    assert "max_chars" not in Spec().to_dict()
    assert dataclasses.replace(Spec(), max_chars=12).to_dict()["max_chars"] == 12
    assert rational([[1]]).shape == (1, 1)


def test_a_new_kind_renders_through_the_generic_layout(problem: Problem, tmp_path: Path) -> None:
    sheet = build_sheet(problem)
    assert set(sheet.inputs) == set(problem.graph.names)
    key = render_html(problem, "key")
    worksheet = render_html(problem, "worksheet")
    for step in problem.steps:
        assert f'data-cell="{step.name}"' in key or step.name in key, step.name
    assert printed(problem, "shift2")[0][0] in key and printed(problem, "s2.loss")[0][0] in key
    solutions = render_html(problem, "solutions")
    assert "how far the parameter moved" in worksheet or "shift" in worksheet
    assert "shift" in solutions and " − " in solutions
    pdf = tmp_path / "key.pdf"
    pdf.write_bytes(render_pdf(problem, "key"))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "s2" in text and printed(problem, "shift2")[1][1] in text


def test_a_new_kind_is_offered_whole_in_the_web_form(problem: Problem) -> None:
    from handcalc.web import forms

    assert set(forms.inputs(problem)) == set(problem.graph.names)
    form = {field_name("s2.dW1", 1, 0): "7", field_name("shift2", 0, 1): "1/2", "Z1[0][0]": "9"}
    cells = forms.answers_from_form(form, problem)["cells"]
    assert cells["s2.dW1"][1][0] == "7" and cells["shift2"][0][1] == "1/2"
    assert "Z1" not in cells  # not a cell of this kind: ignored


def test_a_new_kind_grades_with_credit_carried_across_sections(problem: Problem) -> None:
    def slip(m: Mat) -> Mat:  # one entry off: 1 added to the first
        rows = [[to_fraction(x) for x in row] for row in m.to_list()]
        rows[0][0] += 1
        return rational(rows)

    report = handcalc.grade(problem, worked(problem, {"s1.dW2": slip}))
    statuses = report.statuses
    assert statuses["s1.dW2"] == "wrong"
    for later in ("s1.W2_new", "s2.Z2", "s2.A2", "s2.loss", "s2.W2_new", "shift2"):
        assert statuses[later] == "carried", (later, statuses[later])
    assert statuses["s1.W1_new"] == "correct" and statuses["s2.Z1"] == "correct"
    assert "s1.dW2" in report["s1.W2_new"].carried_from
    assert 0 < report.score < report.max_score


def test_a_new_op_is_diagnosed_with_its_own_mistakes(problem: Problem) -> None:
    one_step = sub(problem.value("s1.W2_new"), problem.value("W2"))
    report = handcalc.grade(problem, worked(problem, {"shift2": lambda m: one_step}))
    cell = report["shift2"]
    assert cell.status == "wrong" and "one_step_only" in cell.diagnosis
    assert "only the first step's change" in cell.feedback
    assert all(s == "correct" for n, s in report.statuses.items() if n != "shift2")


def test_an_op_without_its_explanation_or_mistakes_cannot_be_built() -> None:
    class Silent(Op):
        words: ClassVar[str] = "nothing said"

        def __call__(self, a: Mat) -> Mat:
            return a

        def formula(self, out: str, a: str) -> str:
            return f"{out} = {a}"

    with pytest.raises(TypeError, match="explain"):
        Silent()  # type: ignore[abstract]
