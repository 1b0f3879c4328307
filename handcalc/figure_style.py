"""The one style of every figure: matplotlib's Agg (never a display), DejaVu Sans, the Okabe–Ito
palette (safe for colour-blind readers), and files that are the same bytes on every run (SVGs with
a fixed hash salt and no date; PNGs without a software version).

matplotlib is an optional extra (``pip install 'handcalc[plots]'``): ``require_matplotlib`` says so
in one line when it is missing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .errors import HandcalcError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INSTALL = "install handcalc[plots] (pip install 'handcalc[plots]')"
#: Okabe and Ito's palette without its yellow (too pale on white), black last
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
MARKERS = ("o", "^", "s", "D", "v", "P", "X", "*")
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
def styled() -> Iterator[None]:
    """matplotlib's settings of every figure here, for what is drawn or saved inside."""
    require_matplotlib()
    import matplotlib

    with matplotlib.rc_context(cast(Any, STYLE)):
        yield


def new_figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=DPI, layout="constrained")


def svg_bytes(fig: Figure, text_as_paths: bool = True) -> bytes:
    """The figure as SVG: the same bytes for the same figure on every run. Its text is drawn as
    paths (it looks the same in any viewer) unless ``text_as_paths`` is False (text elements in
    DejaVu Sans: smaller, and far faster for WeasyPrint)."""
    import matplotlib

    buf = io.BytesIO()
    with styled(), matplotlib.rc_context({"svg.fonttype": "path" if text_as_paths else "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "handcalc"})
    return buf.getvalue()


def png_bytes(fig: Figure, dpi: int = DPI) -> bytes:
    buf = io.BytesIO()
    with styled():
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
