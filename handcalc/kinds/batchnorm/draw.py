"""Nice given values: batches whose every variance is a perfect square, drawn from a seed."""

from __future__ import annotations

import functools
import itertools
import math
import random
from fractions import Fraction

import numpy as np

from ...errors import BudgetError
from ...matrix import Mat, rational
from ...specs import BatchNormSpec
from ..mlp.budgets import HIDDEN_MAX, SQUASH_MAX
from ..mlp.draw import _draw_layer, _float_activation, _ints, _targets
from .budgets import (
    ATTEMPTS,
    BATCH_TRIES,
    CANDIDATES,
    DECIMAL_SD,
    EVAL_TRIES,
    HEAD_SCALES,
    HEAD_TRIES,
    POOL,
    RUNNING_SD,
    SCALE_TRIES,
    SCREENED,
    SD_DENOMINATOR,
    TEST_MAX,
    Z1_MAX,
)
from .checks import check_values
from .steps import build, given_shapes


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
