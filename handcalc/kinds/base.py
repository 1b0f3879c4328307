"""What a kind of exercise is: its options, its step graph, how its given values are drawn from a
seed and read from what an author typed. Everything else — solving, the exchange format, the
sheet (through the generic layout unless a geometry is registered for the kind), the worked
solutions and the grader — works from the graph, for every kind alike."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from ..errors import DocumentError
from ..graph import Graph
from ..matrix import Mat, rational
from ..options import Options
from ..values import parse_number
from .given import read_matrix, shape_text


class Kind(ABC):
    """A kind of exercise; a subclass is registered once, with :func:`handcalc.kinds.register`."""

    #: the name documents and the CLI use (``--kind mlp``)
    name: ClassVar[str]
    #: one line for ``handcalc kinds`` and the practice page's menu
    description: ClassVar[str]
    #: the options of a problem of this kind (the exchange format's ``spec``)
    Options: ClassVar[type[Options]]

    @abstractmethod
    def build(self, options: Any) -> Graph:
        """The step graph; every step knows its cell and shape, the graph its given cells'."""

    @abstractmethod
    def draw(self, options: Any, seed: int) -> dict[str, Mat]:
        """Nice given values from ``seed``, deterministically, and every cell solved from them
        (a generator checks its budgets on the solution, the values the sheet prints)."""

    def solve(self, options: Any, given: Mapping[str, Mat]) -> dict[str, Mat]:
        """Every cell's exact value from the given ones."""
        return self.build(options).evaluate(given)

    def instructions(self, problem: Any) -> tuple[str, ...]:
        """Sentences for the top of the sheet after the generic layout's own: the conventions in
        force, a question to answer on the sheet (none by default). The MLP's conventions are
        ``handcalc.conventions.instructions``, for a kind whose options are the MLP's."""
        return ()

    def infer_options(self, options: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
        """Options an author left out that the given values imply (none by default)."""
        return dict(options)

    def read_given(self, options: Any, raw: Any) -> dict[str, Mat]:
        """Validate an author's ``given`` object against the graph; each message names its field.
        ``lr``, where the options have one, may be left out."""
        if not isinstance(raw, Mapping):
            raise DocumentError(f"given: expected an object of matrices, got {type(raw).__name__}")
        graph = self.build(options)
        unknown = sorted(set(raw) - set(graph.given))
        if unknown:
            raise DocumentError(
                f"given: unknown cell {unknown[0]!r}; this problem's given cells are "
                f"{', '.join(graph.given)}"
            )
        raw = dict(raw)
        lr = getattr(options, "lr", None)
        if lr is not None:
            raw.setdefault("lr", options.to_dict()["lr"])
        out: dict[str, Mat] = {}
        for name in graph.given:
            shape = graph.shape(name)
            if name not in raw:
                raise DocumentError(
                    f"given.{name}: missing; a {shape_text(shape)} matrix is needed"
                )
            if name == "lr" and lr is not None:
                value = parse_number(raw["lr"], "given.lr")
                if value != lr:
                    raise DocumentError(
                        f"given.lr: {raw['lr']!r} differs from spec.lr "
                        f"{options.to_dict()['lr']!r}; give one, or make them agree"
                    )
                out["lr"] = rational([[value]])
                continue
            out[name] = read_matrix(raw[name], f"given.{name}", shape)
        return out
