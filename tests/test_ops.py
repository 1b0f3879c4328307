import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from fractions import Fraction
from typing import ClassVar

import numpy as np
import pytest

import handcalc
import handcalc.ops
from handcalc.matrix import Mat, rational, to_floats, to_fraction
from handcalc.ops import (
    Activate,
    Activation,
    ActivationGrad,
    Affine,
    BiasGrad,
    Identity,
    InputGrad,
    LeakyReLU,
    Loss,
    Op,
    OutputGrad,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    Update,
    WeightGrad,
    loss_op,
)
from handcalc.transcendental import Exact, Table

W = [[1, 0, -1], [2, -1, 1]]
A = [[2, -1], [1, 1], [2, 0]]
B = [[1], [-2]]


def arr(m) -> np.ndarray:
    return np.array(to_floats(m))


def test_affine_adds_the_bias_to_every_column() -> None:
    z = Affine()(rational(W), rational(A), rational(B))
    np.testing.assert_array_equal(arr(z), np.array(W) @ np.array(A) + np.array(B))
    assert Affine().formula("Z1", "W1", "A0", "b1") == "Z1 = W1·A0 + b1"


def test_relu_masks_and_its_derivative_at_zero_is_zero() -> None:
    z = rational([[2, 0, -3]])
    assert [to_fraction(x) for x in Activate(ReLU())(z).to_list()[0]] == [2, 0, 0]
    assert [to_fraction(x) for x in ReLU().derivative(z).to_list()[0]] == [1, 0, 0]


def test_leaky_relu_uses_its_slope() -> None:
    act = LeakyReLU(Fraction(1, 10))
    z = rational([[2, -3]])
    assert [to_fraction(x) for x in act.value(z).to_list()[0]] == [2, Fraction(-3, 10)]
    assert [to_fraction(x) for x in act.derivative(z).to_list()[0]] == [1, Fraction(1, 10)]


def test_identity() -> None:
    z = rational([[2, -3]])
    assert Identity().value(z) == z
    assert to_floats(Identity().derivative(z)) == [[1.0, 1.0]]
    assert Activate(Identity()).formula("A3", "Z3") == "A3 = Z3"


def test_sigmoid_and_tanh_derivatives_read_the_table_values() -> None:
    a = rational([[Fraction(1, 4), Fraction(1, 2)]])
    assert to_floats(Sigmoid(Table()).derivative(a)) == [[0.1875, 0.25]]
    assert to_floats(Tanh(Table()).derivative(a)) == [[0.9375, 0.75]]
    assert ActivationGrad(Sigmoid(Table())).formula("dZ1", "dA1", "A1") == "dZ1 = dA1 ∘ A1∘(1 − A1)"
    assert Activate(Sigmoid(Table())).tabulated and Softmax(Table()).tabulated
    assert not Activate(ReLU()).tabulated


def test_backward_ops_match_numpy() -> None:
    dz = np.array([[1, -2], [3, 1]])
    a = np.array(A)
    np.testing.assert_array_equal(arr(WeightGrad()(rational(dz.tolist()), rational(A))), dz @ a.T)
    np.testing.assert_array_equal(arr(BiasGrad()(rational(dz.tolist()))), dz.sum(1, keepdims=True))
    np.testing.assert_array_equal(
        arr(InputGrad()(rational(W), rational(dz.tolist()))), np.array(W).T @ dz
    )
    mask = ActivationGrad(ReLU())(rational([[1, 2], [3, 4]]), rational([[-1, 2], [3, 0]]))
    assert to_floats(mask) == [[0, 2], [3, 0]]


@pytest.mark.parametrize(
    ("factor", "expected"), [(Fraction(1), [[-0.5], [0.5]]), (Fraction(1, 2), [[-0.25], [0.25]])]
)
def test_output_gradient_is_a_minus_y_times_the_factor(factor, expected) -> None:
    a = rational([[Fraction(1, 2)], [Fraction(1, 2)]])
    y = rational([[1], [0]])
    assert to_floats(OutputGrad(factor)(a, y)) == expected
    assert "/B" in OutputGrad(Fraction(1, 2)).formula("dZ2", "A2", "Y")


def test_update_steps_against_the_gradient() -> None:
    p, g, lr = rational([[1, 2]]), rational([[10, -5]]), rational([[Fraction(1, 10)]])
    assert to_floats(Update()(p, g, lr)) == [[0.0, 2.5]]
    assert Update().formula("W1_new", "W1", "dW1", "lr") == "W1_new = W1 − lr·dW1"


def test_mse_loss_is_half_the_squared_error() -> None:
    z, y = rational([[3, 1], [0, 2]]), rational([[1, 1], [1, 0]])
    assert to_floats(loss_op("mse", Table(), Fraction(1))(z, y)) == [[4.5]]
    assert to_floats(loss_op("mse", Table(), Fraction(1, 2))(z, y)) == [[2.25]]
    # table mode states every loss to its decimals, halves away from zero (0.25 → 0.3)
    assert loss_op("mse", Table(), Fraction(1)).decimals == 2
    assert to_floats(loss_op("mse", Table(), Fraction(1, 8))(z, y)) == [[0.56]]
    assert to_floats(loss_op("mse", Table(), Fraction(1, 8)).squared_error(z, y)) == [[0.5625]]
    assert to_floats(loss_op("mse", Table(1), Fraction(1, 18))(z, y)) == [[0.3]]
    # the loss line is stated to its decimals in every mode (2 unless the spec says otherwise)
    assert loss_op("mse", Exact(), Fraction(1)).decimals == 2
    assert loss_op("softmax_ce", Table(3), Fraction(1)).decimals == 3


def test_loss_op_picks_the_class_of_each_loss() -> None:
    for name in ("softmax_ce", "sigmoid_bce", "mse"):
        op = loss_op(name, Table(), Fraction(1, 2))
        assert isinstance(op, Loss) and op.loss == name and op.factor == Fraction(1, 2)
    assert not hasattr(loss_op("softmax_ce", Table(), Fraction(1)), "squared_error")


# --- the contract: an op owns its value, its explanation and its mistakes ----------------------

#: what every op class defines in its own body: value, formula, explanation, mistakes
OP_DUTIES = ("__call__", "formula", "explain", "variants")
#: what every activation defines in its own body: value and derivative, each written out by hand,
#: and the mistakes each invites
ACTIVATION_DUTIES = (
    "value",
    "derivative",
    "rule",
    "derivative_rule",
    "variants",
    "derivative_variants",
)


def package_classes(base: type) -> Iterator[type]:
    """Every subclass of ``base`` defined in a module of the ``handcalc.ops`` package."""
    for info in pkgutil.iter_modules(handcalc.ops.__path__):
        module = importlib.import_module(f"handcalc.ops.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, base) and cls is not base and cls.__module__ == module.__name__:
                yield cls


def concrete(classes: list[type]) -> list[type]:
    """The classes no other one of ``classes`` derives from: the ops (a family's base, such as
    ``Loss``, shares what its members have in common and is not one)."""
    return [c for c in classes if not any(o is not c and issubclass(o, c) for o in classes)]


def unowned(cls: type, duties: tuple[str, ...]) -> list[str]:
    """The duties ``cls`` does not define in its own body: it would inherit them or, from
    ``Op``, have none."""
    return [duty for duty in duties if duty not in vars(cls)]


def test_every_op_owns_its_value_explanation_and_mistakes() -> None:
    classes = list(package_classes(Op))
    # the leaves, and an op another one varies (SigmoidMSEGrad is an OutputGrad without its
    # shortcut): every class that can be built is an op and owns its duties
    ops = [c for c in classes if c in concrete(classes) or not inspect.isabstract(c)]
    names = {cls.__name__ for cls in ops}
    assert {"Affine", "Activate", "ActivationGrad", "Softmax", "OutputGrad", "Update"} <= names
    assert "SigmoidMSEGrad" in names
    assert {"WeightGrad", "BiasGrad", "InputGrad", "SoftmaxCE", "SigmoidBCE", "MSE"} <= names
    assert "Loss" not in names
    for cls in ops:
        assert unowned(cls, OP_DUTIES) == [], cls.__name__
        assert not inspect.isabstract(cls), cls.__name__
        assert isinstance(cls.words, str) and cls.words, cls.__name__


def test_every_activation_owns_its_rules_and_mistakes() -> None:
    activations = concrete(list(package_classes(Activation)))
    assert {cls.__name__ for cls in activations} == {
        "ReLU",
        "LeakyReLU",
        "Identity",
        "Sigmoid",
        "Tanh",
    }
    for cls in activations:
        assert unowned(cls, ACTIVATION_DUTIES) == [], cls.__name__
        assert not inspect.isabstract(cls), cls.__name__


def test_the_contract_catches_an_op_that_forgets_its_explanation() -> None:
    class Forgetful(Op):
        """An op that computes and knows its mistakes but was never taught to explain itself."""

        words: ClassVar[str] = "twice the input"

        def __call__(self, z: Mat) -> Mat:
            return z + z

        def formula(self, out: str, z: str) -> str:
            return f"{out} = 2·{z}"

        def variants(self, step, inputs, values) -> list:
            return []

    class Unchanged(Affine):
        """A new value under an old explanation: it inherits Affine's, which is not its own."""

        def __call__(self, w: Mat, a: Mat, b: Mat) -> Mat:
            return a

    assert unowned(Forgetful, OP_DUTIES) == ["explain"]
    assert unowned(Unchanged, OP_DUTIES) == ["formula", "explain", "variants"]
    assert concrete([Affine, Unchanged]) == [Unchanged]
    # and it cannot even be built, rather than being explained as "= value"
    with pytest.raises(TypeError, match=r"Forgetful.*explain"):
        Forgetful()


def test_the_contract_catches_an_activation_without_its_rules() -> None:
    class Softsign(Activation):
        name: ClassVar[str] = "softsign"

        def value(self, z: Mat) -> Mat:
            return z

        def derivative(self, x: Mat) -> Mat:
            return x

    assert unowned(Softsign, ACTIVATION_DUTIES) == [
        "rule",
        "derivative_rule",
        "variants",
        "derivative_variants",
    ]
    with pytest.raises(TypeError, match="Softsign"):
        Softsign()


def test_the_sigmoid_squared_error_gradient_has_no_shortcut_and_diagnoses_taking_one() -> None:
    from handcalc.mistakes import variants
    from handcalc.ops import SigmoidMSEGrad, sub

    a, y = rational([[Fraction(3, 4)], [Fraction(1, 5)]]), rational([[1], [0]])
    op = SigmoidMSEGrad(Fraction(1))
    # (A − Y)∘A∘(1 − A): (−1/4)(3/4)(1/4) and (1/5)(1/5)(4/5)
    assert op(a, y).to_list() == rational([[Fraction(-3, 64)], [Fraction(4, 125)]]).to_list()
    assert SigmoidMSEGrad(Fraction(1, 2))(a, y).to_list()[0][0] == Fraction(-3, 128)
    assert op.formula("dZ2", "A2", "Y") == "dZ2 = (A2 − Y)∘A2∘(1 − A2)"
    p = handcalc.generate(seed=2, sizes=[2, 2], loss="mse", output="sigmoid", digits=1)
    step = p.graph["dZ1"]
    assert isinstance(step.op, SigmoidMSEGrad)
    found = {m.code: value for m, value in variants(step, p.values)}
    shortcut = sub(p.value("A1"), p.value("Y"))
    assert found["output_shortcut"] == shortcut
    assert "sign_flipped" in found and "negated" not in found
