"""The update: one step of gradient descent, ``P_new = P − lr·dP``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ..matrix import Mat
from .base import Cells, Op, Variant, add, sub, times_scalar
from .words import at, factor

if TYPE_CHECKING:
    from ..graph import Step


@dataclass(frozen=True)
class Update(Op):
    words: ClassVar[str] = "one step of gradient descent"

    def __call__(self, p: Mat, grad: Mat, lr: Mat) -> Mat:
        return sub(p, times_scalar(grad, lr))

    def formula(self, out: str, p: str, grad: str, lr: str) -> str:
        return f"{out} = {p} − {lr}·{grad}"

    def explain(self, step: Step, cells: Cells, i: int, j: int) -> list[str]:
        p, grad, lr = step.inputs
        rate = cells(lr)[0][0]
        return [
            f"{at(step.name, i, j)} = {at(p, i, j)} − {lr}·{at(grad, i, j)} = "
            f"{cells.at(p, i, j)} − {factor(rate)}·{factor(cells.at(grad, i, j))} = "
            f"{cells.result(step.name, i, j)}"
        ]

    def variants(
        self, step: Step, inputs: tuple[Mat, ...], values: Mapping[str, Mat]
    ) -> list[Variant]:
        p, grad, lr = inputs
        return [
            ("lr_forgotten", lambda: sub(p, grad)),
            ("update_sign", lambda: add(p, times_scalar(grad, lr))),
        ]
