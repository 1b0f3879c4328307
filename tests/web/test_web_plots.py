"""The training pages: figures for a chosen configuration as PNG, cached, every size bounded
before anything is computed, a clear message for every bad input (never a 500), and one line
when matplotlib is missing."""

from __future__ import annotations

import io
import re

import pytest
from flask.testing import FlaskClient
from handcalc.web import plots as page
from PIL import Image

SMALL_HEALTH = "steps=12&layers=2&units=10&batch_size=8"


def _png(client: FlaskClient, url: str) -> Image.Image:
    r = client.get(url)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert r.mimetype == "image/png" and "public" in r.headers["Cache-Control"]
    image = Image.open(io.BytesIO(r.data))
    image.verify()
    return image


def _images(html: str) -> list[str]:
    return [src.replace("&amp;", "&") for src in re.findall(r'<img src="([^"]+)"', html)]


def test_the_trace_page_shows_the_problems_parameters(client: FlaskClient) -> None:
    r = client.get("/plots/trace")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "MLP 4-3-4-3" in html and "handcalc trace --seed 7 --out trace/" in html
    (src,) = _images(html)  # 4 inputs: no decision regions
    assert src.startswith("/plots/trace/parameters.png?")
    _png(client, src)
    assert 'href="/plots/trace"' in client.get("/").get_data(as_text=True)  # the nav links it


def test_a_data_set_adds_the_decision_regions(client: FlaskClient) -> None:
    html = client.get("/plots/trace?data=moons&seed=3&epochs=40&samples=60").get_data(as_text=True)
    images = _images(html)
    assert [s.split("?")[0] for s in images] == [
        "/plots/trace/parameters.png",
        "/plots/trace/boundary.png",
    ]
    assert _png(client, images[1]).width > 600
    assert "--data moons --samples 60" in html and "accuracy" in html


def test_the_health_page_says_what_the_figures_show(client: FlaskClient) -> None:
    r = client.get(f"/plots/health?{SMALL_HEALTH}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    for name in ("bad", "kaiming", "batchnorm"):
        assert f"<h3>{name} <small>" in html
    images = _images(html)
    assert [s.split("?")[0].rsplit("/", 1)[1] for s in images] == [
        "activations.png",
        "gradients.png",
        "weights.png",
        "updates.png",
    ]
    for src in images:
        _png(client, src)


def test_runs_and_images_are_cached(client: FlaskClient) -> None:
    url = "/plots/trace/parameters.png?seed=11&epochs=30"
    client.get(url)
    runs, images = page.trace_run.cache_info().hits, page.trace_png.cache_info().hits
    client.get(url)
    assert page.trace_run.cache_info().hits > runs and page.trace_png.cache_info().hits > images
    assert page.trace_run.cache_info().maxsize == page.CACHE_RUNS


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/plots/trace?epochs=501", "epochs: '501' is not accepted"),
        ("/plots/trace?samples=100000&data=moons", "samples"),
        ("/plots/trace?data=moons&batch_size=1&epochs=100", "more than this page makes"),
        ("/plots/trace?sizes=9,9", "sizes"),
        ("/plots/trace?data=iris", "data: 'iris' is not accepted"),
        ("/plots/trace?lr=100", "lr"),
        ("/plots/trace?batch_size=4", "mini-batches are for the data sets"),
        ("/plots/health?units=101", "units: '101' is not accepted"),
        ("/plots/health?steps=100000", "steps"),
        ("/plots/health?layers=7", "layers"),
        ("/plots/health?lr=3", "lr: '3' is not accepted"),
        ("/plots/trace?seed=" + "9" * 3000, "query is longer than"),
    ],
)
def test_sizes_are_bounded_before_anything_is_computed(
    client: FlaskClient, url: str, message: str
) -> None:
    r = client.get(url)
    assert r.status_code == 400
    assert message in r.get_data(as_text=True).replace("&#39;", "'")
    image = client.get(
        url.replace("/trace?", "/trace/parameters.png?").replace("/health?", "/health/updates.png?")
    )
    assert image.status_code == 400


NASTY = ["", " ", "-1", "1e999", "NaN", "\x00", "٣", "0x10", "2**99", "1/0", "<b>", "%", "7" * 80]


@pytest.mark.parametrize("value", NASTY)
def test_no_input_gives_a_server_error(client: FlaskClient, value: str) -> None:
    for name in ("seed", "epochs", "sizes", "lr", "data", "samples", "batch_size", "loss"):
        for base in ("/plots/trace", "/plots/trace/parameters.png", "/plots/trace/boundary.png"):
            r = client.get(base, query_string={name: value, "epochs": "20"} | {name: value})
            assert r.status_code < 500, (base, name, value, r.get_data(as_text=True)[:200])
    for name in ("steps", "layers", "units", "lr", "data", "seed", "batch_size"):
        r = client.get("/plots/health/updates.png", query_string={"steps": "3", name: value})
        assert r.status_code < 500, (name, value)


def test_unknown_figures_are_404(client: FlaskClient) -> None:
    assert client.get("/plots/trace/loss.png").status_code == 404
    assert client.get("/plots/health/zzz.png").status_code == 404
    r = client.get("/plots/trace/boundary.png?seed=7&epochs=5")
    assert r.status_code == 404 and "2-D inputs" in r.get_data(as_text=True)


def test_missing_matplotlib_is_one_clear_line(client: FlaskClient, monkeypatch) -> None:
    monkeypatch.setattr(page, "_plots_available", lambda: False)
    for url in ("/plots/trace", f"/plots/health?{SMALL_HEALTH}", "/plots/trace/parameters.png"):
        r = client.get(url)
        assert r.status_code == 503
        assert "install handcalc[plots]" in r.get_data(as_text=True)
