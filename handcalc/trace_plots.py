"""The figures of a trace: every parameter over the epochs with the loss below, the decision
regions of a 2-D classification at a few epochs, and a page that animates the network over the
epochs. Every data series carries an id that starts with ``series-``.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import HandcalcError
from .figure_style import (
    MARKERS,
    NEGATIVE,
    PALETTE,
    POSITIVE,
    layer_colour,
    new_figure,
    save,
    styled,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .tracing import Trace


def _loss_label(trace: Trace) -> str:
    spec = trace.spec
    if spec.loss == "mse":
        return "loss (½ squared error)"
    if spec.transcendental == "base":
        return f"loss (log base {spec.base})"
    return "loss (nats)"


def parameters_figure(trace: Trace) -> Figure:
    """Every weight (solid) and bias (dashed) over the epochs, one colour per layer; the loss
    (and accuracy on a data set) below."""
    with styled():
        from matplotlib.lines import Line2D

        fig = new_figure(8.4, 5.8)
        top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3.2, 1.3])
        epochs = np.arange(trace.epochs + 1)
        spec = trace.spec
        for name, v in trace.values.items():
            layer = int(name[1:])
            weight = name.startswith("W")
            for (r, c), _ in np.ndenumerate(v[0]):
                top.plot(
                    epochs,
                    v[:, r, c],
                    color=layer_colour(layer),
                    linestyle="-" if weight else (0, (3, 1.6)),
                    linewidth=1.0 if weight else 1.2,
                    alpha=0.9,
                    gid=f"series-{name}-{r + 1}-{c + 1}",
                )
        handles = []
        for layer in range(1, spec.layers + 1):
            rows, cols = trace.values[f"W{layer}"].shape[1:]
            frozen = " (frozen)" if layer in spec.frozen else ""
            handles.append(
                Line2D(
                    [],
                    [],
                    color=layer_colour(layer),
                    linewidth=2.2,
                    label=f"layer {layer}: W{layer} {rows}×{cols}, b{layer}{frozen}",
                )
            )
        handles.append(Line2D([], [], color="#333333", label="weights (solid)"))
        handles.append(
            Line2D([], [], color="#333333", linestyle=(0, (3, 1.6)), label="biases (dashed)")
        )
        fig.legend(handles=handles, loc="outside right upper")
        top.set_ylabel("parameter value (no unit)")
        fig.suptitle(
            f"Every weight and bias over {trace.epochs} epochs of SGD\n"
            + "\n".join(textwrap.wrap(trace.describe(), 92)),
            x=0.01,
            ha="left",
            fontsize=9.5,
        )
        loss = trace.loss
        bottom.plot(epochs, loss, color="#000000", gid="series-loss", label="loss")
        positive = bool(np.all(loss > 0))
        if positive and loss.max() / max(loss.min(), 1e-300) > 100:
            bottom.set_yscale("log")
        bottom.set_ylabel(_loss_label(trace))
        bottom.set_xlabel("epoch")
        if trace.accuracy is not None:
            right = bottom.twinx()
            right.grid(False)
            right.spines["right"].set_visible(True)
            right.plot(
                epochs,
                trace.accuracy * 100,
                color=PALETTE[2],
                linestyle=":",
                linewidth=1.4,
                gid="series-accuracy",
            )
            right.set_ylabel("accuracy (%)", color=PALETTE[2])
            right.set_ylim(0, 102)
            bottom.legend(
                handles=[
                    Line2D([], [], color="#000000", label="loss"),
                    Line2D([], [], color=PALETTE[2], linestyle=":", label="accuracy"),
                ],
                loc="center right",
            )
        bottom.set_xlim(0, trace.epochs)
        if early(trace):
            # most of the movement happens in the first epochs: give them room
            bottom.set_xscale("symlog", linthresh=1, linscale=0.6)
            bottom.set_xlim(0, trace.epochs)
            bottom.set_xlabel("epoch (logarithmic scale after epoch 1)")
    return fig


def early(trace: Trace, share: float = 0.8) -> bool:
    """Whether the parameters cover ``share`` of their whole path in the first tenth of the
    epochs (a problem's few samples are often fitted within a few epochs)."""
    if trace.epochs < 20:
        return False
    steps = [
        np.abs(np.diff(v, axis=0)).reshape(trace.epochs, -1).sum(axis=1)
        for v in trace.values.values()
    ]
    path = np.sum(steps, axis=0)
    total = float(path.sum())
    return total > 0 and float(path[: max(1, trace.epochs // 10)].sum()) >= share * total


def snapshots(epochs: int) -> list[int]:
    """The epochs a decision-boundary figure shows: the start, two early ones, the end."""
    picks = {0, max(1, round(epochs * 0.05)), max(1, round(epochs * 0.25)), epochs}
    return sorted(picks)


def labels_of(trace: Trace) -> np.ndarray | None:
    """Each sample's class, where the run is a classification (else None)."""
    if trace.labels is not None:
        return trace.labels
    if trace.spec.loss == "softmax_ce":
        return np.asarray(trace.Y.argmax(axis=0))
    if trace.spec.loss == "sigmoid_bce" and trace.Y.shape[0] == 1:
        return (trace.Y[0] > 0.5).astype(np.int64)
    return None


def has_boundary(trace: Trace) -> bool:
    """A 2-D classification: its decision boundary can be drawn."""
    return trace.X.shape[0] == 2 and labels_of(trace) is not None


def boundary_figure(trace: Trace, resolution: int = 150) -> Figure:
    """The decision regions at a few epochs, with the samples (a marker and colour per class)."""
    labels = labels_of(trace)
    if trace.X.shape[0] != 2 or labels is None:
        raise HandcalcError(
            "a decision boundary needs 2-D inputs and classes (a data set, or a problem with "
            "sizes 2,…, and softmax_ce or sigmoid_bce)"
        )
    x = trace.X
    lo, hi = x.min(axis=1) - 0.6, x.max(axis=1) + 0.6
    gx, gy = np.meshgrid(
        np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution)
    )
    grid = np.stack([gx.ravel(), gy.ravel()])
    classes = max(int(labels.max()) + 1, trace.Y.shape[0], 2)
    epochs = snapshots(trace.epochs)
    with styled():
        from matplotlib.colors import ListedColormap

        fig = new_figure(2.55 * len(epochs) + 0.6, 3.15)
        axes = fig.subplots(1, len(epochs), sharex=True, sharey=True, squeeze=False)[0]
        cmap = ListedColormap([PALETTE[k % len(PALETTE)] for k in range(classes)])
        for ax, epoch in zip(axes, epochs, strict=True):
            guess = _classes(trace, grid, epoch).reshape(gx.shape)
            regions = ax.contourf(
                gx,
                gy,
                guess,
                levels=np.arange(classes + 1) - 0.5,
                cmap=cmap,
                alpha=0.2,
            )
            regions.set_gid(f"series-regions-{epoch}")
            for k in range(classes):
                mine = labels == k
                if not mine.any():
                    continue
                ax.scatter(
                    x[0, mine],
                    x[1, mine],
                    s=13,
                    marker=MARKERS[k % len(MARKERS)],
                    color=PALETTE[k % len(PALETTE)],
                    edgecolors="white",
                    linewidths=0.4,
                    label=f"class {k}",
                    gid=f"series-class{k}-{epoch}",
                )
            accuracy = float(np.mean(_classes(trace, x, epoch) == labels))
            ax.set_title(f"epoch {epoch} · accuracy {accuracy:.0%}")
            ax.set_xlabel("feature x₁ (no unit)")
            ax.grid(False)
        axes[0].set_ylabel("feature x₂ (no unit)")
        axes[-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), markerscale=1.4)
        fig.suptitle(
            f"Decision regions of the network as it trains ({trace.data} data, seed {trace.seed})",
            x=0.01,
            ha="left",
            fontsize=9.5,
        )
    return fig


def _classes(trace: Trace, x: np.ndarray, epoch: int) -> np.ndarray:
    out = trace.predict(x, epoch)
    if out.shape[0] == 1:  # a sigmoid's probability, or a regression onto 0/1
        return (out[0] > 0.5).astype(np.int64)
    return np.asarray(out.argmax(axis=0))


def animation_html(trace: Trace) -> str:
    """A page that stands alone: a slider over the epochs moves the network's diagram (an edge
    per weight: colour its sign, width its size; a node's fill its bias), its matrices and a
    marker on the loss curve. No figure library: the data and a small script are inline."""
    from .render import environment

    spec = trace.spec
    layers = []
    for layer in range(1, spec.layers + 1):
        rows, cols = trace.values[f"W{layer}"].shape[1:]
        layers.append({"layer": layer, "rows": rows, "cols": cols, "frozen": layer in spec.frozen})
    data = {
        "epochs": trace.epochs,
        "sizes": list(spec.sizes),
        "layers": layers,
        "values": {name: np.round(v, 4).tolist() for name, v in trace.values.items()},
        "loss": [float(f"{v:.6g}") for v in trace.loss],
        "colours": {"positive": POSITIVE, "negative": NEGATIVE, "layers": list(PALETTE)},
    }
    title = f"{trace.describe()}; {trace.epochs} epochs"
    return environment().get_template("trace_animation.html").render(data=data, title=title)


def trace_figures(trace: Trace, out: Path) -> list[Path]:
    """``parameters.svg/png``, ``animation.html`` and (2-D classification) ``boundary.svg/png``."""
    written = save(parameters_figure(trace), out, "parameters")
    page = out / "animation.html"
    page.write_text(animation_html(trace), encoding="utf-8")
    written.append(page)
    if has_boundary(trace):
        written += save(boundary_figure(trace), out, "boundary")
    return written


TRACE_FIGURES: dict[str, Callable[[Trace], Figure]] = {
    "parameters": parameters_figure,
    "boundary": boundary_figure,
}
