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
from .batchnorm import BatchVariance, Normalise, RowMean, ScaleShift
from .bn_backward import (
    CentredBiasGrad,
    GammaGrad,
    MeanGrad,
    NormalisedGrad,
    NormInputGrad,
    ShiftGrad,
    VarianceGrad,
)
from .bn_eval import (
    AffineScale,
    AffineShift,
    EvalNorm,
    FoldBias,
    FoldWeight,
    RunningMean,
    RunningVariance,
)
from .count import CountParams, Moved
from .init import Gain, Std
from .initial_loss import InitLoss, UniformLoss
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
    "AffineScale",
    "AffineShift",
    "BatchVariance",
    "BiasGrad",
    "Cells",
    "CentredBiasGrad",
    "CountParams",
    "EvalNorm",
    "FoldBias",
    "FoldWeight",
    "Gain",
    "GammaGrad",
    "Identity",
    "InitLoss",
    "InputGrad",
    "LeakyReLU",
    "Loss",
    "MeanGrad",
    "Mistake",
    "Moved",
    "NormInputGrad",
    "Normalise",
    "NormalisedGrad",
    "Op",
    "OutputGrad",
    "ReLU",
    "RowMean",
    "RunningMean",
    "RunningVariance",
    "ScaleShift",
    "ShiftGrad",
    "Sigmoid",
    "SigmoidBCE",
    "SigmoidMSEGrad",
    "Softmax",
    "SoftmaxCE",
    "Std",
    "Tanh",
    "UniformLoss",
    "Update",
    "VarianceGrad",
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
