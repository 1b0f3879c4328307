"""The MLP kind: the step graph of a forward pass, loss, backward pass and SGD update, and a
generator of small-integer given values that make a good by-hand problem."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...errors import DocumentError
from ...graph import Graph
from ...matrix import Mat, entries, to_fraction
from ...spec import Spec
from ..base import Kind
from .budgets import MAX_ABS, MAX_DENOMINATOR
from .draw import generate
from .feasible import check_feasible
from .steps import Pass, backward, build, forward, given_shapes, loss, sgd_step, update

NAME = "mlp"


class MLP(Kind):
    name = NAME
    description = "a multilayer perceptron: forward pass, loss, backward pass and SGD update"
    Options = Spec

    def build(self, options: Spec) -> Graph:
        return build(options)

    def draw(self, options: Spec, seed: int) -> dict[str, Mat]:
        return generate(options, seed)

    def solve(self, options: Spec, given: Mapping[str, Mat]) -> dict[str, Mat]:
        return solve_values(options, given)

    def infer_options(self, options: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
        return infer_options(options, given)

    def read_given(self, options: Spec, raw: Any) -> dict[str, Mat]:
        out = super().read_given(options, raw)
        check_targets(options, out["Y"])
        return out


def solve_values(spec: Spec, given: Mapping[str, Mat]) -> dict[str, Mat]:
    """Evaluate the step graph exactly on ``given``."""
    return build(spec).evaluate(given, spec.treatment().finish)


def infer_options(options: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Fill ``sizes`` and ``batch`` from the given matrices where an author left them out."""
    out = dict(options)
    try:
        if "sizes" not in out and "X" in given and "W1" in given:
            sizes = [len(given["X"])]
            layer = 1
            while f"W{layer}" in given:
                w = given[f"W{layer}"]
                if len(w[0]) != sizes[-1]:
                    below = "the input X has" if layer == 1 else f"layer {layer - 1} has"
                    raise DocumentError(
                        f"given.W{layer}: has {len(w[0])} column{'s' * (len(w[0]) != 1)} but "
                        f"{below} {sizes[-1]} rows (W{layer} holds one weight per unit below, in "
                        f"each row)"
                    )
                sizes.append(len(w))
                layer += 1
            out["sizes"] = sizes
        if "batch" not in out and "X" in given:
            out["batch"] = len(given["X"][0])
        if "lr" not in out and "lr" in given:
            out["lr"] = given["lr"]
    except (TypeError, IndexError, KeyError):
        pass  # read_given names the malformed field
    return out


def check_targets(spec: Spec, y: Mat) -> None:
    cols = list(zip(*[[to_fraction(v) for v in row] for row in entries(y)], strict=True))
    for j, col in enumerate(cols, start=1):
        if spec.loss == "softmax_ce" and (sorted(col) != [0] * (len(col) - 1) + [1]):
            raise DocumentError(
                f"given.Y: column {j} is not one-hot; softmax_ce needs each "
                f"column of Y to hold a single 1 and 0 elsewhere"
            )
        if spec.loss == "sigmoid_bce" and any(v not in (0, 1) for v in col):
            raise DocumentError(
                f"given.Y: column {j} has an entry that is not 0 or 1; "
                f"sigmoid_bce needs targets of 0 and 1"
            )


__all__ = [
    "MAX_ABS",
    "MAX_DENOMINATOR",
    "MLP",
    "Pass",
    "backward",
    "build",
    "check_feasible",
    "forward",
    "generate",
    "given_shapes",
    "loss",
    "sgd_step",
    "solve_values",
    "update",
]
