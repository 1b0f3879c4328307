"""Exact operations: each one computes a cell from other cells and knows how it is written.

One module per family — :mod:`.base` (what every op is, and the matrix arithmetic),
:mod:`.activations`, :mod:`.linear`, :mod:`.output`, :mod:`.losses`, :mod:`.update` — and in each,
one class per op that owns its value, its formula and words, its worked explanation, the
mistakes it invites and its numeric nature (:attr:`Op.transcendental`), the way micrograd keeps a
derivative next to its forward rule. :mod:`.words` holds how an explanation writes numbers.
"""

from .activations import (
    Activate,
    Activation,
    ActivationGrad,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Tanh,
)
from .base import (
    Cells,
    Mistake,
    Op,
    Variant,
    add,
    add_bias,
    hadamard,
    matmul,
    row_sums,
    scale,
    sub,
    times_scalar,
)
from .count import CountParams
from .init import Gain, InitLoss, Moved, Std, UniformLoss
from .linear import Affine, BiasGrad, InputGrad, WeightGrad
from .losses import LOSSES, MSE, Loss, SigmoidBCE, SoftmaxCE, loss_op
from .output import OutputGrad, SigmoidMSEGrad, Softmax
from .update import Update

__all__ = [
    "LOSSES",
    "MSE",
    "Activate",
    "Activation",
    "ActivationGrad",
    "Affine",
    "BiasGrad",
    "Cells",
    "CountParams",
    "Gain",
    "Identity",
    "InitLoss",
    "InputGrad",
    "LeakyReLU",
    "Loss",
    "Mistake",
    "Moved",
    "Op",
    "OutputGrad",
    "ReLU",
    "Sigmoid",
    "SigmoidBCE",
    "SigmoidMSEGrad",
    "Softmax",
    "SoftmaxCE",
    "Std",
    "Tanh",
    "UniformLoss",
    "Update",
    "Variant",
    "WeightGrad",
    "add",
    "add_bias",
    "hadamard",
    "loss_op",
    "matmul",
    "row_sums",
    "scale",
    "sub",
    "times_scalar",
]
