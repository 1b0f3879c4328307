"""The batchnorm kind: ``X → Linear 1 → BatchNorm 1 → activation → Linear 2 → output and loss``,
one training step by hand (forward with the batch's statistics, backward through BN's three
paths, the update of W, b, gamma and beta), the running statistics, BN folded into Linear 1 for
inference with a check on a new input, and BN as an affine layer.

The head (``Z2``, ``A2``, the loss, ``dZ2``, ``dW2``, ``db2``) and the updates are the MLP's own
steps; BN's are the ops of :mod:`handcalc.ops.batchnorm` and :mod:`handcalc.ops.bn_eval`. The
generator draws batches whose every variance is a perfect square (``eps`` 0, "hand mode"), so every
root on the sheet is exact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from sympy.polys.matrices import DomainMatrix

from ...errors import DocumentError
from ...graph import Graph
from ...matrix import Mat, rational, to_fraction
from ...notation import printed
from ...specs import BatchNormSpec
from ...values import parse_number
from ..base import Kind
from ..given import read_matrix
from ..mlp import infer_options as mlp_infer_options
from .draw import generate
from .prose import instructions
from .steps import build, given_shapes

NAME = "batchnorm"


class BatchNorm(Kind):
    name = NAME
    description = (
        "batch normalisation by hand: training-mode forward and backward, running statistics, "
        "folding into the linear layer"
    )
    Options = BatchNormSpec

    def build(self, options: BatchNormSpec) -> Graph:
        return build(options)

    def draw(self, options: BatchNormSpec, seed: int) -> dict[str, Mat]:
        return generate(options, seed)

    def solve(self, options: BatchNormSpec, given: Mapping[str, Mat]) -> dict[str, Mat]:
        """Every cell exactly; a DocumentError for a row constant over the batch (nothing to
        normalise by) or, outside ``exact`` mode, a root that is not exact."""
        try:
            values = build(options).evaluate(given, options.treatment().finish)
        except ZeroDivisionError:
            raise DocumentError(
                "given: a row of Z1 is the same in every sample (or running_var1 + eps is 0), so "
                "BN would divide by a standard deviation of 0; change X, W1 or running_var1"
            ) from None
        if options.transcendental != "exact":
            for name in ("running_var1", "var1"):
                _check_square(values, name, options.eps)
        return values

    def instructions(self, problem: Any) -> tuple[str, ...]:
        return instructions(problem)

    def infer_options(self, options: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
        out = mlp_infer_options(options, given)
        for name in ("eps", "momentum"):
            if name not in out and name in given:
                out[name] = given[name]
        return out

    def read_given(self, options: BatchNormSpec, raw: Any) -> dict[str, Mat]:
        """The MLP's reading, ``eps`` and ``momentum`` filled from the options where left out
        (and held to them where given), and running variances that are not negative."""
        if isinstance(raw, Mapping):
            raw = dict(raw)
            written = options.to_dict()
            for name in ("eps", "momentum"):
                if name in raw:
                    value = _scalar(raw[name], f"given.{name}")
                    if value != getattr(options, name):
                        raise DocumentError(
                            f"given.{name}: {raw[name]!r} differs from spec.{name} "
                            f"{written[name]!r}; give one, or make them agree"
                        )
                raw[name] = rational([[getattr(options, name)]])
        out = super().read_given(options, {k: _text(v) for k, v in raw.items()})
        if any(to_fraction(v) < 0 for row in out["running_var1"].to_list() for v in row):
            raise DocumentError("given.running_var1: a variance is never negative")
        return out


def _scalar(raw: Any, where: str) -> Fraction:
    """A 1 × 1 given value, written as a number or as a matrix (as documents write it)."""
    if isinstance(raw, list):
        return to_fraction(read_matrix(raw, where, (1, 1)).to_list()[0][0])
    return parse_number(raw, where)


def _text(value: Any) -> Any:
    """A given value as an author types it (a 1 × 1 matrix filled in here becomes rows of text)."""
    if isinstance(value, DomainMatrix):
        return [[str(to_fraction(x)) for x in row] for row in value.to_list()]
    return value


def _check_square(values: Mapping[str, Mat], name: str, eps: Fraction) -> None:
    for i, row in enumerate(values[name].to_list()):
        v = to_fraction(row[0]) + eps
        if math.isqrt(v.numerator) ** 2 != v.numerator or (
            math.isqrt(v.denominator) ** 2 != v.denominator
        ):
            raise DocumentError(
                f"given: {name}[{i + 1}] + eps = {printed(v)} is not the square of a rational, so "
                f"its root is irrational; use values whose variances are perfect squares (for "
                f"var1: X and W1 whose rows of Z1 have them), or transcendental 'exact'"
            )


# --- the step graph ------------------------------------------------------------------------------


__all__ = ["NAME", "BatchNorm", "build", "generate", "given_shapes", "instructions"]
