"""Batch normalisation backward (training mode): ``dgamma``, ``dbeta``, ``dZhat``, and the three
paths from ``Z`` to the loss — directly through ``Zhat``, through ``var`` and through ``mu`` —
that give ``dvar``, ``dmu`` and ``dZ``, each derived in its worked explanation; and ``db`` of the
layer before BN, which is 0 (the mean subtraction removes any bias). The forward ops and the
exact arithmetic of a row's statistics are in :mod:`.batchnorm`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar

from sympy.polys.matrices import DomainMatrix

from ..matrix import Mat
from .base import (
    Cells,
    Mistake,
    Op,
    Variant,
    add,
    hadamard,
    row_sums,
    scale,
)
from .words import at, factor, products, term

if TYPE_CHECKING:
    from ..graph import Step
    from ..problem import Problem

from .batchnorm import by_rows, centred, inverse_deviation, sd_line, sd_text, shown, spread


@dataclass(frozen=True)
class GammaGrad(Op):
    """``dgamma = Σ_columns dBN ∘ Zhat``: gamma scales every sample of its row."""

    words: ClassVar[str] = "the gradient times Zhat, summed over the batch (each row)"
    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake(
            "dgamma_not_summed",
            "It looks like dgamma was not summed over the batch: gamma[i] scales every sample of "
            "row i, so its gradient adds up dBN[i,j]·Zhat[i,j] over all the columns j.",
        ),
    )

    def __call__(self, dbn: Mat, zhat: Mat) -> Mat:
        return row_sums(hadamard(dbn, zhat))

    def formula(self, out: str, dbn: str, zhat: str) -> str:
        return f"{out} = Σ_columns {dbn} ∘ {zhat}"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        dbn, zhat = step.inputs
        columns = range(len(cells(dbn)[0]))
        symbols = " + ".join(f"{at(dbn, i, c)}·{at(zhat, i, c)}" for c in columns)
        numbers = products([(cells.at(dbn, i, c), cells.at(zhat, i, c)) for c in columns])
        return [
            "  BN[i,j] = gamma[i]·Zhat[i,j] + beta[i], so ∂BN[i,j]/∂gamma[i] = Zhat[i,j]; gamma[i] "
            "reaches the loss through every sample j of its row, so the chain rule sums over j",
            f"{at(step.name, i, 0)} = {symbols}",
            f"{at(step.name, i, 0)} = {numbers} = {cells.result(step.name, i, 0)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        dbn, zhat = inputs
        each = hadamard(dbn, zhat)
        rows = each.to_list()
        found: list[Variant] = [("dgamma_not_summed", each)]
        found += [
            ("dgamma_not_summed", DomainMatrix([[r[c]] for r in rows], (len(rows), 1), each.domain))
            for c in range(each.shape[1])
        ]
        found.append(("dgamma_not_summed", lambda: row_sums(dbn)))  # Zhat left out: dbeta's sum
        return found


@dataclass(frozen=True)
class ShiftGrad(Op):
    """``dbeta = Σ_columns dBN``: beta shifts every sample of its row."""

    words: ClassVar[str] = "the gradient summed over the batch (each row)"

    def __call__(self, dbn: Mat) -> Mat:
        return row_sums(dbn)

    def formula(self, out: str, dbn: str) -> str:
        return f"{out} = Σ_columns {dbn}"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        (dbn,) = step.inputs
        numbers = " + ".join(term(cells.at(dbn, i, c)) for c in range(len(cells(dbn)[i])))
        return [
            "  ∂BN[i,j]/∂beta[i] = 1 for every sample j of row i, so the chain rule sums over j",
            f"{at(step.name, i, 0)} = {numbers} = {cells.result(step.name, i, 0)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        (dbn,) = inputs
        return [("bias_not_summed", dbn)]


@dataclass(frozen=True)
class NormalisedGrad(Op):
    """``dZhat = dBN ∘ gamma``."""

    words: ClassVar[str] = "the gradient times each row's gamma"

    def __call__(self, dbn: Mat, gamma: Mat) -> Mat:
        return by_rows(gamma, dbn)

    def formula(self, out: str, dbn: str, gamma: str) -> str:
        return f"{out} = {dbn} ∘ {gamma}"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        dbn, gamma = step.inputs
        return [
            "  ∂BN[i,j]/∂Zhat[i,j] = gamma[i]",
            f"{at(step.name, i, j)} = {at(dbn, i, j)}·{at(gamma, i, 0)} = "
            f"{products([(cells.at(dbn, i, j), cells.at(gamma, i, 0))])} = "
            f"{cells.result(step.name, i, j)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        dbn, _ = inputs
        return [("gamma_forgotten", dbn)]

    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake("gamma_forgotten", "It looks like dBN was copied: dZhat is dBN times gamma."),
    )


@dataclass(frozen=True)
class VarianceGrad(Op):
    """``dvar = −½·(var + eps)^(−3/2)·Σ_columns dZhat ∘ (Z − mu)``."""

    irrational: bool = False
    #: outside exact mode: an irrational root is refused (ValueError), not computed
    hand: bool = False
    words: ClassVar[str] = "the variance's gradient"

    @property
    def transcendental(self) -> bool:
        return self.irrational

    def __call__(self, dzhat: Mat, z: Mat, mu: Mat, var: Mat, eps: Mat) -> Mat:
        inv = inverse_deviation(var, eps, self.hand)
        cube = hadamard(hadamard(inv, inv), inv)
        return scale(hadamard(cube, row_sums(hadamard(dzhat, centred(z, mu)))), Fraction(-1, 2))

    def formula(self, out: str, dzhat: str, z: str, mu: str, var: str, eps: str) -> str:
        return f"{out} = −½·({var} + {eps})^(−3/2)·Σ_columns {dzhat} ∘ ({z} − {mu})"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        dzhat, z, mu, var, eps = step.inputs
        d = centred(cells.problem.value(z), cells.problem.value(mu)).to_list()[i]
        columns = range(len(d))
        numbers = products([(cells.at(dzhat, i, c), shown(d[c])) for c in columns])
        sd = factor(sd_text(cells, var, eps, i))
        return [
            "  Zhat[i,j] = (Z[i,j] − mu[i])·(var[i] + eps)^(−1/2), so ∂Zhat[i,j]/∂var[i] = "
            "−½·(Z[i,j] − mu[i])·(var[i] + eps)^(−3/2); var[i] reaches the loss through every "
            "Zhat[i,j] of its row, so the chain rule sums over j",
            sd_line(cells, var, eps, i),
            f"{at(step.name, i, 0)} = −½·{sd}^(−3)·({numbers}) = {cells.result(step.name, i, 0)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        dzhat, z, mu, var, eps = inputs
        inv = inverse_deviation(var, eps, self.hand)
        total = row_sums(hadamard(dzhat, centred(z, mu)))
        return [
            ("half_forgotten", lambda: scale(self(dzhat, z, mu, var, eps), Fraction(-2))),
            ("power_wrong", lambda: scale(hadamard(inv, total), Fraction(-1, 2))),
        ]

    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake(
            "half_forgotten",
            "It looks like the −½ of d/dv v^(−1/2) = −½·v^(−3/2) was left out.",
        ),
        Mistake(
            "power_wrong",
            "It looks like (var + eps)^(−1/2) was used: the derivative of v^(−1/2) is −½·v^(−3/2).",
        ),
    )


@dataclass(frozen=True)
class MeanGrad(Op):
    """``dmu = −Σ_columns dZhat/√(var + eps) + dvar·(−2/B)·Σ_columns (Z − mu)``; the second term
    is 0 (the deviations from the mean sum to 0), but it is the path through var."""

    irrational: bool = False
    #: outside exact mode: an irrational root is refused (ValueError), not computed
    hand: bool = False
    words: ClassVar[str] = "the mean's gradient"

    @property
    def transcendental(self) -> bool:
        return self.irrational

    def __call__(self, dzhat: Mat, z: Mat, mu: Mat, var: Mat, eps: Mat, dvar: Mat) -> Mat:
        batch = z.shape[1]
        direct = scale(
            hadamard(inverse_deviation(var, eps, self.hand), row_sums(dzhat)), Fraction(-1)
        )
        through = scale(hadamard(dvar, row_sums(centred(z, mu))), Fraction(-2, batch))
        return add(direct, through)

    def formula(self, out: str, dzhat: str, z: str, mu: str, var: str, eps: str, dvar: str) -> str:
        return f"{out} = −Σ_columns {dzhat}/√({var} + {eps}) + {dvar}·(−2/B)·Σ_columns ({z} − {mu})"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        dzhat, z, _, var, eps, dvar = step.inputs
        batch = len(cells(z)[0])
        numbers = " + ".join(term(cells.at(dzhat, i, c)) for c in range(batch))
        return [
            "  mu[i] reaches the loss through every Zhat[i,j] (∂Zhat[i,j]/∂mu[i] = "
            "−1/√(var[i] + eps)) and through var[i] (∂var[i]/∂mu[i] = (−2/B)·Σ_j (Z[i,j] − "
            "mu[i]), which is 0: the deviations from the mean sum to 0)",
            sd_line(cells, var, eps, i),
            f"{at(step.name, i, 0)} = −({numbers})/{factor(sd_text(cells, var, eps, i))} + "
            f"{factor(cells.at(dvar, i, 0))}·0 = {cells.result(step.name, i, 0)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        dzhat, z, mu, var, eps, dvar = inputs
        return [("mean_sign", lambda: scale(self(dzhat, z, mu, var, eps, dvar), Fraction(-1)))]

    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake(
            "mean_sign",
            "It looks like the minus sign of ∂Zhat/∂mu = −1/√(var + eps) was lost.",
        ),
    )


@dataclass(frozen=True)
class NormInputGrad(Op):
    """``dZ = dZhat/√(var + eps) + dvar·2(Z − mu)/B + dmu/B``: the three paths from Z."""

    irrational: bool = False
    #: outside exact mode: an irrational root is refused (ValueError), not computed
    hand: bool = False
    words: ClassVar[str] = "three paths: Zhat, var, mu"
    mistakes: ClassVar[tuple[Mistake, ...]] = (
        Mistake(
            "bn_paths_forgotten",
            "It looks like only dZhat/√(var + eps) was taken: Z also reaches the loss through "
            "the batch's variance and mean, so add dvar·2(Z − mu)/B and dmu/B.",
        ),
        Mistake(
            "dvar_path_forgotten",
            "It looks like the path through the variance was left out: add dvar·2(Z − mu)/B.",
        ),
        Mistake(
            "dmu_path_forgotten",
            "It looks like the path through the mean was left out: add dmu/B.",
        ),
    )

    @property
    def transcendental(self) -> bool:
        return self.irrational

    def _paths(
        self, dzhat: Mat, z: Mat, mu: Mat, var: Mat, eps: Mat, dvar: Mat, dmu: Mat
    ) -> tuple[Mat, Mat, Mat]:
        batch = z.shape[1]
        direct = by_rows(inverse_deviation(var, eps, self.hand), dzhat)
        through_var = scale(by_rows(dvar, centred(z, mu)), Fraction(2, batch))
        through_mu = spread(scale(dmu, Fraction(1, batch)), batch)
        return direct, through_var, through_mu

    def __call__(self, dzhat: Mat, z: Mat, mu: Mat, var: Mat, eps: Mat, dvar: Mat, dmu: Mat) -> Mat:
        direct, through_var, through_mu = self._paths(dzhat, z, mu, var, eps, dvar, dmu)
        return add(add(direct, through_var), through_mu)

    def formula(
        self, out: str, dzhat: str, z: str, mu: str, var: str, eps: str, dvar: str, dmu: str
    ) -> str:
        return f"{out} = {dzhat}/√({var} + {eps}) + {dvar}·2({z} − {mu})/B + {dmu}/B"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        dzhat, z, mu, var, eps, dvar, dmu = step.inputs
        batch = len(cells(z)[0])
        d = centred(cells.problem.value(z), cells.problem.value(mu)).to_list()[i][j]
        return [
            "  Z[i,j] reaches the loss three ways: through Zhat[i,j] (∂Zhat/∂Z = "
            "1/√(var + eps)), through var[i] (∂var[i]/∂Z[i,j] = 2(Z[i,j] − mu[i])/B) and through "
            "mu[i] (∂mu[i]/∂Z[i,j] = 1/B); the chain rule adds the three",
            sd_line(cells, var, eps, i),
            f"{at(step.name, i, j)} = {at(dzhat, i, j)}/√({at(var, i, 0)} + {eps}) + "
            f"{at(dvar, i, 0)}·2({at(z, i, j)} − {at(mu, i, 0)})/{batch} + {at(dmu, i, 0)}/{batch}",
            f"{at(step.name, i, j)} = {factor(cells.at(dzhat, i, j))}/"
            f"{factor(sd_text(cells, var, eps, i))} + {factor(cells.at(dvar, i, 0))}·2·"
            f"{factor(shown(d))}/{batch} + {factor(cells.at(dmu, i, 0))}/{batch} = "
            f"{cells.result(step.name, i, j)}",
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        direct, through_var, through_mu = self._paths(*inputs)
        return [
            ("bn_paths_forgotten", direct),
            ("dvar_path_forgotten", lambda: add(direct, through_mu)),
            ("dmu_path_forgotten", lambda: add(direct, through_var)),
        ]


@dataclass(frozen=True)
class CentredBiasGrad(Op):
    """``db = Σ_columns dZ`` of a layer that BN follows: always 0."""

    words: ClassVar[str] = "the gradient summed over the batch: 0, as BN subtracts the mean"

    def __call__(self, dz: Mat) -> Mat:
        return row_sums(dz)

    def formula(self, out: str, dz: str) -> str:
        return f"{out} = Σ_columns {dz}"

    def why(self, step: Step, problem: Problem) -> str:
        return (
            "It is 0: BN subtracts each row's mean, so a bias added to every sample of a row is "
            "taken away again and cannot change the loss (each row of dZ sums to 0)."
        )

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        (dz,) = step.inputs
        numbers = " + ".join(term(cells.at(dz, i, c)) for c in range(len(cells(dz)[i])))
        return [f"{at(step.name, i, 0)} = {numbers} = {cells.result(step.name, i, 0)}"]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        (dz,) = inputs
        return [("bias_not_summed", dz)]
