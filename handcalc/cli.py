"""The ``handcalc`` command line. Heavy imports (sympy) wait inside commands: --help is fast."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click


class Whole(click.ParamType):
    """A whole number from ``low`` to ``high``, read by the library's one rule for digits."""

    name = "integer"

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        from .errors import HandcalcError
        from .values import parse_whole

        try:
            return parse_whole(value, "value", self.low, self.high)
        except HandcalcError as e:
            self.fail(str(e).removeprefix("value: "), param, ctx)


def spec_options(fn: Any) -> Any:
    """The spec options shared by the commands that make problems (all default to the spec's);
    whole numbers are passed on as typed, for the spec to read (one rule, one message)."""
    options = [
        click.option("--sizes", metavar="N,N,…", help="Inputs, then units per layer [4,3,4,3]."),
        click.option(
            "--activation",
            type=click.Choice(["relu", "leaky_relu", "identity", "sigmoid", "tanh"]),
            help="Hidden activation [relu].",
        ),
        click.option(
            "--loss",
            type=click.Choice(["softmax_ce", "sigmoid_bce", "mse"]),
            help="Output and loss [softmax_ce].",
        ),
        click.option("--batch", metavar="N", help="Samples (columns of X) [2]."),
        click.option(
            "--reduction", type=click.Choice(["sum", "mean"]), help="Loss over the batch [sum]."
        ),
        click.option("--lr", metavar="Q", help="Learning rate, exact: 1/10, 0.05 [1/10]."),
        click.option("--frozen", metavar="L,…", help="Layers not trained, e.g. 1,2 [none]."),
        click.option("--slope", metavar="Q", help="Leaky ReLU slope [1/10]."),
        click.option(
            "--transcendental",
            type=click.Choice(["table", "base", "exact"]),
            help="How exp/log/sigmoid/tanh are kept exact [table].",
        ),
        click.option("--digits", metavar="N", help="Decimals of table values [2]."),
        click.option("--base", metavar="N", help="Base b written for e in base mode [3]."),
        click.option(
            "--weight-max", metavar="N", help="Largest |weight| drawn; biases stay within ±2 [3]."
        ),
        click.option("--input-max", metavar="N", help="Largest |input| drawn [3]."),
        click.option(
            "--max-chars",
            metavar="N",
            help="Longest entry as printed: a decimal within 6 places, else a fraction [10].",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _count(n: int, noun: str) -> str:
    """``1 student``, ``2 students``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _fail(error: Exception) -> click.ClickException:
    return click.ClickException(str(error))


def _emit(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


FORMATS = ["json", "html", "pdf"]


def sheet_options(fn: Any) -> Any:
    """How a problem is written out: the format, which sheet, which paper, which secret signs its
    code, and where to."""
    options = [
        click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            default="json",
            show_default=True,
            help="Output format: the solved JSON document, or a printable sheet.",
        ),
        click.option(
            "--key",
            "mode",
            flag_value="key",
            help="The answer key (html/pdf) instead of the worksheet.",
        ),
        click.option(
            "--solutions",
            "mode",
            flag_value="solutions",
            help="Worked solutions (html/pdf) instead of the worksheet.",
        ),
        click.option(
            "--paper",
            type=click.Choice(["a4", "letter", "a3"]),
            help="Paper size of html/pdf sheets [a4].",
        ),
        click.option(
            "--orientation",
            type=click.Choice(["auto", "portrait", "landscape"]),
            help="Page orientation of html/pdf sheets; auto: whichever takes fewer pages [auto].",
        ),
        click.option(
            "--mono",
            is_flag=True,
            default=None,
            help="Black and grey instead of the colour roles (for photocopiers).",
        ),
        click.option(
            "--secret",
            envvar="HANDCALC_SECRET_KEY",
            metavar="TEXT",
            help="Secret for the verification code [env HANDCALC_SECRET_KEY].",
        ),
        click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False, path_type=Path),
            help="Write to FILE instead of standard output.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _emit_problem(
    problem: Any,
    fmt: str,
    mode: str | None,
    paper: str | None,
    secret: str | None,
    output: Path | None,
    orientation: str | None = None,
    mono: bool | None = None,
) -> None:
    """JSON as before; html and pdf are the worksheet, the key or the worked solutions."""
    if fmt == "json":
        given = [
            f"--{name}"
            for name, value in (
                (mode, mode),
                ("paper", paper),
                ("orientation", orientation),
                ("mono", mono),
            )
            if value
        ]
        if given:
            raise click.UsageError(
                f"{given[0]} applies to --format html or pdf; the JSON document holds "
                "the problem and its whole key"
            )
        _emit(problem.to_json(), output)
        return
    from .errors import HandcalcError
    from .render import render_html, render_pdf

    mode, paper = mode or "worksheet", paper or "a4"
    turn, grey = orientation or "auto", bool(mono)
    try:
        if fmt == "html":
            text = render_html(problem, mode, paper, secret=secret, orientation=turn, mono=grey)
        else:
            pdf = render_pdf(problem, mode, paper, secret=secret, orientation=turn, mono=grey)
    except HandcalcError as e:
        raise _fail(e) from None
    if fmt == "html":
        _emit(text, output)
        return
    if output is None:
        if sys.stdout.isatty():
            raise click.UsageError("a PDF is not for the terminal: add -o FILE.pdf")
        sys.stdout.buffer.write(pdf)
    else:
        output.write_bytes(pdf)
        click.echo(f"wrote {output}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="handcalc")
def cli() -> None:
    """Backpropagation by hand: exact exercises, worksheets, answer keys and grading.

    \b
    handcalc generate --seed 7                    a problem and its answer key, as JSON
    handcalc generate --seed 7 --format pdf -o w.pdf      the worksheet (--key: the answer key)
    handcalc batch roster.csv --out sheets/       a worksheet and a key for every student
    handcalc solve my_problem.json                solve a problem you typed yourself
    handcalc grade problem.json answers.json      grade a student's answers, cell by cell
    handcalc trace --seed 7 --out trace7/         every weight and bias over 200 epochs, plots
    handcalc health --out health/                 a deep network's health from three starts
    handcalc COMMAND --help                       the options of a command
    """


@cli.command()
@click.option(
    "--seed",
    type=Whole(0, 2**63 - 1),
    required=True,
    help="The problem's seed: the same seed gives the same problem everywhere.",
)
@click.option("--kind", default="mlp", show_default=True, help="Kind of exercise.")
@spec_options
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
    from .api import generate as generate_problem
    from .errors import HandcalcError

    chosen = {k: v for k, v in options.items() if v is not None}
    try:
        problem = generate_problem(kind=kind, seed=seed, **chosen)
    except HandcalcError as e:
        raise _fail(e) from None
    _emit_problem(problem, fmt, mode, paper, secret, output, orientation, mono)


@cli.command()
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
    from .api import solve as solve_problem
    from .errors import HandcalcError

    try:
        problem = solve_problem(file.read(10_000_001))
    except HandcalcError as e:
        raise _fail(e) from None
    _emit_problem(problem, fmt, mode, paper, secret, output, orientation, mono)


@cli.command()
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
    metavar="CELL=W",
    multiple=True,
    help="A cell's weight in the score (repeatable; every cell weighs 1 otherwise).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of standard output.",
)
def grade(
    problem: Any,
    answers: Any,
    tolerance: float | None,
    carried_credit: float | None,
    weights: tuple[str, ...],
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
    from .errors import HandcalcError
    from .grading import DEFAULT_TOLERANCE
    from .grading import grade as grade_answers

    cell_weights: dict[str, float] = {}
    for item in weights:
        cell, _, value = item.partition("=")
        try:
            cell_weights[cell.strip()] = float(value)
        except ValueError:
            raise click.BadParameter(
                f"{item!r}; expected CELL=W, such as dW1=2", param_hint="--weight"
            ) from None
    try:
        report = grade_answers(
            problem.read(10_000_001),
            answers.read(10_000_001),
            tolerance=DEFAULT_TOLERANCE if tolerance is None else tolerance,
            carried_credit=1.0 if carried_credit is None else carried_credit,
            weights=cell_weights,
        )
    except HandcalcError as e:
        raise _fail(e) from None
    _emit(report.to_json(), output)


@cli.command()
@click.argument("roster", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for the PDFs (created if missing).",
)
@click.option("--kind", default="mlp", show_default=True, help="Kind of exercise.")
@spec_options
@click.option(
    "--paper",
    type=click.Choice(["a4", "letter", "a3"]),
    default="a4",
    show_default=True,
    help="Paper size.",
)
@click.option(
    "--secret",
    envvar="HANDCALC_SECRET_KEY",
    metavar="TEXT",
    help="Secret that derives each student's variant and code [env HANDCALC_SECRET_KEY].",
)
@click.option("--workers", type=Whole(1, 256), default=None, help="Processes [all cores].")
@click.option(
    "--solutions",
    is_flag=True,
    help="Worked solutions for every student too (OUT/ID-solutions.pdf).",
)
@click.option(
    "--orientation",
    type=click.Choice(["auto", "portrait", "landscape"]),
    default="auto",
    show_default=True,
    help="Page orientation; auto: whichever takes fewer pages.",
)
@click.option("--mono", is_flag=True, help="Black and grey instead of colour (photocopiers).")
def batch(
    roster: Path,
    out: Path,
    kind: str,
    paper: str,
    secret: str | None,
    workers: int | None,
    solutions: bool,
    orientation: str,
    mono: bool,
    **options: Any,
) -> None:
    """A worksheet and an answer key for every student of ROSTER, and one class key.

    ROSTER is a CSV file (UTF-8) with a header line naming an "id" column and, optionally, a
    "name" column. Each student gets their own variant, derived from their ID and the secret
    (HMAC), so the same roster and secret give the same sheets again and nobody can guess a
    classmate's problem. Every sheet prints the student's name and ID. Writes
    OUT/ID-worksheet.pdf, OUT/ID-key.pdf (with --solutions OUT/ID-solutions.pdf too) and
    OUT/class-key.pdf: an index of the class (name, ID, code, page) sorted by name, then the keys.

    \b
    Examples:
      python3 -c 'import secrets; print(secrets.token_urlsafe(32))' > ~/.handcalc-secret
      export HANDCALC_SECRET_KEY="$(cat ~/.handcalc-secret)"   # keep it: same sheets again
      handcalc batch roster.csv --out sheets/
      handcalc batch roster.csv --out sheets/ --sizes 2,3,2 --reduction mean --paper letter
      handcalc batch roster.csv --out sheets/ --solutions --mono
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from .batch import make_batch, read_roster
    from .errors import HandcalcError

    chosen = {k: v for k, v in options.items() if v is not None}
    if not secret:
        click.echo(
            "warning: no secret (set HANDCALC_SECRET_KEY or --secret); variants and codes "
            "use the development key, which anyone can reproduce",
            err=True,
        )
    else:
        from .strength import MIN_SECRET_BITS, MIN_SECRET_CHARS, weakness

        why = weakness(secret, MIN_SECRET_CHARS, MIN_SECRET_BITS)
        if why:
            click.echo(
                f"warning: the secret is weak ({why}): whoever guesses it can compute every "
                "student's variant and forge codes; make one with python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(32))' (sheets made with the old one stay as they are)",
                err=True,
            )
    try:
        students = read_roster(roster)
        # refreshed by hand, not by rich's thread: the worker processes are forked from here
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=_stderr_console(),
            auto_refresh=False,
        ) as bar:
            task = bar.add_task("sheets", total=len(students))

            def advance(_: Any) -> None:
                bar.advance(task)
                bar.refresh()

            done = make_batch(
                students,
                out,
                kind=kind,
                secret=secret,
                paper=paper,
                workers=workers,
                progress=advance,
                solutions=solutions,
                orientation=orientation,
                mono=mono,
                **chosen,
            )
    except HandcalcError as e:
        raise _fail(e) from None
    click.echo(
        f"wrote {(3 if solutions else 2) * len(done)} sheets for "
        f"{_count(len(done), 'student')} and {out / 'class-key.pdf'}",
        err=True,
    )


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 lets the class's machines reach it.",
)
@click.option(
    "--port",
    type=Whole(1, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--db",
    metavar="URL",
    envvar="HANDCALC_DATABASE_URL",
    help="Database URL [env HANDCALC_DATABASE_URL; default: an SQLite file in the "
    "instance folder], e.g. postgresql+psycopg://user:pw@host/handcalc.",
)
@click.option(
    "--workers", type=Whole(1, 64), default=2, show_default=True, help="Worker processes."
)
@click.option(
    "--instance",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="HANDCALC_INSTANCE",
    help="Folder for the SQLite file, the secret key and the instructor token "
    "[env HANDCALC_INSTANCE].",
)
def serve(host: str, port: int, db: str | None, workers: int, instance: Path | None) -> None:
    """Run the grading site for a class on this machine (gunicorn).

    The secret key and the instructor token are made on first start and kept in the instance
    folder, so students' links keep working after a restart; the token is printed at start.
    For a production server use gunicorn directly (see the README).

    \b
    Examples:
      handcalc serve
      handcalc serve --host 0.0.0.0 --port 8080
      handcalc serve --db postgresql+psycopg://handcalc@localhost/handcalc
    """
    from .web.config import ConfigError
    from .web.serve import run

    try:
        run(host, port, db, workers, instance)
    except ConfigError as e:
        raise _fail(e) from None


class _Bar:
    """A rich progress bar on standard error, redrawn at most every hundredth of the work."""

    def __init__(self, label: str, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        console = _stderr_console()
        self.progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            auto_refresh=False,
            transient=True,
            disable=not console.is_terminal,  # no bar in logs and pipes
        )
        self.task = self.progress.add_task(label, total=total)
        self.every = max(1, total // 100)

    def __enter__(self) -> _Bar:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def __call__(self, done: int) -> None:
        if done % self.every == 0:
            self.progress.update(self.task, completed=done)
            self.progress.refresh()


def _write_run(run: Any, out: Path, plots: bool, lab: bool) -> list[Path]:
    """A trace's or a health run's files in ``out``, with its lab sheets when asked."""
    written: list[Path] = run.write(out, plots=plots)
    if lab:
        from .labs import write_labs

        written += write_labs(run, out)
    return written


def _written(paths: list[Path], out: Path) -> None:
    names = ", ".join(p.name for p in paths)
    click.echo(f"wrote {out}/: {names}", err=True)


@cli.command("trace")
@click.argument("file", type=click.File("rb"), required=False)
@click.option(
    "--seed",
    type=Whole(0, 2**63 - 1),
    help="Generate the problem from this seed (as generate does); with FILE, the data set's seed.",
)
@spec_options
@click.option(
    "--data",
    type=click.Choice(["problem", "moons", "xor", "blobs"]),
    default="problem",
    show_default=True,
    help="Train on the problem's own X and Y (full batch: epoch 1 is the key's update), or on "
    "a data set drawn from the seed.",
)
@click.option("--epochs", type=Whole(1, 100_000), default=200, show_default=True)
@click.option(
    "--batch-size",
    type=Whole(1, 20_000),
    default=None,
    help="Mini-batches of N samples, shuffled each epoch (data sets) [full batch].",
)
@click.option(
    "--samples", type=Whole(4, 20_000), default=200, show_default=True, help="Data set size."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for the files (created if missing).",
)
@click.option("--no-plots", is_flag=True, help="Only the CSV and JSON files (no matplotlib).")
@click.option("--lab", is_flag=True, help="Also the lab sheet: lab.pdf and lab-answers.pdf.")
def trace_command(
    file: Any,
    seed: int | None,
    data: str,
    epochs: int,
    batch_size: int | None,
    samples: int,
    out: Path,
    no_plots: bool,
    lab: bool,
    **options: Any,
) -> None:
    """Train a problem's network for many epochs; every parameter's trajectory, and plots.

    The network is a generated problem (--seed and the options of generate) or your own
    document (FILE, as for solve). With --data problem it trains on the problem's X and Y with
    its lr and reduction, full batch, so epoch 1 is the answer key's W_new and b_new; moons,
    xor and blobs are 2-D data sets drawn from the seed (network 2,8,8,classes and mean
    reduction unless the options say otherwise). Writes OUT/trace.csv
    (epoch,name,row,col,value; epoch 0 = the given values, rows and columns from 1),
    OUT/loss.csv, OUT/trace.json, OUT/parameters.svg and .png, OUT/animation.html (a slider
    over the epochs) and, for 2-D classes, OUT/boundary.svg and .png.

    \b
    Examples:
      handcalc trace --seed 7 --out trace7/
      handcalc trace --seed 7 --transcendental exact --epochs 500 --out exact7/
      handcalc trace --seed 3 --data moons --epochs 300 --batch-size 32 --out moons/
      handcalc trace mine.json --out mine/ --lab
    """
    from .errors import HandcalcError

    chosen = {k: v for k, v in options.items() if v is not None}
    if file is None and seed is None:
        raise click.UsageError("give --seed N (a generated problem) or FILE (your own)")
    if file is not None and chosen:
        raise click.UsageError(
            f"--{next(iter(chosen)).replace('_', '-')}: FILE brings its own spec; "
            "leave the spec options out"
        )
    try:
        if not no_plots:
            from .plots import require_matplotlib

            require_matplotlib()
        from .tracing import trace

        with _Bar("epochs", epochs) as bar:
            run = trace(
                file.read(10_000_001) if file is not None else None,
                seed=seed,
                data=data,
                epochs=epochs,
                batch_size=batch_size,
                samples=samples,
                progress=bar,
                **chosen,
            )
        written = _write_run(run, out, plots=not no_plots, lab=lab)
    except HandcalcError as e:
        raise _fail(e) from None
    _written(written, out)
    click.echo(
        f"loss {run.loss[0]:.4g} at epoch 0, {run.loss[-1]:.4g} at epoch {run.epochs}"
        + (f"; accuracy {run.accuracy[-1]:.0%}" if run.accuracy is not None else ""),
        err=True,
    )


@cli.command("health")
@click.option("--steps", type=Whole(1, 100_000), default=1000, show_default=True)
@click.option(
    "--layers", type=Whole(1, 8), default=5, show_default=True, help="Hidden tanh layers."
)
@click.option("--units", type=Whole(2, 512), default=100, show_default=True, help="Per layer.")
@click.option("--lr", type=click.FloatRange(0, 10, min_open=True), default=0.1, show_default=True)
@click.option("--batch-size", type=Whole(2, 4096), default=32, show_default=True)
@click.option(
    "--data", type=click.Choice(["blobs", "moons", "xor"]), default="blobs", show_default=True
)
@click.option("--samples", type=Whole(4, 20_000), default=2000, show_default=True)
@click.option("--features", type=Whole(1, 256), default=16, show_default=True, help="Blobs.")
@click.option("--classes", type=Whole(2, 64), default=8, show_default=True, help="Blobs.")
@click.option("--seed", type=Whole(0, 2**63 - 1), default=0, show_default=True)
@click.option(
    "--configurations",
    metavar="NAME,…",
    default="bad,kaiming,batchnorm",
    show_default=True,
    help="The starts to compare.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for the files (created if missing).",
)
@click.option("--no-plots", is_flag=True, help="Only health.json (no matplotlib).")
@click.option("--lab", is_flag=True, help="Also the lab sheet: lab.pdf and lab-answers.pdf.")
def health_command(
    steps: int,
    layers: int,
    units: int,
    lr: float,
    batch_size: int,
    data: str,
    samples: int,
    features: int,
    classes: int,
    seed: int,
    configurations: str,
    out: Path,
    no_plots: bool,
    lab: bool,
) -> None:
    """Diagnose a deep tanh MLP trained from a bad start, Kaiming's, and with BatchNorm.

    Trains the network (default: 5 tanh layers of 100 units, as in the makemore lecture) with
    plain SGD from each start, on a data set drawn from the seed, and writes OUT/health.json
    (per start and layer: saturation, act_mean, act_std, grad_mean, grad_std, grad_data_ratio,
    update_data per step; a summary in words) and the four figures OUT/activations,
    OUT/gradients, OUT/weights and OUT/updates as .svg and .png. Prints the summary.

    \b
    Examples:
      handcalc health --out health/
      handcalc health --steps 300 --layers 3 --units 50 --out small/ --lab
      handcalc health --configurations bad,kaiming --lr 0.05 --out two/
    """
    from .errors import HandcalcError

    names = tuple(c.strip() for c in configurations.split(",") if c.strip())
    try:
        if not no_plots:
            from .plots import require_matplotlib

            require_matplotlib()
        from .diagnostics import health

        with _Bar("steps", steps * max(1, len(names))) as bar:
            run = health(
                layers=layers,
                units=units,
                steps=steps,
                lr=lr,
                batch_size=batch_size,
                data=data,
                samples=samples,
                features=features,
                classes=classes,
                seed=seed,
                configurations=names,
                progress=bar,
            )
        written = _write_run(run, out, plots=not no_plots, lab=lab)
    except HandcalcError as e:
        raise _fail(e) from None
    click.echo(run.summary_text())
    _written(written, out)


def main() -> None:
    """Entry point: user errors are one line and exit 1; nothing prints a traceback."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except OSError as e:
        click.echo(f"Error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), err=True)
        sys.exit(1)
    except Exception as e:  # a bug of ours: still one line, and a way to report it
        click.echo(f"Error: internal error ({type(e).__name__}: {e}); please report it", err=True)
        sys.exit(70)
