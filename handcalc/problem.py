"""A solved problem: spec, given values and every step's exact value; the exchange format."""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import sympy

from . import kinds
from .errors import DocumentError, HandcalcError
from .graph import Graph, Step, resolve
from .jsondoc import read_json_object
from .lookup import Lookup, lookup_tables
from .matrix import (
    Mat,
    entry_float,
    expressions,
    rational,
    to_floats,
    to_fraction,
    to_strings,
    to_sympy,
)
from .spec import Spec
from .values import format_decimal, parse_expression, parse_number

FORMAT = "handcalc/problem@1"
MAX_DOCUMENT_CHARS = 2_000_000


@dataclass(frozen=True, eq=False)
class Problem:
    """A problem and its answer key. ``problem["dW2"]`` is a sympy matrix; ``problem.steps`` the
    steps in the order a student works them."""

    spec: Spec
    graph: Graph
    values: Mapping[str, Mat]
    seed: int | None = None
    kind: str = "mlp"

    def __post_init__(self) -> None:
        # graders cache per problem: its values must never change after it is made
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))

    def __eq__(self, other: object) -> bool:
        """Two problems are equal when they are the same exercise with the same key: kind, seed,
        spec, steps and every cell's value (``from_json(p.to_json()) == p``)."""
        if not isinstance(other, Problem):
            return NotImplemented
        return self is other or (
            (self.kind, self.seed, self.spec, self.graph.names)
            == (other.kind, other.seed, other.spec, other.graph.names)
            and self.values.keys() == other.values.keys()
            and all(_same(v, other.values[k]) for k, v in self.values.items())
        )

    def __hash__(self) -> int:
        # equal problems share kind, seed and spec; the values need not be hashed for that
        return hash((self.kind, self.seed, self.spec))

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.graph.steps

    @property
    def given(self) -> dict[str, Mat]:
        return {name: self.values[name] for name in self.graph.given}

    @functools.cached_property
    def tables(self) -> dict[str, Lookup]:
        """The lookup tables the sheet prints in ``table`` mode, by their name in the exchange
        format (``sigmoid(Z1)``, ``softmax(Z3)``): each keyed by its argument, with distractor
        rows; the cells they feed (``A1``) are answers like any other."""
        return lookup_tables(self.graph, self.values, self.spec.max_chars)

    def __getitem__(self, name: str) -> Any:
        return self.value(name).to_Matrix().as_immutable()

    def value(self, name: str) -> Mat:
        """A cell's exact value as a sympy ``DomainMatrix``."""
        try:
            return self.values[resolve(name)]
        except KeyError:
            raise KeyError(f"no cell {name!r}; cells: {', '.join(self.values)}") from None

    def text(self, name: str) -> list[list[str]]:
        """A cell's entries as the exchange format writes them."""
        value = self.value(name)
        digits = self.graph[name].op.decimals if name in self.graph.names else None
        # a document from before the table-mode mse loss was rounded keeps its exact loss
        if digits is not None and value.domain.is_QQ and _decimal(value, digits):
            return [
                [format_decimal(to_fraction(x), digits) for x in row] for row in value.to_list()
            ]
        return to_strings(value)

    def describe(self) -> str:
        return self.spec.describe()

    # --- the exchange format -------------------------------------------------------------------

    def to_dict(self, answers: bool = True) -> dict[str, Any]:
        """The exchange document; with ``answers=False`` the student's copy: every step's name,
        formula, inputs and shape, but no value. ``tables`` holds the lookup tables the sheet
        prints (argument → value rows, distractors included; never an answer cell)."""
        doc: dict[str, Any] = {"format": FORMAT, "kind": self.kind}
        if self.seed is not None:
            doc["seed"] = self.seed
        doc["spec"] = self.spec.to_dict()
        doc["given"] = {
            name: (self.text(name)[0][0] if name == "lr" else self.text(name))
            for name in self.graph.given
        }
        tables = self.tables
        if tables:
            doc["tables"] = {name: table.to_dict() for name, table in tables.items()}
        doc["steps"] = [
            {
                "name": s.name,
                "phase": s.phase,
                "formula": s.formula,
                "inputs": list(s.inputs),
                **(
                    {"value": self.text(s.name), "approx": to_floats(self.values[s.name])}
                    if answers
                    else {"shape": list(self.values[s.name].shape)}
                ),
            }
            for s in self.steps
        ]
        return doc

    def to_json(self) -> str:
        """The document as JSON text, one matrix per line (byte-identical for the same problem)."""
        return dumps(self.to_dict())

    @classmethod
    def from_json(cls, doc: str | bytes | Mapping[str, Any]) -> Problem:
        """Read a solved document back (``solve`` fills in the steps of an authored one)."""
        data = load_document(doc)
        if "steps" not in data:
            raise DocumentError(
                "steps: missing; this is an authored problem: solve it first "
                "(handcalc solve FILE, or handcalc.solve(doc))"
            )
        spec, given, graph, seed, kind = read_header(data)
        steps = data["steps"]
        if not isinstance(steps, list) or [
            s.get("name") if isinstance(s, dict) else None for s in steps
        ] != list(graph.names):
            raise DocumentError(f"steps: expected the steps {', '.join(graph.names)} in order")
        values = dict(given)
        for s in steps:
            values[s["name"]] = read_values(
                s.get("value"),
                f"steps.{s['name']}.value",
                graph.shape(s["name"]),
                exact=spec.transcendental != "table",
            )
        return cls(spec, graph, values, seed, kind)

    def _repr_html_(self) -> str:
        """Jupyter shows a problem as its answer key's by-hand grids."""
        from .render import grid_html

        return grid_html(self)

    def __repr__(self) -> str:
        head = f"Problem({self.kind}, seed={self.seed}): {self.describe()}"
        lines = [head, "given:"]
        lines += [f"  {name} = {_inline(self.text(name))}" for name in self.graph.given]
        lines.append("steps:")
        lines += [f"  {s.formula} = {_inline(self.text(s.name))}" for s in self.steps]
        return "\n".join(lines)


def _same(a: Mat, b: Mat) -> bool:
    """Equal values: equal entries, whichever domain holds them (a rational in EXRAW is still
    that rational), and exact-mode expressions that are the same number."""
    if a.shape != b.shape:
        return False
    if a.domain == b.domain and a == b:
        return True
    return all(
        x == y
        or (
            math.isclose(entry_float(x), entry_float(y), rel_tol=1e-12, abs_tol=1e-12)
            and sympy.simplify(to_sympy(x) - to_sympy(y)) == 0
        )
        for row_a, row_b in zip(a.to_list(), b.to_list(), strict=True)
        for x, y in zip(row_a, row_b, strict=True)
    )


def dumps(data: Any, indent: str = "") -> str:
    """JSON with objects indented and every list of plain values (or of such lists) on one line."""
    if isinstance(data, Mapping):
        if not data:
            return "{}"
        inner = indent + "  "
        items = [
            f"{inner}{json.dumps(k, ensure_ascii=False)}: {dumps(v, inner)}"
            for k, v in data.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(data, list) and any(isinstance(v, Mapping) for v in data):
        inner = indent + "  "
        return "[\n" + ",\n".join(inner + dumps(v, inner) for v in data) + "\n" + indent + "]"
    return json.dumps(data, ensure_ascii=False)


def _decimal(value: Mat, digits: int) -> bool:
    return all(
        (to_fraction(x) * 10**digits).denominator == 1 for row in value.to_list() for x in row
    )


def _inline(rows: list[list[str]]) -> str:
    if len(rows) == 1 and len(rows[0]) == 1:
        return rows[0][0]
    return "[" + "; ".join(" ".join(row) for row in rows) + "]"


def load_document(doc: str | bytes | Mapping[str, Any]) -> dict[str, Any]:
    fields = {"format", "kind", "seed", "spec", "given", "tables", "steps"}
    data = read_json_object(doc, "document", MAX_DOCUMENT_CHARS, fields)
    fmt = data.get("format", FORMAT)
    if fmt != FORMAT:
        raise DocumentError(f"format: {fmt!r} is not accepted; accepted: {FORMAT!r}")
    return data


def read_header(data: Mapping[str, Any]) -> tuple[Any, dict[str, Mat], Graph, int | None, str]:
    """Kind, seed, spec and given of a document, validated; the step graph they define."""
    kind = data.get("kind", "mlp")
    module = kinds.get(kind)
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise DocumentError(f"seed: expected a whole number or nothing, got {seed!r}")
    raw_given = data.get("given")
    if raw_given is None:
        raise DocumentError("given: missing; an authored problem needs spec and given")
    options = data.get("spec", {})
    if not isinstance(options, Mapping):
        raise DocumentError(f"spec: expected an object of options, got {type(options).__name__}")
    if isinstance(raw_given, Mapping):
        options = module.infer_options(options, raw_given)
    try:
        spec = module.Options.from_options(options)
    except HandcalcError as e:
        raise DocumentError(
            f"spec.{e}" if not str(e).startswith("unknown") else f"spec: {e}"
        ) from None
    given = module.read_given(spec, raw_given)
    return spec, given, module.build(spec), seed, kind


def read_values(raw: Any, where: str, shape: tuple[int, int], exact: bool) -> Mat:
    rows, cols = shape
    if (
        not isinstance(raw, list)
        or len(raw) != rows
        or not all(isinstance(r, list) and len(r) == cols for r in raw)
    ):
        raise DocumentError(f"{where}: expected a {rows} × {cols} matrix (a list of rows)")
    try:
        return rational([[parse_number(v, where) for v in row] for row in raw])
    except HandcalcError:
        if not exact:
            raise
    return expressions([[parse_expression(v, where) for v in row] for row in raw])
