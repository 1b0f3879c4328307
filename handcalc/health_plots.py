"""The four figures of a health run, a panel per configuration: the distributions of the hidden
layers' activations and of their gradients, each weight matrix's gradient, and the update-to-data
ratios over the steps. Every data series carries an id that starts with ``series-``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .figure_style import GUIDE_COLOUR, layer_colour, new_figure, save, styled

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .diagnostics import Health, Run

BINS = 50


def _panels(health: Health, height: float = 3.5) -> tuple[Figure, Sequence[Axes]]:
    count = len(health.runs)
    fig = new_figure(3.7 * count + 0.4, height)
    axes = fig.subplots(1, count, squeeze=False)[0]
    return fig, list(axes)


def _title(ax: Axes, run: Run) -> None:
    ax.set_title(f"{run.configuration}\n{_wrap(run.description, 50)}", loc="left", fontsize=8.5)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)[:2])


def _central(arrays: Sequence[np.ndarray], share: float = 0.995) -> tuple[float, float]:
    """A range that holds the middle ``share`` of every array's values (long tails cut)."""
    flat = np.concatenate([a.ravel() for a in arrays])
    tail = (1 - share) / 2
    lo, hi = np.quantile(flat, [tail, 1 - tail])
    if not hi > lo:
        lo, hi = float(flat.min()) - 1e-12, float(flat.max()) + 1e-12
    return float(lo), float(hi)


def _histograms(
    ax: Axes,
    arrays: Sequence[np.ndarray],
    colours: Sequence[str],
    labels: Sequence[str],
    gids: Sequence[str],
    span: tuple[float, float] | None = None,
) -> None:
    """One density curve per array over a common range, with room above them for the legend."""
    from matplotlib.ticker import MaxNLocator

    span = span or _central(arrays)
    top = 0.0
    for values, colour, label, gid in zip(arrays, colours, labels, gids, strict=True):
        density, edges = np.histogram(values.ravel(), bins=BINS, range=span, density=True)
        centres = (edges[:-1] + edges[1:]) / 2
        ax.plot(centres, density, color=colour, label=label, gid=gid)
        top = max(top, float(density.max()))
    ax.set_xlim(*span)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.set_ylim(0, top * (1.25 + 0.09 * len(arrays)) if top > 0 else 1)
    ax.legend(loc="upper center", fontsize=6.5)


def activations_figure(health: Health) -> Figure:
    """(1) The distribution of each hidden layer's tanh outputs, with mean, std, saturation."""
    with styled():
        fig, axes = _panels(health)
        for ax, run in zip(axes, health.runs.values(), strict=True):
            _histograms(
                ax,
                run.activations,
                [layer_colour(h.layer) for h in run.hidden],
                [
                    f"layer {h.layer}: mean {_v(h.act_mean):+.2f}, std {_v(h.act_std):.2f}, "
                    f"saturated {_v(h.saturation):.1f} %"
                    for h in run.hidden
                ],
                [f"series-{run.configuration}-layer{h.layer}" for h in run.hidden],
                span=(-1.0, 1.0),
            )
            _title(ax, run)
            ax.set_xlabel("tanh output (no unit)")
        axes[0].set_ylabel("density (per unit of output)")
        fig.suptitle("(1) Activations of each hidden layer", x=0.01, ha="left", fontsize=10)
    return fig


def gradients_figure(health: Health) -> Figure:
    """(2) The distribution of each hidden layer's output gradient dL/dA."""
    with styled():
        fig, axes = _panels(health)
        for ax, run in zip(axes, health.runs.values(), strict=True):
            _histograms(
                ax,
                run.activation_grads,
                [layer_colour(h.layer) for h in run.hidden],
                [
                    f"layer {h.layer}: mean {_v(h.act_grad_mean):+.1e}, "
                    f"std {_v(h.act_grad_std):.1e}"
                    for h in run.hidden
                ],
                [f"series-{run.configuration}-layer{h.layer}" for h in run.hidden],
            )
            _title(ax, run)
            ax.set_xlabel("gradient dL/dA (loss per unit of output)")
        axes[0].set_ylabel("density (per unit of gradient)")
        fig.suptitle(
            "(2) Gradients at each hidden layer's output (the middle 99.5 %)",
            x=0.01,
            ha="left",
            fontsize=10,
        )
    return fig


def weights_figure(health: Health) -> Figure:
    """(3) The distribution of each weight matrix's gradient, with its grad:data ratio."""
    with styled():
        fig, axes = _panels(health)
        for ax, run in zip(axes, health.runs.values(), strict=True):
            _histograms(
                ax,
                run.weight_grads,
                [layer_colour(w.layer) for w in run.layers],
                [
                    f"{w.name} {w.shape[0]}×{w.shape[1]}: std {w.grad_std:.1e}, "
                    f"grad:data {w.grad_data_ratio:.1e}"
                    for w in run.layers
                ],
                [f"series-{run.configuration}-{w.name}" for w in run.layers],
            )
            _title(ax, run)
            ax.set_xlabel("gradient dL/dW (loss per unit of weight)")
        axes[0].set_ylabel("density (per unit of gradient)")
        fig.suptitle(
            "(3) Gradients of each weight matrix (the middle 99.5 %)",
            x=0.01,
            ha="left",
            fontsize=10,
        )
    return fig


def _v(x: float | None) -> float:
    return float("nan") if x is None else x


def updates_figure(health: Health) -> Figure:
    """(4) log10 of std(lr·grad) / std(W) per weight matrix over the steps; the guide at −3."""
    from .diagnostics import GUIDE

    with styled():
        fig, axes = _panels(health)
        low = min(
            float(np.min(layer.update_data)) for r in health.runs.values() for layer in r.layers
        )
        high = max(
            float(np.max(layer.update_data)) for r in health.runs.values() for layer in r.layers
        )
        for ax, run in zip(axes, health.runs.values(), strict=True):
            steps = np.arange(1, len(run.loss) + 1)
            for layer in run.layers:
                ax.plot(
                    steps,
                    layer.update_data,
                    color=layer_colour(layer.layer),
                    linewidth=0.9,
                    label=layer.name,
                    gid=f"series-{run.configuration}-{layer.name}",
                )
            ax.axhline(
                GUIDE,
                color=GUIDE_COLOUR,
                linestyle="--",
                linewidth=1.0,
                label="guide 10⁻³",
                gid=f"series-{run.configuration}-guide",
            )
            _title(ax, run)
            ax.set_xlabel("training step")
            if np.isfinite(low) and np.isfinite(high):
                ax.set_ylim(min(low, GUIDE) - 0.3, max(high, GUIDE) + 0.3)
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside right upper")
        axes[0].set_ylabel("log₁₀ (std(lr·grad) / std(W))")
        fig.suptitle("(4) Update-to-data ratio over training", x=0.01, ha="left", fontsize=10)
    return fig


HEALTH_FIGURES: dict[str, Callable[[Health], Figure]] = {
    "activations": activations_figure,
    "gradients": gradients_figure,
    "weights": weights_figure,
    "updates": updates_figure,
}


def health_figures(health: Health, out: Path) -> list[Path]:
    """The four figures, each as ``.svg`` and ``.png``."""
    written = []
    for stem, make in HEALTH_FIGURES.items():
        written += save(make(health), out, stem)
    return written
