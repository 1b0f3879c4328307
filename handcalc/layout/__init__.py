"""The by-hand sheet as a model: which matrix sits where; which entries are given, blank, filled.

The layout is decided once, here, from a problem's step graph; templates only turn it into markup,
so the worksheet, the answer key, the worked solutions and the web page are views of one model.

- :mod:`.model` the model itself (:class:`Sheet`, :class:`Section`, :class:`Grid`,
  :class:`Block`, :class:`Box`, :class:`Mark`), plain dataclasses that measure nothing;
- :mod:`.place` the two passes every geometry is laid out in (grid units, millimetres on paper as
  :mod:`handcalc.measure` measures them) and their joining into grids;
- a geometry per kind, registered in :data:`GEOMETRIES` (:mod:`.mlp`, with its words in
  :mod:`.prose` and its lookup tables in :mod:`.tables`), and :mod:`.generic`, the fallback for
  a kind without one and the guard that adds any step a geometry leaves out.

The grid partial (``templates/_grid.html``) — a stable contract for the web service
    ::

        {% from "_grid.html" import grid %}
        {{ grid(g, mode="form", answers=answers, marks=marks, feedback=feedback,
                u=12, h=8, unit="mm") }}

    ``g`` is a :class:`Grid` (``build_sheet(problem).grids`` lists all of them; ``sheet.sections``
    groups them). ``mode`` is ``"worksheet"``, ``"key"`` or ``"form"``. In form mode every entry of
    an ``answer`` block is ``<input name="{cell}[{i}][{j}]">`` with 0-based ``i``, ``j`` (e.g.
    ``dW2[0][1]``); ``answers`` (cell → rows of strings, optional) pre-fills them; ``marks`` (cell
    → rows of statuses among :data:`handcalc.grading.STATUSES`: ``correct``, ``carried``,
    ``wrong``, ``missing``, ``invalid``, optional) adds the class ``mark-{status}`` to each entry;
    ``feedback`` (cell → rows of strings, or cell → one string for the whole cell, optional)
    becomes the entry's or block's ``title`` tooltip. ``u`` and ``h`` are an entry's width and
    height in ``unit``. The CSS the partial needs is ``grid_css()`` in :mod:`handcalc.render`
    (file ``templates/grid.css``); ``template_loader()`` there is a Jinja loader for the
    templates. :attr:`Sheet.inputs` lists the cells a student fills. With ``marks`` (or in form
    mode) a grid is a table with one cell per entry; otherwise it is the lean print markup (one
    text box per matrix).
"""

from __future__ import annotations

from collections.abc import Callable

from ..conventions import instructions
from ..measure import (
    BAND_MM,
    CHAR_MM,
    ENTRY_PT,
    GAP,
    LABEL_PT,
    MARK_PT,
    NOTCH,
    ONES_MM,
    ROW_MM,
)
from ..printing import printed
from ..problem import Problem
from .finetune import finetune_sheet
from .generic import complete, generic_sheet
from .mlp import mlp_sheet
from .model import ROLES, Block, Box, ExactValue, Figure, Grid, Mark, Mono, Section, Sheet
from .neuron import neuron_sheet
from .place import on_paper, shapes

#: a kind's own sheet, by kind name; a kind not listed gets :func:`generic_sheet`
GEOMETRIES: dict[str, Callable[[Problem], Sheet]] = {"mlp": mlp_sheet}
GEOMETRIES["finetune"] = finetune_sheet
GEOMETRIES["neuron"] = neuron_sheet


def build_sheet(problem: Problem) -> Sheet:
    """The layout of ``problem``'s worksheet, key and solutions: its kind's geometry (the generic
    one where its kind has none), with every step it leaves out added generically."""
    geometry = GEOMETRIES.get(problem.kind, generic_sheet)
    return complete(problem, geometry(problem))


__all__ = [
    "BAND_MM",
    "CHAR_MM",
    "ENTRY_PT",
    "GAP",
    "GEOMETRIES",
    "LABEL_PT",
    "MARK_PT",
    "NOTCH",
    "ONES_MM",
    "ROLES",
    "ROW_MM",
    "Block",
    "Box",
    "ExactValue",
    "Figure",
    "Grid",
    "Mark",
    "Mono",
    "Section",
    "Sheet",
    "build_sheet",
    "generic_sheet",
    "instructions",
    "mlp_sheet",
    "on_paper",
    "printed",
    "shapes",
]
