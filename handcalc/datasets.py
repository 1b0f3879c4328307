"""Small seeded data sets for training runs: two moons, XOR, Gaussian blobs (and the problem's own
X and Y, which ``tracing`` reads from the problem).

Made from the seed alone with PCG64's raw words and additions, square roots and products (see
``portable``): the same numbers on every machine, nothing downloaded. Samples are columns, as
everywhere in handcalc: ``X`` is features × samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import portable
from .errors import SpecError

NAMES = ("moons", "xor", "blobs")
MAX_SAMPLES = 20_000
MAX_FEATURES = 256
MAX_CLASSES = 64
#: the stream of the seed's generator that draws data (others shuffle and initialise)
DATA_STREAM = 1
#: each data set's jitter (standard deviation) unless the caller says otherwise
NOISE = {"moons": 0.15, "xor": 0.35, "blobs": 0.75}


@dataclass(frozen=True, eq=False)
class Dataset:
    """``X`` (features × samples) and each sample's class (``labels``, 0 to classes − 1)."""

    name: str
    X: np.ndarray
    labels: np.ndarray
    classes: int

    @property
    def features(self) -> int:
        return int(self.X.shape[0])

    @property
    def samples(self) -> int:
        return int(self.X.shape[1])

    def one_hot(self) -> np.ndarray:
        """classes × samples, a 1 in each column at its class."""
        out = np.zeros((self.classes, self.samples))
        out[self.labels, np.arange(self.samples)] = 1.0
        return out

    def targets(self, outputs: int) -> np.ndarray:
        """``Y`` for a network with ``outputs`` units: one-hot, or a row of 0/1 for one unit."""
        if outputs == 1 and self.classes == 2:
            return self.labels[None, :].astype(np.float64)
        if outputs != self.classes:
            raise SpecError(
                f"sizes: the data set {self.name!r} has {self.classes} classes, so the last size "
                f"must be {self.classes}"
                + (" (or 1 with sigmoid_bce)" if self.classes == 2 else "")
            )
        return self.one_hot()


def load(
    name: str,
    seed: int,
    samples: int = 200,
    *,
    features: int = 2,
    classes: int = 3,
    noise: float | None = None,
) -> Dataset:
    """The data set ``name`` (moons, xor or blobs) drawn from ``seed``. ``features`` and
    ``classes`` apply to blobs (moons and xor are 2-D with 2 classes); ``noise`` is the standard
    deviation of the Gaussian jitter (``NOISE`` unless given)."""
    if name not in NAMES:
        raise SpecError(f"data: {name!r} is not accepted; accepted: {', '.join(NAMES)}")
    _bounded("samples", samples, 4, MAX_SAMPLES)
    _bounded("features", features, 1, MAX_FEATURES)
    _bounded("classes", classes, 2, MAX_CLASSES)
    if noise is not None and (isinstance(noise, bool) or not 0 <= noise <= 10):
        raise SpecError(f"noise: {noise!r} is out of range; accepted: 0 to 10")
    rng = portable.generator(seed, DATA_STREAM)
    jitter = NOISE[name] if noise is None else float(noise)
    if name == "moons":
        x, labels = _moons(rng, samples, jitter)
        return Dataset(name, x, labels, 2)
    if name == "xor":
        x, labels = _xor(rng, samples, jitter)
        return Dataset(name, x, labels, 2)
    x, labels = _blobs(rng, samples, features, classes, jitter)
    return Dataset(name, x, labels, classes)


def _bounded(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SpecError(f"{name}: {value!r} is not accepted; accepted: {low} to {high}")


def _split(samples: int, classes: int) -> np.ndarray:
    """Labels as even as can be: 0, 1, …, classes − 1, 0, 1, …"""
    return np.arange(samples) % classes


def _moons(rng: np.random.Generator, samples: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles: class 0 the upper one, class 1 the lower, shifted right."""
    labels = _split(samples, 2)
    c = 1.0 - 2.0 * portable.uniform(rng, samples)  # cos θ, θ in [0, π] …
    s = np.sqrt(np.maximum(0.0, 1.0 - c * c))  # … and sin θ, from basic operations only
    x = np.where(labels == 0, c, 1.0 - c)
    y = np.where(labels == 0, s, 0.5 - s)
    jitter = portable.normal(rng, (2, samples)) * noise
    return np.stack([x, y]) + jitter, labels


def _xor(rng: np.random.Generator, samples: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Four clusters at (±1, ±1): class 1 where the signs differ."""
    corner = _split(samples, 4)
    sx = np.where(corner % 2 == 0, 1.0, -1.0)
    sy = np.where(corner < 2, 1.0, -1.0)
    labels = (sx * sy < 0).astype(np.int64)
    jitter = portable.normal(rng, (2, samples)) * noise
    return np.stack([sx, sy]) + jitter, labels


def _blobs(
    rng: np.random.Generator, samples: int, features: int, classes: int, noise: float
) -> tuple[np.ndarray, np.ndarray]:
    """A Gaussian cloud per class around a centre drawn in [−3, 3]**features."""
    labels = _split(samples, classes)
    centres = 6.0 * portable.uniform(rng, features * classes).reshape(features, classes) - 3.0
    jitter = portable.normal(rng, (features, samples)) * noise
    return centres[:, labels] + jitter, labels
