"""An independent float64 oracle: the same network in PyTorch, differentiated by autograd.

Only the conventions a by-hand sheet adds to plain calculus are restated here, each in one
place: ``table`` mode rounds activation outputs to ``digits`` decimals (softmax columns by
largest remainder) and takes derivatives from those table values; ``base`` mode writes b^z for
e^z (that is softmax of z·ln b, with the loss in log base b). Everything else — products, masks,
transposes, sums over the batch, the mean, the update — comes from autograd.

The output is the spec's ``output`` (the loss's own where the document leaves it out); a loss with
its own output is computed from the logits, squared error of a sigmoid from the output's values
(table values in ``table`` mode), and autograd carries its gradient through σ′ = A(1 − A).
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np
import torch

torch.set_default_dtype(torch.float64)

#: each loss's own output (a document that names no ``output`` has it)
OWN_OUTPUT = {"softmax_ce": "softmax", "sigmoid_bce": "sigmoid", "mse": "identity"}


def _round_half_up(x: np.ndarray, digits: int) -> np.ndarray:
    q = Decimal(1).scaleb(-digits)
    return np.vectorize(lambda v: float(Decimal(repr(float(v))).quantize(q, ROUND_HALF_UP)))(x)


def table_softmax(z: np.ndarray, digits: int) -> np.ndarray:
    p = np.exp(z - z.max(0))
    p /= p.sum(0)
    unit = 10**digits
    scaled = p * unit
    units = np.floor(scaled).astype(int)
    for j in range(z.shape[1]):
        order = sorted(range(z.shape[0]), key=lambda i: (-(scaled[i, j] - units[i, j]), i))
        for i in order[: unit - units[:, j].sum()]:
            units[i, j] += 1
    return units / unit


class Tabulated(torch.autograd.Function):
    """Forward: the table value; backward: the derivative read from the table value."""

    @staticmethod
    def forward(ctx: Any, z: torch.Tensor, table: torch.Tensor, kind: str) -> torch.Tensor:
        ctx.save_for_backward(table)
        ctx.kind = kind
        return table.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> Any:
        (a,) = ctx.saved_tensors
        slope = a * (1 - a) if ctx.kind == "sigmoid" else 1 - a * a
        return grad * slope, None, None


def oracle(doc: dict[str, Any]) -> dict[str, np.ndarray]:
    """Every cell of an exchange document, recomputed in float64 from its spec and given."""
    spec, given = doc["spec"], doc["given"]
    mode, digits, base = spec["transcendental"], spec["digits"], spec["base"]
    n = len(spec["sizes"]) - 1
    frozen = set(spec["frozen"])
    batch = spec["batch"]
    factor = 1.0 if spec["reduction"] == "sum" else 1.0 / batch
    lr = _num(given["lr"])
    slope = _num(spec["slope"])
    output = spec.get("output", OWN_OUTPUT[spec["loss"]])
    own = OWN_OUTPUT[spec["loss"]] == output

    def t(name: str, grad: bool = False) -> torch.Tensor:
        return torch.tensor(_matrix(given[name]), requires_grad=grad)

    params = {}
    for layer in range(1, n + 1):
        for p in ("W", "b"):
            params[f"{p}{layer}"] = t(f"{p}{layer}", grad=layer not in frozen)
    x, y = t("X"), t("Y")
    cells: dict[str, torch.Tensor] = {}
    a = x
    for layer in range(1, n + 1):
        z = params[f"W{layer}"] @ a + params[f"b{layer}"]
        if z.requires_grad:
            z.retain_grad()
        cells[f"Z{layer}"] = z
        if layer < n:
            a = _hidden(spec["activation"], z, mode, digits, slope)
        else:
            a = _output(output, z, mode, digits, base)
        if a.requires_grad:
            a.retain_grad()
        cells[f"A{layer}"] = a
    z_out, a_out = cells[f"Z{n}"], cells[f"A{n}"]
    if own:
        loss = _loss(spec["loss"], z_out, y, mode, base) * factor
    else:  # squared error of a sigmoid: from its values, the table's in table mode
        loss = 0.5 * ((a_out - y) ** 2).sum() * factor
    out = {name: v.detach().numpy() for name, v in cells.items()}
    out["loss"] = np.array([[loss.item()]])
    if mode == "table" and own and spec["loss"] != "mse":
        # the sheet's convention: dZ_L = (A_L − Y)·factor from the table values
        z_out.backward((a_out.detach() - y) * factor)
    else:
        loss.backward()
    lowest = min(layer for layer in range(1, n + 1) if layer not in frozen)
    for layer in range(lowest, n + 1):
        out[f"dZ{layer}"] = cells[f"Z{layer}"].grad.numpy()
        if layer > lowest:
            out[f"dA{layer - 1}"] = cells[f"A{layer - 1}"].grad.numpy()
        if layer not in frozen:
            for p in ("W", "b"):
                grad = params[f"{p}{layer}"].grad
                out[f"d{p}{layer}"] = grad.numpy()
                out[f"{p}{layer}_new"] = (params[f"{p}{layer}"] - lr * grad).detach().numpy()
    return out


def _hidden(act: str, z: torch.Tensor, mode: str, digits: int, slope: float) -> torch.Tensor:
    match act:
        case "relu":
            return torch.relu(z)
        case "leaky_relu":
            return torch.nn.functional.leaky_relu(z, slope)
        case "identity":
            return z * 1
    exact = torch.sigmoid(z) if act == "sigmoid" else torch.tanh(z)
    if mode != "table":
        return exact
    table = torch.tensor(_round_half_up(exact.detach().numpy(), digits))
    return Tabulated.apply(z, table, act)


def _output(output: str, z: torch.Tensor, mode: str, digits: int, base: int) -> torch.Tensor:
    scale = math.log(base) if mode == "base" else 1.0
    if output == "identity":
        return z * 1
    exact = torch.softmax(z * scale, 0) if output == "softmax" else torch.sigmoid(z * scale)
    if mode != "table":
        return exact
    zn = z.detach().numpy()
    table = (
        table_softmax(zn, digits)
        if output == "softmax"
        else _round_half_up(exact.detach().numpy(), digits)
    )
    return Tabulated.apply(z, torch.tensor(table), "sigmoid")


def _loss(loss: str, z: torch.Tensor, y: torch.Tensor, mode: str, base: int) -> torch.Tensor:
    scale = math.log(base) if mode == "base" else 1.0
    if loss == "mse":
        return 0.5 * ((z - y) ** 2).sum()
    if loss == "softmax_ce":
        return -(y * torch.log_softmax(z * scale, 0)).sum() / scale
    return (
        torch.nn.functional.binary_cross_entropy_with_logits(z * scale, y, reduction="sum") / scale
    )


def _num(text: str) -> float:
    if "/" in text:
        num, den = text.split("/")
        return int(num) / int(den)
    return float(text)


def _matrix(rows: list[list[str]]) -> list[list[float]]:
    return [[_num(v) for v in row] for row in rows]
