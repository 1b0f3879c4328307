import copy
import json
from pathlib import Path

import numpy as np
import pytest
from classic import CLASSIC
from oracle import oracle

import handcalc


def test_same_seed_same_problem_and_seeds_differ() -> None:
    assert handcalc.generate(seed=7).to_json() == handcalc.generate(seed=7).to_json()
    keys = {handcalc.generate(seed=s).to_json() for s in range(20)}
    assert len(keys) == 20


def test_a_random_seed_is_recorded() -> None:
    problem = handcalc.generate()
    assert isinstance(problem.seed, int)
    assert handcalc.generate(seed=problem.seed).to_json() == problem.to_json()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"seed": 1, "sizez": [2, 2]},
            "unknown option 'sizez'; known options: sizes, activation, "
            "loss, output, batch, reduction, lr, transcendental, digits, base, frozen, slope",
        ),
        ({"seed": -1}, "seed: -1 is not accepted"),
        ({"seed": "7"}, "seed: '7' is not accepted"),
        ({"seed": 1, "kind": "cnn"}, "kind: unknown 'cnn'; accepted: mlp"),
    ],
)
def test_generate_refuses_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(handcalc.HandcalcError) as info:
        handcalc.generate(**kwargs)
    assert message in str(info.value)


def test_solve_accepts_documents_in_every_form(tmp_path: Path) -> None:
    problem = handcalc.generate(seed=3)
    text = problem.to_json()
    path = tmp_path / "p.json"
    path.write_text(text)
    for doc in (problem, problem.to_dict(), text, text.encode(), path):
        assert handcalc.solve(doc).to_json() == text


def test_the_classic_sheet_solves_correctly() -> None:
    problem = handcalc.solve(CLASSIC)
    assert problem.spec.sizes == (4, 3, 4, 3) and problem.spec.batch == 2  # read from the matrices
    # worked by hand: z = W1·x + b1 for both samples; unit 2 is negative for both
    assert problem.text("Z1") == [["4", "1"], ["-4", "-5"], ["1", "1"]]
    assert problem.text("A1") == [["4", "1"], ["0", "0"], ["1", "1"]]
    assert problem.text("Z2") == [["4", "1"], ["-2", "1"], ["1", "1"], ["2", "-1"]]
    # the masks: a gradient that reaches a unit is stopped where its ReLU input was negative
    da1, dz1 = np.array(problem["dA1"], dtype=float), np.array(problem["dZ1"], dtype=float)
    assert np.abs(da1[1]).sum() > 0 and not dz1[1].any()
    da2, dz2 = np.array(problem["dA2"], dtype=float), np.array(problem["dZ2"], dtype=float)
    assert da2[1, 0] != 0 and dz2[1, 0] == 0
    assert da2[3, 1] != 0 and dz2[3, 1] == 0
    np.testing.assert_array_equal(dz2[[0, 2]], da2[[0, 2]])
    expected = oracle(problem.to_dict())
    for step in problem.to_dict()["steps"]:
        atol = 0.005 if step["name"] == "loss" else 1e-12
        np.testing.assert_allclose(
            step["approx"], expected[step["name"]], atol=atol, err_msg=step["name"]
        )


def _classic(**changes: object) -> dict:
    doc = copy.deepcopy(CLASSIC)
    for path, value in changes.items():
        section, _, key = path.partition("__")
        if value is None:
            del doc[section][key]
        else:
            doc[section][key] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            _classic(given__W2=[["1", "2"], ["0", "1"]]),
            "given.W2: has 2 columns but layer 1 has 3 rows",
        ),
        (
            _classic(spec__sizes=[4, 3, 4, 3], given__W2=[["1", "2"], ["0", "1"]]),
            "given.W2: expected a 4 × 3 matrix (a list of 4 rows of 3), got 2 × 2",
        ),
        (_classic(given__b1="1"), "given.b1: expected a 3 × 1 matrix"),
        (
            _classic(given__X=[["2", "one"], ["1", "-1"], ["0", "2"], ["1", "1"]]),
            "given.X[1][2]: 'one' is not a number; expected an integer (-3), a fraction (3/4)",
        ),
        (
            _classic(given__X=[["2", "1"], ["1", "-1"], ["0", "2"], ["1", "1e9"]]),
            "given.X[4][2]: '1e9' is too large; accepted: numerators and denominators up to",
        ),
        (
            _classic(given__X=[["2", "1"], ["1", "-1"], ["0", "2"], ["1", "9" * 50]]),
            "given.X[4][2]: 50 characters is too long",
        ),
        (
            _classic(given__Y=[["1", "0"], ["1", "0"], ["0", "1"]]),
            "given.Y: column 1 is not one-hot; softmax_ce needs each column of Y to hold a single",
        ),
        (
            _classic(given__Y=[["1", "0"], ["0", "1"], ["0", "1"]]),
            "given.Y: column 2 is not one-hot",
        ),
        (_classic(given__W4=[["1"]]), "given.W4: has 1 column but layer 3 has 3 rows"),
        (_classic(spec__sizes=[4, 3, 4, 3], given__W4=[["1"]]), "given: unknown cell 'W4'"),
        (_classic(given__b3=None), "given.b3: missing; a 3 × 1 matrix is needed"),
        (_classic(given__lr="1/5"), "given.lr: '1/5' differs from spec.lr '1/10'"),
        (
            _classic(spec__learning_rate="1/10"),
            "spec: unknown option 'learning_rate'; known options",
        ),
        (_classic(spec__activation="swish"), "spec.activation: 'swish' is not accepted"),
        (_classic(spec__batch=3), "given.X: expected a 4 × 3 matrix"),
        ({"format": "other@9", **CLASSIC}, "format: 'other@9' is not accepted"),
        ({"spec": {}}, "given: missing"),
        ({**CLASSIC, "answers": {}}, "document: unknown field 'answers'"),
        ("{not json", "document: not valid JSON"),
        ("[1, 2]", "document: expected a JSON object, got list"),
    ],
)
def test_bad_authored_documents_get_a_clear_message(doc: object, message: str) -> None:
    with pytest.raises(handcalc.DocumentError) as info:
        handcalc.solve(doc if isinstance(doc, str) else json.dumps(doc))
    assert message in str(info.value)


def test_sigmoid_bce_targets_must_be_zero_or_one() -> None:
    doc = {
        "spec": {"loss": "sigmoid_bce"},
        "given": {"X": [["1"]], "W1": [["1"]], "b1": [["0"]], "Y": [["2"]]},
    }
    with pytest.raises(handcalc.DocumentError, match="sigmoid_bce needs targets of 0 and 1"):
        handcalc.solve(doc)


def test_authored_base_mode_needs_integer_output_pre_activations() -> None:
    doc = {
        "spec": {"transcendental": "base"},
        "given": {"X": [["1"]], "W1": [["1/2"], ["1"]], "b1": [["0"], ["0"]], "Y": [["1"], ["0"]]},
    }
    with pytest.raises(handcalc.BudgetError, match="only for integer z, but the output"):
        handcalc.solve(doc)
