"""The MLP kind: the step graph of a forward pass, loss, backward pass and SGD update, and a
generator of small-integer given values that make a good by-hand problem."""

from __future__ import annotations

import dataclasses
import functools
import math
import random
import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import BudgetError, DocumentError
from ..graph import Graph, Step
from ..matrix import Mat, entries, entry_float, rational, to_fraction
from ..notation import DECIMAL_PLACES, printed, printed_length
from ..ops import (
    Activate,
    Activation,
    ActivationGrad,
    Affine,
    BiasGrad,
    Identity,
    InputGrad,
    LeakyReLU,
    Loss,
    OutputGrad,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    Update,
    WeightGrad,
)
from ..spec import Spec
from ..transcendental import PrintBudgetError, Table, Treatment
from ..values import format_rational, parse_number

NAME = "mlp"
#: nice-number budgets every generated problem meets
MAX_ABS = 200  # no cell entry larger in magnitude
MAX_DENOMINATOR = 10**12  # no cell entry with a larger denominator
HIDDEN_MAX = 12  # hidden pre-activations stay within ±12 …
SQUASH_MAX = 3  # … within ±3 before a sigmoid or tanh
OUTPUT_MAX = 5  # output pre-activations within ±5 (softmax, sigmoid) …
REGRESSION_MAX = 10  # … or ±10 (mse)
LAYER_TRIES = 20
TARGET_P = 0.06  # a target class's probability stays within [0.06, 0.94]
ROW_TRIES = 1024
BLOCK = 16
ATTEMPTS = 60
PRINT_ATTEMPTS = 6
BASE_SPREAD = 100  # base mode: b^(largest − smallest logit of a column) stays within 100
SPARE_UNITS = (
    3  # a softmax table has this many units beyond one a class (8 classes at 1 decimal: 2)
)
EXACT_TERMS = 6  # outputs × batch in exact mode (see _check_expressions)
#: limits on authored given values
GIVEN_MAX = 10**6


# --- the step graph ----------------------------------------------------------------------------


def hidden_activation(spec: Spec, treatment: Treatment) -> Activation:
    match spec.activation:
        case "relu":
            return ReLU()
        case "leaky_relu":
            return LeakyReLU(spec.slope)
        case "identity":
            return Identity()
        case "sigmoid":
            return Sigmoid(treatment)
    return Tanh(treatment)


@functools.lru_cache(maxsize=256)
def build(spec: Spec) -> Graph:
    """Every forward, loss, backward and update step, named as in DESIGN.md."""
    treatment = spec.treatment()
    act = hidden_activation(spec, treatment)
    n = spec.layers
    steps: list[Step] = []
    for layer in range(1, n + 1):
        steps.append(
            Step(
                f"Z{layer}", "forward", Affine(), (f"W{layer}", f"A{layer - 1}", f"b{layer}"), layer
            )
        )
        if layer < n:
            out_op: Any = Activate(act)
        elif spec.loss == "softmax_ce":
            out_op = Softmax(treatment)
        elif spec.loss == "sigmoid_bce":
            out_op = Activate(Sigmoid(treatment))
        else:
            out_op = Activate(Identity())
        steps.append(Step(f"A{layer}", "forward", out_op, (f"Z{layer}",), layer))
    steps.append(Step("loss", "loss", Loss(spec.loss, treatment, spec.factor), (f"Z{n}", "Y")))

    lowest = min(spec.trainable)
    steps.append(Step(f"dZ{n}", "backward", OutputGrad(spec.factor), (f"A{n}", "Y"), n))
    for layer in range(n, lowest - 1, -1):
        if layer in spec.trainable:
            steps.append(
                Step(f"dW{layer}", "backward", WeightGrad(), (f"dZ{layer}", f"A{layer - 1}"), layer)
            )
            steps.append(Step(f"db{layer}", "backward", BiasGrad(), (f"dZ{layer}",), layer))
        if layer > lowest:
            below = layer - 1
            steps.append(
                Step(f"dA{below}", "backward", InputGrad(), (f"W{layer}", f"dZ{layer}"), below)
            )
            source = f"{act.derivative_from}{below}"
            steps.append(
                Step(f"dZ{below}", "backward", ActivationGrad(act), (f"dA{below}", source), below)
            )
    for layer in spec.trainable:
        for p in ("W", "b"):
            steps.append(
                Step(
                    f"{p}{layer}_new",
                    "update",
                    Update(),
                    (f"{p}{layer}", f"d{p}{layer}", "lr"),
                    layer,
                )
            )
    return Graph.of(given_names(spec), steps)


def given_names(spec: Spec) -> tuple[str, ...]:
    names = ["X"]
    for layer in range(1, spec.layers + 1):
        names += [f"W{layer}", f"b{layer}"]
    return (*names, "Y", "lr")


def cell_shape(spec: Spec, name: str) -> tuple[int, int]:
    """The shape of any cell of the graph, read from its name."""
    given = shapes(spec)
    if name in given:
        return given[name]
    if name == "loss":
        return (1, 1)
    m = re.fullmatch(r"d?([WbZA])(\d+)(?:_new)?", name)
    if not m or not 0 <= int(m[2]) <= spec.layers:
        raise KeyError(name)
    letter, layer = m[1], int(m[2])
    rows = spec.sizes[layer]
    return {"W": (rows, spec.sizes[layer - 1]), "b": (rows, 1)}.get(letter, (rows, spec.batch))


def shapes(spec: Spec) -> dict[str, tuple[int, int]]:
    out = {"X": (spec.sizes[0], spec.batch), "Y": (spec.sizes[-1], spec.batch), "lr": (1, 1)}
    for layer in range(1, spec.layers + 1):
        out[f"W{layer}"] = (spec.sizes[layer], spec.sizes[layer - 1])
        out[f"b{layer}"] = (spec.sizes[layer], 1)
    return out


# --- authored given values ---------------------------------------------------------------------


def infer_options(options: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """Fill ``sizes`` and ``batch`` from the given matrices where an author left them out."""
    out = dict(options)
    try:
        if "sizes" not in out and "X" in given and "W1" in given:
            sizes = [len(given["X"])]
            layer = 1
            while f"W{layer}" in given:
                w = given[f"W{layer}"]
                if len(w[0]) != sizes[-1]:
                    below = "the input X has" if layer == 1 else f"layer {layer - 1} has"
                    raise DocumentError(
                        f"given.W{layer}: has {len(w[0])} column{'s' * (len(w[0]) != 1)} but "
                        f"{below} {sizes[-1]} rows (W{layer} holds one weight per unit below, in "
                        f"each row)"
                    )
                sizes.append(len(w))
                layer += 1
            out["sizes"] = sizes
        if "batch" not in out and "X" in given:
            out["batch"] = len(given["X"][0])
        if "lr" not in out and "lr" in given:
            out["lr"] = given["lr"]
    except (TypeError, IndexError, KeyError):
        pass  # read_given names the malformed field
    return out


def read_given(spec: Spec, raw: Any) -> dict[str, Mat]:
    """Validate an author's ``given`` object against the spec; each message names its field."""
    if not isinstance(raw, Mapping):
        raise DocumentError(f"given: expected an object of matrices, got {type(raw).__name__}")
    expected = shapes(spec)
    unknown = sorted(set(raw) - set(expected))
    if unknown:
        raise DocumentError(
            f"given: unknown cell {unknown[0]!r}; this problem's given cells are "
            f"{', '.join(given_names(spec))}"
        )
    raw = dict(raw)
    raw.setdefault("lr", spec.to_dict()["lr"])
    out: dict[str, Mat] = {}
    for name in given_names(spec):
        if name not in raw:
            raise DocumentError(
                f"given.{name}: missing; a {_shape_text(expected[name])} matrix is needed"
            )
        if name == "lr":
            lr = parse_number(raw["lr"], "given.lr")
            if lr != spec.lr:
                raise DocumentError(
                    f"given.lr: {raw['lr']!r} differs from spec.lr "
                    f"{spec.to_dict()['lr']!r}; give one, or make them agree"
                )
            out["lr"] = rational([[lr]])
            continue
        out[name] = read_matrix(raw[name], f"given.{name}", expected[name])
    check_targets(spec, out["Y"])
    return out


def written_shape(raw: Any) -> str:
    """What was written instead of a matrix, in words: ``3 × 2``, ``rows of 2, 3 and 2 entries``,
    ``a row that is not a list``, or the JSON type."""
    if not isinstance(raw, list):
        return "a number or text" if isinstance(raw, str | int | float) else type(raw).__name__
    if not all(isinstance(r, list) for r in raw):
        return "a list whose rows are not all lists"
    lengths = [len(r) for r in raw]
    if len(set(lengths)) > 1:
        shown = ", ".join(map(str, lengths[:-1])) + f" and {lengths[-1]}"
        return f"{len(raw)} rows of {shown} entries"
    return f"{len(raw)} × {lengths[0] if lengths else 0}"


def read_matrix(raw: Any, where: str, shape: tuple[int, int]) -> Mat:
    rows, cols = shape
    if (
        not isinstance(raw, list)
        or not all(isinstance(r, list) for r in raw)
        or len(raw) != rows
        or any(len(r) != cols for r in raw)
    ):
        raise DocumentError(
            f"{where}: expected a {_shape_text(shape)} matrix (a list of {rows} "
            f"rows of {cols}), got {written_shape(raw)}"
        )
    values = []
    for i, row in enumerate(raw):
        out_row = []
        for j, text in enumerate(row):
            q = parse_number(text, f"{where}[{i + 1}][{j + 1}]")
            if abs(q.numerator) > GIVEN_MAX or q.denominator > GIVEN_MAX:
                raise DocumentError(
                    f"{where}[{i + 1}][{j + 1}]: {text!r} is too large; accepted: "
                    f"numerators and denominators up to {GIVEN_MAX}"
                )
            out_row.append(q)
        values.append(out_row)
    return rational(values)


def check_targets(spec: Spec, y: Mat) -> None:
    cols = list(zip(*[[to_fraction(v) for v in row] for row in entries(y)], strict=True))
    for j, col in enumerate(cols, start=1):
        if spec.loss == "softmax_ce" and (sorted(col) != [0] * (len(col) - 1) + [1]):
            raise DocumentError(
                f"given.Y: column {j} is not one-hot; softmax_ce needs each "
                f"column of Y to hold a single 1 and 0 elsewhere"
            )
        if spec.loss == "sigmoid_bce" and any(v not in (0, 1) for v in col):
            raise DocumentError(
                f"given.Y: column {j} has an entry that is not 0 or 1; "
                f"sigmoid_bce needs targets of 0 and 1"
            )


def _shape_text(shape: tuple[int, int]) -> str:
    return f"{shape[0]} × {shape[1]}"


# --- generating nice numbers -------------------------------------------------------------------


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
    _check_feasible(spec)
    rng = random.Random(seed)
    treatment = spec.treatment()
    graph = build(spec)
    reasons: dict[str, int] = {}
    for _ in range(ATTEMPTS):
        try:
            given = _draw(spec, rng)
            values = graph.evaluate(given, treatment.finish)
            _check_values(spec, graph, values)
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


@functools.lru_cache(maxsize=256)  # a spec is checked once (a refusal raises again)
def _check_feasible(spec: Spec) -> None:
    """Refuse, before drawing anything, the options no draw can make nice."""
    hidden = spec.layers - 1
    if spec.transcendental == "base" and spec.activation == "leaky_relu" and hidden:
        raise BudgetError(
            "a leaky_relu network almost never gives the integer output pre-activations that "
            "transcendental 'base' needs to write b^z exactly; use relu, or transcendental "
            "'table' (an authored problem whose output Z is integer still solves)"
        )
    if spec.transcendental == "table" and spec.activation in ("sigmoid", "tanh") and hidden:
        tabulated = spec.layers - min(spec.trainable)  # hidden layers the gradient crosses
        decimals = spec.digits * (2 * tabulated + (spec.loss != "mse")) + 1
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
    if spec.loss != "mse" and weight > EXACT_TERMS:
        leaky = " (a hidden leaky_relu counts twice)" if weight > outputs * spec.batch else ""
        raise BudgetError(
            f"in transcendental 'exact' mode {outputs} outputs × batch {spec.batch}{leaky} make "
            f"expressions too long to print (at most {EXACT_TERMS} exponentials a cell); use "
            f"transcendental 'table', or a smaller batch or fewer outputs"
        )


def _squashed(spec: Spec) -> bool:
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
    negative = _squashed(spec) and spec.activation == "tanh" and spec.layers > 1
    if table and (spec.loss != "mse" or (_squashed(spec) and spec.layers > 1)):
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
        below.append(unit if _squashed(spec) else below[-1] * slope)
    # an identity output has Z's denominators; base and exact outputs are checked when drawn
    table = spec.transcendental == "table"
    out = below[-1] if spec.loss == "mse" else (unit if table else 1)
    dz = out * spec.factor.denominator
    dens: dict[str, int] = {}
    lowest = min(spec.trainable)
    for layer in range(spec.layers, lowest - 1, -1):
        if layer in spec.trainable:
            dens[f"W{layer}_new"] = dz * below[layer - 1] * spec.lr.denominator
            dens[f"b{layer}_new"] = dz * spec.lr.denominator
        if layer > lowest:
            dz *= unit**2 if _squashed(spec) else slope
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
        if _squashed(spec):
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
    if spec.loss == "mse":
        return size <= REGRESSION_MAX
    ok = size <= OUTPUT_MAX
    if spec.transcendental == "base":
        ok &= (np.abs(z - np.round(z)) < 1e-9).all(1)
    if spec.loss == "sigmoid_bce" and spec.transcendental == "table":
        p = _table_round(1 / (1 + np.exp(-z)), spec.digits)  # never printed as 0 or 1
        ok &= ((p > 0) & (p < 1)).all(1)
    return ok


def _nice_output(spec: Spec, z: np.ndarray) -> bool:
    if spec.loss != "softmax_ce":
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
    if spec.loss != "softmax_ce" or spec.transcendental != "table":
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
    dz = (_softmax(zs[-1]) if spec.loss == "softmax_ce" else zs[-1]) - given["Y"]
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


def _targets(spec: Spec, rng: random.Random, z: np.ndarray) -> np.ndarray:
    rows, batch = z.shape
    if spec.loss == "mse":
        return _ints(rng, 2, rows, batch)
    if spec.loss == "sigmoid_bce":
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


def _check_values(spec: Spec, graph: Graph, values: Mapping[str, Mat]) -> None:
    """Every budget again, on the exact solution (the values the sheet prints): the float screens
    only make a failure here rare."""
    n = spec.layers
    treatment = spec.treatment()
    _check_entries(spec, graph, values)
    squash = spec.activation in ("sigmoid", "tanh")
    for layer in range(1, n + 1):
        z = [v for row in values[f"Z{layer}"].to_list() for v in row]
        if layer < n:
            bound = SQUASH_MAX if squash else HIDDEN_MAX
        else:
            bound = REGRESSION_MAX if spec.loss == "mse" else OUTPUT_MAX
        if max(map(abs, z)) > bound:
            raise BudgetError(f"Z{layer} has {max(z, key=abs)}, beyond ±{bound}")
        relu = layer < n and spec.activation in ("relu", "leaky_relu")
        if relu and (any(v == 0 for v in z) or max(z) < 0 or (min(z) > 0 and len(z) > 1)):
            raise BudgetError(f"the ReLU mask of layer {layer} masks nothing or everything")
        if layer < n and _squashed(spec):
            a = values[f"A{layer}"].to_list()
            if any(v in (0, 1, -1) for row in a for v in row):
                raise BudgetError(
                    f"A{layer} has a table value of 0 or ±1, whose derivative stops the gradient"
                )
    out = values[f"A{n}"]
    probabilities = spec.loss != "mse" and out.domain.is_QQ  # exact mode: never 0 or 1
    if probabilities and any(not 0 < v < 1 for row in out.to_list() for v in row):
        raise BudgetError(f"A{n} has a probability printed as 0 or 1")
    if isinstance(treatment, Table) and spec.loss == "softmax_ce":
        ties = treatment.softmax_ties(values[f"Z{n}"])
        if ties:
            raise BudgetError(
                f"column {ties[0]} of A{n} needs the largest-remainder rule to break a tie"
            )
    if isinstance(treatment, Table) and spec.loss == "mse":
        squared_error = Loss(spec.loss, treatment, spec.factor).squared_error
        exact = to_fraction(squared_error(values[f"Z{n}"], values["Y"]).to_list()[0][0])
        if treatment.is_half(exact):
            raise BudgetError(
                f"the loss {format_rational(exact.numerator, exact.denominator)} lies half-way "
                f"between two {spec.digits}-decimal values"
            )
    for j, col in enumerate(zip(*values[f"dZ{n}"].to_list(), strict=True), start=1):
        if all(v == 0 for v in col):
            raise BudgetError(f"sample {j} contributes no gradient (dZ{n} is zero there)")
    for layer in spec.trainable:
        if values[f"dW{layer}"].is_zero_matrix and values[f"db{layer}"].is_zero_matrix:
            raise BudgetError(f"the gradient of layer {layer} vanishes")


def _check_entries(spec: Spec, graph: Graph, values: Mapping[str, Mat]) -> None:
    """Magnitude, denominator and printed length of every entry (the loss is not held to
    ``max_chars``: it is a decimal in table mode and an expression in the others)."""
    tables = {step.name for step in graph.steps if step.op.tabulated}
    width = spec.digits + 2  # a table value prints with all its decimals: 0.50, −0.27
    for name, m in values.items():
        flat = [v for row in m.to_list() for v in row]
        if not m.domain.is_QQ:  # exact-mode expressions: the print budget governs their length
            if any(abs(entry_float(v)) > MAX_ABS for v in flat):
                raise BudgetError(f"cell {name} has an entry beyond ±{MAX_ABS}")
            continue
        chars = [width + (v < 0) for v in flat] if name in tables else list(map(_length, flat))
        longest = 0 if name == "loss" else max(chars)
        # within 13 characters as printed, a denominator has at most 11 digits
        wide = name == "loss" or longest > 13
        if max(map(abs, flat)) > MAX_ABS or (
            wide and max(v.denominator for v in flat) > MAX_DENOMINATOR
        ):
            v = next(v for v in flat if abs(v) > MAX_ABS or v.denominator > MAX_DENOMINATOR)
            raise BudgetError(
                f"cell {name} has {v}, beyond the budget (|v| ≤ {MAX_ABS}, denominator ≤ 10^12)"
            )
        if longest > spec.max_chars:
            k = chars.index(longest)
            cols = m.shape[1]
            raise BudgetError(
                f"cell {name}[{k // cols + 1},{k % cols + 1}] prints as {printed(flat[k])}, "
                f"{longest} characters (max_chars is {spec.max_chars})"
            )


#: printed lengths of the values met most (0, ±1, 1/10, …): the generator counts every entry
_length = functools.lru_cache(maxsize=8192)(printed_length)


def solve_values(spec: Spec, given: Mapping[str, Mat]) -> dict[str, Mat]:
    """Evaluate the step graph exactly on ``given``."""
    return build(spec).evaluate(given, spec.treatment().finish)
