from fractions import Fraction

import numpy as np
import pytest

from handcalc.matrix import rational, to_floats, to_fraction
from handcalc.ops import (
    Activate,
    ActivationGrad,
    Affine,
    BiasGrad,
    Identity,
    InputGrad,
    LeakyReLU,
    Loss,
    OutputGrad,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    Update,
    WeightGrad,
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
    assert to_floats(Loss("mse", Table(), Fraction(1))(z, y)) == [[4.5]]
    assert to_floats(Loss("mse", Table(), Fraction(1, 2))(z, y)) == [[2.25]]
    # table mode states every loss to its decimals, halves away from zero (0.25 → 0.3)
    assert Loss("mse", Table(), Fraction(1)).decimals == 2
    assert to_floats(Loss("mse", Table(), Fraction(1, 8))(z, y)) == [[0.56]]
    assert to_floats(Loss("mse", Table(), Fraction(1, 8)).squared_error(z, y)) == [[0.5625]]
    assert to_floats(Loss("mse", Table(1), Fraction(1, 18))(z, y)) == [[0.3]]
    # the loss line is stated to its decimals in every mode (2 unless the spec says otherwise)
    assert Loss("mse", Exact(), Fraction(1)).decimals == 2
    assert Loss("softmax_ce", Table(3), Fraction(1)).decimals == 3
