"""An independent statement of the nice-number budgets (README, "Nice numbers"), read from an
exchange document alone: the strings the key prints, the spec, nothing of the generator.

Each budget is restated here from the README, not imported from ``handcalc.kinds.mlp``, so that a
generator that forgets a check (or checks the wrong thing) fails the sweep in ``test_budgets.py``.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from fractions import Fraction
from typing import Any

MAX_ABS = 200
MAX_DENOMINATOR = 10**12
HIDDEN = 12
SQUASHED = 3
OUTPUT = 5
REGRESSION = 10
BIAS = 2
DECIMAL_PLACES = 6  # a value whose decimal expansion ends within 6 places prints as a decimal


def sheet_text(q: Fraction) -> str:
    """How the sheet writes an exact rational: a decimal if it ends within 6 places, else a/b."""
    den, places = q.denominator, 0
    for p in (2, 5):
        count = 0
        while den % p == 0:
            den //= p
            count += 1
        places = max(places, count)
    if den == 1 and places <= DECIMAL_PLACES:
        text = format(Decimal(q.numerator) / Decimal(q.denominator), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{q.numerator}/{q.denominator}"


def _exact(text: str) -> Fraction | None:
    return Fraction(text) if re.fullmatch(r"-?\d+(?:/\d+|\.\d+)?", text) else None


def _table_softmax_ties(z: list[list[float]], digits: int) -> list[int]:
    """Columns where largest-remainder rounding must choose among equal remainders."""
    unit = 10**digits
    ties = []
    for j, col in enumerate(zip(*z, strict=True)):
        top = max(col)
        exps = [math.exp(v - top) for v in col]
        scaled = [e / sum(exps) * unit for e in exps]
        rest = sorted((s - math.floor(s) for s in scaled), reverse=True)
        up = unit - sum(math.floor(s) for s in scaled)
        if 0 < up < len(col) and rest[up - 1] - rest[up] < 1e-9:
            ties.append(j + 1)
    return ties


def violations(doc: dict[str, Any]) -> list[str]:
    """Every budget this solved document breaks, one line each (empty: a nice problem)."""
    spec, given = doc["spec"], doc["given"]
    layers = len(spec["sizes"]) - 1
    mode, digits, act, loss = (
        spec["transcendental"],
        spec["digits"],
        spec["activation"],
        spec["loss"],
    )
    max_chars = spec.get("max_chars", 10)
    out: list[str] = []
    cells: dict[str, list[list[str]]] = {
        k: (v if isinstance(v, list) else [[v]]) for k, v in given.items()
    }
    approx: dict[str, list[list[float]]] = {}
    for step in doc["steps"]:
        cells[step["name"]] = step["value"]
        approx[step["name"]] = step["approx"]
    exact = {
        name: [[_exact(t) for t in row] for row in rows]
        for name, rows in cells.items()
        if all(_exact(t) is not None for row in rows for t in row)
    }

    def q(name: str) -> list[list[Fraction]]:
        return exact[name]  # type: ignore[return-value]

    def flat(name: str) -> list[Fraction]:
        return [v for row in q(name) for v in row]

    # given values: small integers drawn from the ranges the spec names
    x = q("X")
    if any(v.denominator != 1 or abs(v) > spec["input_max"] for v in flat("X")):
        out.append("X: not integers within input_max")
    if any(all(row[j] == 0 for row in x) for j in range(spec["batch"])):
        out.append("X: a sample of zeros")
    for k in range(1, layers + 1):
        if any(v.denominator != 1 or abs(v) > spec["weight_max"] for v in flat(f"W{k}")):
            out.append(f"W{k}: not integers within weight_max")
        if any(all(v == 0 for v in row) for row in q(f"W{k}")):
            out.append(f"W{k}: a neuron without weights")
        if any(v.denominator != 1 or abs(v) > min(BIAS, spec["weight_max"]) for v in flat(f"b{k}")):
            out.append(f"b{k}: not integers within ±2")
    y = q("Y")
    if loss == "softmax_ce" and any(
        sorted(col) != [0] * (len(col) - 1) + [1] for col in zip(*y, strict=True)
    ):
        out.append("Y: not one-hot")
    if loss == "sigmoid_bce" and any(v not in (0, 1) for v in flat("Y")):
        out.append("Y: not 0/1")
    if loss == "mse" and any(v.denominator != 1 or abs(v) > 2 for v in flat("Y")):
        out.append("Y: not small integers")

    # every cell, the loss included: magnitude; every rational entry: denominator and length
    for name, rows in cells.items():
        floats = approx.get(name) or [[float(v) for v in row] for row in q(name)]
        if any(abs(v) > MAX_ABS for row in floats for v in row):
            out.append(f"{name}: an entry beyond ±{MAX_ABS}")
        if name not in exact:
            continue
        for i, row in enumerate(rows):
            for j, text in enumerate(row):
                v = exact[name][i][j]
                assert v is not None
                if v.denominator > MAX_DENOMINATOR:
                    out.append(f"{name}: denominator beyond 10^12")
                # a tabulated value prints with its table's decimals ("0.50"), others by the rule
                printed = text if "." in text else sheet_text(v)
                if name != "loss" and len(printed) > max_chars:
                    out.append(f"{name}[{i + 1},{j + 1}] = {printed}: longer than {max_chars}")

    # pre-activations, on the values the sheet prints
    for k in range(1, layers + 1):
        z = flat(f"Z{k}")
        if k < layers:
            bound = SQUASHED if act in ("sigmoid", "tanh") else HIDDEN
        else:
            bound = REGRESSION if loss == "mse" else OUTPUT
        if max(map(abs, z)) > bound:
            out.append(f"Z{k}: beyond ±{bound}")
        if k < layers and act in ("relu", "leaky_relu"):
            if 0 in z:
                out.append(f"Z{k}: a ReLU input of 0")
            if not (max(z) > 0 and (min(z) < 0 or len(z) == 1)):
                out.append(f"Z{k}: a mask that passes or blocks everything")

    # printed probabilities and table values that would kill a gradient
    top = f"A{layers}"
    if loss in ("softmax_ce", "sigmoid_bce"):
        values = approx[top] if top not in exact else [[float(v) for v in r] for r in q(top)]
        if any(not 0 < v < 1 for row in values for v in row):
            out.append(f"{top}: a probability printed as 0 or 1")
    if mode == "table" and act in ("sigmoid", "tanh"):
        for k in range(1, layers):
            if any(v in (0, 1, -1) for v in flat(f"A{k}")):
                out.append(f"A{k}: a hidden table value of 0 or ±1")

    # no tie the rounding rule has to break
    if mode == "table" and loss == "softmax_ce":
        z = [[float(v) for v in row] for row in q(f"Z{layers}")]
        for j in _table_softmax_ties(z, digits):
            out.append(f"{top}: column {j} needs the largest-remainder rule to break a tie")
    if mode == "table" and loss == "mse":
        factor = Fraction(1) if spec["reduction"] == "sum" else Fraction(1, spec["batch"])
        exact_loss = (
            factor
            / 2
            * sum(
                (a - t) ** 2
                for za, ya in zip(q(f"Z{layers}"), y, strict=True)
                for a, t in zip(za, ya, strict=True)
            )
        )
        if (exact_loss * 10**digits).denominator == 2:
            out.append(f"loss: {exact_loss} is half-way between two {digits}-decimal values")

    # every sample and every trainable layer gets a gradient
    dz = approx[f"dZ{layers}"]
    if any(all(row[j] == 0 for row in dz) for j in range(spec["batch"])):
        out.append(f"dZ{layers}: a sample contributes no gradient")
    for k in range(1, layers + 1):
        if k in spec["frozen"]:
            continue
        grads = approx[f"dW{k}"] + approx[f"db{k}"]
        if all(v == 0 for row in grads for v in row):
            out.append(f"layer {k}: the gradient vanishes")
    return out
