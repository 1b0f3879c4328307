"""A problem's network in float64, its transcendental functions computed the way the problem's
treatment computes them (``table``: sigmoid, tanh and softmax read to ``digits`` decimals, as from
the sheet's table; ``base``: b**z for e**z; ``exact``: e**z), so a float run continues the sheet's
own arithmetic. Arithmetic comes from ``portable``: the same numbers on every machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from . import portable
from .spec import Spec

Array = np.ndarray


@dataclass(frozen=True)
class FloatMLP:
    """The spec's network in float64, its transcendental functions as its treatment has them."""

    spec: Spec

    @property
    def _scale(self) -> float:
        """ln b in base mode (b**z = e**(z ln b)), else 1."""
        if self.spec.transcendental == "base":
            return float(portable.log(np.array(float(self.spec.base))))
        return 1.0

    def _rounded(self, a: Array) -> Array:
        if self.spec.transcendental != "table":
            return a
        unit = 10.0**self.spec.digits
        return np.copysign(np.floor(np.abs(a) * unit + 0.5), a) / unit

    def hidden(self, z: Array) -> Array:
        match self.spec.activation:
            case "relu":
                return np.where(z > 0, z, 0.0)
            case "leaky_relu":
                return np.where(z > 0, z, float(self.spec.slope) * z)
            case "identity":
                return z
            case "sigmoid":
                return self._rounded(portable.sigmoid(z))
        return self._rounded(portable.tanh(z))

    def hidden_derivative(self, z: Array, a: Array) -> Array:
        """f′, from Z (ReLU′(0) = 0) or from the (rounded) A, as the sheet takes it."""
        match self.spec.activation:
            case "relu":
                return np.where(z > 0, 1.0, 0.0)
            case "leaky_relu":
                return np.where(z > 0, 1.0, float(self.spec.slope))
            case "identity":
                return np.ones_like(z)
            case "sigmoid":
                return a * (1.0 - a)
        return 1.0 - a * a

    def output(self, z: Array) -> Array:
        match self.spec.output:
            case "softmax":
                return self._softmax(z)
            case "sigmoid":
                return self._rounded(portable.sigmoid(z * self._scale))
        return z

    def _softmax(self, z: Array) -> Array:
        s = z * self._scale
        e = portable.exp(s - s.max(axis=0, keepdims=True))
        p: Array = e / np.add.reduce(e, axis=0, keepdims=True)
        if self.spec.transcendental != "table":
            return p
        # largest remainder, as the sheet's table: each column sums to exactly 1
        unit = 10**self.spec.digits
        scaled = p * unit
        units = np.floor(scaled)
        up = unit - np.add.reduce(units, axis=0)
        order = np.argsort(-(scaled - units), axis=0, kind="stable")  # ties: the upper row
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(p.shape[0])[:, None], axis=0)
        return (units + (rank < up)) / unit

    def loss(self, z: Array, y: Array) -> float:
        """The loss summed over the columns (the reduction's factor is applied by the caller),
        from Z without rounding (squared error of a sigmoid: from the output A, as the sheet
        has it); in base mode in log base b."""
        s = self._scale if self.spec.transcendental == "base" else 1.0
        if self.spec.loss == "softmax_ce":
            u = z * s
            top = u.max(axis=0, keepdims=True)
            lse = top + portable.log(np.add.reduce(portable.exp(u - top), axis=0, keepdims=True))
            return float(np.sum(y * (lse - u)) / s)
        if self.spec.loss == "sigmoid_bce":
            u = z * s
            softplus = np.maximum(u, 0.0) + portable.log(1.0 + portable.exp(-np.abs(u)))
            return float(np.sum(softplus - y * u) / s)
        a = z if self.spec.output == "identity" else self.output(z)
        return float(0.5 * np.sum((a - y) ** 2))

    def forward(self, params: Mapping[str, Array], x: Array) -> list[tuple[Array, Array]]:
        """(Z, A) of each layer."""
        out = []
        a = x
        n = self.spec.layers
        for layer in range(1, n + 1):
            z = portable.matmul(params[f"W{layer}"], a) + params[f"b{layer}"]
            a = self.hidden(z) if layer < n else self.output(z)
            out.append((z, a))
        return out

    def gradients(
        self,
        params: Mapping[str, Array],
        x: Array,
        y: Array,
        factor: float,
        cache: list[tuple[Array, Array]] | None = None,
    ) -> dict[str, Array]:
        """dW and db of every trainable layer: the sheet's backward pass, in floats (from the
        forward pass ``cache`` of these parameters on ``x`` where it is at hand)."""
        cache = cache if cache is not None else self.forward(params, x)
        n = self.spec.layers
        lowest = min(self.spec.trainable)
        a_out = cache[-1][1]
        dz = (a_out - y) * factor
        if not self.spec.own_output:  # squared error of a sigmoid: nothing cancels
            dz = dz * a_out * (1.0 - a_out)
        grads: dict[str, Array] = {}
        for layer in range(n, lowest - 1, -1):
            below = cache[layer - 2][1] if layer > 1 else x
            if layer in self.spec.trainable:
                grads[f"W{layer}"] = portable.matmul(dz, below.T)
                grads[f"b{layer}"] = np.add.reduce(dz, axis=1, keepdims=True)
            if layer > lowest:
                z, a = cache[layer - 2]
                da = portable.matmul(params[f"W{layer}"].T, dz)
                dz = da * self.hidden_derivative(z, a)
        return grads
