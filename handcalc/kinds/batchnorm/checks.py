"""Every budget again, on the exact values the sheet prints."""

from __future__ import annotations

from collections.abc import Mapping

from ...errors import BudgetError
from ...matrix import Mat, to_fraction
from ...notation import printed
from ...specs import BatchNormSpec
from ...transcendental import Table
from ..mlp.budgets import OUTPUT_MAX, REGRESSION_MAX
from ..mlp.checks import _check_entries
from .budgets import RUNNING_CHARS, TEST_MAX
from .steps import build


def check_values(spec: BatchNormSpec, values: Mapping[str, Mat]) -> None:
    """Every budget on the exact solution: the MLP's (entries, the output, gradients that do
    not vanish), exact roots outside ``exact`` mode, no ReLU input 0, short running statistics."""
    graph = build(spec)
    exact = spec.transcendental == "exact"
    if not exact and not all(m.domain.is_QQ for n, m in values.items() if n != "loss"):
        raise BudgetError("a root is irrational")  # the draw makes every variance a square
    _check_entries(spec, graph, values)
    for name in ("running_mean1_new", "running_var1_new") if not spec.eps else ():
        m = values[name]
        if m.domain.is_QQ and max(len(printed(to_fraction(v))) for r in m.to_list() for v in r) > (
            RUNNING_CHARS
        ):
            raise BudgetError(f"{name} is not short")
    bn = values["BN1"]
    if spec.activation in ("relu", "leaky_relu") and any(v == 0 for r in bn.to_list() for v in r):
        raise BudgetError("BN1 has a ReLU input of exactly 0")
    _check_output(spec, values)
    for name in ("dgamma1", "dW2"):
        if values[name].is_zero_matrix:
            raise BudgetError(f"{name} vanishes")
    if any(all(v == 0 for v in row) for row in values["dZ1"].to_list()):
        raise BudgetError("a unit's dZ1 vanishes")
    for name in ("Ztest", "Wf1", "bf1"):
        if max(abs(x) for r in values[name].to_list() for x in r) > TEST_MAX:
            raise BudgetError(f"{name} is beyond ±{TEST_MAX}")


def _check_output(spec: BatchNormSpec, values: Mapping[str, Mat]) -> None:
    """The head's budgets, as the MLP's output layer has them."""
    treatment = spec.treatment()
    output = getattr(spec, "output", {"mse": "identity"}.get(spec.loss, ""))
    z2 = values["Z2"]
    if z2.domain.is_QQ:
        bound = REGRESSION_MAX if output == "identity" else OUTPUT_MAX
        if max(abs(v) for r in z2.to_list() for v in r) > bound:
            raise BudgetError(f"Z2 is beyond ±{bound}")
    a2 = values["A2"]
    probabilities = output != "identity" and a2.domain.is_QQ
    if probabilities and any(not 0 < v < 1 for r in a2.to_list() for v in r):
        raise BudgetError("A2 has a probability printed as 0 or 1")
    if isinstance(treatment, Table) and spec.loss == "softmax_ce" and treatment.softmax_ties(z2):
        raise BudgetError("a column of A2 needs the largest-remainder rule to break a tie")
    if isinstance(treatment, Table) and spec.loss == "mse":
        from ...ops import MSE

        source = values["Z2" if output == "identity" else "A2"]
        exact = MSE(treatment, spec.factor).squared_error(source, values["Y"]).to_list()[0][0]
        if treatment.is_half(to_fraction(exact)):
            raise BudgetError("the loss lies half-way between two decimals")
    for col in zip(*values["dZ2"].to_list(), strict=True):
        if all(v == 0 for v in col):
            raise BudgetError("a sample contributes no gradient (dZ2 is zero there)")
