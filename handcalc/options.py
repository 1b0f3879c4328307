"""A kind's options: a frozen dataclass whose fields say, in their metadata, what they mean and
what they accept, so that one declaration gives validation, the CLI's options, the web forms and
the OpenAPI schema.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Toy(Options):
...     steps: int = option(2, "SGD steps", low=1, high=3)
>>> Toy.from_options({"steps": "3"}).steps
3
>>> Toy.from_options({"steps": 9})
Traceback (most recent call last):
...
handcalc.errors.SpecError: steps: 9 is not accepted; accepted: a whole number from 1 to 3
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields
from fractions import Fraction
from typing import Any, ClassVar

from .errors import DocumentError, HandcalcError, SpecError
from .values import format_rational, parse_number, parse_whole, quote

#: the kinds of value an option holds
CHOICE, WHOLE, WHOLES, FRACTION = "choice", "whole", "wholes", "fraction"


@dataclass(frozen=True)
class Option:
    """What one option means and accepts (a field's ``metadata["option"]``)."""

    help: str
    type: str
    choices: tuple[str, ...] = ()
    low: Any = None
    high: Any = None
    #: the accepted range in words, for fractions (``0 < lr ≤ 10``)
    accepted: str = ""
    #: a set of whole numbers: it may be empty, and is kept sorted, each entry once
    allow_empty: bool = False
    #: offered on the practice page (the others keep their defaults there)
    practice: bool = True
    #: written into documents only where it is not the default
    omit_default: bool = False
    metavar: str = ""
    #: the command line's flag where ``--<name>`` is taken by a command's own option
    #: (``output``'s is ``--output-activation``: ``--output`` names the file written)
    flag: str = ""

    def parse(self, value: Any, name: str) -> Any:
        """The option's value from what a person typed (JSON values, or CLI strings)."""
        match self.type:
            case "choice":
                if value not in self.choices:
                    raise SpecError(
                        f"{name}: {value!r} is not accepted; accepted: {', '.join(self.choices)}"
                    )
                return str(value)
            case "whole":
                return _whole(value, name, self.low, self.high)
            case "wholes":
                return _wholes(value, name, self.low, self.high, self.allow_empty)
        try:
            q = parse_number(value, name)
        except HandcalcError as e:
            raise SpecError(f"{e}; accepted: {self.accepted}") from None
        if not self.low < q <= self.high:
            raise SpecError(f"{name}: {value!r} is out of range; accepted: {self.accepted}")
        return q

    def text(self, value: Any) -> Any:
        """The value as the exchange format writes it."""
        if isinstance(value, Fraction):
            return format_rational(value.numerator, value.denominator)
        if isinstance(value, tuple):
            return list(value)
        return value


def option(
    default: Any,
    help: str,
    *,
    choices: tuple[str, ...] = (),
    low: Any = None,
    high: Any = None,
    accepted: str = "",
    allow_empty: bool = False,
    practice: bool = True,
    omit_default: bool = False,
    metavar: str = "",
    flag: str = "",
) -> Any:
    """A dataclass field of an :class:`Options` class; its type follows from what it accepts."""
    if choices:
        kind = CHOICE
    elif isinstance(default, tuple):
        kind = WHOLES
    elif isinstance(default, Fraction):
        kind = FRACTION
    else:
        kind = WHOLE
    meta = Option(
        help, kind, choices, low, high, accepted, allow_empty, practice, omit_default, metavar, flag
    )
    return field(default=default, metadata={"option": meta})


@dataclass(frozen=True)
class Options:
    """Base of every kind's options; a subclass declares its fields with :func:`option`."""

    #: what the exercise is called in one line (``describe``)
    title: ClassVar[str] = "problem"

    @classmethod
    def declared(cls) -> Iterator[tuple[str, Option, Any]]:
        """Each option: its name, what it accepts and its default."""
        for f in fields(cls):
            meta = f.metadata.get("option")
            if meta is not None:
                yield f.name, meta, f.default if f.default is not MISSING else None

    @classmethod
    def known(cls) -> tuple[str, ...]:
        return tuple(name for name, _, _ in cls.declared())

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Any:
        """Validate options as typed by a person (JSON values, or CLI strings such as "4,3,4,3");
        each message names its option."""
        if not isinstance(options, Mapping):
            raise SpecError(f"spec: expected an object of options, got {type(options).__name__}")
        unknown = sorted(set(options) - set(cls.known()))
        if unknown:
            raise SpecError(
                f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                f"known options: {', '.join(cls.known())}"
            )
        values = {
            name: meta.parse(options[name], name)
            for name, meta, _ in cls.declared()
            if name in options
        }
        made = cls(**cls.implied(values))
        made.check()
        return made

    @classmethod
    def implied(cls, chosen: dict[str, Any]) -> dict[str, Any]:
        """The options as chosen (parsed), with those left out whose default follows from
        others filled in (``lr2`` from ``lr``); none by default."""
        return chosen

    def check(self) -> None:
        """Checks that involve more than one option (none by default)."""

    def to_dict(self) -> dict[str, Any]:
        """Every option as the exchange format writes it (``omit_default`` ones only where set,
        so that documents from before they existed stay byte-identical)."""
        return {
            name: meta.text(getattr(self, name))
            for name, meta, default in self.declared()
            if not (meta.omit_default and getattr(self, name) == default)
        }

    def describe(self) -> str:
        """One line: what the problem is."""
        return self.title


def _whole(value: Any, name: str, low: int, high: int) -> int:
    try:
        return parse_whole(value, name, low, high)
    except DocumentError as e:
        raise SpecError(str(e)) from None


def _wholes(value: Any, name: str, low: int, high: int, allow_empty: bool) -> tuple[int, ...]:
    if isinstance(value, str) and len(value) <= 200:
        value = [v for v in (p.strip() for p in value.split(",")) if v]
    if not isinstance(value, list | tuple) or len(value) > 16 or (not value and not allow_empty):
        raise SpecError(
            f"{name}: {quote(value)} is not accepted; accepted: a list of whole numbers "
            f"from {low} to {high} (e.g. 4,3,4,3)"
        )
    out = tuple(_whole(v, name, low, high) for v in value)
    return tuple(sorted(set(out))) if allow_empty else out
