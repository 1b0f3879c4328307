"""What the four diagnostics of a health run measure, layer by layer — activation and gradient
statistics (with the saturation of tanh), each weight matrix's gradient-to-data ratio, the
update-to-data ratio over the steps — and what those measures say, in words.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .deep_mlp import Array, Pass

SATURATED = 0.97  # |tanh| beyond this counts as saturated (tanh′ < 0.06)
GUIDE = -3.0  # log10 of the update:data ratio a layer should stay near
#: what a finding calls off: saturation above 5 %, an activation std below 0.2, a grad:data
#: ratio 10× away from the median's, an update:data ratio a decade away from the guide
SATURATION_LIMIT = 5.0
SHRUNK_STD = 0.2
RATIO_SPREAD = 10.0
UPDATE_SPREAD = 1.0


@dataclass(frozen=True, eq=False)
class Layer:
    """One linear layer after training: its weight matrix and, for a hidden layer, its tanh."""

    layer: int
    name: str
    shape: tuple[int, int]
    hidden: bool
    saturation: float | None  # percent of |tanh| > 0.97
    act_mean: float | None
    act_std: float | None
    preact_std: float | None
    act_grad_mean: float | None
    act_grad_std: float | None
    grad_mean: float  # of the weight matrix's gradient
    grad_std: float
    data_std: float
    grad_data_ratio: float
    update_data: Array  # log10(std(lr·grad) / std(W)) after each step

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "update_data"}
        out["shape"] = list(self.shape)
        out["update_data"] = [round(float(v), 6) for v in self.update_data]
        return out


def measure(
    params: Mapping[str, Array], result: Pass, updates: Array | None = None
) -> tuple[Layer, ...]:
    """Each linear layer's statistics from one pass on ``params`` (its weights before that
    pass's update): the hidden layers' tanh outputs and their gradients, each weight matrix's
    gradient and grad:data ratio; ``updates`` holds the update:data ratios of the steps."""
    weights = [k for k in params if k.startswith("W")]
    last = len(weights)
    layers = []
    for i, name in enumerate(weights):
        layer = i + 1
        g, w = result.grads[name], params[name]
        hidden = layer < last
        a = result.out[i] if hidden else None
        layers.append(
            Layer(
                layer=layer,
                name=name,
                shape=(int(w.shape[0]), int(w.shape[1])),
                hidden=hidden,
                saturation=None if a is None else float(np.mean(np.abs(a) > SATURATED) * 100),
                act_mean=None if a is None else float(a.mean()),
                act_std=None if a is None else float(a.std()),
                preact_std=None if not hidden else float(result.pre[i].std()),
                act_grad_mean=None if not hidden else float(result.out_grads[i].mean()),
                act_grad_std=None if not hidden else float(result.out_grads[i].std()),
                grad_mean=float(g.mean()),
                grad_std=float(g.std()),
                data_std=float(w.std()),
                grad_data_ratio=float(g.std() / w.std()) if w.std() > 0 else math.inf,
                update_data=np.empty(0) if updates is None else updates[i].copy(),
            )
        )
    return tuple(layers)


def settled(update_data: Array) -> float:
    """The update:data ratio once training has settled: the mean of the last fifth of the steps."""
    if len(update_data) == 0:
        return math.nan
    tail = max(1, len(update_data) // 5)
    return float(np.mean(update_data[-tail:]))


def _v(x: float | None) -> float:
    return 0.0 if x is None else x


def diagnose(configuration: str, layers: Sequence[Layer], lr: float) -> list[str]:
    """What the figures say, in words: which layers saturate or fade, whether the gradients
    vanish or explode with depth, and whose grad:data or update:data ratio is off."""
    found = []
    hidden = [layer for layer in layers if layer.hidden]
    saturated = [h for h in hidden if (h.saturation or 0.0) > SATURATION_LIMIT]
    if saturated:
        many = len(saturated) > 1
        found.append(
            f"{_layers(saturated)} saturate{'' if many else 's'}: "
            f"{_listed(f'{h.saturation or 0:.0f}' for h in saturated)} % of "
            f"{'their' if many else 'its'} tanh outputs lie beyond ±{SATURATED} (where tanh′ < "
            f"0.06), because {'their' if many else 'its'} pre-activations have std "
            f"{_listed(f'{_v(h.preact_std):.1f}' for h in saturated)} (about 1 keeps tanh in its "
            "working range); little gradient flows back through those units"
        )
    faded = [h for h in hidden if h not in saturated and _v(h.act_std) < SHRUNK_STD]
    if faded:
        found.append(
            f"the activations of {_layers(faded)} shrink towards 0 (std "
            f"{_listed(f'{_v(h.act_std):.2f}' for h in faded)}): the weights are too small and "
            "the signal fades with depth"
        )
    if len(hidden) > 1:
        first, top = _v(hidden[0].act_grad_std), _v(hidden[-1].act_grad_std)
        if top > 0 and first / top < 0.1:
            found.append(
                f"the gradients vanish on the way down: their std falls {top / first:.0f}× "
                f"from layer {hidden[-1].layer} to layer 1"
            )
        elif top > 0 and first / top > 10:
            found.append(
                f"the gradients grow on the way down: their std is {first / top:.0f}× larger "
                f"at layer 1 than at layer {hidden[-1].layer}"
            )
    median = float(np.median([layer.grad_data_ratio for layer in layers]))
    for layer in layers:
        r = layer.grad_data_ratio
        if median > 0 and (r > RATIO_SPREAD * median or r < median / RATIO_SPREAD):
            pace = "faster" if r > median else "slower"
            found.append(
                f"{layer.name}'s grad:data ratio {r:.1e} is {max(r / median, median / r):.0f}× "
                f"{'above' if r > median else 'below'} the median of the layers "
                f"({median:.1e}): it learns {pace} than the rest"
            )
    levels = {layer.name: settled(layer.update_data) for layer in layers}
    slow = [name for name, level in levels.items() if level < GUIDE - UPDATE_SPREAD]
    fast = [name for name, level in levels.items() if level > GUIDE + UPDATE_SPREAD]
    if slow:
        one = len(slow) == 1
        found.append(
            f"{_listed(slow)} barely move{'s' if one else ''}: the update:data ratio settles "
            f"near {_listed(f'10^{levels[n]:.1f}' for n in slow)}, under the guide of "
            f"10^{GUIDE:.0f}; a larger lr than {lr:g} would train {'it' if one else 'them'} faster"
        )
    if fast:
        one = len(fast) == 1
        found.append(
            f"{_listed(fast)} change{'s' if one else ''} too fast: each step moves "
            f"{'it' if one else 'them'} by {_listed(f'10^{levels[n]:.1f}' for n in fast)} of "
            f"{'its' if one else 'their'} size, over the guide of 10^{GUIDE:.0f}; a smaller lr "
            f"than {lr:g} would be safer"
        )
    if not found:
        found.append(
            "healthy: no layer saturates, the activations keep their spread through the depth, "
            "and every ratio is near the others and near the guide"
        )
    return found


def _listed(items: Iterable[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    words = list(items)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _layers(layers: Sequence[Layer]) -> str:
    numbers = _listed(str(h.layer) for h in layers)
    return f"layer{'s' if len(layers) > 1 else ''} {numbers}"
