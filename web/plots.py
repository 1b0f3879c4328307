"""The training pages: a trace's and a health run's figures for options a visitor picks, drawn
on the server as PNG and kept in memory.

A request can never make the server train for long: every size is bounded before anything is
computed (epochs, steps, samples, layers, units), runs and images are cached by their options
(a bounded LRU per process), and what is computed is charged to the client's CPU budget like a
practice problem. The defaults cost a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from flask import Blueprint, Response, abort, render_template, request

from handcalc import HandcalcError
from handcalc.values import parse_whole

from . import access
from .errors import shown_on

bp = Blueprint("plots", __name__, url_prefix="/plots")

INSTALL = (
    "the figures need matplotlib, which is missing: install handcalc[plots] "
    "(pip install 'handcalc[plots]')"
)
#: options of the trace page: (default, low, high) for whole numbers, choices for the others
TRACE_WHOLE = {"seed": (7, 0, 10**9), "epochs": (200, 1, 500), "samples": (200, 4, 500)}
TRACE_CHOICES = {
    "data": ("problem", "moons", "xor", "blobs"),
    "activation": ("relu", "leaky_relu", "identity", "sigmoid", "tanh"),
    "loss": ("softmax_ce", "sigmoid_bce", "mse"),
    "reduction": ("", "sum", "mean"),
    "transcendental": ("table", "base", "exact"),
}
TRACE_TEXT = {"sizes": 40, "lr": 20, "batch_size": 6}
HEALTH_WHOLE = {
    "steps": (200, 1, 500),
    "layers": (5, 1, 6),
    "units": (100, 2, 100),
    "batch_size": (32, 2, 64),
    "seed": (0, 0, 10**9),
}
HEALTH_CHOICES = {"data": ("blobs", "moons", "xor"), "lr": ("0.1", "0.05", "0.02", "0.2", "0.5")}
TRACE_FIGURES = ("parameters", "boundary")
HEALTH_FIGURES = ("activations", "gradients", "weights", "updates")
MAX_STEPS = 5000  # SGD steps of one trace: about half a second
CACHE_RUNS = 16
CACHE_IMAGES = 64
MAX_QUERY = 2000


class Refused(HandcalcError):
    """An option out of the page's bounds."""


# --- options -------------------------------------------------------------------------------------


def _query() -> Mapping[str, str]:
    if len(request.query_string) > MAX_QUERY:
        raise Refused(f"the query is longer than {MAX_QUERY} characters")
    return {k: v.strip() for k, v in request.args.items() if v.strip()}


def _whole(raw: Mapping[str, str], bounds: Mapping[str, tuple[int, int, int]]) -> dict[str, int]:
    out = {}
    for name, (default, low, high) in bounds.items():
        out[name] = parse_whole(raw[name], name, low, high) if name in raw else default
    return out


def _choice(raw: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = raw.get(name, choices[0])
    if value not in choices:
        raise Refused(f"{name}: {value[:40]!r} is not accepted; accepted: {', '.join(choices)}")
    return value


def trace_options(raw: Mapping[str, str]) -> tuple[tuple[str, Any], ...]:
    """The trace page's options, checked and bounded, as a hashable key (sorted pairs)."""
    out: dict[str, Any] = _whole(raw, TRACE_WHOLE)
    for name, choices in TRACE_CHOICES.items():
        out[name] = _choice(raw, name, choices)
    for name, longest in TRACE_TEXT.items():
        if name in raw:
            if len(raw[name]) > longest:
                raise Refused(f"{name}: longer than {longest} characters")
            out[name] = raw[name]
    if out["data"] == "problem":
        del out["samples"]  # the problem's own samples
    steps = out["epochs"]
    if "batch_size" in out:
        out["batch_size"] = parse_whole(out["batch_size"], "batch_size", 1, 500)
        if out["data"] != "problem":
            steps *= -(-out["samples"] // out["batch_size"])
    if steps > MAX_STEPS:
        raise Refused(
            f"epochs × mini-batches per epoch = {steps} steps, more than this page makes "
            f"({MAX_STEPS}); use fewer epochs or larger batches (or handcalc trace on your machine)"
        )
    return tuple(sorted((k, v) for k, v in out.items() if v != ""))


def health_options(raw: Mapping[str, str]) -> tuple[tuple[str, Any], ...]:
    out: dict[str, Any] = _whole(raw, HEALTH_WHOLE)
    for name, choices in HEALTH_CHOICES.items():
        out[name] = _choice(raw, name, choices)
    return tuple(sorted(out.items()))


# --- runs and images, cached ---------------------------------------------------------------------


@lru_cache(maxsize=CACHE_RUNS)
def trace_run(key: tuple[tuple[str, Any], ...]) -> Any:
    from handcalc.tracing import trace

    options = dict(key)
    run_options = {
        name: options.pop(name)
        for name in ("seed", "epochs", "samples", "data", "batch_size")
        if name in options
    }
    return trace(**run_options, **options)


@lru_cache(maxsize=CACHE_RUNS)
def health_run(key: tuple[tuple[str, Any], ...]) -> Any:
    from handcalc.diagnostics import health

    options = dict(key)
    options["lr"] = float(options["lr"])
    return health(samples=1000, **options)


@lru_cache(maxsize=CACHE_IMAGES)
def trace_png(key: tuple[tuple[str, Any], ...], figure: str) -> bytes:
    from handcalc import plots

    return plots.png_bytes(plots.TRACE_FIGURES[figure](trace_run(key)))


@lru_cache(maxsize=CACHE_IMAGES)
def health_png(key: tuple[tuple[str, Any], ...], figure: str) -> bytes:
    from handcalc import plots

    return plots.png_bytes(plots.HEALTH_FIGURES[figure](health_run(key)))


def _plots_available() -> bool:
    try:
        from handcalc.plots import require_matplotlib

        require_matplotlib()
    except HandcalcError:
        return False
    return True


def _png(data: bytes) -> Response:
    response = Response(data, mimetype="image/png")
    response.cache_control.public = True
    response.cache_control.max_age = 86400  # the same options always draw the same picture
    return response


# --- views ---------------------------------------------------------------------------------------


def trace_form(error: str, code: int = 400) -> tuple[str, int]:
    """The trace page with an error instead of figures."""
    return render_template(
        "plots_trace.html",
        values=dict(request.args),
        choices=TRACE_CHOICES,
        error=error,
        run=None,
        query=None,
        boundary=False,
    ), code


@bp.get("/trace")
@shown_on(trace_form)
def trace_page() -> tuple[str, int]:
    """The trace page: options, the parameters figure (and the decision regions), the loss."""
    if not _plots_available():
        return trace_form(INSTALL, 503)
    key = trace_options(_query())
    with access.cpu_budget():
        run = trace_run(key)
    return render_template(
        "plots_trace.html",
        values=dict(request.args),
        choices=TRACE_CHOICES,
        error=None,
        run=run,
        query=dict(key),
        boundary=_boundary(run),
    ), 200


@bp.get("/trace/<figure>.png")
def trace_image(figure: str) -> Response:
    if figure not in TRACE_FIGURES:
        abort(404, f"no figure {figure[:40]!r}; figures: {', '.join(TRACE_FIGURES)}")
    if not _plots_available():
        abort(503, INSTALL)
    key = trace_options(_query())
    with access.cpu_budget():
        run = trace_run(key)
        if figure == "boundary" and not _boundary(run):
            abort(404, "a decision boundary needs 2-D inputs and classes")
        return _png(trace_png(key, figure))


def health_form(error: str, code: int = 400) -> tuple[str, int]:
    """The health page with an error instead of figures."""
    return render_template(
        "plots_health.html",
        values=dict(request.args),
        choices=HEALTH_CHOICES,
        error=error,
        run=None,
        query=None,
        figures=HEALTH_FIGURES,
    ), code


@bp.get("/health")
@shown_on(health_form)
def health_page() -> tuple[str, int]:
    """The health page: options, the summary in words, the four figures."""
    if not _plots_available():
        return health_form(INSTALL, 503)
    key = health_options(_query())
    with access.cpu_budget():
        run = health_run(key)
    return render_template(
        "plots_health.html",
        values=dict(request.args),
        choices=HEALTH_CHOICES,
        error=None,
        run=run,
        query=dict(key),
        figures=HEALTH_FIGURES,
    ), 200


@bp.get("/health/<figure>.png")
def health_image(figure: str) -> Response:
    if figure not in HEALTH_FIGURES:
        abort(404, f"no figure {figure[:40]!r}; figures: {', '.join(HEALTH_FIGURES)}")
    if not _plots_available():
        abort(503, INSTALL)
    key = health_options(_query())
    with access.cpu_budget():
        return _png(health_png(key, figure))


def _boundary(run: Any) -> bool:
    from handcalc.plots import has_boundary

    return bool(has_boundary(run))
