"""Float64 arithmetic that gives the same bits on every machine: what a seeded trace is made of.

BLAS kernels (``@``) and numpy's vectorised ``exp``/``log``/``tanh`` pick code by processor (FMA,
AVX-512), so their last bits differ between machines. Here a matrix product is an elementwise
product and a sum (each IEEE-754 operation rounds correctly and nothing is fused), and exp and log
are evaluated from basic operations, a few units in the last place from the true value. Uniform
numbers come from PCG64's raw 64-bit words, which numpy guarantees, not from a sampling method
numpy may improve between versions. Plenty fast for the small networks they serve (the deep
network of ``handcalc.health`` uses BLAS: it is reproducible on one machine, not across them).
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray

# ln 2 split so that k * LN2_HI is exact for |k| < 2**11 (Cody and Waite)
LN2_HI = 6.93147180369123816490e-01
LN2_LO = 1.90821492927058770002e-10
INV_LN2 = 1.44269504088896338700e00
EXP_MAX = 709.78  # e**x is finite up to here …
EXP_MIN = -745.2  # … and above 0 down to here
_EXP_TERMS = [1.0 / _f for _f in (1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880, 3628800)]
_EXP_TERMS += [1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800]
SQRT_HALF = 0.70710678118654752440


def matmul(a: Array, b: Array) -> Array:
    """``a @ b`` as products and a sum over the shared axis, in one order on every machine."""
    return np.add.reduce(a[:, :, None] * b[None, :, :], axis=1)


def exp(x: Array) -> Array:
    """e**x within a few ulp: x = k ln 2 + r with |r| ≤ ln 2 / 2, a Taylor polynomial for e**r."""
    x = np.asarray(x, dtype=np.float64)
    nan = np.isnan(x)
    xc = np.clip(np.where(nan, 0.0, x), EXP_MIN, EXP_MAX)
    k = np.rint(xc * INV_LN2)
    r = (xc - k * LN2_HI) - k * LN2_LO
    p = np.full_like(r, _EXP_TERMS[-1])
    for c in reversed(_EXP_TERMS[:-1]):
        p = p * r + c
    # 2**k in two steps: 2**k alone may not be representable where e**x still is
    half = np.floor(k / 2)
    out = np.ldexp(np.ldexp(p, half.astype(np.int64)), (k - half).astype(np.int64))
    out = np.where(x > EXP_MAX, np.inf, np.where(x < EXP_MIN, 0.0, out))
    return np.where(nan, np.nan, out)


def log(x: Array) -> Array:
    """ln x within a few ulp for x > 0 (−inf at 0, nan below): x = m 2**e, ln m = 2 atanh(s)."""
    x = np.asarray(x, dtype=np.float64)
    ok = x > 0
    safe = np.where(ok & np.isfinite(x), x, 1.0)
    m, e = np.frexp(safe)
    low = m < SQRT_HALF
    m = np.where(low, m * 2.0, m)
    e = np.where(low, e - 1, e).astype(np.float64)
    s = (m - 1.0) / (m + 1.0)
    s2 = s * s
    p = np.full_like(s, 1.0 / 25.0)
    for n in range(23, 0, -2):
        p = p * s2 + 1.0 / n
    out = (e * LN2_HI + (2.0 * s * p + e * LN2_LO)).astype(np.float64)
    out = np.where(x == np.inf, np.inf, out)
    out = np.where(x == 0, -np.inf, out)
    return np.where(ok | (x == 0), out, np.nan)


def tanh(x: Array) -> Array:
    """tanh x from e**(−2|x|), with its sign; within a few 1e-16 of the true value."""
    x = np.asarray(x, dtype=np.float64)
    t = exp(-2.0 * np.abs(x))
    return np.copysign((1.0 - t) / (1.0 + t), x)


def sigmoid(x: Array) -> Array:
    """1 / (1 + e**−x), computed on the side where e**… stays below 1."""
    x = np.asarray(x, dtype=np.float64)
    t = exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + t), t / (1.0 + t))


def uniform(rng: np.random.Generator, n: int) -> Array:
    """``n`` uniform numbers in [0, 1) from the generator's raw words: 53 bits each."""
    raw = rng.bit_generator.random_raw(n)
    return (np.asarray(raw, dtype=np.uint64) >> np.uint64(11)).astype(np.float64) * 2.0**-53


def normal(rng: np.random.Generator, shape: int | tuple[int, ...]) -> Array:
    """Approximately standard normal numbers: the sum of 12 uniforms, less 6 (Irwin–Hall; mean 0,
    variance 1, tails cut at ±6), made of additions only, so the same on every machine."""
    size = int(np.prod(shape))
    u = uniform(rng, 12 * size).reshape(12, size)
    total = u[0].copy()
    for row in u[1:]:
        total += row
    return (total - 6.0).reshape(shape)


def generator(seed: int, stream: int) -> np.random.Generator:
    """PCG64 for ``seed`` and one purpose (data, shuffling, weights …): independent streams."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream])))
