"""The MLP kind: the step graph of a forward pass, loss, backward pass and SGD update, and a
generator of small-integer given values that make a good by-hand problem."""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import BudgetError, DocumentError
from ..graph import Graph, Step
from ..matrix import Mat, entries, rational, to_fraction
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
from ..transcendental import Base, PrintBudgetError, Treatment
from ..values import parse_number

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
PRINT_ATTEMPTS = 4
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


def read_matrix(raw: Any, where: str, shape: tuple[int, int]) -> Mat:
    rows, cols = shape
    if (
        not isinstance(raw, list)
        or not all(isinstance(r, list) for r in raw)
        or len(raw) != rows
        or any(len(r) != cols for r in raw)
    ):
        got = (
            f"{len(raw)} × {len(raw[0]) if raw and isinstance(raw[0], list) else '?'}"
            if isinstance(raw, list)
            else type(raw).__name__
        )
        raise DocumentError(
            f"{where}: expected a {_shape_text(shape)} matrix (a list of {rows} "
            f"rows of {cols}), got {got}"
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

    Each layer is re-drawn on its own until its pre-activations are nice (a bounded, seeded
    search), then the whole problem is solved exactly and checked; a failure re-draws it all.
    """
    _check_feasible(spec)
    rng = random.Random(seed)
    treatment = spec.treatment()
    reasons: dict[str, int] = {}
    for _ in range(ATTEMPTS):
        try:
            given = _draw(spec, rng)
            values = build(spec).evaluate(given, treatment.finish)
            _check_values(spec, values)
            return values
        except BudgetError as e:
            reasons[str(e)] = reasons.get(str(e), 0) + 1
            if isinstance(e, PrintBudgetError) and sum(reasons.values()) >= PRINT_ATTEMPTS:
                break  # exact expressions that are too long stay too long on other draws
    why = max(reasons, key=lambda r: reasons[r])
    raise BudgetError(
        f"no problem with these options meets the budgets after "
        f"{sum(reasons.values())} draws (most often: {why})"
    )


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
    for _ in range(LAYER_TRIES):
        w, b = np.zeros((rows, cols), dtype=np.int64), np.zeros((rows, 1), dtype=np.int64)
        for i in range(rows):
            # candidate neurons are drawn in blocks and screened at once; the first nice one wins
            for _ in range(ROW_TRIES // BLOCK):
                wc = np.array(rng.choices(weights, k=BLOCK * cols)).reshape(BLOCK, cols)
                bc = np.array(rng.choices(biases, k=BLOCK))
                good = np.flatnonzero(row_ok(spec, wc @ a + bc[:, None], bound) & (wc != 0).any(1))
                if good.size:
                    w[i], b[i, 0] = wc[good[0]], bc[good[0]]
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
        return size <= SQUASH_MAX
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
    if isinstance(spec.treatment(), Base):
        ok &= (np.abs(z - np.round(z)) < 1e-9).all(1)
    return ok


def _nice_output(spec: Spec, z: np.ndarray) -> bool:
    if spec.loss != "softmax_ce":
        return True
    if isinstance(spec.treatment(), Base) and spec.base ** (z.max(0) - z.min(0)).max() > 100:
        return False  # small denominators: sums of a few small powers of the base
    p = _softmax(z)
    return bool((((p >= TARGET_P) & (p <= 1 - TARGET_P)).sum(0) >= 1).all())


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
    match spec.activation:
        case "relu":
            return np.maximum(z, 0)
        case "leaky_relu":
            return np.where(z > 0, z, float(spec.slope) * z)
        case "sigmoid":
            return 1 / (1 + np.exp(-z))
        case "tanh":
            return np.tanh(z)
    return z


def _targets(spec: Spec, rng: random.Random, z: np.ndarray) -> np.ndarray:
    rows, batch = z.shape
    if spec.loss == "mse":
        return _ints(rng, 2, rows, batch)
    if spec.loss == "sigmoid_bce":
        return np.array(rng.choices((0, 1), k=rows * batch)).reshape(rows, batch)
    y = np.zeros((rows, batch), dtype=np.int64)
    for j in range(batch):
        # the target's probability rounds to neither 0 nor 1 (_nice_output makes sure one can)
        p = _softmax(z[:, j])
        y[rng.choice([i for i in range(rows) if TARGET_P <= p[i] <= 1 - TARGET_P]), j] = 1
    return y


def _softmax(z: np.ndarray) -> np.ndarray:
    p = np.exp(z - z.max(0))
    return p / p.sum(0)


def _check_values(spec: Spec, values: Mapping[str, Mat]) -> None:
    """Exact checks after solving: no vanishing gradient, no zero at a ReLU, magnitude budgets."""
    n = spec.layers
    for name, m in values.items():
        if name == "loss" or not m.domain.is_QQ:
            continue  # exact-mode expressions: the print budget governs them
        for row in m.to_list():
            for v in row:
                if abs(v) > MAX_ABS or v.denominator > MAX_DENOMINATOR:
                    raise BudgetError(
                        f"cell {name} has {v}, beyond the budget (|v| ≤ {MAX_ABS}, "
                        f"denominator ≤ 10^12)"
                    )
    if spec.activation in ("relu", "leaky_relu"):
        for layer in range(1, n):
            z = [v for row in values[f"Z{layer}"].to_list() for v in row]
            if any(v == 0 for v in z) or max(z) < 0 or (min(z) > 0 and len(z) > 1):
                raise BudgetError(f"the ReLU mask of layer {layer} masks nothing or everything")
    for j, col in enumerate(zip(*values[f"dZ{n}"].to_list(), strict=True), start=1):
        if all(v == 0 for v in col):
            raise BudgetError(f"sample {j} contributes no gradient (dZ{n} is zero there)")
    for layer in spec.trainable:
        if values[f"dW{layer}"].is_zero_matrix and values[f"db{layer}"].is_zero_matrix:
            raise BudgetError(f"the gradient of layer {layer} vanishes")


def solve_values(spec: Spec, given: Mapping[str, Mat]) -> dict[str, Mat]:
    """Evaluate the step graph exactly on ``given``."""
    return build(spec).evaluate(given, spec.treatment().finish)
