"""The options of the ``finetune`` kind."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..errors import SpecError
from ..options import option
from ..spec import (
    MAX_BATCH,
    MAX_LAYERS,
    MAX_WIDTH,
    Spec,
)
from ..values import format_rational

SCHEDULES = ("compare", "warmup")


@dataclass(frozen=True)
class FinetuneSpec(Spec):
    """Fine-tuning a pretrained network: every layer trained versus the lower layers frozen
    (``compare``), or a new head warmed up on a frozen body before everything is unfrozen
    (``warmup``)."""

    title = "Fine-tuning"
    kind = "finetune"

    sizes: tuple[int, ...] = option(
        (2, 2, 2, 2), "Inputs, then units per layer", low=1, high=MAX_WIDTH, metavar="N,N,…"
    )
    batch: int = option(1, "Samples (columns of X)", low=1, high=MAX_BATCH, metavar="N")
    frozen: tuple[int, ...] = option(
        (1, 2),
        "Layers kept frozen (default: all but the last)",
        low=1,
        high=MAX_LAYERS,
        allow_empty=True,  # kept sorted, each layer once; check() refuses an empty one
        practice=False,
        metavar="L,…",
    )
    schedule: str = option(
        "compare",
        "compare: full fine-tuning beside frozen layers; warmup: a new head, then unfreeze",
        choices=SCHEDULES,
    )
    lr2: Fraction = option(
        Fraction(1, 100),
        "Learning rate after unfreezing (warmup; default lr/10)",
        low=Fraction(0),
        high=Fraction(10),
        accepted="0 < lr2 ≤ 10",
        metavar="Q",
    )

    @classmethod
    def implied(cls, chosen: dict[str, Any]) -> dict[str, Any]:
        out = dict(chosen)
        if "lr2" not in out and "lr" in out:
            out["lr2"] = out["lr"] / 10
        if "frozen" not in out and "sizes" in out:
            out["frozen"] = tuple(range(1, len(out["sizes"]) - 1))
        return out

    def check(self) -> None:
        """The MLP's checks, then the fine-tuning's own: 2 to 6 layers, at least one of them
        frozen, and never the last (the head every schedule trains)."""
        super().check()
        n = self.layers
        if n < 2:
            raise SpecError(
                "sizes: fine-tuning needs at least 2 layers (a body to freeze and a head to "
                "train): give at least 3 numbers, e.g. 2,2,2,2"
            )
        if not self.frozen:
            raise SpecError(
                f"frozen: no layer frozen; accepted: some of the layers 1 to {n - 1} "
                f"(the frozen scheme has to freeze something)"
            )
        if n in self.frozen:
            raise SpecError(
                f"frozen: layer {n} is the last layer (the head), which every schedule trains; "
                f"accepted: layers 1 to {n - 1}"
            )
        if self.schedule == "warmup" and self.transcendental == "base":
            raise SpecError(
                f"transcendental: 'base' writes {self.base}^z exactly for whole z only, and the "
                f"head's update in the warm-up makes the next output pre-activations fractions; "
                f"use transcendental 'table' or 'exact'"
            )

    def describe(self) -> str:
        """The MLP's line, then the schedule: what is frozen, and the second rate."""
        frozen = ", ".join(map(str, self.frozen))
        layers = f"layer{'s' if len(self.frozen) > 1 else ''} {frozen}"
        if self.schedule == "compare":
            return f"{super().describe()}; full fine-tuning vs {layers} frozen"
        lr2 = format_rational(self.lr2.numerator, self.lr2.denominator)
        return (
            f"{super().describe()}; a new head on {layers} frozen, then every layer with lr2 {lr2}"
        )
