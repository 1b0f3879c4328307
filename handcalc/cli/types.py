"""Click parameter types for what the command line reads itself: whole numbers, comma lists,
``CELL=W`` pairs and the name of a registered kind. A kind's own options are not among them:
they go to the library as typed, which reads them with one rule and says what it accepts."""

from __future__ import annotations

from typing import Any

import click


class Whole(click.ParamType):
    """A whole number from ``low`` to ``high``, read by the library's one rule for digits.

    >>> Whole(1, 3).convert("٢", None, None)
    2
    """

    name = "integer"

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        from ..errors import HandcalcError
        from ..values import parse_whole

        try:
            return parse_whole(value, "value", self.low, self.high)
        except HandcalcError as e:
            self.fail(str(e).removeprefix("value: "), param, ctx)


class Names(click.ParamType):
    """Comma-separated names, blanks dropped; which names are accepted is the library's to say.

    >>> Names().convert("bad, kaiming,,", None, None)
    ('bad', 'kaiming')
    """

    name = "names"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        return tuple(part.strip() for part in str(value).split(",") if part.strip())


class CellWeight(click.ParamType):
    """``CELL=W``: a cell's name and its weight in the score.

    >>> CellWeight().convert("dW1 = 2", None, None)
    ('dW1', 2.0)
    """

    name = "cell=weight"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, float]:
        if isinstance(value, tuple):
            return value
        cell, _, weight = str(value).partition("=")
        try:
            return cell.strip(), float(weight)
        except ValueError:
            self.fail(f"{value!r}; expected CELL=W, such as dW1=2", param, ctx)


class KindChoice(click.Choice[str]):
    """The name of a registered kind (``handcalc.kinds.KINDS``). The registry imports sympy, so
    it is read when click first needs the names (a command's --help, or its --kind), not when
    the command line is imported: ``handcalc --help`` stays fast."""

    def __init__(self) -> None:
        self.case_sensitive = True

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        from .. import kinds

        return tuple(kinds.KINDS)
