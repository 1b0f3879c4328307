"""The single neuron's sheet: the generic sheet of its cells (with the lookup table where
``table`` mode has one, the sigmoid's), and the neuron drawn as a computation graph above the grids
(:mod:`.figures`). The grids stay the answer boxes the grader and the web form read; the
drawing is a picture of the same values, blank on the worksheet and filled on the key."""

from __future__ import annotations

from dataclasses import replace

from ..problem import Problem
from .figures import neuron_figure
from .generic import generic_sheet
from .model import Sheet

TITLE = "A single neuron by hand"


def neuron_sheet(problem: Problem) -> Sheet:
    """The generic sheet (its lookup table after the given values) with the drawing."""
    return replace(generic_sheet(problem), title=TITLE, figures=(neuron_figure(problem),))
