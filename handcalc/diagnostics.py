"""The health of a deeper MLP, as in the makemore lecture: tanh layers of 100 units trained with
plain SGD from three starts — a badly scaled initialisation, Kaiming's, and BatchNorm before each
nonlinearity — and the four diagnostics: activation and gradient statistics per layer (with the
saturation of tanh), each weight matrix's gradient-to-data ratio, and the update-to-data ratio
over the steps, plus what they say, in words.

The network has its own vectorised forward and backward pass in numpy float64 (samples are
columns: ``Z = W·A + b``), checked against PyTorch's autograd in the tests.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import datasets, portable
from .errors import SpecError

FORMAT = "handcalc/health@1"
CONFIGURATIONS = {
    "bad": "weights from N(0, 1), not scaled by fan-in",
    "kaiming": "Kaiming: weights × (5/3)/√fan_in (output × 0.1/√fan_in)",
    "batchnorm": "Kaiming weights, BatchNorm before each tanh",
}
GAIN = 5 / 3  # tanh's gain (Kaiming)
OUTPUT_SCALE = 0.1  # a less confident output layer at the start
SATURATED = 0.97  # |tanh| beyond this counts as saturated (tanh′ < 0.06)
GUIDE = -3.0  # log10 of the update:data ratio a layer should stay near
EPS = 1e-5  # BatchNorm's, as PyTorch's
BINS = 50
#: blobs overlap this much in health's runs: a task the network does not solve in a few steps
BLOBS_NOISE = 3.0
INIT_STREAM = 3
BATCH_STREAM = 4
#: what a finding calls off: saturation above 5 %, an activation std below 0.2, a grad:data
#: ratio 10× away from the median's, an update:data ratio a decade away from the guide
SATURATION_LIMIT = 5.0
SHRUNK_STD = 0.2
RATIO_SPREAD = 10.0
UPDATE_SPREAD = 1.0
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


# --- the network ---------------------------------------------------------------------------------


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


def _std(a: Array) -> float:
    """The (population) standard deviation from two BLAS reductions: the inner loop's statistic."""
    flat = a.reshape(-1)
    n = flat.size
    mean = flat.sum() / n
    return math.sqrt(max(float(flat @ flat) / n - mean * mean, 0.0))


# --- reports ------------------------------------------------------------------------------------


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


@dataclass(frozen=True, eq=False)
class Run:
    """One configuration trained: per-layer reports, the loss at each step, the last step's
    activations and gradients (for the histograms), and the findings in words."""

    configuration: str
    description: str
    layers: tuple[Layer, ...]
    loss: Array
    activations: tuple[Array, ...]
    activation_grads: tuple[Array, ...]
    weight_grads: tuple[Array, ...]
    findings: tuple[str, ...]

    @property
    def hidden(self) -> tuple[Layer, ...]:
        return tuple(layer for layer in self.layers if layer.hidden)

    def final_loss(self) -> float:
        """The mean loss of the last tenth of the steps (one batch's loss is noisy)."""
        tail = max(1, len(self.loss) // 10)
        return float(np.mean(self.loss[-tail:]))

    def to_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "final_loss": round(self.final_loss(), 6),
            "loss": [round(float(v), 6) for v in self.loss],
            "findings": list(self.findings),
            "layers": [layer.to_dict() for layer in self.layers],
        }


@dataclass(frozen=True, eq=False)
class Health:
    """Every configuration's run; ``write`` makes ``health.json`` and the four figures."""

    settings: Settings
    runs: Mapping[str, Run]

    def to_dict(self) -> dict[str, Any]:
        settings = asdict(self.settings)
        settings["configurations"] = list(self.settings.configurations)
        return {
            "format": FORMAT,
            "settings": settings,
            "saturated_beyond": SATURATED,
            "guide": GUIDE,
            "configurations": {name: run.to_dict() for name, run in self.runs.items()},
            "summary": self.summary(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)

    def summary(self) -> list[dict[str, Any]]:
        """One row per configuration: the loss, the worst saturation, the ranges of the ratios,
        and the first finding as the verdict."""
        rows = []
        for name, run in self.runs.items():
            hidden = run.hidden
            worst = max(hidden, key=lambda layer: layer.saturation or 0.0)
            updates = [settled(layer.update_data) for layer in run.layers]
            ratios = [layer.grad_data_ratio for layer in run.layers]
            stds = [_v(h.act_std) for h in hidden]
            rows.append(
                {
                    "configuration": name,
                    "final_loss": round(run.final_loss(), 4),
                    "worst_saturation": round(worst.saturation or 0.0, 2),
                    "worst_layer": worst.layer,
                    "act_std": [round(min(stds), 4), round(max(stds), 4)],
                    "grad_data_ratio": [float(f"{min(ratios):.3g}"), float(f"{max(ratios):.3g}")],
                    "update_data": [round(min(updates), 2), round(max(updates), 2)],
                    "verdict": run.findings[0],
                }
            )
        return rows

    def summary_text(self) -> str:
        """The summary as lines of text (what the command prints)."""
        lines = []
        for row in self.summary():
            lines.append(
                f"{row['configuration']:>9}: loss {row['final_loss']:.3f}, saturation up to "
                f"{row['worst_saturation']:.1f} % (layer {row['worst_layer']}), update:data "
                f"10^{row['update_data'][0]:.1f} to 10^{row['update_data'][1]:.1f}"
            )
            lines += [f"           - {f}" for f in self.runs[row["configuration"]].findings]
        return "\n".join(lines)

    def write(self, out: Path, plots: bool = True) -> list[Path]:
        """``out/health.json`` and, with ``plots``, ``activations``, ``gradients``, ``weights``
        and ``updates`` as SVG and PNG."""
        if plots:
            from .plots import require_matplotlib

            require_matplotlib()
        out.mkdir(parents=True, exist_ok=True)
        path = out / "health.json"
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        written = [path]
        if plots:
            from .plots import health_figures

            written += health_figures(self, out)
        return written


def _v(x: float | None) -> float:
    return 0.0 if x is None else x


def settled(update_data: Array) -> float:
    """The update:data ratio once training has settled: the mean of the last fifth of the steps."""
    if len(update_data) == 0:
        return math.nan
    tail = max(1, len(update_data) // 5)
    return float(np.mean(update_data[-tail:]))


# --- training ------------------------------------------------------------------------------------


def health(
    *,
    layers: int = 5,
    units: int = 100,
    steps: int = 1000,
    lr: float = 0.1,
    batch_size: int = 32,
    data: str = "blobs",
    samples: int = 2000,
    features: int = 16,
    classes: int = 8,
    noise: float | None = None,
    seed: int = 0,
    configurations: Sequence[str] = tuple(CONFIGURATIONS),
    progress: Callable[[int], None] | None = None,
) -> Health:
    """Train the deep MLP from each configuration's start and diagnose it.

    The data set (``blobs`` with ``features``, ``classes`` and ``noise`` — the spread of each
    class around its centre, drawn in [−3, 3], 3 unless given — or 2-D ``moons``/``xor``;
    features standardised)
    and the
    mini-batches (``batch_size`` samples drawn with replacement each step) come from ``seed``
    and are the same for every configuration. ``progress`` is called after each step with the
    steps done so far over all configurations.

    >>> h = health(layers=2, units=8, steps=5, samples=40)
    >>> sorted(h.runs), len(h.runs["kaiming"].layers), len(h.runs["bad"].loss)
    (['bad', 'batchnorm', 'kaiming'], 3, 5)
    """
    settings = Settings(
        layers=layers,
        units=units,
        steps=steps,
        lr=lr,
        batch_size=batch_size,
        data=data,
        samples=samples,
        features=features,
        classes=classes,
        noise=noise,
        seed=seed,
        configurations=tuple(configurations),
    )
    found = datasets.load(
        settings.data,
        settings.seed,
        settings.samples,
        features=settings.features,
        classes=settings.classes,
        noise=settings.noise,
    )
    # standardised features: Kaiming's scale assumes inputs of unit variance
    x = found.X - found.X.mean(axis=1, keepdims=True)
    x = x / np.maximum(x.std(axis=1, keepdims=True), 1e-12)
    y = found.one_hot()
    rng = portable.generator(settings.seed, BATCH_STREAM)
    picks = np.floor(portable.uniform(rng, steps * batch_size) * found.samples).astype(np.int64)
    batches = picks.reshape(steps, batch_size)
    runs = {}
    for i, name in enumerate(settings.configurations):
        offset = i * steps

        def report(step: int, offset: int = offset) -> None:
            if progress is not None:
                progress(offset + step)

        runs[name] = _run(settings, name, x, y, batches, report)
    return Health(settings, runs)


def _run(
    settings: Settings,
    configuration: str,
    x: Array,
    y: Array,
    batches: Array,
    progress: Callable[[int], None],
) -> Run:
    params = initial(settings, configuration)
    lr = settings.lr
    weights = [k for k in params if k.startswith("W")]
    steps = len(batches)
    loss = np.empty(steps)
    updates = np.empty((len(weights), steps))
    result: Pass | None = None
    before: dict[str, Array] = {}
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for step, chosen in enumerate(batches):
            xb, yb = x[:, chosen], y[:, chosen]
            result = gradients(params, xb, yb)
            if step == steps - 1:  # the statistics are the last pass's, before its update
                before = {name: params[name].copy() for name in weights}
            for name, g in result.grads.items():
                params[name] -= lr * g
            for i, name in enumerate(weights):
                ratio = lr * _std(result.grads[name]) / _std(params[name])
                updates[i, step] = math.log10(ratio) if ratio > 0 else -np.inf
            loss[step] = result.loss
            progress(step + 1)
    assert result is not None
    layers = measure(before, result, updates)
    findings = tuple(diagnose(configuration, layers, settings.lr))
    return Run(
        configuration,
        CONFIGURATIONS[configuration],
        layers,
        loss,
        tuple(result.out),
        tuple(result.out_grads),
        tuple(result.grads[name] for name in weights),
        findings,
    )


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
