"""The deep MLP of a health run, as in the makemore lecture: tanh layers (of 100 units by default)
from three starts — a badly scaled initialisation, Kaiming's, and BatchNorm before each
nonlinearity — with its own vectorised forward and backward pass in numpy float64 (samples are
columns: ``Z = W·A + b``), checked against PyTorch's autograd in the tests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from . import datasets, portable
from .errors import SpecError

CONFIGURATIONS = {
    "bad": "weights from N(0, 1), not scaled by fan-in",
    "kaiming": "Kaiming: weights × (5/3)/√fan_in (output × 0.1/√fan_in)",
    "batchnorm": "Kaiming weights, BatchNorm before each tanh",
}
GAIN = 5 / 3  # tanh's gain (Kaiming)
OUTPUT_SCALE = 0.1  # a less confident output layer at the start
EPS = 1e-5  # BatchNorm's, as PyTorch's
#: blobs overlap this much in health's runs: a task the network does not solve in a few steps
BLOBS_NOISE = 3.0
INIT_STREAM = 3
LIMITS = {
    "layers": (1, 8),
    "units": (2, 512),
    "steps": (1, 100_000),
    "batch_size": (2, 4096),
    "samples": (4, datasets.MAX_SAMPLES),
    "features": (1, datasets.MAX_FEATURES),
    "classes": (2, datasets.MAX_CLASSES),
    "seed": (0, 2**63 - 1),
}
Array = np.ndarray


@dataclass(frozen=True)
class Settings:
    """What to train: the default is the lecture's 5 tanh layers of 100 units, batches of 32."""

    layers: int = 5
    units: int = 100
    steps: int = 1000
    lr: float = 0.1
    batch_size: int = 32
    data: str = "blobs"
    samples: int = 2000
    features: int = 16
    classes: int = 8
    noise: float | None = None  # the data set's (blobs: BLOBS_NOISE)
    seed: int = 0
    configurations: tuple[str, ...] = tuple(CONFIGURATIONS)

    def __post_init__(self) -> None:
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise SpecError(
                    f"{name}: {value!r} is not accepted; accepted: a whole number {low} to {high}"
                )
        if isinstance(self.lr, bool) or not isinstance(self.lr, int | float):
            raise SpecError(f"lr: {self.lr!r} is not accepted; accepted: a number 0 < lr ≤ 10")
        if not 0 < self.lr <= 10:
            raise SpecError(f"lr: {self.lr!r} is out of range; accepted: 0 < lr ≤ 10")
        if self.noise is None:
            default = BLOBS_NOISE if self.data == "blobs" else datasets.NOISE.get(self.data, 0.0)
            object.__setattr__(self, "noise", default)
        if (
            isinstance(self.noise, bool)
            or not isinstance(self.noise, int | float)
            or not 0 <= self.noise <= 10
        ):
            raise SpecError(f"noise: {self.noise!r} is not accepted; accepted: 0 to 10")
        if self.data not in datasets.NAMES:
            raise SpecError(
                f"data: {self.data!r} is not accepted; accepted: {', '.join(datasets.NAMES)}"
            )
        if self.data != "blobs":  # moons and xor are 2-D, two classes
            object.__setattr__(self, "features", 2)
            object.__setattr__(self, "classes", 2)
        unknown = [c for c in self.configurations if c not in CONFIGURATIONS]
        if (
            unknown
            or not self.configurations
            or len(set(self.configurations)) != len(self.configurations)
        ):
            raise SpecError(
                f"configurations: {', '.join(self.configurations) or 'none'} is not accepted; "
                f"accepted: one or more of {', '.join(CONFIGURATIONS)}, each once"
            )

    @property
    def dims(self) -> tuple[int, ...]:
        """Inputs, the hidden layers' units, outputs."""
        return (self.features, *[self.units] * self.layers, self.classes)

    def describe(self) -> str:
        return (
            f"{self.layers} tanh layers of {self.units} units, {self.data} data "
            f"({self.samples} samples, {self.features} features, {self.classes} classes), "
            f"{self.steps} steps of SGD, lr {self.lr:g}, batches of {self.batch_size}, "
            f"seed {self.seed}"
        )


def initial(settings: Settings, configuration: str) -> dict[str, Array]:
    """The starting parameters: the same N(0, 1) draws for every configuration, scaled by it.

    ``W{l}``, ``b{l}`` (none before a BatchNorm), ``gamma{l}``, ``beta{l}`` (BatchNorm's)."""
    rng = portable.generator(settings.seed, INIT_STREAM)
    dims = settings.dims
    last = len(dims) - 1
    params: dict[str, Array] = {}
    for layer in range(1, last + 1):
        fan_in, fan_out = dims[layer - 1], dims[layer]
        draw = portable.normal(rng, (fan_out, fan_in))
        if configuration == "bad":
            scale = 1.0
        elif layer == last:
            scale = OUTPUT_SCALE / math.sqrt(fan_in)
        else:
            scale = GAIN / math.sqrt(fan_in)
        params[f"W{layer}"] = draw * scale
        if configuration == "batchnorm" and layer < last:
            params[f"gamma{layer}"] = np.ones((fan_out, 1))
            params[f"beta{layer}"] = np.zeros((fan_out, 1))
        else:
            params[f"b{layer}"] = np.zeros((fan_out, 1))
    return params


@dataclass
class Pass:
    """One forward and backward pass: the loss, every gradient, and what the diagnostics read."""

    loss: float
    grads: dict[str, Array]
    pre: list[Array]  # each hidden layer's input to tanh
    out: list[Array]  # each hidden layer's tanh output
    out_grads: list[Array]  # dL/d(tanh output) of each hidden layer


def gradients(params: Mapping[str, Array], x: Array, y: Array) -> Pass:
    """Cross-entropy of softmax (mean over the columns) and its gradients, BatchNorm where the
    parameters have ``gamma{l}`` (batch statistics, biased variance, as PyTorch in training)."""
    last = sum(1 for k in params if k.startswith("W"))
    batch = x.shape[1]
    a = x
    inputs: list[Array] = []
    caches: list[tuple[Array, Array] | None] = []
    pre: list[Array] = []
    out: list[Array] = []
    for layer in range(1, last):
        w = params[f"W{layer}"]
        inputs.append(a)
        z = w @ a
        if f"gamma{layer}" in params:
            mu = z.mean(axis=1, keepdims=True)
            centred = z - mu
            inv = 1.0 / np.sqrt((centred * centred).mean(axis=1, keepdims=True) + EPS)
            xhat = centred * inv
            zn = params[f"gamma{layer}"] * xhat + params[f"beta{layer}"]
            caches.append((xhat, inv))
        else:
            zn = z + params[f"b{layer}"]
            caches.append(None)
        a = np.tanh(zn)
        pre.append(zn)
        out.append(a)
    logits = params[f"W{last}"] @ a + params[f"b{last}"]
    shifted = logits - logits.max(axis=0, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=0, keepdims=True)
    p = e / total
    loss = float(np.sum(y * (np.log(total) - shifted)) / batch)

    grads: dict[str, Array] = {}
    dz = (p - y) / batch
    grads[f"W{last}"] = dz @ a.T
    grads[f"b{last}"] = dz.sum(axis=1, keepdims=True)
    da = params[f"W{last}"].T @ dz
    out_grads: list[Array] = [np.empty(0)] * (last - 1)
    for layer in range(last - 1, 0, -1):
        out_grads[layer - 1] = da
        a = out[layer - 1]
        dzn = da * (1.0 - a * a)
        cache = caches[layer - 1]
        if cache is not None:
            xhat, inv = cache
            grads[f"gamma{layer}"] = (dzn * xhat).sum(axis=1, keepdims=True)
            grads[f"beta{layer}"] = dzn.sum(axis=1, keepdims=True)
            dxhat = dzn * params[f"gamma{layer}"]
            dz = (inv / batch) * (
                batch * dxhat
                - dxhat.sum(axis=1, keepdims=True)
                - xhat * (dxhat * xhat).sum(axis=1, keepdims=True)
            )
        else:
            dz = dzn
            grads[f"b{layer}"] = dz.sum(axis=1, keepdims=True)
        grads[f"W{layer}"] = dz @ inputs[layer - 1].T
        if layer > 1:
            da = params[f"W{layer}"].T @ dz
    return Pass(loss, grads, pre, out, out_grads)
