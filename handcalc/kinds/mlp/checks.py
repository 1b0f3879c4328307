"""Every budget again, on the exact solution: the values the sheet prints."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from ...errors import BudgetError
from ...graph import Graph
from ...matrix import Mat, entry_float, to_fraction
from ...notation import printed, printed_length
from ...ops import MSE
from ...spec import Spec
from ...transcendental import Table
from ...values import format_rational
from .budgets import HIDDEN_MAX, MAX_ABS, MAX_DENOMINATOR, OUTPUT_MAX, REGRESSION_MAX, SQUASH_MAX
from .feasible import squashed


def check_values(spec: Spec, graph: Graph, values: Mapping[str, Mat]) -> None:
    """Every budget again, on the exact solution (the values the sheet prints): the float screens
    only make a failure here rare."""
    n = spec.layers
    treatment = spec.treatment()
    _check_entries(spec, graph, values)
    squash = spec.activation in ("sigmoid", "tanh")
    for layer in range(1, n + 1):
        z = [v for row in values[f"Z{layer}"].to_list() for v in row]
        if layer < n:
            bound = SQUASH_MAX if squash else HIDDEN_MAX
        else:
            bound = REGRESSION_MAX if spec.output == "identity" else OUTPUT_MAX
        if max(map(abs, z)) > bound:
            raise BudgetError(f"Z{layer} has {max(z, key=abs)}, beyond ±{bound}")
        relu = layer < n and spec.activation in ("relu", "leaky_relu")
        if relu and (any(v == 0 for v in z) or max(z) < 0 or (min(z) > 0 and len(z) > 1)):
            raise BudgetError(f"the ReLU mask of layer {layer} masks nothing or everything")
        if layer < n and squashed(spec):
            a = values[f"A{layer}"].to_list()
            if any(v in (0, 1, -1) for row in a for v in row):
                raise BudgetError(
                    f"A{layer} has a table value of 0 or ±1, whose derivative stops the gradient"
                )
    out = values[f"A{n}"]
    probabilities = spec.output != "identity" and out.domain.is_QQ  # exact mode: never 0 or 1
    if probabilities and any(not 0 < v < 1 for row in out.to_list() for v in row):
        raise BudgetError(f"A{n} has a probability printed as 0 or 1")
    if isinstance(treatment, Table) and spec.loss == "softmax_ce":
        ties = treatment.softmax_ties(values[f"Z{n}"])
        if ties:
            raise BudgetError(
                f"column {ties[0]} of A{n} needs the largest-remainder rule to break a tie"
            )
    if isinstance(treatment, Table) and spec.loss == "mse":
        squared_error = MSE(treatment, spec.factor).squared_error
        # of the output's values: Z's for the identity, the table's for a sigmoid
        exact = to_fraction(squared_error(values[f"A{n}"], values["Y"]).to_list()[0][0])
        if treatment.is_half(exact):
            raise BudgetError(
                f"the loss {format_rational(exact.numerator, exact.denominator)} lies half-way "
                f"between two {spec.digits}-decimal values"
            )
    for j, col in enumerate(zip(*values[f"dZ{n}"].to_list(), strict=True), start=1):
        if all(v == 0 for v in col):
            raise BudgetError(f"sample {j} contributes no gradient (dZ{n} is zero there)")
    for layer in spec.trainable:
        if values[f"dW{layer}"].is_zero_matrix and values[f"db{layer}"].is_zero_matrix:
            raise BudgetError(f"the gradient of layer {layer} vanishes")


def _check_entries(spec: Spec, graph: Graph, values: Mapping[str, Mat]) -> None:
    """Magnitude, denominator and printed length of every entry (the loss is not held to
    ``max_chars``: it is a decimal in table mode and an expression in the others)."""
    tables = {step.name for step in graph.steps if step.op.tabulated}
    width = spec.digits + 2  # a table value prints with all its decimals: 0.50, −0.27
    for name, m in values.items():
        flat = [v for row in m.to_list() for v in row]
        if not m.domain.is_QQ:  # exact-mode expressions: the print budget governs their length
            if any(abs(entry_float(v)) > MAX_ABS for v in flat):
                raise BudgetError(f"cell {name} has an entry beyond ±{MAX_ABS}")
            continue
        chars = [width + (v < 0) for v in flat] if name in tables else list(map(_length, flat))
        longest = 0 if name == "loss" else max(chars)
        # within 13 characters as printed, a denominator has at most 11 digits
        wide = name == "loss" or longest > 13
        if max(map(abs, flat)) > MAX_ABS or (
            wide and max(v.denominator for v in flat) > MAX_DENOMINATOR
        ):
            v = next(v for v in flat if abs(v) > MAX_ABS or v.denominator > MAX_DENOMINATOR)
            raise BudgetError(
                f"cell {name} has {v}, beyond the budget (|v| ≤ {MAX_ABS}, denominator ≤ 10^12)"
            )
        if longest > spec.max_chars:
            k = chars.index(longest)
            cols = m.shape[1]
            raise BudgetError(
                f"cell {name}[{k // cols + 1},{k % cols + 1}] prints as {printed(flat[k])}, "
                f"{longest} characters (max_chars is {spec.max_chars})"
            )


#: printed lengths of the values met most (0, ±1, 1/10, …): the generator counts every entry
_length = functools.lru_cache(maxsize=8192)(printed_length)
