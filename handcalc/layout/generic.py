"""The sheet of any kind, from its step graph alone: the fallback that lets a new kind or op be
printed, answered and graded on its first day, and the guard that keeps every step on a sheet.

:func:`generic_sheet` prints the given cells, then one grid per step — grouped by the step's
section ("" first where it comes first), then by phase in the order of
:data:`handcalc.graph.PHASES` — each step's cell a block of answer boxes as many as its shape,
as wide as the key's longest entry needs, labelled with its name; each section lists its steps as
``[n] formula: words``. :func:`complete` adds such grids for the steps a kind's own geometry left
out, so nothing graded is ever missing from the sheet (nor from the web form, which takes its
inputs from :attr:`Sheet.inputs`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from .. import kinds
from ..graph import PHASES, Step
from ..measure import PAPER, UNITS
from ..notation import formula, subscript
from ..problem import Problem
from .model import Grid, Section, Sheet
from .place import Layout, Placer, Raw, exact_values, finish
from .tables import lookup_grids

GIVEN = "Given"
LOOKUP = "Lookup tables"
INSTRUCTION = (
    "Each step's result is a matrix of boxes, one entry a box; its line below the section's "
    "title says how it is computed."
)


def generic_sheet(problem: Problem) -> Sheet:
    """The given cells, then every step's cell as answer boxes, in phase order."""
    given = _given(problem)
    return Sheet(
        title=f"Backpropagation by hand ({problem.kind})",
        description=problem.describe(),
        instructions=(INSTRUCTION, *_instructions(problem)),
        tables=None,
        sections=(*given, *_lookup(problem), *step_sections(problem, problem.steps)),
        exact=exact_values(problem),
    )


def _lookup(problem: Problem) -> tuple[Section, ...]:
    """``table`` mode's lookup tables, side by side after the given values (none elsewhere)."""
    tables = lookup_grids(problem, ())
    return (Section(LOOKUP, tables, inline=True),) if tables else ()


def _instructions(problem: Problem) -> tuple[str, ...]:
    """The kind's own sentences (none for a problem of a kind not registered)."""
    kind = kinds.KINDS.get(problem.kind)
    return kind.instructions(problem) if kind is not None else ()


def complete(problem: Problem, sheet: Sheet) -> Sheet:
    """``sheet`` with the steps it does not hold as answers added as generic sections after its
    own, numbered on from its last step number (``sheet`` itself where nothing is missing)."""
    placed = set(sheet.inputs)
    missing = [s for s in problem.steps if s.name not in placed]
    if not missing:
        return sheet
    last = max((b.step for g in sheet.grids for b in g.blocks), default=0)
    taken = {g.key for g in sheet.grids}
    extra = step_sections(problem, missing, start=last + 1, taken=taken)
    return replace(sheet, sections=(*sheet.sections, *extra))


def ordered(steps: Sequence[Step]) -> list[tuple[str, str, list[Step]]]:
    """``steps`` grouped by section (in the order sections first appear), then by phase (in the
    order of PHASES; a phase it does not list after them, in the order it first appears)."""
    sections: dict[str, dict[str, list[Step]]] = {}
    for step in steps:
        sections.setdefault(step.section, {}).setdefault(step.phase, []).append(step)
    rank = {phase: i for i, phase in enumerate(PHASES)}
    out = []
    for section, phases in sections.items():
        for phase in sorted(phases, key=lambda p: rank.get(p, len(rank))):
            out.append((section, phase, phases[phase]))
    return out


def step_sections(
    problem: Problem, steps: Sequence[Step], start: int = 1, taken: set[str] | None = None
) -> tuple[Section, ...]:
    """A section per section and phase, a grid per step, numbered from ``start`` in the order
    they print."""
    groups = ordered(steps)
    names = [s.name for _, _, group in groups for s in group]
    layout = Layout(problem, set(problem.graph.names))
    layout.numbers = {name: i for i, name in enumerate(names, start=start)}
    sections = []
    for section, phase, group in groups:
        title = PHASES.get(phase, phase.capitalize())
        grids = tuple(
            _grid(problem, layout, s.name, phase, s.layer, _key(s.name, taken)) for s in group
        )
        lines = tuple(f"[{layout.numbers[s.name]}] {_instruction(s)}" for s in group)
        sections.append(
            Section(f"{section}: {title}" if section else title, grids, inline=True, steps=lines)
        )
    return tuple(sections)


def _given(problem: Problem) -> tuple[Section, ...]:
    if not problem.graph.given:
        return ()
    layout = Layout(problem, set(problem.graph.names))
    grids = tuple(
        _grid(problem, layout, name, "given", None, f"given-{name}") for name in problem.graph.given
    )
    return (Section(GIVEN, grids, inline=True),)


def _grid(
    problem: Problem, layout: Layout, name: str, phase: str, layer: int | None, key: str
) -> Grid:
    """One cell on a grid of its own: answer boxes for a step's cell (a given cell printed),
    sized from the cell's shape and, on paper, from the key's longest entry."""
    rows, cols = _shape(problem, name)
    texts = layout.texts(name)
    if (len(texts), len(texts[0]) if texts else 0) != (rows, cols):
        raise ValueError(f"cell {name}: the key's entries are not its shape {rows} × {cols}")
    passes = []
    for metric in (UNITS, PAPER):
        place = Placer(problem, layout.steps, metric, layout)
        place.cell(name, 0.0, metric.band, label=label(name))
        passes.append([Raw(key, layer or 0, place, label(name))])
    (grid,) = finish(passes[0], passes[1], phase, scale=1.0)
    return replace(grid, layer=layer)


def label(name: str) -> str:
    """A cell's name on paper: ``dW₂``, ``s1.dW₂`` (its section kept)."""
    section, dot, local = name.rpartition(".")
    return f"{section}{dot}{subscript(local)}"


def _shape(problem: Problem, name: str) -> tuple[int, int]:
    step = problem.graph[name] if name in problem.graph.names else None
    if step is not None and step.shape is not None:
        return step.shape
    rows, cols = problem.value(name).shape
    return int(rows), int(cols)


def _key(name: str, taken: set[str] | None) -> str:
    key = f"cell-{name}"
    while taken is not None and key in taken:
        key += "+"
    return key


def _instruction(step: Step) -> str:
    words = getattr(step.op, "words", "")
    text = formula(step.formula)
    return f"{text}: {words}" if words else text
