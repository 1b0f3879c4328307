"""The figures: valid SVG and PNG files with the expected number of data series (each series is
an element whose id starts with ``series-``), byte-reproducible SVGs, the animation page, the
message when matplotlib is missing, and one reviewed reference image per kind of figure.

The reference images are ``tests/reference/plot-*.png``. After a deliberate change of the look,
regenerate them with ``HANDCALC_UPDATE_REFERENCE=1 .venv/bin/pytest tests/test_plots.py -k
reference``, look at each new PNG, and commit them.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from handcalc import plots
from handcalc.diagnostics import Health, health
from handcalc.tracing import Trace, trace

REFERENCES = Path(__file__).parent / "reference"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def problem_run() -> Trace:
    return trace(seed=7)


@pytest.fixture(scope="module")
def moons_run() -> Trace:
    return trace(seed=3, data="moons", epochs=60, samples=80)


@pytest.fixture(scope="module")
def deep() -> Health:
    return health(layers=3, units=20, steps=30, samples=200)


def _series(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)  # a well-formed SVG document
    assert root.tag == f"{SVG}svg"
    return [e.get("id", "") for e in root.iter() if e.get("id", "").startswith("series-")]


def _png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.verify()  # a valid PNG
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG" and image.width > 300 and image.height > 200
    return image


def test_the_parameters_figure_draws_every_entry_and_the_loss(problem_run, moons_run) -> None:
    entries = sum(v[0].size for v in problem_run.values.values())
    series = _series(plots.svg_bytes(plots.parameters_figure(problem_run)))
    assert len(series) == entries + 1
    assert "series-W1-1-1" in series and "series-b3-3-1" in series and "series-loss" in series
    moons = _series(plots.svg_bytes(plots.parameters_figure(moons_run)))
    assert len(moons) == sum(v[0].size for v in moons_run.values.values()) + 2  # + accuracy
    _png(plots.png_bytes(plots.parameters_figure(problem_run)))


def test_the_boundary_figure_shows_regions_and_each_class(moons_run, problem_run) -> None:
    epochs = plots.snapshots(moons_run.epochs)
    assert epochs == [0, 3, 15, 60]
    series = _series(plots.svg_bytes(plots.boundary_figure(moons_run)))
    assert len(series) == len(epochs) * (1 + 2)
    assert {f"series-regions-{e}" for e in epochs} <= set(series)
    assert not plots.has_boundary(problem_run)  # 4 inputs
    with pytest.raises(plots.HandcalcError, match="needs 2-D inputs"):
        plots.boundary_figure(problem_run)


@pytest.mark.parametrize(
    ("kind", "per_configuration"),
    [("activations", 3), ("gradients", 3), ("weights", 4), ("updates", 5)],
)
def test_each_health_figure_has_a_series_per_layer(
    deep: Health, kind: str, per_configuration: int
) -> None:
    fig = plots.HEALTH_FIGURES[kind](deep)
    series = _series(plots.svg_bytes(fig))
    assert len(series) == 3 * per_configuration
    assert all(s.split("-")[1] in ("bad", "kaiming", "batchnorm") for s in series)
    _png(plots.png_bytes(fig))


def test_svgs_are_byte_reproducible(problem_run, deep) -> None:
    a = plots.svg_bytes(plots.parameters_figure(problem_run))
    assert a == plots.svg_bytes(plots.parameters_figure(problem_run))
    assert b"<dc:date>" not in a and b"Matplotlib v" not in a
    u = plots.svg_bytes(plots.updates_figure(deep))
    assert u == plots.svg_bytes(plots.updates_figure(deep))


def test_writing_a_trace_makes_every_file(moons_run, tmp_path) -> None:
    written = moons_run.write(tmp_path)
    names = sorted(p.name for p in written)
    assert names == sorted(
        [
            "trace.csv",
            "loss.csv",
            "trace.json",
            "parameters.svg",
            "parameters.png",
            "animation.html",
            "boundary.svg",
            "boundary.png",
        ]
    )
    assert all(p.stat().st_size > 0 for p in written)


def test_writing_a_health_run_makes_every_file(deep, tmp_path) -> None:
    written = deep.write(tmp_path)
    stems = ("activations", "gradients", "weights", "updates")
    expected = ["health.json"] + [f"{s}.{ext}" for s in stems for ext in ("svg", "png")]
    assert sorted(p.name for p in written) == sorted(expected)


def test_the_animation_is_a_page_with_a_slider_over_the_epochs(problem_run) -> None:
    page = plots.animation_html(problem_run)
    assert f'max="{problem_run.epochs}"' in page and 'type="range"' in page
    found = re.search(r'id="data">(.*?)</script>', page, re.S)
    assert found is not None
    data = json.loads(found[1])
    assert len(data["loss"]) == problem_run.epochs + 1
    assert data["values"]["W1"][0] == problem_run.values["W1"][0].tolist()
    assert data["sizes"] == list(problem_run.spec.sizes)
    assert not re.search(r'(src|href)="https?:', page)  # stands alone


def test_missing_matplotlib_is_one_clear_line(monkeypatch) -> None:
    real = builtins.__import__

    def no_matplotlib(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(plots.PlotsUnavailable, match=r"install handcalc\[plots\]") as caught:
        plots.require_matplotlib()
    assert "\n" not in str(caught.value)


def _compare(name: str, png: bytes) -> None:
    image = Image.open(io.BytesIO(png)).convert("L")
    reference = REFERENCES / f"plot-{name}.png"
    if os.environ.get("HANDCALC_UPDATE_REFERENCE"):
        REFERENCES.mkdir(exist_ok=True)
        image.save(reference, optimize=True)
    expected = Image.open(reference).convert("L")
    assert image.size == expected.size, (image.size, expected.size)
    diff = np.abs(np.asarray(image, dtype=np.int16) - np.asarray(expected, dtype=np.int16))
    # tolerant: anti-aliasing and font hinting may differ a little; nothing may move or vanish
    assert diff.mean() < 2.0, diff.mean()
    assert (diff > 64).mean() < 0.004, (diff > 64).mean()


def test_trace_figures_look_like_their_reference_images(problem_run, moons_run) -> None:
    _compare("parameters", plots.png_bytes(plots.parameters_figure(moons_run)))
    _compare("parameters-problem", plots.png_bytes(plots.parameters_figure(problem_run)))
    _compare("boundary", plots.png_bytes(plots.boundary_figure(moons_run)))


@pytest.mark.parametrize("kind", list(plots.HEALTH_FIGURES))
def test_health_figures_look_like_their_reference_images(deep: Health, kind: str) -> None:
    _compare(kind, plots.png_bytes(plots.HEALTH_FIGURES[kind](deep)))
