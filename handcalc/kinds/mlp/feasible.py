"""Refusals before anything is drawn: the options no draw can make nice, each with advice."""

from __future__ import annotations

import dataclasses
import functools
from fractions import Fraction
from typing import Any

from ...errors import BudgetError
from ...notation import DECIMAL_PLACES, printed
from ...spec import Spec
from .budgets import (
    DRAWN_DIGITS,
    EXACT_SIGMOID_TERMS,
    EXACT_TERMS,
    MAX_DENOMINATOR,
    SPARE_UNITS,
)


@functools.lru_cache(maxsize=256)  # a spec is checked once (a refusal raises again)
def check_feasible(spec: Spec) -> None:
    """Refuse, before drawing anything, the options no draw can make nice."""
    if spec.transcendental == "table" and spec.digits > DRAWN_DIGITS:
        raise BudgetError(
            f"digits: {spec.digits}-decimal tables are for authored problems (handcalc solve "
            f"keeps every figure an author typed, e.g. a published 9-decimal walkthrough); a "
            f"generated problem's table values and the gradients made from them would not fit "
            f"on the sheet; use digits {DRAWN_DIGITS} or fewer"
        )
    hidden = spec.layers - 1
    if spec.transcendental == "base" and spec.activation == "leaky_relu" and hidden:
        raise BudgetError(
            "a leaky_relu network almost never gives the integer output pre-activations that "
            "transcendental 'base' needs to write b^z exactly; use relu, or transcendental "
            "'table' (an authored problem whose output Z is integer still solves)"
        )
    if spec.transcendental == "table" and spec.activation in ("sigmoid", "tanh") and hidden:
        tabulated = spec.layers - min(spec.trainable)  # hidden layers the gradient crosses
        decimals = spec.digits * (2 * tabulated + _output_tables(spec)) + 1
        if 10**decimals * spec.batch > MAX_DENOMINATOR:
            raise BudgetError(
                f"the gradients of {tabulated} {spec.activation} layers read from "
                f"{spec.digits}-digit tables need about {decimals} decimals; use fewer hidden "
                f"layers or digits (or freeze the lower layers), or relu"
            )
    outputs = spec.sizes[-1]
    if spec.transcendental == "table" and spec.loss == "softmax_ce":
        units = 10**spec.digits
        if units - outputs < SPARE_UNITS:  # measured: bench/RESULTS.md
            raise BudgetError(
                f"a softmax table of {outputs} classes at {spec.digits} decimal"
                f"{'s' * (spec.digits > 1)} has {units} units to share, too few to print every "
                f"probability above 0 without a tie for the rounding rule; use digits "
                f"{spec.digits + 1}, or at most {units - SPARE_UNITS} output units"
            )
    if spec.transcendental == "exact":
        _check_expressions(spec)
    _check_printable(spec)


def _check_expressions(spec: Spec) -> None:
    """Exact mode: refuse the networks whose expressions outgrow the print budget on most draws.

    An output gradient entry sums one exponential per output unit and sample (dW sums over the
    batch, the loss over everything); leaky ReLU puts fractions into the exponents, which do not
    combine. Measured (bench/RESULTS.md): outputs × batch ≤ 6 stays within 200 characters."""
    outputs = spec.sizes[-1]
    weight = (
        outputs * spec.batch * (2 if spec.activation == "leaky_relu" and spec.layers > 1 else 1)
    )
    # squared error of a sigmoid squares fractions of exponentials, which add up to one fraction
    # (measured: outputs × batch ≤ 2 stays within 200 characters; 3 fails on some draws)
    most = EXACT_TERMS if spec.own_output else EXACT_SIGMOID_TERMS
    if spec.output != "identity" and weight > most:
        leaky = " (a hidden leaky_relu counts twice)" if weight > outputs * spec.batch else ""
        raise BudgetError(
            f"in transcendental 'exact' mode {outputs} outputs × batch {spec.batch}{leaky} make "
            f"expressions too long to print (at most {most} exponentials a cell"
            f"{'' if spec.own_output else ' with a sigmoid under squared error'}); use "
            f"transcendental 'table', or a smaller batch or fewer outputs"
        )


def _output_tables(spec: Spec) -> int:
    """Table values multiplied into the output gradient: none for the identity, A for A − Y,
    three for (A − Y)∘A∘(1 − A)."""
    if spec.output == "identity":
        return 0
    return 1 if spec.own_output else 3


def squashed(spec: Spec) -> bool:
    """Hidden sigmoid or tanh values read from a table (their derivatives too)."""
    return spec.transcendental == "table" and spec.activation in ("sigmoid", "tanh")


def _check_printable(spec: Spec) -> None:
    """Refuse the options whose entries cannot fit ``max_chars`` as printed, whatever is drawn."""
    most = spec.max_chars
    lr = printed(spec.lr)
    if len(lr) > most:
        raise BudgetError(
            f"max_chars: lr prints as {lr}, {len(lr)} characters, more than max_chars {most}; "
            f"use an lr such as 1/10, or max_chars {len(lr)}"
        )
    table = spec.transcendental == "table"
    negative = squashed(spec) and spec.activation == "tanh" and spec.layers > 1
    if table and (spec.output != "identity" or (squashed(spec) and spec.layers > 1)):
        width = spec.digits + 2 + negative
        if width > most:
            example = ("−" if negative else "") + "0." + "27"[: spec.digits].ljust(spec.digits, "5")
            raise BudgetError(
                f"max_chars: {spec.digits}-decimal table values such as {example} need {width} "
                f"characters, more than max_chars {most}; use fewer digits, or max_chars {width}"
            )
    cell, den, need = _widest(spec)
    if need > most:
        # each suggestion fits on its own (a larger max_chars always does)
        changes: dict[str, dict[str, Any]] = {
            "digits 1": {"digits": 1},
            f"frozen {','.join(map(str, range(1, spec.layers)))} (train the top layer only)": {
                "frozen": tuple(range(1, spec.layers))
            },
            "relu": {"activation": "relu"},
            "reduction sum": {"reduction": "sum"},
            "lr 1": {"lr": Fraction(1)},
        }
        advice = [
            text
            for text, change in changes.items()
            if any(getattr(spec, k) != v for k, v in change.items())
            and _widest(dataclasses.replace(spec, **change))[2] <= most
        ]
        advice.append(f"max_chars {need}")
        raise BudgetError(
            f"max_chars: with these options {cell} has denominators up to {_magnitude(den)}, so "
            f"its entries need about {need} characters as printed (a decimal within "
            f"{DECIMAL_PLACES} places, else a fraction), more than max_chars {most}; use "
            f"{'; or '.join(advice)}"
        )


def _widest(spec: Spec) -> tuple[str, int, int]:
    """The update whose entries need the most characters: its name, denominator, characters."""
    cell, den = max(_denominators(spec).items(), key=lambda item: _typical_chars(item[1]))
    return cell, den, _typical_chars(den)


def _magnitude(den: int) -> str:
    text = str(den)
    return f"10^{len(text) - 1}" if text.strip("0") == "1" and den > 1000 else text


def _denominators(spec: Spec) -> dict[str, int]:
    """An upper bound of each update's denominators, by the rules of the ops: a table value brings
    10^d, a derivative read from a table 10^2d, leaky ReLU its slope's denominator, the mean 1/B,
    the update lr's (cancellation can only make them smaller)."""
    unit = 10**spec.digits
    slope = spec.slope.denominator if spec.activation == "leaky_relu" else 1
    below = [1]  # the denominators of A0, A1, … (hidden)
    for _ in range(1, spec.layers):
        below.append(unit if squashed(spec) else below[-1] * slope)
    # an identity output has Z's denominators; base and exact outputs are checked when drawn;
    # a table's sigmoid under squared error brings (A − Y)∘A∘(1 − A): three table values
    table = spec.transcendental == "table"
    out = below[-1] if spec.output == "identity" else (unit if table else 1)
    if table and not spec.own_output:
        out = unit**3
    dz = out * spec.factor.denominator
    dens: dict[str, int] = {}
    lowest = min(spec.trainable)
    for layer in range(spec.layers, lowest - 1, -1):
        if layer in spec.trainable:
            dens[f"W{layer}_new"] = dz * below[layer - 1] * spec.lr.denominator
            dens[f"b{layer}_new"] = dz * spec.lr.denominator
        if layer > lowest:
            dz *= unit**2 if squashed(spec) else slope
    return dens


def _places(den: int) -> int | None:
    """Decimal places of a value with this denominator, if within the printed decimals."""
    return next((p for p in range(DECIMAL_PLACES + 1) if 10**p % den == 0), None)


def _typical_chars(den: int) -> int:
    """Characters of a typical entry (−1.234567, −2573/3000) with this denominator."""
    places = _places(den)
    if places is not None:
        return places + 3 if places else 2
    return 2 * len(str(den)) + 2
