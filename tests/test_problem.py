import json

import pytest
import sympy

import handcalc
from handcalc.problem import FORMAT, dumps

MODES = [
    {"transcendental": "table"},
    {"transcendental": "table", "activation": "sigmoid", "loss": "sigmoid_bce", "max_chars": 40},
    {"transcendental": "base", "reduction": "mean"},
    {"transcendental": "exact", "sizes": [2, 2, 2]},
    {"loss": "mse", "frozen": [1]},
]


@pytest.mark.parametrize("options", MODES)
def test_from_json_reads_back_unchanged(options: dict) -> None:
    problem = handcalc.generate(seed=11, **options)
    text = problem.to_json()
    again = handcalc.Problem.from_json(text)
    assert again.to_json() == text
    assert handcalc.Problem.from_json(json.loads(text)).to_dict() == problem.to_dict()
    for name in problem.values:
        assert again.value(name).to_Matrix() == problem.value(name).to_Matrix()
    assert again == problem and hash(again) == hash(problem)


def test_problems_are_equal_by_value() -> None:
    problem = handcalc.generate(seed=11)
    assert problem == handcalc.generate(seed=11)
    assert problem != handcalc.generate(seed=12)
    assert problem != handcalc.generate(seed=11, reduction="mean")
    assert len({problem, handcalc.generate(seed=11), handcalc.generate(seed=12)}) == 2
    # the same numbers authored (no seed) are another document, though the same key
    doc = problem.to_dict()
    del doc["seed"]
    authored = handcalc.Problem.from_json(doc)
    assert authored != problem and authored.values == problem.values
    # one changed cell is enough
    values = dict(problem.values)
    values["dW2"] = handcalc.generate(seed=12).values["dW2"]
    assert handcalc.Problem(problem.spec, problem.graph, values, 11) != problem


def test_table_mode_values_are_exact_rationals_but_the_loss() -> None:
    for seed in range(10):
        # two hidden tanh layers' gradients need long entries: beyond the default max_chars
        doc = handcalc.generate(seed=seed, activation="tanh", max_chars=40).to_dict()
        assert doc["format"] == FORMAT and doc["seed"] == seed
        for step in doc["steps"]:
            for row in step["value"]:
                for text in row:
                    if step["name"] == "loss":
                        whole, _, frac = text.lstrip("-").partition(".")
                        assert whole.isdigit() and len(frac) == 2
                    else:
                        num, _, den = text.lstrip("-").partition("/")
                        assert num.isdigit() and (den == "" or den.isdigit()), text
        assert_tables_are_lookups(doc)


def assert_tables_are_lookups(doc: dict) -> None:
    """Every table is keyed by its argument, holds the row of each argument the cell needs and
    some it does not, and never equals an answer cell, as a whole or as its values."""
    steps = {s["name"]: s for s in doc["steps"]}
    for name, table in doc["tables"].items():
        cell, argument = table["cell"], table["argument"]
        assert name == f"{table['function']}({argument})"
        cells = [s["value"] for s in doc["steps"]]
        values = [row["a"] for row in table["rows"]]
        assert table not in cells and table["rows"] not in cells
        assert values not in cells and [values] not in cells
        if table["function"] == "softmax":  # its columns in the shape of A
            assert [list(r) for r in zip(*values, strict=True)] not in cells
        assert steps[cell]["inputs"] == [argument]
        z = handcalc.Problem.from_json(doc).value(argument).to_list()
        if table["function"] == "softmax":
            wanted = {tuple(str(x) for x in col) for col in zip(*z, strict=True)}
            keys = [tuple(row["z"]) for row in table["rows"]]
        else:
            wanted = {str(x) for row in z for x in row}
            keys = [row["z"] for row in table["rows"]]
        assert wanted <= set(keys) and len(set(keys)) == len(keys)
        assert len(keys) >= len(wanted) + 3, "distractor rows"


def test_the_document_has_the_design_fields() -> None:
    doc = handcalc.generate(seed=7).to_dict()
    assert list(doc) == ["format", "kind", "seed", "spec", "given", "tables", "steps"]
    assert doc["given"]["lr"] == "1/10"
    assert list(doc["given"]) == ["X", "W1", "b1", "W2", "b2", "W3", "b3", "Y", "lr"]
    step = doc["steps"][0]
    assert step["name"] == "Z1" and step["phase"] == "forward"
    assert step["formula"] == "Z1 = W1·A0 + b1" and step["inputs"] == ["W1", "A0", "b1"]
    names = [s["name"] for s in doc["steps"]]
    assert names == [
        "Z1",
        "A1",
        "Z2",
        "A2",
        "Z3",
        "A3",
        "loss",
        "dZ3",
        "dW3",
        "db3",
        "dA2",
        "dZ2",
        "dW2",
        "db2",
        "dA1",
        "dZ1",
        "dW1",
        "db1",
        "W1_new",
        "b1_new",
        "W2_new",
        "b2_new",
        "W3_new",
        "b3_new",
    ]


def test_the_student_copy_has_no_answers() -> None:
    problem = handcalc.generate(seed=7)
    doc = problem.to_dict(answers=False)
    assert all("value" not in s and "approx" not in s for s in doc["steps"])
    assert doc["steps"][0]["shape"] == [3, 2]
    assert doc["given"] == problem.to_dict()["given"]


def test_cells_as_sympy_matrices_and_a_plain_text_repr() -> None:
    problem = handcalc.generate(seed=7)
    dw2 = problem["dW2"]
    assert isinstance(dw2, sympy.ImmutableMatrix) and dw2.shape == (4, 3)
    assert problem["A0"] == problem["X"]
    with pytest.raises(KeyError, match="no cell 'dW9'"):
        problem["dW9"]
    text = repr(problem)
    assert text.startswith("Problem(mlp, seed=7): MLP 4-3-4-3")
    assert "dW3 = dZ3·A2ᵀ = [" in text and "lr = 1/10" in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("steps"), "steps: missing; this is an authored problem: solve it first"),
        (lambda d: d["steps"].pop(), "steps: expected the steps Z1, A1"),
        (lambda d: d["steps"][0].update(value="x"), "steps.Z1.value: expected a 3 × 2 matrix"),
        (lambda d: d["steps"][8].update(value=[["1"]]), "steps.dW3.value: expected a 3 × 4"),
        (lambda d: d["steps"][0].update(value=[["x", "1"]] * 3), "steps.Z1.value: 'x' is not"),
        (lambda d: d.update(seed="7"), "seed: expected a whole number or nothing"),
    ],
)
def test_from_json_refuses_broken_documents(change, message: str) -> None:
    doc = handcalc.generate(seed=7).to_dict()
    change(doc)
    with pytest.raises(handcalc.DocumentError) as info:
        handcalc.Problem.from_json(doc)
    assert message in str(info.value)


def test_dumps_puts_each_matrix_on_one_line() -> None:
    text = dumps({"a": {"m": [["1", "2"], ["3", "4"]], "s": [{"x": 1}]}})
    assert '"m": [["1", "2"], ["3", "4"]]' in text
    assert json.loads(text) == {"a": {"m": [["1", "2"], ["3", "4"]], "s": [{"x": 1}]}}


def test_a_problems_values_cannot_change() -> None:
    problem = handcalc.generate(seed=7)
    with pytest.raises(TypeError):
        problem.values["Z1"] = problem.values["Z2"]  # type: ignore[index]


@pytest.mark.parametrize("options", [MODES[0], MODES[1], {"activation": "tanh", "loss": "mse"}])
def test_tables_are_keyed_by_their_argument(options: dict) -> None:
    for seed in range(5):
        problem = handcalc.generate(seed=seed, **{"max_chars": 40, **options})
        doc = problem.to_dict(answers=True)
        assert doc["tables"]
        assert_tables_are_lookups(doc)
        student = problem.to_dict(answers=False)
        assert student["tables"] == doc["tables"]
        assert "needed" not in json.dumps(student)


def test_a_moved_probability_is_marked() -> None:
    doc = handcalc.generate(seed=7).to_dict()
    rows = doc["tables"]["softmax(Z3)"]["rows"]
    row = next(r for r in rows if r["z"] == ["2", "4", "-1"])
    # e^z / Σ: 0.1185, 0.8756, 0.0059 round to 0.12, 0.88, 0.01 (1.01): 0.88 gives a unit back
    assert row["a"] == ["0.12", "0.87", "0.01"] and row["moved"] == [1]
    assert all("moved" not in r or r["moved"] for r in rows)
