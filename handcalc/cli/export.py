"""``export``: a generated problem, or a bank of variants, as questions for a quiz engine (QTI 2.1,
QTI 1.2 as Canvas imports it, Moodle XML); the work is :mod:`handcalc.export`'s."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .params import chosen, kind_option, kind_options
from .problems import MAX_SEED
from .types import Whole

EXPORT_FORMATS = ["qti21", "qti12", "moodle"]  # handcalc.export.FORMATS, without its imports
MAX_VARIANTS = 500


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    required=True,
    help="qti21: an IMS content package (zip); qti12: the zip Canvas imports; moodle: Moodle XML.",
)
@click.option(
    "--seed",
    type=Whole(0, MAX_SEED),
    required=True,
    help="The problem's seed; with --variants, the first variant's (then seed+1, seed+2, …).",
)
@click.option(
    "--variants",
    type=Whole(1, MAX_VARIANTS),
    default=1,
    show_default=True,
    help="How many variants the bank holds, each in a question category of its own.",
)
@click.option(
    "--title",
    default="handcalc",
    show_default=True,
    help="The bank's name (the categories are TITLE: variant N (seed S)).",
)
@kind_option
@kind_options
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The file to write (.zip for QTI, .xml for Moodle).",
)
def export_command(
    fmt: str, seed: int, variants: int, title: str, kind: str, output: Path, **options: Any
) -> None:
    """Export a problem, or a bank of variants, as quiz questions (QTI 2.1, Canvas, Moodle).

    One numerical question per graded entry (in Moodle a cloze question per cell, its entries
    numerical sub-answers), the given matrices and lookup tables in the stem; a question
    category per variant (seed, seed+1, …).

    \b
    Examples:
      handcalc export --format moodle --seed 7 -o quiz.xml
      handcalc export --format qti21 --seed 1 --variants 30 -o bank.zip
      handcalc export --format qti12 --seed 7 --kind neuron -o canvas.zip
    """
    if seed + variants - 1 > MAX_SEED:
        raise click.BadParameter(
            f"seed + variants - 1 must be at most {MAX_SEED}", param_hint="--seed"
        )
    from ..api import generate
    from ..export import export

    kind_choices = chosen(options)
    problems = [generate(kind=kind, seed=seed + n, **kind_choices) for n in range(variants)]
    output.write_bytes(export(problems, fmt, title))
    click.echo(f"wrote {output} ({variants} variant{'' if variants == 1 else 's'})", err=True)
