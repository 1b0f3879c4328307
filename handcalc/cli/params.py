"""Option groups shared by commands: a kind's options, generated from their declaration, and how
a problem is written out (format, sheet, paper, secret, file)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from ..options import CHOICE, Option
from ..specs import SPECS
from .types import KindChoice

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ["json", "html", "pdf", "xlsx"]
PAPERS = ["a4", "letter", "a3"]
ORIENTATIONS = ["auto", "portrait", "landscape"]

kind_option = click.option(
    "--kind",
    type=KindChoice(),
    default="mlp",
    show_default=True,
    help="Kind of exercise (handcalc kinds describes each).",
)

#: Whose options the commands offer: every kind's, as declared in the light ``handcalc.spec`` (the
#: registry imports sympy, which --help must not wait for). What is typed goes to the chosen kind's
#: own ``Options.from_options`` (through ``handcalc.api``), so the rules and messages are the
#: library's: an option the chosen kind does not have is refused there, by name.
DECLARING = SPECS


def declared_options() -> list[tuple[str, Option, Any, list[str]]]:
    """Each option any kind declares, once, as the first kind declaring it does (help and
    default; a choice offers every kind's choices), with the names of the kinds that have it when
    not every kind does."""
    seen: dict[str, tuple[Option, Any, list[str]]] = {}
    for spec in DECLARING:
        for name, meta, default in spec.declared():
            first, _, kinds = seen.setdefault(name, (meta, default, []))
            kinds.append(spec.kind)
            extra = tuple(c for c in meta.choices if c not in first.choices)
            if extra:
                first = dataclasses.replace(first, choices=first.choices + extra)
                seen[name] = (first, seen[name][1], kinds)
    everyone = len(DECLARING)
    return [
        (name, meta, default, kinds if len(kinds) < everyone else [])
        for name, (meta, default, kinds) in seen.items()
    ]


def option_help(meta: Option, default: Any, kinds: list[str] | None = None) -> str:
    """``Inputs, then units per layer [4,3,4,3].``: the declared help and the default as typed;
    ``kinds``, where only some kinds have the option, are named after it."""
    text = meta.text(default)
    if isinstance(text, list):
        text = ",".join(map(str, text)) or "none"
    only = f" ({', '.join(kinds)} only)" if kinds else ""
    return f"{meta.help} [{text}]{only}."


def kind_options(fn: F) -> F:
    """``--sizes``, ``--activation``, … one per declared option (``--weight-max`` for the field
    ``weight_max``), all unset by default: the command passes on the ones given (:func:`chosen`).
    Choices are checked by click; numbers and lists go to the library as typed."""
    for name, meta, default, only in reversed(declared_options()):
        flag = meta.flag or "--" + name.replace("_", "-")
        param = _param(name, meta)
        text = option_help(meta, default, only)
        if meta.type == CHOICE:
            decorate = click.option(flag, param, type=click.Choice(meta.choices), help=text)
        else:
            decorate = click.option(flag, param, metavar=meta.metavar or "VALUE", help=text)
        fn = decorate(fn)
    return fn


def _param(name: str, meta: Option) -> str:
    """The command's parameter for an option: its name, or its own flag's where it has one."""
    return meta.flag.removeprefix("--").replace("-", "_") if meta.flag else name


def chosen(options: Mapping[str, Any]) -> dict[str, Any]:
    """The kind options given on the command line (the others keep the kind's defaults), by
    their names in the options (``--output-activation`` gives ``output``)."""
    names = {_param(name, meta): name for name, meta, _, _ in declared_options()}
    return {names.get(k, k): value for k, value in options.items() if value is not None}


output_option = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to FILE instead of standard output.",
)

out_option = click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for the files (created if missing).",
)


def sheet_options(fn: F) -> F:
    """How a problem is written out: the format, which sheet, which paper, which secret signs its
    code, and where to."""
    options = [
        click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            default="json",
            show_default=True,
            help="Output format: the solved JSON document, a printable sheet (html, pdf) or a "
            "self-checking spreadsheet (xlsx, with -o).",
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
            type=click.Choice(PAPERS),
            help="Paper size of html/pdf sheets [a4].",
        ),
        click.option(
            "--orientation",
            type=click.Choice(ORIENTATIONS),
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
        output_option,
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn
