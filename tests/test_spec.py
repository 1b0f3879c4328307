from fractions import Fraction

import pytest

from handcalc.errors import SpecError
from handcalc.spec import Spec


def test_defaults_are_the_classic_sheet() -> None:
    spec = Spec()
    assert spec.sizes == (4, 3, 4, 3) and spec.layers == 3
    assert (spec.activation, spec.loss, spec.batch, spec.reduction) == (
        "relu",
        "softmax_ce",
        2,
        "sum",
    )
    assert spec.lr == Fraction(1, 10) and spec.slope == Fraction(1, 10)
    assert (spec.transcendental, spec.digits, spec.base) == ("table", 2, 3)
    assert spec.trainable == (1, 2, 3)
    assert Spec.from_options({}) == spec


def test_cli_strings_are_accepted() -> None:
    spec = Spec.from_options({"sizes": "2, 3,2", "frozen": "1", "lr": "0.05", "batch": "3"})
    assert spec.sizes == (2, 3, 2) and spec.frozen == (1,) and spec.lr == Fraction(1, 20)
    assert spec.batch == 3


def test_to_dict_round_trips() -> None:
    spec = Spec.from_options({"sizes": [2, 2], "lr": "1/4", "reduction": "mean"})
    assert Spec.from_options(spec.to_dict()) == spec
    assert spec.to_dict()["lr"] == "1/4"
    assert spec.factor == Fraction(1, 2)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"size": [2, 2]}, "unknown option 'size'; known options: sizes, activation"),
        ({"sizes": [4]}, "sizes: 1 numbers given; accepted: 2 to 7"),
        ({"sizes": [4, 9]}, "sizes: 9 is not accepted; accepted: a whole number from 1 to 8"),
        ({"sizes": "a,b"}, "sizes: 'a' is not accepted"),
        ({"sizes": [2, 1]}, "softmax_ce needs at least 2 output units"),
        ({"activation": "gelu"}, "activation: 'gelu' is not accepted; accepted: relu, "),
        ({"loss": "hinge"}, "loss: 'hinge' is not accepted"),
        ({"batch": 0}, "batch: 0 is not accepted; accepted: a whole number from 1 to 8"),
        ({"batch": True}, "batch: True is not accepted"),
        ({"lr": "0"}, "lr: '0' is out of range; accepted: 0 < lr ≤ 10"),
        ({"lr": "fast"}, "lr: 'fast' is not a number"),
        ({"slope": "1"}, "slope"),
        ({"slope": "2"}, "slope: '2' is out of range"),
        ({"frozen": [4]}, "frozen: layer 4 does not exist; the network has layers 1 to 3"),
        ({"frozen": [1, 2, 3]}, "every layer is frozen"),
        ({"digits": 10}, "digits: 10 is not accepted; accepted: a whole number from 1 to 9"),
        ({"transcendental": "float"}, "transcendental: 'float' is not accepted"),
        ({"transcendental": "base", "activation": "tanh"}, "use transcendental 'table'"),
        ("relu", "spec: expected an object"),
    ],
)
def test_bad_options_say_what_is_accepted(options, message: str) -> None:
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Spec.from_options(options)


def test_a_single_layer_may_use_any_activation_in_base_mode() -> None:
    assert (
        Spec.from_options(
            {"sizes": [2, 2], "transcendental": "base", "activation": "sigmoid"}
        ).layers
        == 1
    )


def test_describe() -> None:
    assert Spec().describe() == (
        "MLP 4-3-4-3, relu hidden, softmax_ce, batch 2, sum reduction, lr 1/10"
    )


def test_max_chars_is_a_budget_from_4_to_40_written_only_when_set() -> None:
    assert Spec().max_chars == 10 and "max_chars" not in Spec().to_dict()
    spec = Spec.from_options({"max_chars": "14"})
    assert spec.max_chars == 14 and spec.to_dict()["max_chars"] == 14
    assert Spec.from_options(spec.to_dict()) == spec
    for bad in (3, 41, "ten"):
        with pytest.raises(SpecError, match=r"max_chars: .* accepted: a whole number from 4 to 40"):
            Spec.from_options({"max_chars": bad})


def test_an_authored_problem_names_the_field_of_a_refused_activation() -> None:
    import handcalc

    doc = {"spec": {"activation": "sigmoid", "transcendental": "exact"}, "given": {}}
    with pytest.raises(handcalc.DocumentError, match=r"^spec\.activation: a hidden sigmoid makes"):
        handcalc.solve(doc)


def test_output_follows_the_loss_unless_chosen() -> None:
    from handcalc.spec import OWN_OUTPUT

    for loss, own in OWN_OUTPUT.items():
        sizes = [2, 2]
        assert Spec.from_options({"loss": loss, "sizes": sizes}).output == own
        assert Spec.from_options({"loss": loss, "sizes": sizes, "output": "auto"}).output == own
        assert Spec(loss=loss).output == own  # made in Python, too
        assert "output" not in Spec(loss=loss).to_dict()  # documents stay as they were
    chosen = Spec.from_options({"loss": "mse", "output": "sigmoid"})
    assert chosen.output == "sigmoid" and not chosen.own_output
    assert chosen.to_dict()["output"] == "sigmoid"
    assert Spec.from_options(chosen.to_dict()) == chosen
    assert "sigmoid output, mse" in chosen.describe()
    assert list(chosen.to_dict()).index("output") == list(chosen.to_dict()).index("loss") + 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"loss": "softmax_ce", "output": "sigmoid"}, "output: sigmoid with loss softmax_ce"),
        ({"loss": "sigmoid_bce", "output": "identity"}, "output: identity with loss sigmoid_bce"),
        ({"loss": "mse", "output": "softmax"}, "output: softmax with loss mse"),
        ({"loss": "softmax_ce", "output": "identity"}, "sigmoid with sigmoid_bce or mse"),
        ({"loss": "mse", "output": "sigmoid", "transcendental": "base"}, "carrying ln 3"),
        ({"output": "tanh"}, "output: 'tanh' is not accepted; accepted: auto, softmax"),
    ],
)
def test_pairs_that_do_not_work_are_refused_naming_those_that_do(options, message) -> None:
    with pytest.raises(SpecError, match=message.replace("(", r"\(")):
        Spec.from_options(options)


def test_table_digits_up_to_nine() -> None:
    assert Spec.from_options({"digits": 9}).digits == 9
