"""The lookup tables of ``table`` mode: each keyed by its argument, with distractor rows.

A table is what a student holds beside the sheet: ``z → σ(z)``, ``z → tanh(z)``, or for a softmax
the column ``(z₁, …, z_K) → (p₁, …, p_K)``. It lists every argument the key's pre-activation
needs, sorted, and others that it does not need: every argument that the common mistakes of the
step before produce (``mistakes.variants`` of the ``Z`` cell: the bias forgotten, ``W``
transposed, every sign flipped), up to as many as the right ones (or six); then, where the
mistakes made fewer than three (or half the right ones), neighbours of the right ones (one more or
one less, then half a unit). So the right row is found only by computing ``Z``, and the table
never prints the answer cell in its shape. A wrong argument whose value reads like a right one's
(a softmax is blind to a shift) or is 0 or ±1 is left out. Values come from the op itself (the
treatment's rounding, largest remainder for a softmax column); where largest remainder moved a
probability off its own rounding so that the column sums to 1, the row says which (the sheet
footnotes it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .graph import Graph, Step, resolve
from .matrix import Mat, rational, to_fraction
from .mistakes import variants
from .notation import printed_length
from .ops import Activate, Softmax
from .transcendental import Table, _largest_remainder
from .values import format_decimal, format_rational

#: distractor rows: at least this many (or half the rows a student needs); from mistakes up to twice
#: as many (or as many as the rows needed)
MIN_DISTRACTORS = 3

Key = tuple[Fraction, ...]


@dataclass(frozen=True)
class Row:
    """One row: an argument (one z, or a softmax column) and the value the sheet gives for it."""

    argument: Key
    value: Key
    #: positions (from 0) whose rounding largest remainder moved so the column sums to 1
    moved: tuple[int, ...] = ()
    #: whether the key's argument cell has this argument (never in the student's copy)
    needed: bool = False

    def to_dict(self, columns: bool, digits: int) -> dict[str, Any]:
        z = [format_rational(q.numerator, q.denominator) for q in self.argument]
        value = [format_decimal(q, digits) for q in self.value]
        out: dict[str, Any] = {"z": z, "a": value} if columns else {"z": z[0], "a": value[0]}
        if self.moved:
            out["moved"] = list(self.moved)
        return out


@dataclass(frozen=True)
class Lookup:
    """The table a cell is read from: ``cell = function(argument)`` for every entry (or column)."""

    name: str  #: the key in the exchange format's ``tables``: ``sigmoid(Z1)``, ``softmax(Z3)``
    cell: str  #: the cell it feeds, ``A1``
    argument: str  #: the cell its arguments come from, ``Z1``
    function: str  #: ``sigmoid``, ``tanh`` or ``softmax``
    digits: int
    rows: tuple[Row, ...]

    @property
    def columns(self) -> bool:
        """Keyed by whole columns (a softmax) rather than by single entries."""
        return self.function == "softmax"

    @property
    def moved(self) -> bool:
        return any(r.moved for r in self.rows)

    def to_dict(self) -> dict[str, Any]:
        """The table as the exchange format writes it (no word of which rows are needed)."""
        return {
            "cell": self.cell,
            "argument": self.argument,
            "function": self.function,
            "digits": self.digits,
            "rows": [r.to_dict(self.columns, self.digits) for r in self.rows],
        }

    def find(self, argument: Iterable[Any]) -> Row | None:
        """The row of ``argument`` (one z, or a column of z), if the table has it."""
        key = tuple(to_fraction(x) for x in argument)
        return next((r for r in self.rows if r.argument == key), None)


def lookup_tables(graph: Graph, values: Mapping[str, Mat], max_chars: int) -> dict[str, Lookup]:
    """The tables of every tabulated step, by their name in the exchange format."""
    out = {}
    for step in graph.steps:
        if step.op.tabulated and values[step.name].domain.is_QQ:
            table = lookup_table(step, graph, values, max_chars)
            out[table.name] = table
    return out


def lookup_table(step: Step, graph: Graph, values: Mapping[str, Mat], max_chars: int) -> Lookup:
    """The table ``step`` (``A = f(Z)`` in ``table`` mode) is read from."""
    op = step.op
    columns = isinstance(op, Softmax)
    treatment: Any = None
    if isinstance(op, Softmax):
        treatment, function = op.treatment, "softmax"
    else:
        assert isinstance(op, Activate)
        treatment, function = getattr(op.activation, "treatment", None), op.activation.name
    assert isinstance(treatment, Table)
    argument = resolve(step.inputs[0])
    z = values[argument]
    needed = list(dict.fromkeys(_pieces(z, columns)))
    rows = {key: _row(step, treatment, key, columns, needed=True) for key in needed}
    shown = {row.value for row in rows.values()}
    # every argument a mistake makes, up to as many as are needed (at least twice the minimum);
    # then neighbours, where the mistakes made fewer than the minimum
    most = max(2 * MIN_DISTRACTORS, len(needed))
    least = max(MIN_DISTRACTORS, len(needed) // 2)
    for key, mistaken in _distractors(step, graph, values, z, columns, needed):
        if len(rows) - len(needed) >= (most if mistaken else least):
            if mistaken:
                continue
            break
        if key in rows or any(printed_length(q) > max_chars for q in key):
            continue
        if columns and _largest_remainder(treatment.digits, key)[1]:
            continue  # a tie the rounding rule would have to break: no row for it
        row = _row(step, treatment, key, columns, needed=False)
        # a row that reads like a right one misleads nobody (a softmax is blind to a shift);
        # 0 and ±1 are values the generator keeps off the sheet
        if row.value in shown or any(v in (0, 1, -1) for v in row.value):
            continue
        rows[key] = row
        shown.add(row.value)
    return Lookup(
        f"{function}({argument})",
        step.name,
        argument,
        function,
        treatment.digits,
        tuple(rows[key] for key in sorted(rows)),
    )


def _pieces(m: Mat, columns: bool) -> list[Key]:
    """A matrix's arguments: its columns (a softmax), or its entries row by row."""
    rows = [[to_fraction(x) for x in row] for row in m.to_list()]
    if columns:
        return [tuple(col) for col in zip(*rows, strict=True)]
    return [(q,) for row in rows for q in row]


def _row(step: Step, treatment: Table, key: Key, columns: bool, needed: bool) -> Row:
    if columns:
        value, moved = treatment.softmax_column(key)
        return Row(key, value, moved, needed)
    (result,) = step.op(rational([[key[0]]])).to_list()[0]
    return Row(key, (to_fraction(result),), (), needed)


def _distractors(
    step: Step,
    graph: Graph,
    values: Mapping[str, Mat],
    z: Mat,
    columns: bool,
    needed: list[Key],
) -> Iterable[tuple[Key, bool]]:
    """Wrong arguments in the order they are offered, each with whether a mistake makes it: the
    mistaken Z cells, one argument of each mistake in turn, then the neighbours of the right
    arguments."""
    found: list[list[Key]] = []
    if resolve(step.inputs[0]) in graph.names:
        source = graph[resolve(step.inputs[0])]
        for _, wrong in variants(source, values):
            if wrong.domain.is_QQ and (not columns or wrong.shape[0] == z.shape[0]):
                found.append([k for k in dict.fromkeys(_pieces(wrong, columns)) if k not in needed])
    while any(found):
        for keys in found:
            if keys:
                yield keys.pop(0), True
    for step_size in (Fraction(1), Fraction(-1), Fraction(1, 2), Fraction(-1, 2)):
        for key in needed:
            for i in range(len(key)):
                yield tuple(q + step_size if k == i else q for k, q in enumerate(key)), False
