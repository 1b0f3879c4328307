"""The batchnorm kind: ``X → Linear 1 → BatchNorm 1 → activation → Linear 2 → output and loss``,
one training step by hand (forward with the batch's statistics, backward through BN's three
paths, the update of W, b, gamma and beta), the running statistics, BN folded into Linear 1 for
inference with a check on a new input, and BN as an affine layer.

The head (``Z2``, ``A2``, the loss, ``dZ2``, ``dW2``, ``db2``) and the updates are the MLP's own
steps; BN's are the ops of :mod:`handcalc.ops.batchnorm` and :mod:`handcalc.ops.bn_eval`. The
generator draws batches whose every variance is a perfect square (``eps`` 0, "hand mode"), so every
root on the sheet is exact.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np
from sympy.polys.matrices import DomainMatrix

from ..cells import Cell
from ..errors import BudgetError, DocumentError
from ..graph import Graph, Shape, Step
from ..matrix import Mat, rational, to_fraction
from ..notation import printed, subscript
from ..ops import Activate, ActivationGrad, Affine, InputGrad, Update, WeightGrad
from ..ops.batchnorm import (
    BatchVariance,
    CentredBiasGrad,
    GammaGrad,
    MeanGrad,
    Normalise,
    NormalisedGrad,
    NormInputGrad,
    RowMean,
    ScaleShift,
    ShiftGrad,
    VarianceGrad,
)
from ..ops.bn_eval import (
    AffineScale,
    AffineShift,
    EvalNorm,
    FoldBias,
    FoldWeight,
    RunningMean,
    RunningVariance,
)
from ..specs import BatchNormSpec
from ..transcendental import Table
from ..values import parse_number
from .base import Kind
from .given import read_matrix
from .mlp import Pass, backward, forward, loss
from .mlp import infer_options as mlp_infer_options
from .mlp.budgets import HIDDEN_MAX, OUTPUT_MAX, REGRESSION_MAX, SQUASH_MAX
from .mlp.checks import _check_entries
from .mlp.draw import _draw_layer, _float_activation, _ints, _targets
from .mlp.steps import hidden_activation

NAME = "batchnorm"
#: draws of a whole problem before the search gives up
ATTEMPTS = 80
#: batches drawn in one attempt until one has enough rows of W1 with perfect-square variances
BATCH_TRIES = 192
#: batches drawn and screened at once (one numpy pass over all of them)
SCREENED = 16
#: draws of the output layer for one BN layer before another batch is drawn
HEAD_TRIES = 2
#: draws of gamma and beta for one batch before another batch is drawn
SCALE_TRIES = 40
#: draws of gamma and beta, each with its HEAD_TRIES output layers, before another batch is
HEAD_SCALES = 8
#: draws of the running statistics and Xtest before another batch is drawn
EVAL_TRIES = 20
#: the most candidate rows of W1 screened for a perfect-square variance
CANDIDATES = 4096
#: the running statistics' standard deviations drawn (√(running_var + eps))
RUNNING_SD = (Fraction(1), Fraction(2), Fraction(1, 2), Fraction(3, 2))
#: the most characters a running statistic after the step prints as ("short")
RUNNING_CHARS = 7
#: the largest |Z1| (before BN), and the largest denominator of a batch's standard deviation
Z1_MAX = 10
SD_DENOMINATOR = 4
#: the most rows of X screened for a network of one or two inputs
POOL = 20_000
#: the numerators of a batch's standard deviation drawn (only 2s and 5s: decimals)
DECIMAL_SD = (1, 2, 4, 5, 8, 10, 16, 20, 25, 40, 50)
#: the largest |entry| of the folded layer and of its output on the new input
TEST_MAX = 20


class BatchNorm(Kind):
    name = NAME
    description = (
        "batch normalisation by hand: training-mode forward and backward, running statistics, "
        "folding into the linear layer"
    )
    Options = BatchNormSpec

    def build(self, options: BatchNormSpec) -> Graph:
        return build(options)

    def draw(self, options: BatchNormSpec, seed: int) -> dict[str, Mat]:
        return generate(options, seed)

    def solve(self, options: BatchNormSpec, given: Mapping[str, Mat]) -> dict[str, Mat]:
        """Every cell exactly; a DocumentError for a row constant over the batch (nothing to
        normalise by) or, outside ``exact`` mode, a root that is not exact."""
        try:
            values = build(options).evaluate(given, options.treatment().finish)
        except ZeroDivisionError:
            raise DocumentError(
                "given: a row of Z1 is the same in every sample (or running_var1 + eps is 0), so "
                "BN would divide by a standard deviation of 0; change X, W1 or running_var1"
            ) from None
        if options.transcendental != "exact":
            for name in ("running_var1", "var1"):
                _check_square(values, name, options.eps)
        return values

    def instructions(self, problem: Any) -> tuple[str, ...]:
        return instructions(problem)

    def infer_options(self, options: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
        out = mlp_infer_options(options, given)
        for name in ("eps", "momentum"):
            if name not in out and name in given:
                out[name] = given[name]
        return out

    def read_given(self, options: BatchNormSpec, raw: Any) -> dict[str, Mat]:
        """The MLP's reading, ``eps`` and ``momentum`` filled from the options where left out
        (and held to them where given), and running variances that are not negative."""
        if isinstance(raw, Mapping):
            raw = dict(raw)
            written = options.to_dict()
            for name in ("eps", "momentum"):
                if name in raw:
                    value = _scalar(raw[name], f"given.{name}")
                    if value != getattr(options, name):
                        raise DocumentError(
                            f"given.{name}: {raw[name]!r} differs from spec.{name} "
                            f"{written[name]!r}; give one, or make them agree"
                        )
                raw[name] = rational([[getattr(options, name)]])
        out = super().read_given(options, {k: _text(v) for k, v in raw.items()})
        if any(to_fraction(v) < 0 for row in out["running_var1"].to_list() for v in row):
            raise DocumentError("given.running_var1: a variance is never negative")
        return out


def _scalar(raw: Any, where: str) -> Fraction:
    """A 1 × 1 given value, written as a number or as a matrix (as documents write it)."""
    if isinstance(raw, list):
        return to_fraction(read_matrix(raw, where, (1, 1)).to_list()[0][0])
    return parse_number(raw, where)


def _text(value: Any) -> Any:
    """A given value as an author types it (a 1 × 1 matrix filled in here becomes rows of text)."""
    if isinstance(value, DomainMatrix):
        return [[str(to_fraction(x)) for x in row] for row in value.to_list()]
    return value


def _check_square(values: Mapping[str, Mat], name: str, eps: Fraction) -> None:
    for i, row in enumerate(values[name].to_list()):
        v = to_fraction(row[0]) + eps
        if math.isqrt(v.numerator) ** 2 != v.numerator or (
            math.isqrt(v.denominator) ** 2 != v.denominator
        ):
            raise DocumentError(
                f"given: {name}[{i + 1}] + eps = {printed(v)} is not the square of a rational, so "
                f"its root is irrational; use values whose variances are perfect squares (for "
                f"var1: X and W1 whose rows of Z1 have them), or transcendental 'exact'"
            )


# --- the step graph ------------------------------------------------------------------------------


def given_shapes(spec: BatchNormSpec) -> dict[str, Shape]:
    """The given cells in the order the sheet states them, with their shapes."""
    n0, n1, n2 = spec.sizes
    batch = spec.batch
    return {
        "X": (n0, batch),
        "W1": (n1, n0),
        "b1": (n1, 1),
        "gamma1": (n1, 1),
        "beta1": (n1, 1),
        "running_mean1": (n1, 1),
        "running_var1": (n1, 1),
        "W2": (n2, n1),
        "b2": (n2, 1),
        "Y": (n2, batch),
        "lr": (1, 1),
        "eps": (1, 1),
        "momentum": (1, 1),
        "Xtest": (n0, 1),
    }


@functools.lru_cache(maxsize=256)
def build(spec: BatchNormSpec) -> Graph:
    """Forward, loss, backward, update, running statistics, folding and the affine form."""
    at = Pass()
    _, n1, _ = spec.sizes
    batch = spec.batch
    hidden, column = (n1, batch), (n1, 1)
    irrational = spec.eps != 0  # exact mode with PyTorch's eps: the batch's roots are not exact
    hand = spec.transcendental != "exact"  # an irrational root is refused, not computed
    act = hidden_activation(spec, spec.treatment())
    source = "BN1" if act.derivative_from == "Z" else "A1"
    stats = ("Z1", "mu1", "var1", "eps")

    def step(symbol: str, phase: str, op: Any, inputs: tuple[str, ...], shape: Shape) -> Step:
        return Step(Cell(symbol, 1), phase, op, inputs, shape)

    def new(symbol: str, layer: int, shape: Shape) -> Step:
        param = Cell(symbol, layer)
        inputs = (param.name, param.grad().name, "lr")
        return Step(param.updated(), "update", Update(), inputs, shape)

    head = forward(spec, at)[-2:]  # Z2, A2: the MLP's output layer, reading A1
    steps = [
        step("Z", "forward", Affine(), ("W1", "A0", "b1"), hidden),
        step("mu", "forward", RowMean(), ("Z1",), column),
        step("var", "forward", BatchVariance(), ("Z1", "mu1"), column),
        step("Zhat", "forward", Normalise(irrational, hand), stats, hidden),
        step("BN", "forward", ScaleShift(), ("gamma1", "Zhat1", "beta1"), hidden),
        step("A", "forward", Activate(act), ("BN1",), hidden),
        *head,
        *loss(spec, at),
        *backward(spec, at, trainable=(2,)),  # dZ2, dW2, db2
        step("dA", "backward", InputGrad(), ("W2", "dZ2"), hidden),
        step("dBN", "backward", ActivationGrad(act), ("dA1", source), hidden),
        step("dgamma", "backward", GammaGrad(), ("dBN1", "Zhat1"), column),
        step("dbeta", "backward", ShiftGrad(), ("dBN1",), column),
        step("dZhat", "backward", NormalisedGrad(), ("dBN1", "gamma1"), hidden),
        step("dvar", "backward", VarianceGrad(irrational, hand), ("dZhat1", *stats), column),
        step("dmu", "backward", MeanGrad(irrational, hand), ("dZhat1", *stats, "dvar1"), column),
        step(
            "dZ",
            "backward",
            NormInputGrad(irrational, hand),
            ("dZhat1", *stats, "dvar1", "dmu1"),
            hidden,
        ),
        step("dW", "backward", WeightGrad(), ("dZ1", "A0"), (n1, spec.sizes[0])),
        step("db", "backward", CentredBiasGrad(), ("dZ1",), column),
    ]
    w2 = (spec.sizes[2], n1)
    steps += [
        new("W", 1, (n1, spec.sizes[0])),
        new("b", 1, column),
        new("gamma", 1, column),
        new("beta", 1, column),
        new("W", 2, w2),
        new("b", 2, (spec.sizes[2], 1)),
    ]
    running = ("running_mean1", "running_var1", "eps")
    steps += [
        Step(
            Cell("running_mean", 1, new=True),
            "statistics",
            RunningMean(),
            ("running_mean1", "mu1", "momentum"),
            column,
        ),
        Step(
            Cell("running_var", 1, new=True),
            "statistics",
            RunningVariance(batch),
            ("running_var1", "var1", "momentum"),
            column,
        ),
        step(
            "Wf",
            "fold",
            FoldWeight(hand=hand),
            ("gamma1", "running_var1", "eps", "W1"),
            (n1, spec.sizes[0]),
        ),
        step(
            "bf",
            "fold",
            FoldBias(hand=hand),
            ("gamma1", "b1", *running[:2], "eps", "beta1"),
            column,
        ),
        Step(
            Cell("Ztest"),
            "fold",
            EvalNorm(hand=hand),
            ("W1", "Xtest", "b1", "gamma1", *running, "beta1"),
            column,
        ),
        Step(Cell("Zf"), "fold", Affine(), ("Wf1", "Xtest", "bf1"), column),
        step("gammap", "affine", AffineScale(hand=hand), ("gamma1", "running_var1", "eps"), column),
        step(
            "betap",
            "affine",
            AffineShift(hand=hand),
            ("beta1", "running_mean1", "gamma1", "running_var1", "eps"),
            column,
        ),
    ]
    return Graph.of(given_shapes(spec), steps)


# --- the sheet's sentences -----------------------------------------------------------------------


def instructions(problem: Any) -> tuple[str, ...]:
    """The conventions in force: the MLP's for the head, the loss and the update, BN's own for
    the rest, and the question to confirm ``Ztest = Zf``."""
    from ..conventions import instructions as mlp_instructions

    spec = problem.spec
    n0, _, _ = spec.sizes
    batch = spec.batch
    s = subscript
    hidden = {
        "relu": "ReLU",
        "leaky_relu": f"leaky ReLU (slope {printed(spec.slope)})",
        "identity": "the identity of",
        "sigmoid": "σ",
        "tanh": "tanh",
    }[spec.activation]
    eps = printed(spec.eps)
    momentum = printed(spec.momentum)
    network = (
        f"Samples are columns: X is {n0} × {batch}; {s('Z1')} = {s('W1')}·X + {s('b1')}; batch "
        f"normalisation in training mode normalises each row (unit) of {s('Z1')} over the batch: "
        f"{s('mu1')} its mean and {s('var1')} its biased variance (1/B)·Σ({s('Z1')} − "
        f"{s('mu1')})², divided by B = {batch}, not B − 1, as PyTorch does in training mode; "
        f"{s('Zhat1')} = ({s('Z1')} − {s('mu1')})/√({s('var1')} + eps), {s('BN1')} = "
        f"{s('gamma1')}∘{s('Zhat1')} + {s('beta1')}, {s('A1')} = {hidden}({s('BN1')}); "
        f"{s('Z2')} = {s('W2')}·{s('A1')} + {s('b2')}."
    )
    if spec.eps:
        roots = (
            f"eps = {eps} (PyTorch's kind of value): the batch's roots √(var + eps) are "
            f"irrational, so those cells are exact expressions (write decimals)."
        )
    else:
        roots = "eps = 0 (hand mode): every variance here is a perfect square, so every √ is exact."
    backward_text = (
        f"Backward through BN: {s('dBN1')} = {s('dA1')}∘f′, {s('dgamma1')} = "
        f"Σ_columns {s('dBN1')}∘{s('Zhat1')}, {s('dbeta1')} = Σ_columns {s('dBN1')}, "
        f"{s('dZhat1')} = {s('dBN1')}∘{s('gamma1')}; then {s('dvar1')}, {s('dmu1')} and "
        f"{s('dZ1')}, which adds the three paths from {s('Z1')} (through {s('Zhat1')}, "
        f"{s('var1')} and {s('mu1')}); {s('db1')} = 0: BN subtracts each row's mean, so a bias "
        f"added before it is taken away again and cannot change the loss."
    )
    statistics = (
        f"Running statistics (PyTorch's momentum, {momentum}): running_mean1_new = (1 − "
        f"momentum)·running_mean1 + momentum·{s('mu1')}; running_var1_new the same with the "
        f"unbiased variance B/(B − 1)·{s('var1')}. Eval mode (inference) normalises with the "
        f"running statistics, training mode with the batch's."
    )
    fold = (
        f"Folding and the affine form use the given running statistics (the layer in eval mode): "
        f"{s('Wf1')} = diag({s('gamma1')}/√(running_var1 + eps))·{s('W1')}, {s('bf1')} = "
        f"{s('gamma1')}∘({s('b1')} − running_mean1)/√(running_var1 + eps) + {s('beta1')}; "
        f"{s('gammap1')} = {s('gamma1')}/√(running_var1 + eps), {s('betap1')} = {s('beta1')} − "
        f"running_mean1∘{s('gammap1')}. Question: compute Ztest (Linear 1, then BN in eval mode, "
        f"on the new input Xtest) and Zf = {s('Wf1')}·Xtest + {s('bf1')}, and confirm that they "
        f"are equal."
    )
    update = (
        f"{s('gamma1')} and {s('beta1')} are updated like the weights: gamma new = gamma − "
        f"lr·dgamma, beta new = beta − lr·dbeta."
    )
    mlp = [
        line
        for line in mlp_instructions(problem)
        if not line.startswith(("Samples are columns", "Backward:"))
    ]
    return (network, roots, *mlp, backward_text, update, statistics, fold)


# --- nice given values ---------------------------------------------------------------------------


def generate(spec: BatchNormSpec, seed: int) -> dict[str, Mat]:
    """Small-integer given values whose every variance (+ eps) is a perfect square, each budget
    met, deterministically from ``seed``; every cell solved from them."""
    check_feasible(spec)
    rng = random.Random(seed)
    graph = build(spec)
    finish = spec.treatment().finish
    reasons: dict[str, int] = {}
    for _ in range(ATTEMPTS):
        try:
            given = _draw(spec, rng)
            values = graph.evaluate(given, finish)
            check_values(spec, values)
            return values
        except BudgetError as e:
            reasons[str(e)] = reasons.get(str(e), 0) + 1
    why = max(reasons, key=lambda r: reasons[r])
    raise BudgetError(
        f"no batchnorm problem with these options meets the budgets after {ATTEMPTS} draws "
        f"(most often: {why}); try another seed, at least 3 inputs and no more hidden units "
        f"than inputs, a batch of 4 to 6, or input_max 4"
    )


def check_feasible(spec: BatchNormSpec) -> None:
    """Refuse, before drawing, the batches no draw can make a good exercise of."""
    if spec.batch == 2:
        raise BudgetError(
            "batch: 2 samples normalise to ±1 whatever Z1 is, so no gradient reaches W1 (dZ1 is "
            "always 0); use a batch of 4 to 8 (an authored batch of 2 still solves)"
        )
    if spec.activation in ("sigmoid", "tanh") and spec.transcendental == "table":
        raise BudgetError(
            f"activation: a hidden {spec.activation} read from a table has derivatives of 4 "
            f"decimals that BN's divisions turn into fractions too long to work by hand; use "
            f"relu, leaky_relu or identity"
        )
    if spec.batch == 3 and spec.transcendental != "exact":
        raise BudgetError(
            "batch: the biased variance of 3 numbers is never a non-zero perfect square, so "
            "√var1 would be irrational; use a batch of 4 to 8, or transcendental 'exact'"
        )


@functools.lru_cache(maxsize=64)
def _all_rows(inputs: int, most: int) -> np.ndarray | None:
    """Every non-zero row of W1 with entries within ±most whose first non-zero entry is
    positive (a row and its negative normalise alike, up to the sign: one is screened), or None
    where there are too many."""
    if (2 * most + 1) ** inputs > CANDIDATES:
        return None
    rows = np.array(list(itertools.product(range(-most, most + 1), repeat=inputs)))
    return _positive(rows)


def _positive(rows: np.ndarray) -> np.ndarray:
    """The non-zero rows, each with its first non-zero entry made positive."""
    rows = rows[(rows != 0).any(1)]
    first = rows[np.arange(len(rows)), (rows != 0).argmax(1)]
    return np.unique(rows * np.sign(first)[:, None], axis=0)


def _candidates(spec: BatchNormSpec, rng: random.Random) -> np.ndarray:
    rows = _all_rows(spec.sizes[0], spec.weight_max)
    if rows is not None:
        return rows
    return _positive(_ints(rng, spec.weight_max, CANDIDATES, spec.sizes[0]))


def _square_rows(spec: BatchNormSpec, xs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """For each batch of ``xs`` (K × n0 × B), which ``rows`` of W1 (R × n0) give its row of Z1 a
    biased variance that is a perfect-square rational (not 0), a standard deviation of a small
    denominator, and small pre-activations: a K × R mask, every batch screened at once."""
    batch = spec.batch
    z = np.matmul(rows, xs)  # K × R × B: every row of Z1 (without b1) of every batch
    e = batch * z - z.sum(2, keepdims=True)  # B·(Z − mu), whole numbers
    total = (e * e).sum(2)  # var = total / B³
    if spec.eps:  # exact mode: √(var + eps) is irrational anyway; keep the running var short
        unbiased = batch * batch * (batch - 1)  # the unbiased variance is total / B²(B − 1)
        rest = unbiased // np.gcd(total, unbiased)
        for prime in (2, 5):
            while (rest % prime == 0).any():
                rest = np.where(rest % prime == 0, rest // prime, rest)
        ok = (total > 0) & (rest == 1)
    else:  # a lookup: the few totals whose variance is the square of a deviation allowed
        ok = np.isin(total, _square_totals(batch))
    ok &= np.abs(z).max(2) <= Z1_MAX - 2
    # three values or more in the row: a two-valued Zhat lets the mean and variance paths cancel
    # every gradient that is constant on its two groups (dZ1 would often vanish)
    k, r = np.nonzero(ok)
    ordered = np.sort(e[k, r], axis=1)
    ok[k, r] = (np.diff(ordered, axis=1) != 0).sum(1) + 1 >= min(3, batch)
    return ok


@functools.lru_cache(maxsize=16)
def _square_totals(batch: int) -> np.ndarray:
    """Every whole ``total`` = B³·var whose variance is the square of a standard deviation
    allowed (numerator of only 2s and 5s, ``DECIMAL_SD``: its powers, dvar1 divides by its cube,
    stay decimals; denominator at most ``SD_DENOMINATOR``), as :func:`_square_rows` screens."""
    out = set()
    for numerator in DECIMAL_SD:
        for denominator in range(1, SD_DENOMINATOR + 1):
            if math.gcd(numerator, denominator) == 1:
                total = Fraction(batch**3 * numerator**2, denominator**2)
                if total.denominator == 1:
                    out.add(total.numerator)
    return np.array(sorted(out), dtype=np.int64)


def _draw(spec: BatchNormSpec, rng: random.Random) -> dict[str, Mat]:
    n1 = spec.sizes[1]
    x, w1 = _batch(spec, rng)
    b1 = np.array([[rng.randint(-2, 2)] for _ in range(n1)])
    z1 = w1 @ x + b1
    zhat = (z1 - z1.mean(1, keepdims=True)) / z1.std(1, keepdims=True)
    # a head that passes no gradient to some unit is mostly the fault of BN1 (a softmax's spread
    # leaves W2 no room where A1 is large): gamma and beta are drawn again before the batch is
    reason = BudgetError("no output layer passes a gradient to every unit")
    for _ in range(HEAD_SCALES):
        gamma, beta, bn = _scale_shift(spec, rng, zhat)
        a1 = _float_activation(spec, bn)
        try:
            w2, b2, y = _head(spec, rng, zhat, gamma, bn, a1)
            break
        except BudgetError as e:
            reason = e
    else:
        raise reason
    running_mean, running_var, x_test = _eval_given(spec, rng, w1, b1, gamma, beta)
    out = {
        name: rational(m.tolist())
        for name, m in (
            ("X", x),
            ("W1", w1),
            ("b1", b1),
            ("gamma1", gamma),
            ("beta1", beta),
            ("W2", w2),
            ("b2", b2),
            ("Y", y),
            ("Xtest", x_test),
        )
    }
    out["running_mean1"] = rational(running_mean)
    out["running_var1"] = rational(running_var)
    for name in ("lr", "eps", "momentum"):
        out[name] = rational([[getattr(spec, name)]])
    return {name: out[name] for name in given_shapes(spec)}


def _eval_given(
    spec: BatchNormSpec,
    rng: random.Random,
    w1: np.ndarray,
    b1: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
) -> tuple[list[list[Fraction]], list[list[Fraction]], np.ndarray]:
    """The running statistics and the new input ``Xtest``, drawn again until a float64 look at
    the folded layer (``Wf1``, ``bf1``) and ``Ztest`` finds them within ±TEST_MAX (the exact
    check in :func:`check_values` has the last word; this only spares it whole draws)."""
    n0, n1, _ = spec.sizes
    for _ in range(EVAL_TRIES):
        running_mean = [[Fraction(rng.randint(-4, 4), 2)] for _ in range(n1)]
        running_var = [[rng.choice(RUNNING_SD) ** 2 - spec.eps] for _ in range(n1)]
        x_test = _ints(rng, spec.input_max, n0, 1)
        while not x_test.any():
            x_test = _ints(rng, spec.input_max, n0, 1)
        sd = np.sqrt(np.array(running_var, dtype=float) + float(spec.eps))
        factor = gamma / sd
        wf = factor * w1
        bf = factor * (b1 - np.array(running_mean, dtype=float)) + beta
        largest = max(np.abs(wf).max(), np.abs(bf).max(), np.abs(wf @ x_test + bf).max())
        if largest <= TEST_MAX + 1e-9:
            return running_mean, running_var, x_test
    raise BudgetError(f"Ztest is beyond ±{TEST_MAX}")


def _batch(spec: BatchNormSpec, rng: random.Random) -> tuple[np.ndarray, np.ndarray]:
    """X, and rows of W1 that give each unit a perfect-square variance over it: batches are
    drawn, ``SCREENED`` at a time and screened at once, until one has enough such rows that
    normalise it differently."""
    n0, n1, _ = spec.sizes
    batch = spec.batch
    pool = _square_vectors(batch, spec.input_max) if n0 <= 2 else None
    for _ in range(BATCH_TRIES // SCREENED):
        if pool is not None and len(pool):  # few rows of W1 to choose from: help the search
            picks = [rng.randrange(len(pool)) for _ in range(SCREENED * n0)]
            xs = pool[picks].reshape(SCREENED, n0, batch)
        else:
            xs = _ints(rng, spec.input_max, SCREENED * n0, batch).reshape(SCREENED, n0, batch)
        candidates = _candidates(spec, rng)
        ok = _square_rows(spec, xs, candidates)
        ok &= (xs != 0).any(1).all(1)[:, None]  # no sample of all zeros
        for k in np.flatnonzero(ok.sum(1) >= n1):
            w1 = _distinct(rng, candidates[ok[k]], xs[k], n1)
            if w1 is not None:  # each row or its negative, as likely
                return xs[k], w1 * np.array([[rng.choice((1, -1))] for _ in range(n1)])
    raise BudgetError("no weights give a batch a perfect-square variance in every row")


@functools.lru_cache(maxsize=64)
def _square_vectors(batch: int, most: int) -> np.ndarray:
    """Rows of X (entries within ±most) whose biased variance is a perfect square of 2s and 5s,
    with three values or more: the inputs of a network with one or two of them."""
    if (2 * most + 1) ** batch <= POOL:
        spec_like = np.array(list(itertools.product(range(-most, most + 1), repeat=batch)))
    else:  # a fixed sample of them, the same in every run
        spec_like = np.random.default_rng(batch * 100 + most).integers(
            -most, most + 1, size=(POOL, batch)
        )
    e = batch * spec_like - spec_like.sum(1, keepdims=True)
    total = (e * e).sum(1)
    den = batch**3
    g = np.gcd(total, den)
    num, den_r = total // g, den // g
    rn = np.round(np.sqrt(num)).astype(np.int64)
    rd = np.round(np.sqrt(den_r)).astype(np.int64)
    ok = (total > 0) & (rn * rn == num) & (rd * rd == den_r) & np.isin(rn, DECIMAL_SD)
    ordered = np.sort(e, axis=1)
    ok &= (np.diff(ordered, axis=1) != 0).sum(1) + 1 >= min(3, batch)
    return spec_like[ok]


def _distinct(rng: random.Random, good: np.ndarray, x: np.ndarray, rows: int) -> np.ndarray | None:
    """``rows`` of the good rows of W1, drawn in turn, each giving a Zhat row that is neither
    another's nor its negative (two units that normalise alike teach nothing new)."""
    centred = good @ (x - x.mean(1, keepdims=True))
    unit = centred / np.linalg.norm(centred, axis=1, keepdims=True)
    chosen: list[int] = []
    for k in rng.sample(range(len(good)), len(good)):
        if all(abs(float(unit[k] @ unit[c])) < 1 - 1e-9 for c in chosen):
            chosen.append(k)
            if len(chosen) == rows:
                return good[chosen]
    return None


def _head(
    spec: BatchNormSpec,
    rng: random.Random,
    zhat: np.ndarray,
    gamma: np.ndarray,
    bn: np.ndarray,
    a1: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The output layer and the targets, drawn as the MLP's are, until the gradient reaches
    every unit of BN (a column of W2 whose entries are equal passes a 2-class softmax none)."""
    reason = BudgetError("no output layer passes a gradient to every unit")
    for _ in range(HEAD_TRIES):
        w2, b2, z2 = _draw_layer(spec, rng, a1, spec.sizes[2], True, HIDDEN_MAX)
        y = _targets(spec, rng, z2)
        try:
            _screen_gradients(spec, zhat, gamma, bn, a1, w2, z2, y)
        except BudgetError as e:
            reason = e
            continue
        return w2, b2, y
    raise reason


def _screen_gradients(
    spec: BatchNormSpec,
    zhat: np.ndarray,
    gamma: np.ndarray,
    bn: np.ndarray,
    a1: np.ndarray,
    w2: np.ndarray,
    z2: np.ndarray,
    y: np.ndarray,
) -> None:
    """A float64 look ahead (not an answer): does the gradient reach gamma1 and every unit's
    row of dZ1? It saves an exact solve for the draws that would fail the exact check."""
    output = getattr(spec, "output", {"mse": "identity", "sigmoid_bce": "sigmoid"}.get(spec.loss))
    if output == "identity":
        out = z2
    elif output == "sigmoid":
        out = 1 / (1 + np.exp(-z2))
    else:
        p = np.exp(z2 - z2.max(0))
        out = p / p.sum(0)
    da = w2.T @ (out - y)
    match spec.activation:
        case "relu":
            slope = (bn > 0).astype(float)
        case "leaky_relu":
            slope = np.where(bn > 0, 1.0, float(spec.slope))
        case "sigmoid":
            slope = a1 * (1 - a1)
        case "tanh":
            slope = 1 - a1 * a1
        case _:
            slope = np.ones_like(bn)
    dzhat = da * slope * gamma
    # dZ1 up to the positive factor 1/σ: dZhat less its mean, less Zhat times mean(dZhat∘Zhat)
    dz = dzhat - dzhat.mean(1, keepdims=True) - zhat * (dzhat * zhat).mean(1, keepdims=True)
    if not (np.abs(dz) > 1e-9).any(1).all():
        raise BudgetError("a unit's dZ1 vanishes")
    if not (np.abs((da * slope * zhat).sum(1)) > 1e-9).any():
        raise BudgetError("dgamma1 vanishes")


def _scale_shift(
    spec: BatchNormSpec, rng: random.Random, zhat: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """gamma and beta such that BN1 is a good input for the activation: no ReLU input 0, each
    unit passes something and the mask blocks something; within the table's range."""
    rows = zhat.shape[0]
    squash = spec.activation in ("sigmoid", "tanh")
    gammas = (1,) if squash else range(1, min(spec.weight_max, 3) + 1)
    betas = range(-1, 2) if squash else range(-2, 3)
    for _ in range(SCALE_TRIES):
        gamma = np.array([[rng.choice(gammas)] for _ in range(rows)])
        beta = np.array([[rng.choice(betas)] for _ in range(rows)])
        bn = gamma * zhat + beta
        masks = spec.activation in ("relu", "leaky_relu")
        # no ReLU input 0; each unit passes something, and the mask blocks something
        if masks and ((np.abs(bn) < 1e-9).any() or not (bn > 0).any(1).all() or (bn > 0).all()):
            continue
        if spec.activation in ("sigmoid", "tanh"):
            if np.abs(bn).max() > SQUASH_MAX:
                continue
            a = _float_activation(spec, bn)
            if ((a == 0) | (np.abs(a) == 1)).any():
                continue
        return gamma, beta, bn
    raise BudgetError("no gamma and beta make BN1 a good input for the activation")


# --- the budgets, on the exact values ------------------------------------------------------------


def check_values(spec: BatchNormSpec, values: Mapping[str, Mat]) -> None:
    """Every budget on the exact solution: the MLP's (entries, the output, gradients that do
    not vanish), exact roots outside ``exact`` mode, no ReLU input 0, short running statistics."""
    graph = build(spec)
    exact = spec.transcendental == "exact"
    if not exact and not all(m.domain.is_QQ for n, m in values.items() if n != "loss"):
        raise BudgetError("a root is irrational")  # the draw makes every variance a square
    _check_entries(spec, graph, values)
    for name in ("running_mean1_new", "running_var1_new") if not spec.eps else ():
        m = values[name]
        if m.domain.is_QQ and max(len(printed(to_fraction(v))) for r in m.to_list() for v in r) > (
            RUNNING_CHARS
        ):
            raise BudgetError(f"{name} is not short")
    bn = values["BN1"]
    if spec.activation in ("relu", "leaky_relu") and any(v == 0 for r in bn.to_list() for v in r):
        raise BudgetError("BN1 has a ReLU input of exactly 0")
    _check_output(spec, values)
    for name in ("dgamma1", "dW2"):
        if values[name].is_zero_matrix:
            raise BudgetError(f"{name} vanishes")
    if any(all(v == 0 for v in row) for row in values["dZ1"].to_list()):
        raise BudgetError("a unit's dZ1 vanishes")
    for name in ("Ztest", "Wf1", "bf1"):
        if max(abs(x) for r in values[name].to_list() for x in r) > TEST_MAX:
            raise BudgetError(f"{name} is beyond ±{TEST_MAX}")


def _check_output(spec: BatchNormSpec, values: Mapping[str, Mat]) -> None:
    """The head's budgets, as the MLP's output layer has them."""
    treatment = spec.treatment()
    output = getattr(spec, "output", {"mse": "identity"}.get(spec.loss, ""))
    z2 = values["Z2"]
    if z2.domain.is_QQ:
        bound = REGRESSION_MAX if output == "identity" else OUTPUT_MAX
        if max(abs(v) for r in z2.to_list() for v in r) > bound:
            raise BudgetError(f"Z2 is beyond ±{bound}")
    a2 = values["A2"]
    probabilities = output != "identity" and a2.domain.is_QQ
    if probabilities and any(not 0 < v < 1 for r in a2.to_list() for v in r):
        raise BudgetError("A2 has a probability printed as 0 or 1")
    if isinstance(treatment, Table) and spec.loss == "softmax_ce" and treatment.softmax_ties(z2):
        raise BudgetError("a column of A2 needs the largest-remainder rule to break a tie")
    if isinstance(treatment, Table) and spec.loss == "mse":
        from ..ops import MSE

        source = values["Z2" if output == "identity" else "A2"]
        exact = MSE(treatment, spec.factor).squared_error(source, values["Y"]).to_list()[0][0]
        if treatment.is_half(to_fraction(exact)):
            raise BudgetError("the loss lies half-way between two decimals")
    for col in zip(*values["dZ2"].to_list(), strict=True):
        if all(v == 0 for v in col):
            raise BudgetError("a sample contributes no gradient (dZ2 is zero there)")
