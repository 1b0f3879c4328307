"""Small-integer given values that make a good by-hand problem, drawn from a seed: each layer
re-drawn until a float64 screen finds it nice, then the whole problem solved exactly and checked."""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Mapping
from typing import Any

import numpy as np

from ...errors import BudgetError
from ...matrix import Mat, rational, to_fraction
from ...spec import Spec
from ...transcendental import PrintBudgetError
from .budgets import (
    ATTEMPTS,
    BASE_SPREAD,
    BLOCK,
    HIDDEN_MAX,
    LAYER_TRIES,
    OUTPUT_MAX,
    PRINT_ATTEMPTS,
    REGRESSION_MAX,
    ROW_TRIES,
    SQUASH_MAX,
    TARGET_P,
)
from .checks import check_values
from .feasible import check_feasible, squashed
from .steps import build


def generate(spec: Spec, seed: int) -> dict[str, Mat]:
    """Small-integer given values meeting every budget, deterministically from ``seed``, and the
    value of every cell computed from them.

    Each layer is re-drawn on its own until a float64 screen finds its pre-activations nice (a
    bounded, seeded search), then the whole problem is solved exactly and every budget is checked
    again on the exact values, the ones the sheet prints; a failure re-draws it all. Where the
    search finds nothing, the refusal names the smaller options that do give a problem with
    this seed (tried the same way), if any.
    """
    try:
        return _generate(spec, seed)
    except _Exhausted as e:
        raise BudgetError(f"{e}{_what_works(spec, seed)}") from None


class _Exhausted(BudgetError):
    """The seeded search drew no problem within the budgets."""


def _what_works(spec: Spec, seed: int) -> str:
    """Smaller ranges, then a smaller batch, that give a problem with ``seed`` (the first of each
    that does), as the end of a refusal; "" where none does."""
    ranges: list[tuple[str, dict[str, Any]]] = [
        (
            f"weight_max {most} and input_max {most} (--weight-max {most} --input-max {most})",
            {"weight_max": most, "input_max": most},
        )
        for most in (2, 1)
        if spec.weight_max > most or spec.input_max > most
    ]
    batches: list[tuple[str, dict[str, Any]]] = [
        (f"batch {batch} (--batch {batch})", {"batch": batch})
        for batch in sorted({spec.batch // 2, 2}, reverse=True)
        if 0 < batch < spec.batch
    ]
    works = []
    for tries in (ranges, batches):
        for text, change in tries:
            try:
                _generate(dataclasses.replace(spec, **change), seed)
            except BudgetError:
                continue
            works.append(text)
            break
    return f"; options that work with seed {seed}: {'; or '.join(works)}" if works else ""


def _generate(spec: Spec, seed: int) -> dict[str, Mat]:
    check_feasible(spec)
    rng = random.Random(seed)
    treatment = spec.treatment()
    graph = build(spec)
    reasons: dict[str, int] = {}
    for _ in range(ATTEMPTS):
        try:
            given = _draw(spec, rng)
            values = graph.evaluate(given, treatment.finish)
            check_values(spec, graph, values)
            return values
        except BudgetError as e:
            reasons[str(e)] = reasons.get(str(e), 0) + 1
            if isinstance(e, PrintBudgetError) and sum(reasons.values()) >= PRINT_ATTEMPTS:
                # exact expressions that are too long stay too long on other draws: say so
                raise BudgetError(
                    f"no problem with these options meets the budgets after "
                    f"{sum(reasons.values())} draws (the search stopped at: {e})"
                ) from None
    why = max(reasons, key=lambda r: reasons[r])
    raise _Exhausted(
        f"no problem with these options meets the budgets after "
        f"{sum(reasons.values())} draws (most often: {why})"
    )


def redraw_head(spec: Spec, given: Mapping[str, Mat], rng: random.Random) -> dict[str, Mat]:
    """Given values as :func:`generate` draws them, with the last layer (weights, biases) and
    the targets drawn again from ``rng``, the body (``X``, the hidden layers) kept from
    ``given``; only the float64 screens are applied (BudgetError: draw again), so the caller
    solves the problem and checks its budgets (``check_values``) itself.

    For a kind that asks more of a problem than the MLP's budgets and whose failures turn on
    the head (fine-tuning's new head): one layer is drawn again instead of the whole network.
    The MLP kind itself never calls it."""
    n = spec.layers
    body = ["X", *(f"{p}{layer}" for layer in range(1, n) for p in ("W", "b"))]
    ints = {name: np.array(_as_ints(given[name])) for name in body}
    a = ints["X"].astype(float)
    for layer in range(1, n):
        a = _float_activation(spec, ints[f"W{layer}"] @ a + ints[f"b{layer}"])
    ints[f"W{n}"], ints[f"b{n}"], z = _draw_layer(spec, rng, a, spec.sizes[n], True, HIDDEN_MAX)
    ints["Y"] = _targets(spec, rng, z)
    _screen_gradients(spec, ints)
    out = {name: rational(m.tolist()) for name, m in ints.items()}
    out["lr"] = rational([[spec.lr]])
    return out


def _as_ints(m: Mat) -> list[list[int]]:
    """A drawn matrix of whole numbers (``X``, a weight, a bias, ``Y``) as Python ints."""
    return [[int(to_fraction(v)) for v in row] for row in m.to_list()]


def _draw(spec: Spec, rng: random.Random) -> dict[str, Mat]:
    n0, batch = spec.sizes[0], spec.batch
    x = _ints(rng, spec.input_max, n0, batch)
    while any(not x[:, j].any() for j in range(batch)):
        x = _ints(rng, spec.input_max, n0, batch)
    given = {"X": x}
    a = x.astype(float)
    for layer in range(1, spec.layers + 1):
        last = layer == spec.layers
        w, b, z = _draw_layer(spec, rng, a, spec.sizes[layer], last, HIDDEN_MAX)
        given[f"W{layer}"], given[f"b{layer}"] = w, b
        a = z if last else _float_activation(spec, z)
    given["Y"] = _targets(spec, rng, a)
    _screen_gradients(spec, given)
    out = {name: rational(m.tolist()) for name, m in given.items()}
    out["lr"] = rational([[spec.lr]])
    return out


def _draw_layer(
    spec: Spec, rng: random.Random, a: np.ndarray, rows: int, last: bool, bound: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights and biases of one layer, each neuron re-drawn until its row of Z is nice."""
    row_ok, layer_ok = (
        (_nice_output_rows, _nice_output) if last else (_nice_hidden_rows, _nice_hidden)
    )
    weights = range(-spec.weight_max, spec.weight_max + 1)
    biases = range(-min(spec.weight_max, 2), min(spec.weight_max, 2) + 1)
    cols = a.shape[0]
    spread = _softmax_spread(spec) if last else None
    for _ in range(LAYER_TRIES):
        w, b = np.zeros((rows, cols), dtype=np.int64), np.zeros((rows, 1), dtype=np.int64)
        high = low = None  # each column's largest and smallest logit so far
        for i in range(rows):
            # candidate neurons are drawn in blocks and screened at once; the first nice one wins
            for _ in range(ROW_TRIES // BLOCK):
                wc = np.array(rng.choices(weights, k=BLOCK * cols)).reshape(BLOCK, cols)
                bc = np.array(rng.choices(biases, k=BLOCK))
                zc = wc @ a + bc[:, None]
                ok = row_ok(spec, zc, bound) & (wc != 0).any(1)
                if spread is not None and high is not None and low is not None:
                    # a logit this far from another row's in its column prints a probability of 0
                    ok &= (np.maximum(zc, high) - np.minimum(zc, low) <= spread).all(1)
                good = np.flatnonzero(ok)
                if good.size:
                    w[i], b[i, 0] = wc[good[0]], bc[good[0]]
                    if spread is not None:
                        row = zc[good[0]]
                        high = row if high is None else np.maximum(high, row)
                        low = row if low is None else np.minimum(low, row)
                    break
            else:
                raise BudgetError(
                    f"no neuron of {'the output' if last else 'a hidden'} layer "
                    f"keeps its pre-activations within the budget"
                )
        z = w @ a + b
        if layer_ok(spec, z):
            return w, b, z
    raise BudgetError(f"no {'output' if last else 'hidden'} layer meets the budgets")


def _ints(rng: random.Random, bound: int, rows: int, cols: int) -> np.ndarray:
    return np.array(rng.choices(range(-bound, bound + 1), k=rows * cols)).reshape(rows, cols)


def _nice_hidden_rows(spec: Spec, z: np.ndarray, bound: int) -> np.ndarray:
    size = np.abs(z).max(1)
    if spec.activation in ("sigmoid", "tanh"):
        ok = size <= SQUASH_MAX
        if squashed(spec):
            # no table value of 0 or ±1: its derivative would stop the gradient there
            a = _float_activation(spec, z)
            ok &= ((a != 0) & (np.abs(a) != 1)).all(1)
        return ok
    # a ReLU input is never exactly 0
    return (size <= bound) & (np.abs(z) > 1e-9).all(1)


def _nice_hidden(spec: Spec, z: np.ndarray) -> bool:
    if spec.activation not in ("relu", "leaky_relu"):
        return True
    # the ReLU mask both passes and blocks something (a single entry can only pass)
    return bool((z > 0).any() and ((z < 0).any() or z.size == 1))


def _nice_output_rows(spec: Spec, z: np.ndarray, bound: int) -> np.ndarray:
    size = np.abs(z).max(1)
    if spec.output == "identity":
        return size <= REGRESSION_MAX
    ok = size <= OUTPUT_MAX
    if spec.transcendental == "base":
        ok &= (np.abs(z - np.round(z)) < 1e-9).all(1)
    if spec.output == "sigmoid" and spec.transcendental == "table":
        p = _table_round(1 / (1 + np.exp(-z)), spec.digits)  # never printed as 0 or 1
        ok &= ((p > 0) & (p < 1)).all(1)
    return ok


def _nice_output(spec: Spec, z: np.ndarray) -> bool:
    if spec.output != "softmax":
        return True
    if spec.transcendental == "base" and spec.base ** (z.max(0) - z.min(0)).max() > BASE_SPREAD:
        return False  # small denominators: sums of a few small powers of the base
    p = _softmax(z)
    if not (((p >= TARGET_P) & (p <= 1 - TARGET_P)).sum(0) >= 1).all():
        return False
    # as printed: no probability of 0 or 1, and no tie for the rounding rule to break
    return spec.transcendental != "table" or _table_softmax_ok(p, spec.digits)


def _softmax_spread(spec: Spec) -> float | None:
    """How far apart two logits of a column may be before the smaller one's probability rounds
    to 0 in the table, whatever the other rows."""
    if spec.output != "softmax" or spec.transcendental != "table":
        return None
    half = 0.5 * 10.0**-spec.digits
    return float(np.log((1 - half) / half))


def _table_softmax_ok(p: np.ndarray, digits: int) -> bool:
    """The float64 look at a softmax table: no tie for largest remainder to break, and no
    probability printed as 0 or 1 (plain Python: columns are a few numbers)."""
    unit = 10**digits
    for col in (p * unit).T.tolist():
        units = [math.floor(x) for x in col]
        rest = [x - u for x, u in zip(col, units, strict=True)]
        up = unit - sum(units)
        order = sorted(range(len(col)), key=lambda i: -rest[i])
        if 0 < up < len(col) and rest[order[up - 1]] - rest[order[up]] < 1e-9:
            return False
        for i in order[:up]:
            units[i] += 1
        if min(units) == 0 or max(units) == unit:
            return False
    return True


def _table_round(x: np.ndarray, digits: int) -> np.ndarray:
    """Table values as the sheet prints them, in float64: halves away from zero."""
    unit = 10**digits
    return np.sign(x) * np.floor(np.abs(x) * unit + 0.5) / unit


def _screen_gradients(spec: Spec, given: Mapping[str, np.ndarray]) -> None:
    """A float64 look ahead (not an answer): does the gradient reach every trainable layer?

    It saves an exact solve for the draws that would fail ``_check_values`` anyway."""
    if spec.activation not in ("relu", "leaky_relu"):
        return
    a, zs = [given["X"].astype(float)], []
    for layer in range(1, spec.layers + 1):
        zs.append(given[f"W{layer}"] @ a[-1] + given[f"b{layer}"])
        a.append(_float_activation(spec, zs[-1]))
    out = _float_output(spec, zs[-1])
    dz = out - given["Y"]
    if not spec.own_output:  # squared error of a sigmoid: times σ′
        dz = dz * out * (1 - out)
    for layer in range(spec.layers, min(spec.trainable) - 1, -1):
        if layer in spec.trainable and not np.abs(dz).max() > 1e-9:
            raise BudgetError(f"the gradient of layer {layer} vanishes")
        if layer > 1:
            mask = np.where(
                zs[layer - 2] > 0,
                1.0,
                float(spec.slope) if spec.activation == "leaky_relu" else 0.0,
            )
            dz = (given[f"W{layer}"].T @ dz) * mask


def _float_activation(spec: Spec, z: np.ndarray) -> np.ndarray:
    """A hidden layer's values in float64; table values rounded as the table prints them, so
    that the next layer's screen sees the pre-activations the sheet will have."""
    match spec.activation:
        case "relu":
            return np.maximum(z, 0)
        case "leaky_relu":
            return np.where(z > 0, z, float(spec.slope) * z)
        case "sigmoid":
            a = 1 / (1 + np.exp(-z))
        case "tanh":
            a = np.tanh(z)
        case _:
            return z
    return _table_round(a, spec.digits) if spec.transcendental == "table" else a


def _float_output(spec: Spec, z: np.ndarray) -> np.ndarray:
    """The output's values in float64 (a look ahead: table rounding left out)."""
    match spec.output:
        case "softmax":
            return _softmax(z)
        case "sigmoid":
            return 1 / (1 + np.exp(-z))
    return z


def _targets(spec: Spec, rng: random.Random, z: np.ndarray) -> np.ndarray:
    rows, batch = z.shape
    if spec.output == "identity":
        return _ints(rng, 2, rows, batch)
    if spec.output == "sigmoid":  # binary targets, for cross-entropy and squared error alike
        return np.array(rng.choices((0, 1), k=rows * batch)).reshape(rows, batch)
    y = np.zeros((rows, batch), dtype=np.int64)
    for j in range(batch):
        # the target's probability is far from 0 and 1 (_nice_output makes sure one can be)
        p = _softmax(z[:, j])
        y[rng.choice([i for i in range(rows) if TARGET_P <= p[i] <= 1 - TARGET_P]), j] = 1
    return y


def _softmax(z: np.ndarray) -> np.ndarray:
    p = np.exp(z - z.max(0))
    return p / p.sum(0)
