"""``handcalc grade``: a student's answers on a solved problem, graded cell by cell."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .output import emit
from .params import output_option
from .types import CellWeight


@click.command()
@click.argument("problem", type=click.File("rb"))
@click.argument("answers", type=click.File("rb"))
@click.option(
    "--tolerance",
    type=click.FloatRange(0, 1, max_open=True),
    default=None,
    help="Relative tolerance for irrational (exact-mode) entries [0.01].",
)
@click.option(
    "--carried-credit",
    type=click.FloatRange(0, 1),
    default=None,
    help="Credit for an entry carried forward from your own earlier cells [1].",
)
@click.option(
    "--weight",
    "weights",
    type=CellWeight(),
    metavar="CELL=W",
    multiple=True,
    help="A cell's weight in the score (repeatable; every cell weighs 1 otherwise).",
)
@output_option
def grade(
    problem: Any,
    answers: Any,
    tolerance: float | None,
    carried_credit: float | None,
    weights: tuple[tuple[str, float], ...],
    output: Path | None,
) -> None:
    """Grade a student's ANSWERS on a solved PROBLEM; print the report as JSON.

    PROBLEM is a solved problem document (from generate or solve); ANSWERS is
    {"cells": {"Z1": [["2", "1"], ...], ...}}. Either may be "-" for standard input.

    \b
    Examples:
      handcalc generate --seed 7 -o p.json
      handcalc grade p.json answers.json
      handcalc grade p.json answers.json --tolerance 0.001 --carried-credit 0.5
      handcalc grade p.json answers.json --weight loss=0 --weight dW1=2
    """
    from ..grading import DEFAULT_TOLERANCE
    from ..grading import grade as grade_answers

    report = grade_answers(
        problem.read(10_000_001),
        answers.read(10_000_001),
        tolerance=DEFAULT_TOLERANCE if tolerance is None else tolerance,
        carried_credit=1.0 if carried_credit is None else carried_credit,
        weights=dict(weights),
    )
    emit(report.to_json(), output)
