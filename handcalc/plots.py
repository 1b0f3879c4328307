"""The figures of a trace and of a health run, in one style: matplotlib's Agg (never a display),
DejaVu Sans, the Okabe–Ito palette (safe for colour-blind readers), labelled axes, a legend.

Every data series carries an id that starts with ``series-`` (in the SVG: ``<g id="series-…">``),
so a test — or anyone — can count what a figure shows. SVGs are byte-reproducible (a fixed hash
salt, no date); PNGs carry no software version.

matplotlib is an optional extra (``pip install 'handcalc[plots]'``): ``require_matplotlib`` says so
in one line when it is missing.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .errors import HandcalcError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .diagnostics import Health, Run
    from .tracing import Trace

INSTALL = "install handcalc[plots] (pip install 'handcalc[plots]')"
#: Okabe and Ito's palette without its yellow (too pale on white), black last
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
MARKERS = ("o", "^", "s", "D", "v", "P", "X", "*")
BINS = 50
GUIDE_COLOUR = "#555555"
POSITIVE, NEGATIVE = PALETTE[0], PALETTE[3]
DPI = 100
STYLE: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 9.5,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "legend.fontsize": 7.5,
    "lines.linewidth": 1.1,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "svg.hashsalt": "handcalc",
    "svg.fonttype": "path",
    "path.simplify": True,
}


class PlotsUnavailable(HandcalcError):
    """matplotlib is not installed: the figures need the ``plots`` extra."""


def require_matplotlib() -> None:
    """``PlotsUnavailable`` (one line saying what to install) unless matplotlib imports."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise PlotsUnavailable(
            f"the figures need matplotlib, which is missing: {INSTALL}"
        ) from None


@contextmanager
def _style() -> Iterator[None]:
    require_matplotlib()
    import matplotlib

    with matplotlib.rc_context(cast(Any, STYLE)):
        yield


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def svg_bytes(fig: Figure, text_as_paths: bool = True) -> bytes:
    """The figure as SVG: the same bytes for the same figure on every run. Its text is drawn as
    paths (it looks the same in any viewer) unless ``text_as_paths`` is False (text elements in
    DejaVu Sans: smaller, and far faster for WeasyPrint)."""
    import matplotlib

    buf = io.BytesIO()
    with _style(), matplotlib.rc_context({"svg.fonttype": "path" if text_as_paths else "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "handcalc"})
    return buf.getvalue()


def png_bytes(fig: Figure, dpi: int = DPI) -> bytes:
    buf = io.BytesIO()
    with _style():
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def save(fig: Figure, out: Path, stem: str) -> list[Path]:
    """``out/stem.svg`` and ``out/stem.png``: the layout is worked out once, for the PNG."""
    paths = [out / f"{stem}.svg", out / f"{stem}.png"]
    paths[1].write_bytes(png_bytes(fig))
    fig.set_layout_engine("none")  # keeps the positions the first drawing found
    paths[0].write_bytes(svg_bytes(fig))
    return paths


def layer_colour(layer: int) -> str:
    return PALETTE[(layer - 1) % len(PALETTE)]


# --- traces --------------------------------------------------------------------------------------


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
    with _style():
        from matplotlib.lines import Line2D

        fig = _figure(8.4, 5.8)
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
    with _style():
        from matplotlib.colors import ListedColormap

        fig = _figure(2.55 * len(epochs) + 0.6, 3.15)
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


# --- health --------------------------------------------------------------------------------------


def _panels(health: Health, height: float = 3.5) -> tuple[Figure, Sequence[Axes]]:
    count = len(health.runs)
    fig = _figure(3.7 * count + 0.4, height)
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
    with _style():
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
    with _style():
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
    with _style():
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

    with _style():
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
TRACE_FIGURES: dict[str, Callable[[Trace], Figure]] = {
    "parameters": parameters_figure,
    "boundary": boundary_figure,
}


def health_figures(health: Health, out: Path) -> list[Path]:
    """The four figures, each as ``.svg`` and ``.png``."""
    written = []
    for stem, make in HEALTH_FIGURES.items():
        written += save(make(health), out, stem)
    return written
