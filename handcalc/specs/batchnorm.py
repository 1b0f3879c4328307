"""The options of the ``batchnorm`` kind."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from ..errors import SpecError
from ..options import option
from ..spec import (
    MAX_BATCH,
    MAX_WIDTH,
    Spec,
)
from ..values import format_rational


@dataclass(frozen=True)
class BatchNormSpec(Spec):
    """Batch normalisation by hand: ``X → Linear 1 → BatchNorm 1 → activation → Linear 2 →
    output and loss``, trained one step in training mode (biased batch variance), the running
    statistics updated (unbiased), and the layer folded for inference. ``eps`` is 0 by hand
    ("hand mode", every square root is of a perfect square); PyTorch's 1e-5 makes the roots
    irrational, so it is accepted in ``exact`` mode only."""

    title = "Batch normalisation"
    kind = "batchnorm"

    sizes: tuple[int, ...] = option(
        (3, 2, 2),
        "Inputs, batch-normalised hidden units, outputs",
        low=1,
        high=MAX_WIDTH,
        metavar="N,N,N",
    )
    batch: int = option(4, "Samples (columns of X), at least 2", low=1, high=MAX_BATCH, metavar="N")
    momentum: Fraction = option(
        Fraction(1, 10),
        "Momentum of the running statistics (PyTorch's convention)",
        low=Fraction(0),
        high=Fraction(1),
        accepted="0 < momentum ≤ 1",
        metavar="Q",
    )
    eps: Fraction = option(
        Fraction(0),
        "ε added to the variance: 0 by hand; e.g. 1/100000 (PyTorch's) in exact mode only",
        low=Fraction(-1),
        high=Fraction(1, 10),
        accepted="0 ≤ eps ≤ 1/10",
        practice=False,
        metavar="Q",
    )

    def check(self) -> None:
        """Three sizes, a batch of two or more, no frozen layer, and eps 0 outside exact mode."""
        if len(self.sizes) != 3:
            raise SpecError(
                f"sizes: {len(self.sizes)} numbers given; accepted: exactly 3 for batchnorm "
                f"(the inputs, the batch-normalised hidden units, the outputs), e.g. 3,2,2"
            )
        if self.batch < 2:
            raise SpecError(
                "batch: 1 sample has no variance to normalise by; accepted: 2 to "
                f"{MAX_BATCH} for batchnorm"
            )
        if self.frozen:
            raise SpecError("frozen: not offered for batchnorm; every layer is trained")
        if self.eps < 0:
            raise SpecError(f"eps: {self.eps} is out of range; accepted: 0 ≤ eps ≤ 1/10")
        if self.eps and self.transcendental != "exact":
            eps = format_rational(self.eps.numerator, self.eps.denominator)
            raise SpecError(
                f"eps: {eps} makes √(var + eps) irrational, which no one works by hand; "
                f"use eps 0 (hand mode, every root a perfect square), or transcendental "
                f"'exact' for PyTorch's eps (--transcendental exact --eps 1/100000)"
            )
        super().check()

    def describe(self) -> str:
        """The MLP's line, then the momentum and eps."""
        momentum = format_rational(self.momentum.numerator, self.momentum.denominator)
        eps = format_rational(self.eps.numerator, self.eps.denominator)
        mode = " (hand mode)" if not self.eps else ""
        return f"{super().describe()}, momentum {momentum}, eps {eps}{mode}"
