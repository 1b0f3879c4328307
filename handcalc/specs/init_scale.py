"""The options of the ``init_scale`` kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from ..errors import SpecError
from ..options import option
from ..spec import (
    LOSSES,
    MAX_BATCH,
    MAX_WIDTH,
    REDUCTIONS,
    Spec,
)
from ..values import format_rational
from .mlp_checks import mlp_checks


@dataclass(frozen=True)
class InitScaleSpec(Spec):
    """Kaiming initialisation's scale per layer, and the loss a network starts from: the gain
    of the activation, each layer's ``std = gain/√fan_in``, the loss of a uniform K-class
    prediction (``log K``) and the loss of a badly scaled output layer's given logits. Every
    layer, the last one too, is scaled with the hidden activation's gain (as
    ``torch.nn.init.kaiming_normal_`` with that nonlinearity does)."""

    title = "Initialisation scale"
    kind = "init_scale"
    #: the modes the logarithms are taken in (the standard deviations are exact roots in every
    #: mode; no table is looked up)
    TRANSCENDENTALS: ClassVar[tuple[str, ...]] = ("exact", "base")

    sizes: tuple[int, ...] = option(
        (2, 4, 8, 3),
        "Inputs, then units per layer; the last is the number of classes K",
        low=1,
        high=MAX_WIDTH,
        metavar="N,N,…",
    )
    loss: str = option("softmax_ce", "Output and loss (init_scale: softmax_ce)", choices=LOSSES)
    batch: int = option(2, "Samples (columns of X)", low=1, high=MAX_BATCH, metavar="N")
    reduction: str = option("mean", "Loss over the batch", choices=REDUCTIONS)
    transcendental: str = option(
        "exact",
        "How the logarithms of the loss are taken (init_scale: exact, or base)",
        choices=TRANSCENDENTALS,
    )

    def check(self) -> None:
        """The MLP's checks (no hidden value is computed, so every activation is accepted in
        every mode), then a softmax output of at least 2 classes."""
        if self.loss != "softmax_ce":
            raise SpecError(
                f"loss: {self.loss!r} is not accepted for init_scale; accepted: softmax_ce "
                f"(the initial loss of a K-class softmax)"
            )
        if self.transcendental not in self.TRANSCENDENTALS:
            raise SpecError(
                f"transcendental: {self.transcendental!r} is not accepted for init_scale; "
                f"accepted: exact or base (the standard deviations are exact roots in both)"
            )
        mlp_checks(self)

    @property
    def classes(self) -> int:
        """K, the number of classes: the last size."""
        return self.sizes[-1]

    def describe(self) -> str:
        """Sizes, activation, classes and the batch of the given logits."""
        sizes = "-".join(map(str, self.sizes))
        activation = self.activation
        if activation == "leaky_relu":
            activation += (
                f" (slope {format_rational(self.slope.numerator, self.slope.denominator)})"
            )
        return (
            f"{self.title} {sizes}, {activation}, {self.classes} classes, given logits of "
            f"batch {self.batch}, {self.reduction} reduction"
        )
