"""What kind of MLP problem to make: the ``spec`` object of the exchange format, validated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any

from .errors import DocumentError, HandcalcError, SpecError
from .values import format_rational, parse_number, parse_whole, quote

ACTIVATIONS = ("relu", "leaky_relu", "identity", "sigmoid", "tanh")
LOSSES = ("softmax_ce", "sigmoid_bce", "mse")
REDUCTIONS = ("sum", "mean")
TRANSCENDENTALS = ("table", "base", "exact")
MAX_LAYERS = 6
MAX_WIDTH = 8
MAX_BATCH = 8
MAX_CHARS = 10  # the default per-entry budget, as printed


@dataclass(frozen=True)
class Spec:
    """The options of an MLP problem; every field has the default of the classic by-hand sheet."""

    sizes: tuple[int, ...] = (4, 3, 4, 3)
    activation: str = "relu"
    loss: str = "softmax_ce"
    batch: int = 2
    reduction: str = "sum"
    lr: Fraction = Fraction(1, 10)
    transcendental: str = "table"
    digits: int = 2
    base: int = 3
    frozen: tuple[int, ...] = ()
    slope: Fraction = Fraction(1, 10)
    weight_max: int = 3
    input_max: int = 3
    max_chars: int = MAX_CHARS

    @classmethod
    def known(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Spec:
        """Validate options as typed by a person (JSON values, or CLI strings such as "4,3,4,3")."""
        if not isinstance(options, Mapping):
            raise SpecError(f"spec: expected an object of options, got {type(options).__name__}")
        unknown = sorted(set(options) - set(cls.known()))
        if unknown:
            raise SpecError(
                f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                f"known options: {', '.join(cls.known())}"
            )
        o = dict(options)
        values: dict[str, Any] = {}
        if "sizes" in o:
            values["sizes"] = _int_list(o["sizes"], "sizes", 1, MAX_WIDTH)
        for name, choices in (
            ("activation", ACTIVATIONS),
            ("loss", LOSSES),
            ("reduction", REDUCTIONS),
            ("transcendental", TRANSCENDENTALS),
        ):
            if name in o:
                values[name] = _choice(o[name], name, choices)
        for name, low, high in (
            ("batch", 1, MAX_BATCH),
            ("digits", 1, 4),
            ("base", 2, 9),
            ("weight_max", 1, 9),
            ("input_max", 1, 9),
            ("max_chars", 4, 40),
        ):
            if name in o:
                values[name] = _int(o[name], name, low, high)
        if "lr" in o:
            values["lr"] = _fraction(o["lr"], "lr", Fraction(0), Fraction(10), "0 < lr ≤ 10")
        if "slope" in o:
            values["slope"] = _fraction(
                o["slope"], "slope", Fraction(0), Fraction(1), "0 < slope < 1"
            )
            if values["slope"] == 1:
                raise SpecError(
                    "slope: 1 would make leaky_relu the identity; accepted: 0 < slope < 1"
                )
        if "frozen" in o:
            values["frozen"] = tuple(
                sorted(set(_int_list(o["frozen"], "frozen", 1, MAX_LAYERS, allow_empty=True)))
            )
        spec = cls(**values)
        spec.check()
        return spec

    def check(self) -> None:
        """Checks that involve more than one field."""
        if not 2 <= len(self.sizes) <= MAX_LAYERS + 1:
            raise SpecError(
                f"sizes: {len(self.sizes)} numbers given; accepted: 2 to "
                f"{MAX_LAYERS + 1} (the inputs, then each layer's units)"
            )
        if self.loss == "softmax_ce" and self.sizes[-1] < 2:
            raise SpecError("sizes: softmax_ce needs at least 2 output units (the last size)")
        bad = [layer for layer in self.frozen if layer > self.layers]
        if bad:
            raise SpecError(
                f"frozen: layer {bad[0]} does not exist; the network has layers 1 to {self.layers}"
            )
        if len(self.frozen) == self.layers:
            raise SpecError(
                "frozen: every layer is frozen, so nothing would be trained; "
                "leave at least one layer out of frozen"
            )
        if self.layers > 1:
            self.treatment().check_hidden(self.activation)

    @property
    def layers(self) -> int:
        return len(self.sizes) - 1

    @property
    def trainable(self) -> tuple[int, ...]:
        return tuple(layer for layer in range(1, self.layers + 1) if layer not in self.frozen)

    @property
    def factor(self) -> Fraction:
        """What the loss and every gradient are multiplied by: 1 for sum, 1/B for mean."""
        return Fraction(1) if self.reduction == "sum" else Fraction(1, self.batch)

    def treatment(self) -> Any:
        from .transcendental import treatment

        return treatment(self.transcendental, self.digits, self.base)

    def to_dict(self) -> dict[str, Any]:
        """Every option; ``max_chars`` only where it is not the default, so that documents (and the
        verification codes made from them) of problems from before it existed stay the same."""
        out: dict[str, Any] = {
            "sizes": list(self.sizes),
            "activation": self.activation,
            "loss": self.loss,
            "batch": self.batch,
            "reduction": self.reduction,
            "lr": format_rational(self.lr.numerator, self.lr.denominator),
            "transcendental": self.transcendental,
            "digits": self.digits,
            "base": self.base,
            "frozen": list(self.frozen),
            "slope": format_rational(self.slope.numerator, self.slope.denominator),
            "weight_max": self.weight_max,
            "input_max": self.input_max,
        }
        if self.max_chars != MAX_CHARS:
            out["max_chars"] = self.max_chars
        return out

    def describe(self) -> str:
        """One line: what the problem is."""
        sizes = "-".join(map(str, self.sizes))
        lr = format_rational(self.lr.numerator, self.lr.denominator)
        return (
            f"MLP {sizes}, {self.activation} hidden, {self.loss}, batch {self.batch}, "
            f"{self.reduction} reduction, lr {lr}"
        )


def _choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise SpecError(f"{name}: {value!r} is not accepted; accepted: {', '.join(choices)}")
    return str(value)


def _int(value: Any, name: str, low: int, high: int) -> int:
    try:
        return parse_whole(value, name, low, high)
    except DocumentError as e:
        raise SpecError(str(e)) from None


def _int_list(
    value: Any, name: str, low: int, high: int, allow_empty: bool = False
) -> tuple[int, ...]:
    if isinstance(value, str) and len(value) <= 200:
        value = [v for v in (p.strip() for p in value.split(",")) if v]
    if not isinstance(value, list | tuple) or len(value) > 16 or (not value and not allow_empty):
        raise SpecError(
            f"{name}: {quote(value)} is not accepted; accepted: a list of whole numbers "
            f"from {low} to {high} (e.g. 4,3,4,3)"
        )
    return tuple(_int(v, name, low, high) for v in value)


def _fraction(value: Any, name: str, low: Fraction, high: Fraction, accepted: str) -> Fraction:
    try:
        q = parse_number(value, name)
    except HandcalcError as e:
        raise SpecError(f"{e}; accepted: {accepted}") from None
    if not low < q <= high:
        raise SpecError(f"{name}: {value!r} is out of range; accepted: {accepted}")
    return q
