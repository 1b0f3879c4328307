"""The common mistakes of backprop by hand, one set per kind of op.

Each mistake is *computed*, not pattern-matched: ``variants(step, values)`` re-runs the step with
the mistake made on the given values, so a student's cell that equals a variant is diagnosed on
every problem the generator can make. Each op computes its own (``op.variants``, next to its
value in :mod:`handcalc.ops`), so a new op brings its mistakes without touching the grader; this
module names them and adds the two every op invites (transposed, negated).

=================  ==================================  =========================================
code               op                                  the mistaken result
=================  ==================================  =========================================
sign_flipped       OutputGrad                          (Y − A)·factor
mean_vs_sum        OutputGrad, Loss, WeightGrad,       the other reduction (1 ↔ 1/B); dW or db
                   BiasGrad                            averaged over the batch once more
bias_forgotten     Affine                              W·A
w_transposed       Affine (square W)                   Wᵀ·A + b
w_not_transposed   InputGrad (square W)                W·dZ
mask_skipped       Activate, ActivationGrad            A = Z; dZ = dA
mask_wrong_cell    ActivationGrad                      f' read from another Z or A of the same
                                                       shape (another layer, Z for A), or from dA
slope_forgotten    Activate, ActivationGrad (leaky)    the plain ReLU (slope 0)
bias_not_summed    BiasGrad                            one sample's column of dZ, or dZ whole
lr_forgotten       Update                              P − dP
update_sign        Update                              P + lr·dP
transposed         every op                            the result transposed
negated            every op but OutputGrad             the result with every sign flipped
rounded            (the grader, not a variant)         an exact fraction typed as a rounded
                                                       decimal (0.33 for 1/3)
too_few_decimals   (the grader, not a variant)         a rounded cell (the loss) typed with fewer
                                                       decimals than the sheet asks for
=================  ==================================  =========================================
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from sympy.polys.matrices.exceptions import DMError

from .graph import Step, resolve
from .matrix import Mat
from .ops import Mistake, OutputGrad, Variant, scale

__all__ = ["MISTAKES", "RESHAPING", "Mistake", "Variant", "variants"]


MISTAKES: dict[str, Mistake] = {
    m.code: m
    for m in (
        Mistake(
            "sign_flipped",
            "It looks like Y − A instead of A − Y: the output gradient is "
            "the prediction minus the target.",
        ),
        Mistake(
            "mask_skipped",
            "It looks like the activation's derivative (the ReLU mask) was not applied.",
        ),
        Mistake(
            "mask_wrong_cell",
            "It looks like the derivative (the mask) was taken from the "
            "wrong cell: it comes from this layer's Z (or A, where the "
            "sheet says so).",
        ),
        Mistake(
            "slope_forgotten",
            "It looks like the leaky ReLU's slope was dropped: negative "
            "inputs are multiplied by the slope, not set to 0.",
        ),
        Mistake(
            "w_not_transposed",
            "It looks like W was used instead of Wᵀ: the gradient flows "
            "back through the transposed weights.",
        ),
        Mistake("w_transposed", "It looks like Wᵀ was used instead of W in the forward pass."),
        Mistake("bias_forgotten", "It looks like the bias was forgotten: add b to every column."),
        Mistake(
            "bias_not_summed",
            "It looks like the bias gradient was not summed over the batch: add up each row of dZ.",
        ),
        Mistake(
            "mean_vs_sum",
            "It looks like the batch reduction is off by a factor of B: "
            "check whether this sheet uses the sum or the mean.",
        ),
        Mistake(
            "lr_forgotten",
            "It looks like the learning rate was forgotten: the step is lr times the gradient.",
        ),
        Mistake(
            "update_sign",
            "It looks like the gradient was added: gradient descent "
            "subtracts lr times the gradient.",
        ),
        Mistake(
            "rounded",
            "Close, but not exact: this cell is exact, so write its exact value, a fraction "
            "(1/3) or a decimal that ends (0.125), never a rounded decimal.",
        ),
        Mistake(
            "too_few_decimals",
            "Close, but rounded too far: this value is written to the number of decimals the "
            "sheet states (the loss line), no fewer.",
        ),
        Mistake(
            "negated",
            "It looks like every sign is flipped: this is the negative of the expected matrix "
            "(a minus sign lost or an operand order swapped on the way).",
        ),
        Mistake(
            "transposed",
            "It looks like rows and columns are swapped: this is the "
            "transpose of the expected matrix.",
        ),
    )
}

#: mistakes whose matrix may have another shape than the cell (the student's shape is then wrong)
RESHAPING = frozenset({"transposed", "bias_not_summed"})


def variants(step: Step, values: Mapping[str, Mat]) -> list[tuple[Mistake, Mat]]:
    """The step's result under each mistake that applies, computed from ``values``.

    ``values`` maps cell names to matrices (the key's, or the student's own with the key's
    filling in); other cells than the step's inputs are read where a mistake uses them (a mask
    from the wrong layer). A variant equal to the correct result is left out: it is no mistake."""
    inputs = tuple(values[resolve(n)] for n in step.inputs)
    try:
        right = step.op(*inputs)
    except (ValueError, ArithmeticError, DMError):
        return []
    out: list[tuple[Mistake, Mat]] = []
    own = {m.code: m for m in step.op.mistakes}
    found = [*step.op.variants(step, inputs, values)]
    if right.shape[0] > 1 or right.shape[1] > 1:
        found.append(("transposed", right.transpose()))
    if not isinstance(step.op, OutputGrad):  # there the sign has its own diagnosis
        found.append(("negated", lambda: scale(right, Fraction(-1))))
    for code, compute in found:
        try:
            value = compute() if callable(compute) else compute
        except (ValueError, ArithmeticError, DMError):
            continue  # the mistake cannot be made on these values (a shape, a base-b power …)
        if value.shape != right.shape or not _same(value, right):
            out.append((MISTAKES.get(code) or own[code], value))
    return out


def _same(a: Mat, b: Mat) -> bool:
    if a.domain == b.domain:
        return bool(a == b)
    return a.to_list() == b.to_list()
