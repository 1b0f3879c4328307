"""A cell's identity — section, symbol, layer — and its name, the one string form of it.

Names are written here and read back here only, at the edges (the exchange format, web forms):
everything inside works with :class:`Cell`. ``s1.dW2`` is the cell ``dW`` of layer 2 in section
``s1``; ``W3_new`` is the updated ``W`` of layer 3; ``loss`` has no layer; ``A0`` is the input.

>>> Cell.parse("frozen.W3_new")
Cell(symbol='W', layer=3, section='frozen', new=True)
>>> Cell("dZ", 2, "s1").name
's1.dZ2'
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace

from .errors import DocumentError

MAX_NAME = 40
_NAME = re.compile(
    r"(?:(?P<section>[a-z][a-z0-9]{0,15})\.)?"
    r"(?P<symbol>[A-Za-z](?:[A-Za-z_]{0,23}[A-Za-z])?)(?P<layer>\d{1,2})?(?P<new>_new)?"
)
#: a form field: a cell name and a zero-based entry, ``s1.dW2[1][0]``
_FIELD = re.compile(r"(?P<name>[A-Za-z0-9_.]{1,40})\[(?P<i>\d{1,3})\]\[(?P<j>\d{1,3})\]")


@dataclass(frozen=True, order=True)
class Cell:
    """Which value a cell holds: ``symbol`` (``Z``, ``dW``, ``loss``, ``mu``) of ``layer`` (None
    for a cell of the whole network), in ``section`` ("" where every section shares it); ``new``
    for a parameter after the update."""

    symbol: str
    layer: int | None = None
    section: str = ""
    new: bool = False

    @functools.cached_property  # one string a cell, however often it is asked for
    def name(self) -> str:
        prefix = f"{self.section}." if self.section else ""
        layer = "" if self.layer is None else str(self.layer)
        return f"{prefix}{self.symbol}{layer}{'_new' if self.new else ''}"

    def __str__(self) -> str:
        return self.name

    @property
    def local(self) -> str:
        """The name within its section (``dW2`` of ``s1.dW2``)."""
        return replace(self, section="").name

    def updated(self) -> Cell:
        """This parameter after the update (``W3`` → ``W3_new``)."""
        return replace(self, new=True)

    def grad(self) -> Cell:
        """The gradient of the loss with respect to this cell (``W3`` → ``dW3``)."""
        return replace(self, symbol=f"d{self.symbol}")

    def within(self, section: str) -> Cell:
        return replace(self, section=section)

    @classmethod
    def parse(cls, name: str) -> Cell:
        """The cell a name written by :attr:`name` stands for; DocumentError for anything else."""
        m = _NAME.fullmatch(name) if isinstance(name, str) and len(name) <= MAX_NAME else None
        if m is None:
            raise DocumentError(f"{name!r} is not a cell name (such as Z1, dW2, s1.W2_new, loss)")
        layer = m["layer"]
        return cls(m["symbol"], int(layer) if layer else None, m["section"] or "", bool(m["new"]))


def field_name(name: str, i: int, j: int) -> str:
    """The form field of entry (i, j) of a cell, zero-based: ``s1.dW2[1][0]``."""
    return f"{name}[{i}][{j}]"


def read_field(key: str) -> tuple[str, int, int] | None:
    """A form field's cell name and entry, or None for a field that is not an entry."""
    m = _FIELD.fullmatch(key)
    return None if m is None else (m["name"], int(m["i"]), int(m["j"]))
