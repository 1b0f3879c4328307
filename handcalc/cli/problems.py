"""Commands that make problems: ``generate`` from a seed, ``solve`` an authored document, and
``kinds``, the kinds of exercise there are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .output import emit_problem
from .params import chosen, kind_option, kind_options, sheet_options
from .types import Whole

MAX_SEED = 2**63 - 1  # handcalc.api.MAX_SEED, without importing the engine for --help


@click.command()
@click.option(
    "--seed",
    type=Whole(0, MAX_SEED),
    required=True,
    help="The problem's seed: the same seed gives the same problem everywhere.",
)
@kind_option
@kind_options
@sheet_options
def generate(
    seed: int,
    kind: str,
    fmt: str,
    mode: str | None,
    paper: str | None,
    orientation: str | None,
    mono: bool | None,
    secret: str | None,
    output: Path | None,
    **options: Any,
) -> None:
    """Generate a problem from a seed and solve it exactly.

    \b
    Examples:
      handcalc generate --seed 7
      handcalc generate --seed 7 --sizes 2,3,2 --activation sigmoid --loss sigmoid_bce
      handcalc generate --seed 3 --transcendental base --reduction mean -o p.json
      handcalc generate --seed 7 --format pdf -o worksheet.pdf
      handcalc generate --seed 7 --format pdf --key --paper letter -o key.pdf
      handcalc generate --seed 7 --sizes 6,5,5,4 --batch 4 --format pdf --paper a3 -o big.pdf
      handcalc generate --seed 7 --format pdf --mono --orientation portrait -o grey.pdf
      handcalc generate --seed 7 --format html --solutions -o solutions.html
    """
    from ..api import generate as generate_problem

    problem = generate_problem(kind=kind, seed=seed, **chosen(options))
    emit_problem(problem, fmt, mode, paper, secret, output, orientation, mono)


@click.command()
@click.argument("file", type=click.File("rb"))
@sheet_options
def solve(
    file: Any,
    fmt: str,
    mode: str | None,
    paper: str | None,
    orientation: str | None,
    mono: bool | None,
    secret: str | None,
    output: Path | None,
) -> None:
    """Solve a problem document: your own numbers in, every step out.

    FILE is JSON with "spec" and "given" (sizes and batch may be left out: they are read from
    the matrices); "-" reads standard input.

    \b
    Example document:
      {"spec": {"activation": "relu", "loss": "softmax_ce", "lr": "1/10"},
       "given": {"X": [["1"], ["2"]], "W1": [["1", "-1"], ["2", "0"]], "b1": [["0"], ["1"]],
                 "W2": [["1", "1"], ["-1", "2"]], "b2": [["0"], ["0"]], "Y": [["1"], ["0"]]}}

    \b
    Examples:
      handcalc solve mine.json -o solved.json
      handcalc solve mine.json --format pdf --key -o key.pdf
    """
    from ..api import solve as solve_problem

    problem = solve_problem(file.read(10_000_001))
    emit_problem(problem, fmt, mode, paper, secret, output, orientation, mono)


@click.command("kinds")
def kinds_command() -> None:
    """List the kinds of exercise, one a line: the name --kind takes, and what it is.

    \b
    Example:
      handcalc kinds
    """
    from .. import kinds

    width = max(map(len, kinds.KINDS), default=0)
    for name, kind in kinds.KINDS.items():
        click.echo(f"{name:<{width}}  {kind.description}")
