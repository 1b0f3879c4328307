"""The figures of a trace and of a health run, in one style: matplotlib's Agg (never a display),
DejaVu Sans, the Okabe–Ito palette (safe for colour-blind readers), labelled axes, a legend.

Every data series carries an id that starts with ``series-`` (in the SVG: ``<g id="series-…">``),
so a test — or anyone — can count what a figure shows. SVGs are byte-reproducible (a fixed hash
salt, no date); PNGs carry no software version.

matplotlib is an optional extra (``pip install 'handcalc[plots]'``): ``require_matplotlib`` says so
in one line when it is missing.

The style and the files are :mod:`handcalc.figure_style`'s, a trace's figures
:mod:`handcalc.trace_plots`' and a health run's :mod:`handcalc.health_plots`'; this module gathers
their names in one place.
"""

from __future__ import annotations

from .errors import HandcalcError as HandcalcError
from .figure_style import DPI as DPI
from .figure_style import GUIDE_COLOUR as GUIDE_COLOUR
from .figure_style import INSTALL as INSTALL
from .figure_style import MARKERS as MARKERS
from .figure_style import NEGATIVE as NEGATIVE
from .figure_style import PALETTE as PALETTE
from .figure_style import POSITIVE as POSITIVE
from .figure_style import STYLE as STYLE
from .figure_style import PlotsUnavailable as PlotsUnavailable
from .figure_style import layer_colour as layer_colour
from .figure_style import png_bytes as png_bytes
from .figure_style import require_matplotlib as require_matplotlib
from .figure_style import save as save
from .figure_style import svg_bytes as svg_bytes
from .health_plots import BINS as BINS
from .health_plots import HEALTH_FIGURES as HEALTH_FIGURES
from .health_plots import activations_figure as activations_figure
from .health_plots import gradients_figure as gradients_figure
from .health_plots import health_figures as health_figures
from .health_plots import updates_figure as updates_figure
from .health_plots import weights_figure as weights_figure
from .trace_plots import TRACE_FIGURES as TRACE_FIGURES
from .trace_plots import animation_html as animation_html
from .trace_plots import boundary_figure as boundary_figure
from .trace_plots import early as early
from .trace_plots import has_boundary as has_boundary
from .trace_plots import labels_of as labels_of
from .trace_plots import parameters_figure as parameters_figure
from .trace_plots import snapshots as snapshots
from .trace_plots import trace_figures as trace_figures
