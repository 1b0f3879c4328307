"""Batch normalisation in eval mode: the running statistics a training step leaves, BN folded
into the linear layer before it (``Wf``, ``bf``), the eval-mode output on a new input, and BN as a
plain affine layer (``gammap``, ``betap``) for fine-tuning.

The running variance is updated with the **unbiased** batch variance (PyTorch's convention), while
training mode normalises with the biased one; eval mode then divides by
``√(running_var + eps)``. Each op here knows the mistake of reading the batch's statistics where
the running ones belong.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar

from ..cells import Cell
from ..matrix import Mat
from .base import Cells, Mistake, Op, Variant, add, hadamard, matmul, scale, sub, times_scalar
from .batchnorm import by_rows, centred, inverse_deviation, sd_line, sd_text, shown, spread
from .words import at, factor, products, term

if TYPE_CHECKING:
    from ..graph import Step


# --- running statistics, folding, the affine form (eval mode) ------------------------------------


@dataclass(frozen=True)
class RunningMean(Op):
    """``running_mean_new = (1 − momentum)·running_mean + momentum·mu`` (PyTorch's momentum)."""

    words: ClassVar[str] = "PyTorch's momentum"
    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake(
            "momentum_swapped",
            "It looks like the momentum weighs the old statistic: in PyTorch's convention the "
            "new batch statistic gets the momentum, the running one 1 − momentum.",
        ),
    )

    def __call__(self, running: Mat, mu: Mat, momentum: Mat) -> Mat:
        return _blend(running, mu, momentum)

    def formula(self, out: str, running: str, mu: str, momentum: str) -> str:
        return f"{out} = (1 − {momentum})·{running} + {momentum}·{mu}"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        running, mu, momentum = step.inputs
        m = cells.at(momentum, 0, 0)
        return [
            f"{at(step.name, i, 0)} = (1 − {m})·{factor(cells.at(running, i, 0))} + "
            f"{m}·{factor(cells.at(mu, i, 0))} = {cells.result(step.name, i, 0)}"
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        running, mu, momentum = inputs
        return [("momentum_swapped", lambda: _blend(mu, running, momentum))]


@dataclass(frozen=True)
class RunningVariance(Op):
    """``running_var_new = (1 − momentum)·running_var + momentum·B/(B − 1)·var``: the unbiased
    variance, PyTorch's convention for the running statistic (``batch`` is B)."""

    batch: int = 2
    words: ClassVar[str] = "the unbiased variance"
    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake(
            "running_var_biased",
            "It looks like the biased variance was used: the running variance is updated with "
            "the unbiased one, B/(B − 1)·var (PyTorch's convention).",
        ),
        RunningMean.mistakes[0],
    )

    def __call__(self, running: Mat, var: Mat, momentum: Mat) -> Mat:
        return _blend(running, self.unbiased(var), momentum)

    def unbiased(self, var: Mat) -> Mat:
        return scale(var, Fraction(self.batch, self.batch - 1))

    def formula(self, out: str, running: str, var: str, momentum: str) -> str:
        return f"{out} = (1 − {momentum})·{running} + {momentum}·B/(B − 1)·{var}"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        running, var, momentum = step.inputs
        m = cells.at(momentum, 0, 0)
        batch = self.batch
        unbiased = shown(self.unbiased(cells.problem.value(var)).to_list()[i][0])
        return [
            f"  the unbiased variance: {batch}/{batch - 1}·{factor(cells.at(var, i, 0))} = "
            f"{unbiased}",
            f"{at(step.name, i, 0)} = (1 − {m})·{factor(cells.at(running, i, 0))} + "
            f"{m}·{factor(unbiased)} = {cells.result(step.name, i, 0)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        running, var, momentum = inputs
        return [
            ("running_var_biased", lambda: _blend(running, var, momentum)),
            ("momentum_swapped", lambda: _blend(self.unbiased(var), running, momentum)),
        ]


def _blend(old: Mat, new: Mat, momentum: Mat) -> Mat:
    """``(1 − momentum)·old + momentum·new``."""
    return add(sub(old, times_scalar(old, momentum)), times_scalar(new, momentum))


#: what the eval-mode ops are told when the running statistics are read as batch ones
_BATCH_STATISTICS = Mistake(
    "batch_statistics_in_eval",
    "It looks like the batch's mean and variance were used: in eval mode (folding, inference) BN "
    "uses the running statistics.",
)


def _eval_scale(gamma: Mat, running_var: Mat, eps: Mat, hand: bool = False) -> Mat:
    """``gamma/√(running_var + eps)``: what eval-mode BN multiplies each row by."""
    return hadamard(gamma, inverse_deviation(running_var, eps, hand))


def _scale_line(cells: Cells, gamma: str, rv: str, eps: str, i: int) -> str:
    value = _eval_scale(
        cells.problem.value(gamma), cells.problem.value(rv), cells.problem.value(eps)
    ).to_list()[i][0]
    return (
        f"  {at(gamma, i, 0)}/√({at(rv, i, 0)} + {eps}) = {cells.at(gamma, i, 0)}/"
        f"√({cells.at(rv, i, 0)} + {cells.at(eps, 0, 0)}) = {cells.at(gamma, i, 0)}/"
        f"{factor(sd_text(cells, rv, eps, i))} = {shown(value)}"
    )


def _statistics(values: Mapping[str, Mat], rm: str, rv: str) -> tuple[Mat, Mat] | None:
    """The batch's mean and variance of the layer whose running statistics ``rm``, ``rv`` are
    (``mu1``, ``var1`` for ``running_mean1``, ``running_var1``): the eval-mode mistake reads
    them instead."""
    mean = replace(Cell.parse(rm), symbol="mu", new=False).name
    var = replace(Cell.parse(rv), symbol="var", new=False).name
    if mean not in values or var not in values:
        return None
    return values[mean], values[var]


@dataclass(frozen=True)
class FoldWeight(Op):
    """``Wf = diag(gamma/√(running_var + eps))·W``: BN's eval-mode scale folded into W."""

    irrational: bool = False
    #: outside exact mode: an irrational root is refused (ValueError), not computed
    hand: bool = False
    words: ClassVar[str] = "W scaled row by row"
    mistakes: ClassVar[tuple[Mistake, ...]] = (_BATCH_STATISTICS,)

    @property
    def transcendental(self) -> bool:
        return self.irrational

    def __call__(self, gamma: Mat, running_var: Mat, eps: Mat, w: Mat) -> Mat:
        return by_rows(_eval_scale(gamma, running_var, eps, self.hand), w)

    def formula(self, out: str, gamma: str, running_var: str, eps: str, w: str) -> str:
        return f"{out} = diag({gamma}/√({running_var} + {eps}))·{w}"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        gamma, rv, eps, w = step.inputs
        value = _eval_scale(
            cells.problem.value(gamma), cells.problem.value(rv), cells.problem.value(eps)
        ).to_list()[i][0]
        return [
            _scale_line(cells, gamma, rv, eps, i),
            f"{at(step.name, i, j)} = {factor(shown(value))}·{factor(cells.at(w, i, j))} = "
            f"{cells.result(step.name, i, j)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        gamma, rv, eps, w = inputs
        batch = _statistics(values, rv, rv)
        if batch is None:
            return []
        return [("batch_statistics_in_eval", lambda: self(gamma, batch[1], eps, w))]


@dataclass(frozen=True)
class FoldBias(Op):
    """``bf = gamma ∘ (b − running_mean)/√(running_var + eps) + beta``."""

    irrational: bool = False
    #: outside exact mode: an irrational root is refused (ValueError), not computed
    hand: bool = False
    words: ClassVar[str] = "the bias through eval-mode BN"
    mistakes: ClassVar[tuple[Mistake, ...]] = (_BATCH_STATISTICS,)

    @property
    def transcendental(self) -> bool:
        return self.irrational

    def __call__(self, gamma: Mat, b: Mat, rm: Mat, rv: Mat, eps: Mat, beta: Mat) -> Mat:
        return add(hadamard(_eval_scale(gamma, rv, eps, self.hand), sub(b, rm)), beta)

    def formula(self, out: str, gamma: str, b: str, rm: str, rv: str, eps: str, beta: str) -> str:
        return f"{out} = {gamma} ∘ ({b} − {rm})/√({rv} + {eps}) + {beta}"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        gamma, b, rm, rv, eps, beta = step.inputs
        value = _eval_scale(
            cells.problem.value(gamma), cells.problem.value(rv), cells.problem.value(eps)
        ).to_list()[i][0]
        return [
            _scale_line(cells, gamma, rv, eps, i),
            f"{at(step.name, i, 0)} = {factor(shown(value))}·({cells.at(b, i, 0)} − "
            f"{term(cells.at(rm, i, 0))}) + {term(cells.at(beta, i, 0))} = "
            f"{cells.result(step.name, i, 0)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        gamma, b, rm, rv, eps, beta = inputs
        found: list[Variant] = [
            ("bias_forgotten", lambda: self(gamma, scale(b, Fraction(0)), rm, rv, eps, beta))
        ]
        batch = _statistics(values, rm, rv)
        if batch is not None:
            found.append(
                ("batch_statistics_in_eval", lambda: self(gamma, b, batch[0], batch[1], eps, beta))
            )
        return found


@dataclass(frozen=True)
class EvalNorm(Op):
    """``Z = gamma ∘ (W·X + b − running_mean)/√(running_var + eps) + beta``: Linear then BN in
    eval mode, on a new input."""

    irrational: bool = False
    #: outside exact mode: an irrational root is refused (ValueError), not computed
    hand: bool = False
    words: ClassVar[str] = "Linear, then eval-mode BN"
    mistakes: ClassVar[tuple[Mistake, ...]] = (_BATCH_STATISTICS,)

    @property
    def transcendental(self) -> bool:
        return self.irrational

    def __call__(
        self, w: Mat, x: Mat, b: Mat, gamma: Mat, rm: Mat, rv: Mat, eps: Mat, beta: Mat
    ) -> Mat:
        cols = x.shape[1]
        z = add(matmul(w, x), spread(b, cols))
        return add(
            by_rows(_eval_scale(gamma, rv, eps, self.hand), centred(z, rm)), spread(beta, cols)
        )

    def formula(
        self, out: str, w: str, x: str, b: str, gamma: str, rm: str, rv: str, eps: str, beta: str
    ) -> str:
        return f"{out} = {gamma} ∘ ({w}·{x} + {b} − {rm})/√({rv} + {eps}) + {beta}"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        w, x, b, gamma, rm, rv, eps, beta = step.inputs
        problem = cells.problem
        z = add(matmul(problem.value(w), problem.value(x)), problem.value(b)).to_list()[i][j]
        k_range = range(len(cells(w)[0]))
        numbers = products([(cells.at(w, i, k), cells.at(x, k, j)) for k in k_range])
        value = _eval_scale(problem.value(gamma), problem.value(rv), problem.value(eps)).to_list()[
            i
        ][0]
        return [
            f"  the linear layer: {numbers} + {term(cells.at(b, i, 0))} = {shown(z)}",
            _scale_line(cells, gamma, rv, eps, i),
            f"{at(step.name, i, j)} = {factor(shown(value))}·({shown(z)} − "
            f"{term(cells.at(rm, i, 0))}) + {term(cells.at(beta, i, 0))} = "
            f"{cells.result(step.name, i, j)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        w, x, b, gamma, rm, rv, eps, beta = inputs
        batch = _statistics(values, rm, rv)
        if batch is None:
            return []
        return [
            (
                "batch_statistics_in_eval",
                lambda: self(w, x, b, gamma, batch[0], batch[1], eps, beta),
            )
        ]


@dataclass(frozen=True)
class AffineScale(Op):
    """``gammap = gamma/√(running_var + eps)``: eval-mode BN's scale, as an affine layer's."""

    irrational: bool = False
    #: outside exact mode: an irrational root is refused (ValueError), not computed
    hand: bool = False
    words: ClassVar[str] = "eval-mode BN's scale"
    mistakes: ClassVar[tuple[Mistake, ...]] = (_BATCH_STATISTICS,)

    @property
    def transcendental(self) -> bool:
        return self.irrational

    def __call__(self, gamma: Mat, rv: Mat, eps: Mat) -> Mat:
        return _eval_scale(gamma, rv, eps, self.hand)

    def formula(self, out: str, gamma: str, rv: str, eps: str) -> str:
        return f"{out} = {gamma}/√({rv} + {eps})"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        gamma, rv, eps = step.inputs
        return [
            sd_line(cells, rv, eps, i),
            f"{at(step.name, i, 0)} = {cells.at(gamma, i, 0)}/"
            f"{factor(sd_text(cells, rv, eps, i))} = {cells.result(step.name, i, 0)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        gamma, rv, eps = inputs
        batch = _statistics(values, rv, rv)
        if batch is None:
            return []
        return [("batch_statistics_in_eval", lambda: self(gamma, batch[1], eps))]


@dataclass(frozen=True)
class AffineShift(Op):
    """``betap = beta − running_mean ∘ gamma/√(running_var + eps)``: eval-mode BN's shift."""

    irrational: bool = False
    #: outside exact mode: an irrational root is refused (ValueError), not computed
    hand: bool = False
    words: ClassVar[str] = "eval-mode BN's shift"
    mistakes: ClassVar[tuple[Mistake, ...]] = (
        _BATCH_STATISTICS,
        Mistake(
            "shift_sign",
            "It looks like the scaled running mean was added: the mean is subtracted before "
            "scaling, so betap = beta − running_mean·gamma/√(running_var + eps).",
        ),
    )

    @property
    def transcendental(self) -> bool:
        return self.irrational

    def __call__(self, beta: Mat, rm: Mat, gamma: Mat, rv: Mat, eps: Mat) -> Mat:
        return sub(beta, hadamard(rm, _eval_scale(gamma, rv, eps, self.hand)))

    def formula(self, out: str, beta: str, rm: str, gamma: str, rv: str, eps: str) -> str:
        return f"{out} = {beta} − {rm} ∘ {gamma}/√({rv} + {eps})"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        beta, rm, gamma, rv, eps = step.inputs
        value = _eval_scale(
            cells.problem.value(gamma), cells.problem.value(rv), cells.problem.value(eps)
        ).to_list()[i][0]
        return [
            _scale_line(cells, gamma, rv, eps, i),
            f"{at(step.name, i, 0)} = {cells.at(beta, i, 0)} − "
            f"{products([(cells.at(rm, i, 0), shown(value))])} = "
            f"{cells.result(step.name, i, 0)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        beta, rm, gamma, rv, eps = inputs
        found: list[Variant] = [
            ("shift_sign", lambda: add(beta, hadamard(rm, _eval_scale(gamma, rv, eps, self.hand))))
        ]
        batch = _statistics(values, rm, rv)
        if batch is not None:
            found.append(
                ("batch_statistics_in_eval", lambda: self(beta, batch[0], gamma, batch[1], eps))
            )
        return found
