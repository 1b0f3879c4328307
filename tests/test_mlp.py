"""The MLP kind: its step graph and its nice-number generator."""

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import handcalc
from handcalc.errors import BudgetError
from handcalc.kinds import mlp
from handcalc.matrix import to_fraction
from handcalc.spec import Spec


def names(**options) -> list[str]:
    return list(mlp.build(Spec.from_options(options)).names)


def test_frozen_layers_get_no_gradient_and_backprop_stops_below_the_lowest_trainable() -> None:
    got = names(frozen=[1])
    assert "dW1" not in got and "db1" not in got and "W1_new" not in got
    assert "dA1" not in got and "dZ1" not in got
    assert {"dA2", "dZ2", "dW2", "W2_new"} <= set(got)
    middle = names(frozen=[2])
    assert "dW2" not in middle and "W2_new" not in middle
    assert {"dZ2", "dA1", "dZ1", "dW1", "W1_new"} <= set(middle)  # the gradient passes through
    top = names(frozen=[2, 3])
    assert [n for n in top if n.startswith("d")] == [
        "dZ3",
        "dA2",
        "dZ2",
        "dA1",
        "dZ1",
        "dW1",
        "db1",
    ]


def test_sigmoid_derivatives_are_read_from_a() -> None:
    graph = mlp.build(Spec.from_options({"activation": "sigmoid"}))
    assert graph["dZ2"].inputs == ("dA2", "A2")
    assert graph["dZ2"].formula == "dZ2 = dA2 ∘ A2∘(1 − A2)"
    assert mlp.build(Spec())["dZ2"].inputs == ("dA2", "Z2")


def test_one_layer_networks() -> None:
    got = names(sizes=[3, 2])
    assert got == ["Z1", "A1", "loss", "dZ1", "dW1", "db1", "W1_new", "b1_new"]


def entries(problem: handcalc.Problem, name: str) -> list[Fraction]:
    return [to_fraction(v) for row in problem.value(name).to_list() for v in row]


@settings(max_examples=120)
@given(
    seed=st.integers(0, 2**40),
    activation=st.sampled_from(["relu", "leaky_relu"]),
    loss=st.sampled_from(["softmax_ce", "sigmoid_bce", "mse"]),
    sizes=st.lists(st.integers(2, 4), min_size=3, max_size=4),
    batch=st.integers(1, 3),
    weight_max=st.integers(1, 3),
)
def test_generated_problems_meet_the_budgets(seed, activation, loss, sizes, batch, weight_max):
    problem = handcalc.generate(
        seed=seed, activation=activation, loss=loss, sizes=sizes, batch=batch, weight_max=weight_max
    )
    spec = problem.spec
    for name in ("X", *(f"W{k}" for k in range(1, spec.layers + 1))):
        values = entries(problem, name)
        assert all(v.denominator == 1 for v in values)
        assert max(map(abs, values)) <= (spec.input_max if name == "X" else weight_max)
    for layer in range(1, spec.layers):
        z = entries(problem, f"Z{layer}")
        assert 0 not in z, "a ReLU input is exactly 0"
        assert max(z) > 0 and (min(z) < 0 or len(z) == 1), "a mask that never masks"
        rows = problem.value(f"W{layer}").to_list()
        assert all(any(v != 0 for v in row) for row in rows), "a neuron with no weights"
    out = problem.value(f"dZ{spec.layers}").to_list()
    for j in range(spec.batch):
        assert any(row[j] != 0 for row in out), "a sample that contributes no gradient"
    for layer in spec.trainable:
        assert any(v != 0 for v in entries(problem, f"dW{layer}") + entries(problem, f"db{layer}"))
    for name in problem.values:
        if name != "loss":
            assert all(abs(v) <= mlp.MAX_ABS for v in entries(problem, name))
    if loss == "softmax_ce":
        a, y = problem.value(f"A{spec.layers}").to_list(), problem.value("Y").to_list()
        for j in range(spec.batch):
            target = next(i for i, row in enumerate(y) if row[j] == 1)
            assert 0 < a[target][j] < 1, "a target probability that rounds to 0 or 1"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"activation": "leaky_relu", "transcendental": "base"},
            "leaky_relu network almost never gives the integer output",
        ),
        (
            {"activation": "sigmoid", "sizes": [3, 3, 3, 3, 2], "digits": 2},
            "the gradients of 3 sigmoid layers read from 2-digit tables need about 15 decimals",
        ),
    ],
)
def test_impossible_options_are_refused_quickly(options: dict, message: str) -> None:
    with pytest.raises(BudgetError, match=message):
        handcalc.generate(seed=1, **options)


def test_a_search_that_finds_nothing_ends_with_the_most_common_reason(monkeypatch) -> None:
    monkeypatch.setattr(mlp.draw, "HIDDEN_MAX", 0)  # no ReLU input may be 0, and none may be larger
    with pytest.raises(BudgetError, match=r"after 60 draws \(most often: no neuron of a hidden"):
        handcalc.generate(seed=1)


def test_freezing_the_lower_layers_makes_deep_sigmoid_feasible() -> None:
    options = {"activation": "sigmoid", "sizes": [3, 3, 3, 3, 2], "digits": 1}
    with pytest.raises(BudgetError, match=r"use frozen 1,2,3 .*; or max_chars 20"):
        handcalc.generate(seed=1, **options)
    problem = handcalc.generate(seed=1, frozen=[1, 2], **options)
    assert "dZ3" in problem.values and "dZ2" not in problem.values


def test_generation_is_reproducible_across_calls() -> None:
    first = mlp.generate(Spec(), 123)
    second = mlp.generate(Spec(), 123)
    assert {k: v.to_list() for k, v in first.items()} == {k: v.to_list() for k, v in second.items()}


def test_a_search_stopped_by_the_print_budget_names_that_reason(monkeypatch) -> None:
    from handcalc.transcendental import PrintBudgetError

    calls = iter(range(100))

    def check(spec, graph, values) -> None:
        if next(calls) < 5:
            raise BudgetError("the gradient of layer 1 vanishes")
        raise PrintBudgetError("cell dW1[1,1] needs 250 characters")

    monkeypatch.setattr(mlp.draw, "check_values", check)
    with pytest.raises(BudgetError) as e:
        mlp.generate(Spec(sizes=(2, 2), transcendental="exact"), 1)
    assert str(e.value) == (
        "no problem with these options meets the budgets after 6 draws (the search stopped at: "
        "cell dW1[1,1] needs 250 characters)"
    )


def test_an_authored_tie_is_explained_on_the_sheet() -> None:
    from handcalc.layout import instructions

    tie = handcalc.solve(
        {
            "spec": {"digits": 1},
            "given": {
                "X": [["1"]],
                "W1": [["1"], ["1"], ["1"]],
                "b1": [["0"], ["0"], ["0"]],
                "Y": [["1"], ["0"], ["0"]],
            },
        }
    )
    assert tie.text("A1") == [["2/5"], ["3/10"], ["3/10"]]
    assert any(s.startswith("Rounding ties:") for s in instructions(tie))
    assert not any(s.startswith("Rounding ties:") for s in instructions(handcalc.generate(seed=7)))


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize(
    "options",
    [
        {"digits": 1},
        {"lr": "1"},
        {"sizes": [2, 2, 2], "batch": 1, "activation": "sigmoid", "digits": 1},
        {"sizes": [2, 2, 1], "transcendental": "exact"},
    ],
)
def test_a_sigmoid_under_squared_error_makes_nice_problems(seed: int, options: dict) -> None:
    p = handcalc.generate(seed=seed, loss="mse", output="sigmoid", **options)
    n = p.spec.layers
    a = entries(p, f"A{n}") if p.spec.transcendental == "table" else []
    assert all(0 < v < 1 for v in a)  # no probability printed as 0 or 1
    assert set(entries(p, "Y")) <= {0, 1}
    assert not p.value(f"dW{n}").is_zero_matrix
    assert p.graph[f"dZ{n}"].formula == f"dZ{n} = (A{n} − Y)∘A{n}∘(1 − A{n})"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"loss": "mse", "output": "sigmoid"}, "use digits 1; or lr 1"),
        ({"loss": "mse", "output": "sigmoid", "transcendental": "exact"}, "with a sigmoid under"),
        ({"digits": 6}, "are for authored problems"),
    ],
)
def test_a_sigmoid_under_squared_error_is_refused_with_advice(options: dict, message: str) -> None:
    with pytest.raises(BudgetError, match=message):
        handcalc.generate(seed=1, **options)
