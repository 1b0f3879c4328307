"""Fine-tuning a pretrained network, two schedules on the MLP's step pieces.

``compare`` — the same network twice from one shared forward pass (``Z1`` … ``loss``): section
``full`` trains every layer, section ``frozen`` only the layers not in ``spec.frozen`` (backprop
stops below the lowest trained layer, exactly the MLP kind's ``frozen``); ``full.updated`` and
``frozen.updated`` count the parameters each scheme updates (and so stores per task).

``warmup`` — the last layer is a new head, randomly initialised: section ``warmup`` trains the
head (the body ``spec.frozen`` kept) with ``lr`` from the shared forward pass; section
``unfreeze`` trains every layer with ``lr2`` from the warmed-up head and the unchanged body, its
forward pass recomputed (``unfreeze.Z1`` … ``unfreeze.loss``).

Given values are the MLP generator's, drawn with every layer trained (a section trains them all,
so the budgets hold for each gradient); a draw whose ``unfreeze`` section breaks a budget is
drawn again from the next sub-seed, deterministically.
"""

from __future__ import annotations

import dataclasses
import functools
import random
from collections.abc import Mapping
from typing import Any

from ..cells import Cell
from ..errors import BudgetError, DocumentError
from ..graph import Graph, Shape, Step
from ..matrix import Mat, rational, to_fraction
from ..notation import printed, subscript
from ..ops import CountParams, WeightGrad
from ..spec import FinetuneSpec
from ..values import parse_number
from .base import Kind
from .mlp import Pass, backward, check_targets, forward, generate, given_shapes, loss, update
from .mlp import build as mlp_build
from .mlp import infer_options as mlp_infer_options
from .mlp.checks import check_values

NAME = "finetune"
#: the sections of each schedule, left to right on the sheet
FULL, FROZEN = "full", "frozen"
WARMUP, UNFREEZE = "warmup", "unfreeze"
#: the given cell of the second learning rate (``warmup``)
LR2 = "lr2"
#: draws (each from its own sub-seed) before a schedule's sections are given up on
REDRAWS = 30


@dataclasses.dataclass(frozen=True)
class Resumed(Pass):
    """A pass that starts from section ``params``' updated parameters for the layers in
    ``moved`` and from the given ones elsewhere: ``unfreeze`` after a warm-up of the head."""

    moved: tuple[int, ...] = ()

    def param(self, symbol: str, layer: int) -> str:
        if layer in self.moved:
            return Cell(symbol, layer, self.params, new=True).name
        return Cell(symbol, layer).name


@dataclasses.dataclass(frozen=True)
class SharedWeightGrad(WeightGrad):
    """``dW = dZ·Aᵀ`` of the frozen scheme: the same value, formula and mistakes; its worked
    solution answers the sheet's question, why it equals the full scheme's."""

    def why(self, step: Step, problem: Any) -> str:
        layer = step.layer or 0
        full = _named(Cell("dW", layer, FULL))
        return (
            f"The same as {full}: dW{_sub(layer)} = dZ{_sub(layer)}·A{_sub(layer - 1)}ᵀ reads "
            f"the shared forward pass, and dZ{_sub(layer)} comes down from the loss through the "
            f"same pretrained weights in both schemes (nothing is updated before every gradient "
            f"is known). Freezing decides which gradients are computed and applied, not their "
            f"values."
        )


def _named(cell: Cell) -> str:
    """A cell's name as the sheet writes it: ``frozen.dW₃``."""
    return f"{cell.section}.{subscript(cell.local)}" if cell.section else subscript(cell.name)


def _sub(layer: int) -> str:
    return subscript(f"x{layer}")[1:]


class Finetune(Kind):
    """Full fine-tuning beside frozen layers (``compare``), or a warm-up of a new head before
    everything is unfrozen (``warmup``)."""

    name = NAME
    description = "fine-tuning: full beside frozen layers, or a new head warmed up then unfrozen"
    Options = FinetuneSpec

    def build(self, options: FinetuneSpec) -> Graph:
        return build(options)

    def draw(self, options: FinetuneSpec, seed: int) -> dict[str, Mat]:
        """The MLP generator's values with every layer trained (``full`` and ``unfreeze`` train
        them all: the gradient reaches each), then the ``unfreeze`` section held to the same
        budgets; a failure draws again from the next sub-seed."""
        drawn = _all_trained(options)
        graph = build(options)
        failures: list[str] = []
        for attempt in range(REDRAWS):
            first = generate(drawn, _sub_seed(seed, attempt))
            given = {name: first[name] for name in graph.given if name in first}
            if LR2 in graph.given:
                given[LR2] = rational([[options.lr2]])
            try:
                values = self.solve(options, given)
                check_sections(options, values)
            except BudgetError as e:
                failures.append(str(e))
                continue
            return values
        raise BudgetError(
            f"no problem with these options meets the budgets in every section after "
            f"{REDRAWS} draws (the last: {failures[-1]}); a larger max_chars or lr2 may help"
        )

    def solve(self, options: FinetuneSpec, given: Mapping[str, Mat]) -> dict[str, Mat]:
        return build(options).evaluate(given, options.treatment().finish)

    def infer_options(self, options: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
        out = mlp_infer_options(options, given)
        if LR2 not in out and LR2 in given and isinstance(given[LR2], str | int | float):
            out[LR2] = given[LR2]
        return out

    def read_given(self, options: FinetuneSpec, raw: Any) -> dict[str, Mat]:
        """The MLP's checks; ``lr2`` (``warmup``) may be left out, or given as a number that
        agrees with ``spec.lr2``."""
        if isinstance(raw, Mapping) and options.schedule == "warmup":
            raw = dict(raw)
            text = options.to_dict()[LR2]
            value = raw.get(LR2, text)
            if isinstance(value, list):  # as the exchange format writes a 1 × 1 cell
                value = value[0][0] if value and isinstance(value[0], list) and value[0] else value
            if parse_number(value, "given.lr2") != options.lr2:
                raise DocumentError(
                    f"given.lr2: {value!r} differs from spec.lr2 {text!r}; give one, or make "
                    f"them agree"
                )
            raw[LR2] = [[value]]
        out = super().read_given(options, raw)
        check_targets(options, out["Y"])
        return out

    def instructions(self, problem: Any) -> tuple[str, ...]:
        """The MLP's conventions (with every layer trainable: each section says what it
        freezes), then the schedule, and the question the sheet asks."""
        from ..conventions import instructions  # (it reads the problem module: not at import)

        spec: FinetuneSpec = problem.spec
        plain = dataclasses.replace(problem, spec=dataclasses.replace(spec, frozen=()))
        n = spec.layers
        frozen = ", ".join(map(str, spec.frozen))
        body = f"layer{'s' if len(spec.frozen) > 1 else ''} {frozen}"
        trained = ", ".join(map(str, spec.trainable))
        lowest = min(spec.trainable)
        if spec.schedule == "compare":
            stops = (
                f"; backprop stops at {_named(Cell('dZ', lowest, FROZEN))} (nothing "
                f"below layer {lowest} is trained)"
                if lowest > 1
                else ""
            )
            return (
                *instructions(plain),
                f"Two schemes from the same pretrained network and the same forward pass: "
                f"“full” (left) trains every layer; “frozen” (right) keeps {body} frozen and "
                f"trains layer{'s' if len(spec.trainable) > 1 else ''} {trained} only: no dW, "
                f"db or update for a frozen layer{stops}.",
                "full.updated and frozen.updated: how many numbers each scheme updates (and so "
                "must store for each new task).",
                f"Question: why is {_named(Cell('dW', n, FROZEN))} equal to "
                f"{_named(Cell('dW', n, FULL))}? Answer in a sentence beside them.",
            )
        lr2 = printed(to_fraction(problem.value(LR2).to_list()[0][0]))
        w, b = subscript(Cell("W", n).name), subscript(Cell("b", n).name)
        return (
            *instructions(plain),
            f"Layer {n} is a new head, randomly initialised ({w}, {b} as given); {body} "
            f"{'are' if len(spec.frozen) > 1 else 'is'} the pretrained body.",
            f"Section “warmup”: the body frozen, only layer{'s' if len(spec.trainable) > 1 else ''}"
            f" {trained} trained with lr, from the forward pass above.",
            f"Section “unfreeze”: every layer trained with lr2 = {lr2}, starting from the "
            f"warmed-up parameters (warmup.W{_sub(n)} new, warmup.b{_sub(n)} new) and the "
            f"unchanged body: its forward pass is computed again (unfreeze.Z₁ … unfreeze.loss).",
        )


def _all_trained(options: FinetuneSpec) -> FinetuneSpec:
    return dataclasses.replace(options, frozen=())


def _sub_seed(seed: int, attempt: int) -> int:
    """The seed itself first (the MLP problem of the same seed, where it meets every budget),
    then sub-seeds derived from it, the same on every machine."""
    if attempt == 0:
        return seed
    return random.Random(f"{NAME}/{seed}/{attempt}").randrange(2**31)


def check_sections(options: FinetuneSpec, values: Mapping[str, Mat]) -> None:
    """Every MLP budget on the ``unfreeze`` section (``warmup``): its cells read as an MLP
    problem's, from the parameters it starts from, with ``lr2`` as its rate. ``compare`` needs
    nothing more: ``full`` is the MLP problem drawn, ``frozen`` a part of it."""
    if options.schedule != "warmup":
        return
    spec = _all_trained(options)
    graph = mlp_build(spec)
    start = Resumed(UNFREEZE, params=WARMUP, moved=options.trainable)
    local: dict[str, Mat] = {"X": values["X"], "Y": values["Y"], "lr": values[LR2]}
    for layer in range(1, spec.layers + 1):
        for p in ("W", "b"):
            local[Cell(p, layer).name] = values[start.param(p, layer)]
    for step in graph.steps:
        local[step.name] = values[step.cell.within(UNFREEZE).name]
    try:
        check_values(spec, graph, local)
    except BudgetError as e:
        raise BudgetError(f"section {UNFREEZE}: {e}") from None


@functools.lru_cache(maxsize=256)
def build(spec: FinetuneSpec) -> Graph:
    """The step graph of the schedule (see the module's docstring)."""
    n = spec.layers
    every = tuple(range(1, n + 1))
    shared = Pass()
    steps = forward(spec, shared) + loss(spec, shared)
    shapes: dict[str, Shape] = given_shapes(spec)
    if spec.schedule == "compare":
        full, frozen = Pass(FULL, forward=""), Pass(FROZEN, forward="")
        steps += backward(spec, full, every) + update(spec, full, every)
        steps += [_shared_grad(s) for s in backward(spec, frozen, spec.trainable)]
        steps += update(spec, frozen, spec.trainable)
        steps += [_count(spec, FULL, every), _count(spec, FROZEN, spec.trainable)]
    else:
        shapes[LR2] = (1, 1)
        warm = Pass(WARMUP, forward="")
        steps += backward(spec, warm, spec.trainable) + update(spec, warm, spec.trainable)
        again = Resumed(UNFREEZE, params=WARMUP, moved=spec.trainable)
        steps += forward(spec, again) + loss(spec, again) + backward(spec, again, every)
        steps += update(spec, again, every, rate=LR2)
    return Graph.of(shapes, steps)


def _shared_grad(step: Step) -> Step:
    """The frozen scheme's dW steps with the op whose worked solution says why they equal the
    full scheme's."""
    if type(step.op) is WeightGrad:
        return dataclasses.replace(step, op=SharedWeightGrad())
    return step


def _count(spec: FinetuneSpec, section: str, layers: tuple[int, ...]) -> Step:
    params = tuple(Cell(p, layer, section, new=True).name for layer in layers for p in ("W", "b"))
    return Step(Cell("updated", None, section), "update", CountParams(), params, (1, 1))
