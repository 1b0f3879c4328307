"""The single neuron's sheet: the generic sheet of its cells, the lookup table where ``table``
mode has one (the sigmoid's), and the neuron drawn as a computation graph above the grids
(:mod:`.figures`). The grids stay the answer boxes the grader and the web form read; the
drawing is a picture of the same values, blank on the worksheet and filled on the key."""

from __future__ import annotations

from dataclasses import replace

from ..problem import Problem
from .figures import neuron_figure
from .generic import generic_sheet
from .model import Section, Sheet
from .tables import lookup_grids

TITLE = "A single neuron by hand"


def neuron_sheet(problem: Problem) -> Sheet:
    """The generic sheet with the drawing, and the lookup table after the given values."""
    sheet = generic_sheet(problem)
    sections = sheet.sections
    tables = lookup_grids(problem, ())
    if tables:
        looked = Section("Lookup table", tables, inline=True)
        given = 1 if sections and sections[0].title == "Given" else 0
        sections = (*sections[:given], looked, *sections[given:])
    return replace(sheet, title=TITLE, sections=sections, figures=(neuron_figure(problem),))
