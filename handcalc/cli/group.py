"""The command group, where the library's errors become click's: once, for every command."""

from __future__ import annotations

from typing import Any

import click

from ..errors import HandcalcError


class HandcalcGroup(click.Group):
    """A group whose commands leave the library's mistakes to it: a :class:`HandcalcError`
    (a spec option, a document, a budget the options cannot meet) is shown as click shows its
    own errors, ``Error: <the library's one line>``, with exit code 1. Errors of click's own
    (an option's type, a missing argument) keep their usage message and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HandcalcError as e:
            raise click.ClickException(str(e)) from None
