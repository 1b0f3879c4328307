"""The options of the ``zero_init`` kind."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

from ..errors import SpecError
from ..options import option
from ..spec import (
    LOSSES,
    MAX_BATCH,
    MAX_WIDTH,
    Spec,
)
from .mlp_checks import mlp_checks, squashed_output


@dataclass(frozen=True)
class ZeroInitSpec(Spec):
    """Every weight and bias starts at 0: a few SGD steps show which parameters move.

    Every cell stays exact, so that no rounding can break the symmetry the lesson is about (a
    tabulated uniform softmax 0.33/0.33/0.34 would): ``table`` mode only where nothing is looked
    up but σ(0), tanh(0) and a softmax of equal logits that the decimals hold, ``exact`` mode
    where a later step exponentiates the moved output bias, and nothing whose exact values grow
    too long to print (``check`` says which options do)."""

    title = "Zero initialisation"
    kind = "zero_init"
    #: the hidden activations the lesson compares; the transcendental modes that stay exact
    ACTIVATIONS: ClassVar[tuple[str, ...]] = ("relu", "tanh", "sigmoid")
    TRANSCENDENTALS: ClassVar[tuple[str, ...]] = ("table", "exact")

    sizes: tuple[int, ...] = option(
        (2, 2, 2), "Inputs, then units per layer", low=1, high=MAX_WIDTH, metavar="N,N,…"
    )
    activation: str = option(
        "relu", "Hidden activation (zero_init: relu, tanh or sigmoid)", choices=ACTIVATIONS
    )
    loss: str = option("mse", "Output and loss", choices=LOSSES)
    batch: int = option(1, "Samples (columns of X)", low=1, high=MAX_BATCH, metavar="N")
    lr: Fraction = option(
        Fraction(1, 2),
        "Learning rate, exact: 1/10, 0.05",
        low=Fraction(0),
        high=Fraction(10),
        accepted="0 < lr ≤ 10",
        metavar="Q",
    )
    transcendental: str = option(
        "table",
        "How exp/log/sigmoid/tanh are handled (zero_init: table where nothing is rounded, "
        "else exact)",
        choices=TRANSCENDENTALS,
    )
    steps: int = option(2, "SGD steps, each a section s1, s2, …", low=1, high=3, metavar="N")

    @classmethod
    def implied(cls, chosen: dict[str, Any]) -> dict[str, Any]:
        """``exact`` mode where ``table`` would have to round (unless a mode is chosen)."""
        out = dict(chosen)
        if "transcendental" not in out:
            options = {name: default for name, _, default in cls.declared()} | out
            if _zero_init_rounds(options):
                out["transcendental"] = "exact"
        return out

    def check(self) -> None:
        """The MLP's checks (but for the exact treatment's refusal of hidden σ and tanh: their
        inputs stay 0 in every step allowed here), then what keeps every cell exact and short."""
        if self.activation not in self.ACTIVATIONS:
            raise SpecError(
                f"activation: {self.activation!r} is not accepted for zero_init; accepted: "
                f"{', '.join(self.ACTIVATIONS)}"
            )
        if self.transcendental not in self.TRANSCENDENTALS:
            raise SpecError(
                f"transcendental: {self.transcendental!r} is not accepted for zero_init; "
                f"accepted: table (where nothing is rounded) or exact"
            )
        if len(self.sizes) < 3:
            raise SpecError(
                "sizes: zero_init needs a hidden layer (at least 3 numbers, e.g. 2,2,2): the "
                "symmetry it shows is between hidden units"
            )
        if self.frozen:
            raise SpecError("frozen: zero_init trains every layer; leave frozen empty")
        mlp_checks(self)
        squashed = squashed_output(self.loss, getattr(self, "output", "auto"))
        if self.steps == 3 and (squashed or self.activation == "sigmoid"):
            what = f"a {self.loss} output" if squashed else "hidden sigmoids"
            raise SpecError(
                f"steps: 3 steps with {what} nest exponentials too long to print exactly (the "
                f"third step exponentiates values the second one moved); use steps 2, or "
                f"steps 3 with loss mse and activation relu or tanh"
            )
        if self.steps > 1 and self.loss == "mse" and squashed:
            raise SpecError(
                "output: a σ output with mse has the output gradient (A − Y)∘A(1 − A), whose "
                "exact values after the first step are too long to print; use steps 1, or loss "
                "sigmoid_bce (its own σ output) or mse with the identity output"
            )
        reason = _zero_init_rounds(self.to_dict() | {"output": getattr(self, "output", "auto")})
        if reason and self.transcendental == "table":
            raise SpecError(
                f"transcendental: table would round {reason}, and a rounded value breaks the "
                f"exact symmetry this exercise shows; use transcendental exact"
            )

    def describe(self) -> str:
        """The MLP's line, then the start and the steps."""
        steps = f"{self.steps} SGD step{'s' * (self.steps != 1)}"
        return f"{super().describe()}; every weight and bias 0, {steps}"


def _zero_init_rounds(options: Mapping[str, Any]) -> str:
    """What ``table`` mode would round in a zero-initialised problem ("" for nothing): the
    softmax of equal logits, 1/K, where the decimals cannot hold it; the output of a later step,
    whose logits are the moved output bias."""
    sizes, loss = tuple(options["sizes"]), options["loss"]
    classes, digits = sizes[-1], int(options["digits"])
    if loss == "softmax_ce" and (10**digits) % classes:
        return (
            f"the uniform softmax 1/{classes} to {digits} decimal{'s' * (digits != 1)} "
            f"(0.33/0.33/0.34 for 3 classes)"
        )
    if int(options["steps"]) > 1 and squashed_output(loss, options.get("output", "auto")):
        return "the output of step 2, whose logits are the moved output bias"
    return ""
