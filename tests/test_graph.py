import pytest

from handcalc.cells import Cell
from handcalc.graph import Graph, Step, resolve
from handcalc.matrix import rational, to_floats
from handcalc.ops import Activate, Affine, ReLU


def steps() -> list[Step]:
    return [
        Step(Cell("A", 1), "forward", Activate(ReLU()), ("Z1",), (1, 2)),
        Step(Cell("Z", 1), "forward", Affine(), ("W1", "A0", "b1"), (1, 2)),
    ]


def test_steps_are_put_in_topological_order() -> None:
    graph = Graph.of(["X", "W1", "b1"], steps())
    assert graph.names == ("Z1", "A1")
    assert graph["A1"].formula == "A1 = relu(Z1)"
    with pytest.raises(KeyError):
        graph["nope"]


def test_a0_is_another_name_for_x() -> None:
    assert resolve("A0") == "X"
    graph = Graph.of(["X", "W1", "b1"], steps())
    values = graph.evaluate(
        {"X": rational([[2], [-3]]), "W1": rational([[1, 1], [1, 0]]), "b1": rational([[0], [-5]])}
    )
    assert to_floats(values["Z1"]) == [[-1.0], [-3.0]]
    assert to_floats(values["A1"]) == [[0.0], [0.0]]
    assert "A0" not in values


def test_a_step_reruns_on_other_values() -> None:
    step = steps()[0]
    assert to_floats(step.run({"Z1": rational([[4, -4]])})) == [[4.0, 0.0]]


def test_missing_inputs_and_duplicates_are_refused() -> None:
    with pytest.raises(ValueError, match=r"no step computes \['b1'\]"):
        Graph.of(["X", "W1"], steps())
    cycle = [
        Step(Cell("P"), "forward", Activate(ReLU()), ("Q",)),
        Step(Cell("Q"), "forward", Activate(ReLU()), ("P",)),
    ]
    with pytest.raises(ValueError, match="cycle"):
        Graph.of([], cycle)
    with pytest.raises(ValueError, match="defined twice"):
        Graph.of(["X", "W1", "b1", "Z1"], steps())


def test_finish_touches_every_computed_cell() -> None:
    seen = []
    graph = Graph.of(["X", "W1", "b1"], steps())
    graph.evaluate(
        {"X": rational([[1]]), "W1": rational([[1]]), "b1": rational([[1]])},
        lambda name, value: seen.append(name) or value,
    )
    assert seen == ["Z1", "A1"]


def test_a_step_runs_on_what_the_api_hands_out() -> None:
    """``problem[name]`` matrices, DomainMatrices or rows of numbers; the input as A0 or X."""
    import handcalc

    problem = handcalc.generate(seed=7)
    step = problem.graph["Z1"]
    expected = problem.value("Z1")
    given = {"W1": problem["W1"], "b1": problem["b1"]}
    assert step.run({**given, "A0": problem["A0"]}) == expected
    assert step.run({**given, "X": problem["X"]}) == expected
    assert step.run({**given, "X": problem["X"].tolist()}) == expected
    assert step.run(problem.values) == expected
    with pytest.raises(KeyError, match="Z1 needs A0"):
        step.run(given)
    with pytest.raises(TypeError, match="not a matrix of exact values"):
        step.run({**given, "X": [["1", "2"]]})
