"""Initialisation scale: Kaiming's standard deviation per layer and the loss a network starts
from. Cells ``gain`` (the hidden activation's), ``std1`` … ``stdL`` (``gain/√fan_in``, exact:
``sqrt(2)/2``), ``loss_uniform`` (a K-class softmax predicting 1/K everywhere: ``log K`` a
sample) and ``loss_init`` (the cross-entropy of the given logits of a badly scaled output layer,
``Z<L>``, K × B, large, with one-hot targets ``Y``), in the chosen transcendental mode.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

from ..cells import Cell
from ..errors import BudgetError
from ..graph import Graph, Step
from ..matrix import Mat, rational
from ..notation import subscript
from ..ops import Gain, InitLoss, Std, UniformLoss
from ..specs import InitScaleSpec
from ..transcendental import Base
from .base import Kind
from .mlp import check_targets

NAME = "init_scale"
#: the given logits: integers within ±LOGIT_MAX, each column with one at least LOGIT_MIN in
#: magnitude, and a loss at least LOSS_RATIO times the uniform one (badly scaled, visibly)
LOGIT_MAX = 9
LOGIT_MIN = 6
LOSS_RATIO = 2
ATTEMPTS = 200
#: the phases, in the order the sheet prints them (neither is one of the MLP's, so the generic
#: layout keeps them in the order they first appear: the scale, then the losses)
SCALE_PHASE = "initialisation"
LOSS_PHASE = "starting loss"


def logits(spec: InitScaleSpec) -> str:
    """The given logits' cell: the output layer's pre-activation ``Z<L>``."""
    return Cell("Z", spec.layers).name


class InitScale(Kind):
    name = NAME
    description = (
        "initialisation scale: Kaiming's std per layer, and the loss a network starts from"
    )
    Options = InitScaleSpec

    def build(self, options: InitScaleSpec) -> Graph:
        treatment = options.treatment()
        sizes = options.sizes
        steps = [
            Step(Cell("gain"), SCALE_PHASE, Gain(options.activation, options.slope), (), (1, 1))
        ]
        for layer in range(1, options.layers + 1):
            op = Std(fan_in=sizes[layer - 1], fan_out=sizes[layer])
            steps.append(Step(Cell("std", layer), SCALE_PHASE, op, ("gain",), (1, 1)))
        uniform = UniformLoss(treatment, options.factor)
        steps.append(Step(Cell("loss_uniform"), LOSS_PHASE, uniform, ("Y",), (1, 1)))
        start = InitLoss(treatment, options.factor)
        steps.append(Step(Cell("loss_init"), LOSS_PHASE, start, (logits(options), "Y"), (1, 1)))
        shape = (options.classes, options.batch)
        return Graph.of({logits(options): shape, "Y": shape}, steps)

    def draw(self, options: InitScaleSpec, seed: int) -> dict[str, Mat]:
        """Large integer logits and one-hot targets from ``seed``, re-drawn until the loss they
        give is at least LOSS_RATIO times the uniform one; every cell solved."""
        rng = random.Random(seed)
        k, batch = options.classes, options.batch
        # base mode's softmax is of b^z = e^(z·ln b)
        scale = math.log(options.base) if options.transcendental == "base" else 1.0
        for _ in range(ATTEMPTS):
            z = [[rng.randint(-LOGIT_MAX, LOGIT_MAX) for _ in range(batch)] for _ in range(k)]
            columns = list(zip(*z, strict=True))
            if any(max(map(abs, col)) < LOGIT_MIN for col in columns):
                continue
            targets = [rng.randrange(k) for _ in range(batch)]
            if _mean_loss(columns, targets, scale) < LOSS_RATIO * math.log(k):
                continue
            y = [[int(targets[j] == i) for j in range(batch)] for i in range(k)]
            return self.solve(options, {logits(options): rational(z), "Y": rational(y)})
        raise BudgetError(
            f"no badly scaled logits found for these options after {ATTEMPTS} draws; "
            f"try another seed"
        )

    def solve(self, options: InitScaleSpec, given: Mapping[str, Mat]) -> dict[str, Mat]:
        """Every cell exactly; the treatment's last touch (tidying, the print budget) only on
        the losses: a root ``sympy.sqrt`` makes is already in its shortest form."""
        graph = self.build(options)
        finish = options.treatment().finish
        roots = {s.name for s in graph.steps if isinstance(s.op, Gain | Std)}

        def touch(name: str, value: Mat) -> Mat:
            return value if name in roots else finish(name, value)

        return graph.evaluate(given, touch)

    def read_given(self, options: InitScaleSpec, raw: Any) -> dict[str, Mat]:
        out = super().read_given(options, raw)
        check_targets(options, out["Y"])
        return out

    def infer_options(self, options: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
        """``batch`` from the given targets' columns, where an author left it out."""
        out = dict(options)
        y = given.get("Y")
        if "batch" not in out and isinstance(y, list) and y and isinstance(y[0], list):
            out["batch"] = len(y[0])
        return out

    def instructions(self, problem: Any) -> tuple[str, ...]:
        spec = problem.spec
        fans = ", ".join(str(n) for n in spec.sizes[:-1])
        log = f"log base {spec.base}" if isinstance(spec.treatment(), Base) else "ln"
        z = subscript(logits(spec))
        mean = "averaged over" if spec.reduction == "mean" else "summed over"
        return (
            f"Kaiming (He) initialisation draws layer l's weights from N(0, std_l²), std_l = "
            f"gain/√fan_in: fan_in is the number of inputs of each unit (sizes "
            f"{'-'.join(map(str, spec.sizes))}: fan_in = {fans}), gain the hidden "
            f"activation's (as torch.nn.init.calculate_gain has it), used for every layer.",
            "Write a root exactly, e.g. sqrt(2)/2, or as a decimal to 4 significant digits; "
            "a rational value (5/6) exactly.",
            f"Loss: softmax cross-entropy −Σ Y∘{log} softmax(Z), {mean} the batch, stated to "
            f"{spec.digits} decimals. loss_uniform: the loss when the softmax gives each of "
            f"the K = {spec.classes} classes probability 1/K; loss_init: the loss of the "
            f"given logits {z} of a badly scaled output layer.",
            "Which start would you rather train from, and what in the output layer makes "
            "loss_init so large?",
        )


def _mean_loss(columns: list[tuple[int, ...]], targets: list[int], scale: float) -> float:
    """The draw's loss a sample in floats, of the logits times ``scale`` (ln b in base mode), in
    natural log: a screen only."""
    total = 0.0
    for unscaled, t in zip(columns, targets, strict=True):
        col = [v * scale for v in unscaled]
        top = max(col)
        total += top + math.log(sum(math.exp(v - top) for v in col)) - col[t]
    return total / len(columns)


__all__ = ["NAME", "InitScale", "logits"]
