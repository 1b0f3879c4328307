"""The health of a deeper MLP, as in the makemore lecture: tanh layers of 100 units trained with
plain SGD from three starts — a badly scaled initialisation, Kaiming's, and BatchNorm before each
nonlinearity — and the four diagnostics: activation and gradient statistics per layer (with the
saturation of tanh), each weight matrix's gradient-to-data ratio, and the update-to-data ratio
over the steps, plus what they say, in words.

The network, with its own forward and backward pass, is :mod:`handcalc.deep_mlp`'s; the
measures and the words are :mod:`handcalc.findings`'. Their names are importable from here too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import datasets, portable
from .deep_mlp import BLOBS_NOISE as BLOBS_NOISE
from .deep_mlp import CONFIGURATIONS as CONFIGURATIONS
from .deep_mlp import EPS as EPS
from .deep_mlp import GAIN as GAIN
from .deep_mlp import INIT_STREAM as INIT_STREAM
from .deep_mlp import LIMITS as LIMITS
from .deep_mlp import OUTPUT_SCALE as OUTPUT_SCALE
from .deep_mlp import Array as Array
from .deep_mlp import Pass as Pass
from .deep_mlp import Settings as Settings
from .deep_mlp import gradients as gradients
from .deep_mlp import initial as initial
from .findings import GUIDE as GUIDE
from .findings import RATIO_SPREAD as RATIO_SPREAD
from .findings import SATURATED as SATURATED
from .findings import SATURATION_LIMIT as SATURATION_LIMIT
from .findings import SHRUNK_STD as SHRUNK_STD
from .findings import UPDATE_SPREAD as UPDATE_SPREAD
from .findings import Layer as Layer
from .findings import diagnose as diagnose
from .findings import measure as measure
from .findings import settled as settled

FORMAT = "handcalc/health@1"
BINS = 50
BATCH_STREAM = 4


def _std(a: Array) -> float:
    """The (population) standard deviation from two BLAS reductions: the inner loop's statistic."""
    flat = a.reshape(-1)
    n = flat.size
    mean = flat.sum() / n
    return math.sqrt(max(float(flat @ flat) / n - mean * mean, 0.0))


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
            stds = [0.0 if h.act_std is None else h.act_std for h in hidden]
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
