"""The step graph: cells, each computed by one exact op from other cells."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sympy.polys.matrices import DomainMatrix

from .cells import Cell
from .matrix import Mat, as_mat
from .ops import Op

#: the phases of a pass, in the order a student works them, and their titles
PHASES = {
    "forward": "Forward pass",
    "loss": "Loss",
    "backward": "Backward pass",
    "update": "Update",
    # the batchnorm kind's phases after its update (any other kind may use them too)
    "statistics": "Running statistics",
    "fold": "Folding BN into the linear layer (eval mode)",
    "affine": "BN as an affine layer (eval mode)",
}
Shape = tuple[int, int]
#: other names for cells: ``A0`` is the input ``X``, not a cell of its own
ALIASES = {"A0": "X"}


def resolve(name: str) -> str:
    return ALIASES.get(name, name)


@dataclass(frozen=True)
class Step:
    """How one cell is computed: ``cell = op(*inputs)``, and the cell's shape."""

    cell: Cell
    phase: str
    op: Op
    inputs: tuple[str, ...]
    shape: Shape | None = None

    @property
    def name(self) -> str:
        return self.cell.name

    @property
    def layer(self) -> int | None:
        return self.cell.layer

    @property
    def section(self) -> str:
        return self.cell.section

    @property
    def formula(self) -> str:
        return self.op.formula(self.name, *self.inputs)

    @property
    def words(self) -> str:
        return self.op.words

    def run(self, values: Mapping[str, Any]) -> Mat:
        """Compute this cell from ``values`` (a student's own values work as well as the key's):
        cell name → matrix, as ``Problem.value`` or ``problem[name]`` give them; ``A0`` may also
        be given as ``X``, and the other way round."""
        args = []
        for name in self.inputs:
            value = values.get(name)
            if value is None:
                value = values.get(resolve(name))
            if value is None:
                raise KeyError(f"{self.name} needs {name}; given: {', '.join(values)}")
            args.append(value if isinstance(value, DomainMatrix) else as_mat(value))
        return self.op(*args)


@dataclass(frozen=True)
class Graph:
    """Steps in topological order, and the names of the given cells they start from (with their
    shapes, where the kind gives them)."""

    given: tuple[str, ...]
    steps: tuple[Step, ...]
    given_shapes: Mapping[str, Shape] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, given: Iterable[str] | Mapping[str, Shape], steps: Iterable[Step]) -> Graph:
        """Order ``steps`` topologically (keeping their order where it is free) and check them;
        ``given`` names the given cells, or maps each to its shape."""
        shapes = dict(given) if isinstance(given, Mapping) else {}
        given = tuple(given)
        pending = list(steps)
        known = set(given) | set(ALIASES)
        ordered: list[Step] = []
        while pending:
            ready = next((s for s in pending if all(resolve(n) in known for n in s.inputs)), None)
            if ready is None:
                pending_names = {s.name for s in pending}
                missing = {resolve(n) for s in pending for n in s.inputs} - known - pending_names
                why = f"no step computes {sorted(missing)}" if missing else "the steps form a cycle"
                raise ValueError(f"step graph: {why}")
            if ready.name in known:
                raise ValueError(f"step graph: cell {ready.name} is defined twice")
            pending.remove(ready)
            ordered.append(ready)
            known.add(ready.name)
        return cls(given, tuple(ordered), shapes)

    @functools.cached_property
    def _index(self) -> dict[str, Step]:
        return {step.name: step for step in self.steps}

    def __getitem__(self, name: str) -> Step:
        return self._index[name]

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def shape(self, name: str) -> Shape:
        """The shape of a given cell or a step's cell (KeyError where the kind did not say)."""
        name = resolve(name)
        shape = self.given_shapes.get(name) or (self[name].shape if name in self else None)
        if shape is None:
            raise KeyError(name)
        return shape

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.steps)

    def evaluate(
        self,
        given: Mapping[str, Mat],
        finish: Callable[[str, Mat], Mat] = lambda name, value: value,
    ) -> dict[str, Mat]:
        """Every cell's value: the given ones, then each step in order (``finish`` touches each)."""
        values = dict(given)
        for step in self.steps:
            values[step.name] = finish(step.name, step.run(values))
        return values
