"""Where the commands' results go: a document or a sheet to standard output or a file, a run's
files to a folder, progress to standard error."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click


def count(n: int, noun: str) -> str:
    """``1 student``, ``2 students``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def emit(text: str, output: Path | None) -> None:
    """``text`` to standard output, or to ``output`` (saying so on standard error)."""
    if output is None:
        click.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


def emit_problem(
    problem: Any,
    fmt: str,
    mode: str | None,
    paper: str | None,
    secret: str | None,
    output: Path | None,
    orientation: str | None = None,
    mono: bool | None = None,
) -> None:
    """JSON as before; html and pdf are the worksheet, the key or the worked solutions; xlsx is
    the self-checking spreadsheet (:mod:`handcalc.spreadsheet`)."""
    if fmt in ("json", "xlsx"):
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
                if fmt == "json"
                else f"{given[0]} applies to --format html or pdf; the spreadsheet holds "
                "the worksheet, its checks and the hidden key"
            )
        if fmt == "json":
            emit(problem.to_json(), output)
            return
        from ..spreadsheet import workbook_bytes

        emit_bytes(
            workbook_bytes(problem),
            output,
            "a spreadsheet is not for the terminal: add -o FILE.xlsx",
        )
        return
    from ..render import render_html, render_pdf

    mode, paper = mode or "worksheet", paper or "a4"
    turn, grey = orientation or "auto", bool(mono)
    if fmt == "html":
        text = render_html(problem, mode, paper, secret=secret, orientation=turn, mono=grey)
        emit(text, output)
        return
    pdf = render_pdf(problem, mode, paper, secret=secret, orientation=turn, mono=grey)
    emit_bytes(pdf, output, "a PDF is not for the terminal: add -o FILE.pdf")


def emit_bytes(data: bytes, output: Path | None, refusal: str) -> None:
    """A binary file to ``output``, or to standard output where that is not a terminal (a
    terminal gets ``refusal``, one line)."""
    if output is None:
        if sys.stdout.isatty():
            raise click.UsageError(refusal)
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        click.echo(f"wrote {output}", err=True)


def stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


class Bar:
    """A rich progress bar on standard error, redrawn at most every hundredth of the work."""

    def __init__(self, label: str, total: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        console = stderr_console()
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

    def __enter__(self) -> Bar:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def __call__(self, done: int) -> None:
        if done % self.every == 0:
            self.progress.update(self.task, completed=done)
            self.progress.refresh()


def write_run(run: Any, out: Path, plots: bool, lab: bool) -> list[Path]:
    """A trace's or a health run's files in ``out``, with its lab sheets when asked."""
    written: list[Path] = run.write(out, plots=plots)
    if lab:
        from ..labs import write_labs

        written += write_labs(run, out)
    return written


def say_written(paths: list[Path], out: Path) -> None:
    """``wrote OUT/: a.csv, b.json`` on standard error."""
    click.echo(f"wrote {out}/: {', '.join(p.name for p in paths)}", err=True)
