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
from collections.abc import Callable, Mapping
from typing import Any

from ..cells import Cell
from ..errors import BudgetError, DocumentError
from ..graph import Graph, Shape, Step, resolve
from ..matrix import Mat, rational, to_fraction
from ..notation import printed, printed_length, subscript
from ..ops import CountParams, WeightGrad
from ..specs import FinetuneSpec
from ..values import parse_number
from .base import Kind
from .mlp import Pass, backward, check_targets, forward, generate, given_shapes, loss, update
from .mlp import build as mlp_build
from .mlp import infer_options as mlp_infer_options
from .mlp.checks import check_values
from .mlp.draw import redraw_head

NAME = "finetune"
#: the sections of each schedule, left to right on the sheet
FULL, FROZEN = "full", "frozen"
WARMUP, UNFREEZE = "warmup", "unfreeze"
#: the given cell of the second learning rate (``warmup``)
LR2 = "lr2"
#: draws (each from its own sub-seed) before a schedule's sections are given up on
REDRAWS = 30
#: heads drawn again on the body of one draw before the next draw (``warmup``)
HEADS = 8


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
        """The MLP generator's problem with every layer trained (``full`` and ``unfreeze``
        train them all: the gradient reaches each), then the ``unfreeze`` section held to the
        same budgets. Where it breaks one, the head (the last layer and the targets: the new
        head of ``warmup``) is drawn again on the same body, up to ``HEADS`` times, before the
        whole problem is drawn again from the next sub-seed; deterministically.

        No cell is solved twice: those the MLP problem has are taken from it (see
        :func:`_solve`), and a head's ``unfreeze`` updates are computed and checked first,
        as they break the budgets most often (their decimals add up: ``lr2`` times a
        gradient through the warmed-up head)."""
        drawn = _all_trained(options)
        graph = build(options)
        failures: list[str] = []
        for attempt in range(REDRAWS):
            mlp: Mapping[str, Mat] | None = generate(drawn, _sub_seed(seed, attempt))
            given: Mapping[str, Mat] = mlp or {}
            heads = random.Random(f"{NAME}/{seed}/{attempt}/head")
            body: dict[str, Mat] = {}  # the cells no head changes, computed once a draw
            for head in range(HEADS + 1):
                try:
                    if head:
                        given, mlp = redraw_head(drawn, given, heads), None
                    return _solve(options, graph, given, mlp, body)
                except BudgetError as e:
                    failures.append(str(e))
        raise BudgetError(
            f"no problem with these options meets the budgets in every section after "
            f"{REDRAWS} draws of {HEADS + 1} heads each (the last: {failures[-1]}); a larger "
            f"max_chars or lr2 may help"
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


def _solve(
    options: FinetuneSpec,
    graph: Graph,
    given: Mapping[str, Mat],
    mlp: Mapping[str, Mat] | None,
    body: dict[str, Mat],
) -> dict[str, Mat]:
    """Every cell of the problem from the MLP generator's ``given`` values, as ``solve`` gives
    them and in its order, held to every budget (BudgetError where one breaks); ``mlp`` is
    their MLP problem's solution, already checked, or None (a head drawn again: solved and
    checked here).

    A cell of the shared forward pass, or of section ``full``, ``frozen`` or ``warmup``, is
    the MLP cell of the same local name: the same given values, the same forward pass, and
    each of these sections backpropagates from it and updates with ``lr`` as the MLP does (a
    frozen layer only leaves cells out). The others — section ``unfreeze``, the counts
    ``updated`` — are computed from them, step by step, as ``Graph.evaluate`` does, the
    ``unfreeze`` updates first (the cells that break a budget most often: a draw that fails
    there costs no more than their own steps). ``body`` keeps the cells of both problems
    that no head changes, for the next head on the same body (keys ``mlp.`` + the MLP's
    name for the MLP problem's)."""
    finish = options.treatment().finish
    headless, mlp_headless = _headless(options)
    values: dict[str, Mat] = {name: given[name] for name in graph.given if name in given}
    if LR2 in graph.given:
        values[LR2] = rational([[options.lr2]])
    values.update((name, body[name]) for name in headless if name in body)
    if mlp is not None:
        values.update(_copied(options, mlp))
    try:
        for step in _first(options):
            _compute(graph, values, step.name, finish)
            _check_printed(options, step, values[step.name])
        if mlp is None:
            spec = _all_trained(options)
            mlp_graph = mlp_build(spec)
            known = {name: given[name] for name in mlp_graph.given}
            known.update((n, body[_MLP + n]) for n in mlp_headless if _MLP + n in body)
            for step in mlp_graph.steps:
                _compute(mlp_graph, known, step.name, finish)
            body.update((_MLP + n, known[n]) for n in mlp_headless)
            check_values(spec, mlp_graph, known)
            values.update(_copied(options, known))
        for step in graph.steps:
            _compute(graph, values, step.name, finish)
    finally:
        body.update((name, values[name]) for name in headless if name in values)
    check_sections(options, values)
    return {name: values[name] for name in (*graph.given, *graph.names)}


#: where ``body`` keeps the MLP problem's cells
_MLP = "mlp."


@functools.lru_cache(maxsize=256)
def _headless(spec: FinetuneSpec) -> tuple[frozenset[str], frozenset[str]]:
    """The cells of the problem, and of its MLP problem, that no head (the last layer's
    parameters, the targets) changes: the body's forward values, in every section."""
    n = spec.layers
    out = []
    for graph in (build(spec), mlp_build(_all_trained(spec))):
        moved = {Cell("W", n).name, Cell("b", n).name, "Y"}
        for step in graph.steps:
            if any(resolve(name) in moved for name in step.inputs):
                moved.add(step.name)
        out.append(frozenset(graph.names) - moved)
    return out[0], out[1]


def _copied(spec: FinetuneSpec, mlp: Mapping[str, Mat]) -> dict[str, Mat]:
    """The cells the MLP problem ``mlp`` has (see :func:`_solve`), by their name here."""
    return {name: mlp[local] for name, local in _as_mlp(spec).items() if local in mlp}


#: the sections whose cells are the MLP problem's of the same local name ("": shared)
_AS_MLP = frozenset({"", FULL, FROZEN, WARMUP})


@functools.lru_cache(maxsize=256)
def _as_mlp(spec: FinetuneSpec) -> dict[str, str]:
    """Each cell of a section in ``_AS_MLP`` and the MLP cell it equals, by name."""
    return {s.name: s.cell.local for s in build(spec).steps if s.section in _AS_MLP}


@functools.lru_cache(maxsize=256)
def _first(spec: FinetuneSpec) -> tuple[Step, ...]:
    """The ``unfreeze`` updates, lowest layer first (the longest decimals: checked first)."""
    updates = [s for s in build(spec).steps if s.section == UNFREEZE and s.phase == "update"]
    return tuple(sorted(updates, key=lambda s: s.layer or 0))


def _compute(
    graph: Graph, values: dict[str, Mat], name: str, finish: Callable[[str, Mat], Mat]
) -> None:
    """Cell ``name`` into ``values``, and the cells it needs first, as ``Graph.evaluate``
    computes them."""
    if name in values:
        return
    step = graph[name]
    for needed in step.inputs:
        if resolve(needed) not in values:
            _compute(graph, values, resolve(needed), finish)
    values[name] = finish(name, step.run(values))


def _check_printed(options: FinetuneSpec, step: Step, m: Mat) -> None:
    """The printed-length budget of ``check_values`` on one cell ahead of the others: a cell
    that breaks it here breaks it there."""
    if not m.domain.is_QQ:
        return  # exact-mode expressions: the print budget governs them
    flat = [v for row in m.to_list() for v in row]
    lengths = [printed_length(v) for v in flat]
    if max(lengths) > options.max_chars:
        k = lengths.index(max(lengths))
        raise BudgetError(
            f"section {UNFREEZE}: cell {step.cell.local} prints as {printed(flat[k])}, "
            f"{max(lengths)} characters (max_chars is {options.max_chars})"
        )


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
