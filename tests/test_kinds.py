"""A kind registered in one place gets everything: the toy kind here (two SGD steps of the MLP,
sections ``s1`` and ``s2``) is defined in this module only, and generates, solves, round-trips
through JSON, renders through the generic layout, is offered whole in the web form and is graded
with credit carried from a student's own mistakes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

import handcalc
from handcalc import kinds
from handcalc.cells import Cell, field_name, read_field
from handcalc.errors import DocumentError, SpecError
from handcalc.graph import Graph
from handcalc.kinds.mlp import Pass, given_shapes, sgd_step
from handcalc.matrix import Mat, rational, to_fraction
from handcalc.problem import Problem
from handcalc.spec import Spec

OPTIONS: dict[str, Any] = {"sizes": [2, 2, 2], "batch": 2}


class TwoSteps(kinds.Kind):
    """Two steps of SGD on the same batch: ``s2`` starts from ``s1``'s updated parameters."""

    name = "two_steps"
    description = "two SGD steps of an MLP on the same batch"
    Options = Spec

    def build(self, options: Spec) -> Graph:
        steps = sgd_step(options, Pass("s1")) + sgd_step(options, Pass("s2", params="s1"))
        return Graph.of(given_shapes(options), steps)

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
    with pytest.raises(SpecError, match="kind: unknown 'three_steps'; accepted: mlp, two_steps"):
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
