"""The single neuron: its options, every cell against PyTorch (``nn.Linear(n, 1)``, autograd and a
``torch.optim.SGD`` step, in float64), the exchange format, the sheet that draws the neuron as a
graph (worksheet blank, key filled), rendering, the web page and grading with carried credit."""

from __future__ import annotations

import re
import subprocess
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from pictures import assert_looks_like
from students import worked

import handcalc
from handcalc import kinds
from handcalc.errors import SpecError
from handcalc.layout import build_sheet
from handcalc.layout.figures import neuron_figure
from handcalc.layout.model import TONES
from handcalc.matrix import Mat, entry_float, rational, to_fraction
from handcalc.pages import paginate
from handcalc.printing import printed
from handcalc.problem import Problem
from handcalc.render import render_html, render_pdf
from handcalc.specs import NeuronSpec

torch.set_default_dtype(torch.float64)

CELLS = ("Z1", "A1", "loss", "dZ1", "dW1", "db1", "W1_new", "b1_new")
MODELS = (("identity", "mse"), ("sigmoid", "sigmoid_bce"))


def _cases() -> list[dict[str, Any]]:
    """Option combinations cycling through inputs 1–6, batch 1–3, both models, table and exact
    modes and both reductions, each with its own seed."""
    out = []
    for k in range(96):
        loss = MODELS[k % 2][1]
        out.append(
            {
                "sizes": [1 + k % 6, 1],
                "batch": 1 + (k // 2) % 3,
                "loss": loss,
                "transcendental": ("table", "exact")[(k // 4) % 2],
                "reduction": ("sum", "mean")[(k // 8) % 2],
                "seed": 1000 + 37 * k,
            }
        )
    return out


def _floats(value: Mat) -> np.ndarray:
    return np.array([[entry_float(x) for x in row] for row in value.to_list()])


def _rounded(x: np.ndarray, digits: int) -> np.ndarray:
    q = Decimal(1).scaleb(-digits)
    return np.vectorize(lambda v: float(Decimal(repr(float(v))).quantize(q, ROUND_HALF_UP)))(x)


def torch_neuron(problem: Problem) -> dict[str, np.ndarray]:
    """Every cell of a neuron problem from its given values alone: ``nn.Linear(n, 1)``, the
    identity and ½·squared error or the sigmoid and binary cross-entropy (summed, or averaged
    over the batch), autograd, one step of ``torch.optim.SGD``. Table mode's one convention:
    A is the sigmoid rounded to the table's decimals, and dZ = (A − Y)·factor from it."""
    spec = problem.spec
    x, w, b, y = (torch.tensor(_floats(problem.value(n))) for n in ("X", "W1", "b1", "Y"))
    lr = float(to_fraction(problem.value("lr").to_list()[0][0]))
    n, batch = spec.sizes[0], spec.batch
    factor = 1.0 if spec.reduction == "sum" else 1.0 / batch
    layer = torch.nn.Linear(n, 1)
    with torch.no_grad():
        layer.weight.copy_(w)
        layer.bias.copy_(b.reshape(1))
    z = layer(x.T).T  # samples are columns: 1 × B
    z.retain_grad()
    if spec.loss == "mse":
        a = z
        loss = 0.5 * torch.nn.functional.mse_loss(a, y, reduction="sum") * factor
        loss.backward()
        stated = loss.item()
    else:
        exact = torch.sigmoid(z)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y, reduction="sum")
        loss = loss * factor
        if spec.transcendental == "table":
            a = torch.tensor(_rounded(exact.detach().numpy(), spec.digits))
            z.backward((a - y) * factor)
        else:
            a = exact
            loss.backward()
        stated = loss.item()
    out = {
        "Z1": z.detach().numpy(),
        "A1": a.detach().numpy(),
        "loss": np.array([[stated]]),
        "dZ1": z.grad.numpy().copy(),
        "dW1": layer.weight.grad.numpy().copy(),
        "db1": layer.bias.grad.numpy().reshape(1, 1).copy(),
    }
    torch.optim.SGD(layer.parameters(), lr=lr).step()
    out["W1_new"] = layer.weight.detach().numpy()
    out["b1_new"] = layer.bias.detach().numpy().reshape(1, 1)
    return out


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"seed{c['seed']}")
def test_every_cell_agrees_with_pytorch(case: dict[str, Any]) -> None:
    options = dict(case)
    seed = options.pop("seed")
    problem = handcalc.generate(kind="neuron", seed=seed, **options)
    assert [s.name for s in problem.steps] == list(CELLS)
    expected = torch_neuron(problem)
    for name in CELLS:
        got = _floats(problem.value(name))
        # the loss is stated rounded in table mode (to the table's decimals)
        if name == "loss" and problem.spec.transcendental == "table":
            tolerance = 0.5 * 10.0**-problem.spec.digits + 1e-12
        else:
            tolerance = 1e-9
        assert got.shape == expected[name].shape, name
        assert np.allclose(got, expected[name], rtol=1e-9, atol=tolerance), (
            name,
            got,
            expected[name],
        )


def test_options_are_one_neuron_and_its_two_models() -> None:
    spec = NeuronSpec.from_options({})
    assert (spec.sizes, spec.activation, spec.loss, spec.batch) == ((3, 1), "identity", "mse", 1)
    classifier = NeuronSpec.from_options({"loss": "sigmoid_bce"})
    assert classifier.activation == "sigmoid" and classifier.neuron_output == "sigmoid"
    assert NeuronSpec.from_options({"activation": "sigmoid"}).loss == "sigmoid_bce"
    assert "logistic classifier" in classifier.describe()
    assert "linear regressor" in spec.describe()
    for options, message in (
        ({"sizes": "3,2"}, r"sizes: 3,2 is not one neuron; accepted: the inputs, then 1"),
        ({"sizes": "3,1,1"}, r"sizes: 3,1,1 is not one neuron"),
        ({"loss": "softmax_ce"}, r"loss: .*accepted: mse, sigmoid_bce"),
        ({"activation": "relu"}, r"activation: .*accepted: identity, sigmoid"),
        ({"activation": "identity", "loss": "sigmoid_bce"}, r"activation: identity with loss"),
        ({"batch": 4}, r"batch"),
    ):
        with pytest.raises(SpecError, match=message):
            NeuronSpec.from_options(options)
    with pytest.raises(SpecError, match="kind: unknown"):
        handcalc.generate(kind="neurons", seed=1)
    assert kinds.get("neuron").Options is NeuronSpec


def test_a_neuron_round_trips_through_json_and_solves_as_authored() -> None:
    for activation, loss in MODELS:
        problem = handcalc.generate(kind="neuron", seed=11, loss=loss, batch=2)
        assert problem.kind == "neuron" and problem.spec.activation == activation
        again = Problem.from_json(problem.to_json())
        assert again == problem and again.to_json() == problem.to_json()
        doc = problem.to_dict()
        del doc["steps"]
        assert handcalc.solve(doc) == problem
        assert handcalc.generate(kind="neuron", seed=11, loss=loss, batch=2) == problem


def _svg_texts(svg: str) -> list[str]:
    return [t.replace("−", "-") for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def test_the_figure_draws_every_node_and_the_key_s_values_on_it() -> None:
    problem = handcalc.generate(kind="neuron", seed=5, sizes=[4, 1], loss="sigmoid_bce", batch=2)
    sheet = build_sheet(problem)
    (figure,) = sheet.figures
    n = 4
    nodes = [*(f"x{i}" for i in range(1, n + 1)), *(f"w{i}" for i in range(1, n + 1))]
    nodes += [f"times{i}" for i in range(1, n + 1)] + ["b", "sum", "activation", "loss", "y"]
    for mode in ("blank", "filled"):
        svg = getattr(figure, mode)
        for node in nodes:
            assert f'data-node="{node}"' in svg, (mode, node)
    filled, blank = _svg_texts(figure.filled), _svg_texts(figure.blank)
    for name in ("Z1", "A1", "loss", "dZ1", "dW1", "db1"):
        values = [t.replace("−", "-") for row in printed(problem, name) for t in row]
        assert figure.filled.count(f'data-cell="{name}"') >= 1, name
        for value in values:
            assert value in filled, (name, value)
    # every graded box on the worksheet's drawing is empty; the given values are printed
    for group in re.findall(r'<g data-cell="[^"]+" data-role="answer">.*?</g>', figure.blank):
        assert "<text" not in group
    for name in ("X", "W1", "b1", "Y"):
        for value in (t.replace("−", "-") for row in printed(problem, name) for t in row):
            assert value in blank, (name, value)
    # the products wᵢ·xᵢ are working, written on the key only
    w, x = problem.value("W1").to_list(), problem.value("X").to_list()
    product = printed_product(w[0][2], x[2][1])
    assert product in filled
    assert 'font-family="DejaVu Sans' in figure.filled and "<script" not in figure.filled
    sizes = [float(s) for s in re.findall(r'font-size="([\d.]+)"', figure.filled)]
    assert min(sizes) >= 8 * 25.4 / 72 - 1e-6  # nothing under 8 pt (sizes are mm)
    assert set(sheet.inputs) == set(CELLS)


def printed_product(w: Any, x: Any) -> str:
    return printed_text(to_fraction(w) * to_fraction(x))


def printed_text(q: Fraction) -> str:
    from handcalc.notation import printed as spelled

    return spelled(q).replace("−", "-")


def test_the_figure_escapes_its_text_and_keeps_the_grids_colours() -> None:
    problem = handcalc.generate(kind="neuron", seed=2)
    figure = neuron_figure(problem)
    # the grids' colour roles (one table of them, handcalc.layout.model.TONES)
    assert TONES["weight"][0] in figure.blank and TONES["bias"][0] in figure.filled
    assert "∂L/∂·" in figure.title
    assert figure.blank.startswith("<svg") and figure.blank.endswith("</svg>")
    assert "&amp;" not in figure.blank and "<text" in figure.blank


@pytest.mark.parametrize("n", [1, 3, 6, 8])
def test_the_drawing_fits_a4_portrait_and_paginates_as_a_piece(n: int) -> None:
    problem = handcalc.generate(kind="neuron", seed=4, sizes=[n, 1])
    sheet = build_sheet(problem)
    (figure,) = sheet.figures
    assert figure.width < 184 and figure.height < 200
    pages = paginate(sheet, "a4", "portrait", "key")
    pieces = [p for page in pages.pages for p in page.pieces]
    drawn = [p for p in pieces if p.kind == "figure"]
    assert len(drawn) == 1 and drawn[0].figure is figure
    assert drawn[0].y + drawn[0].height <= pages.height + 0.01
    title = [p for p in pieces if p.kind == "heading" and p.text == figure.title]
    assert title and title[0].y + title[0].height <= drawn[0].y
    # nothing else on the figure's page overlaps it
    page = next(page for page in pages.pages if drawn[0] in page.pieces)
    for other in page.pieces:
        if other is drawn[0] or other.kind in ("header", "rules", "legend"):
            continue
        apart = (
            other.x >= drawn[0].x + drawn[0].width - 0.01
            or other.y >= drawn[0].y + drawn[0].height - 0.01
            or other.y + other.height <= drawn[0].y + 0.01
        )
        assert apart, other.kind


def test_worksheet_key_and_solutions_render_to_html_and_pdf(tmp_path: Path) -> None:
    problem = handcalc.generate(kind="neuron", seed=9, loss="sigmoid_bce", batch=2)
    worksheet = render_html(problem, "worksheet", date="2026-01-01", secret="s")
    key = render_html(problem, "key", date="2026-01-01", secret="s")
    solutions = render_html(problem, "solutions", date="2026-01-01", secret="s")
    for html in (worksheet, key, solutions):
        assert 'class="neuron-graph"' in html and 'data-node="sum"' in html
    dz = printed(problem, "dZ1")[0][0]
    assert dz in key and dz in solutions
    assert 'data-cell="dZ1" data-role="answer"><rect' in worksheet
    assert "Lookup table" in worksheet  # the sigmoid's table in table mode
    for mode in ("worksheet", "key", "solutions"):
        pdf = tmp_path / f"{mode}.pdf"
        pdf.write_bytes(render_pdf(problem, mode, date="2026-01-01", secret="s"))
        text = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        assert "The neuron as a graph" in text, mode
        if mode != "worksheet":
            assert printed(problem, "dW1")[0][1] in text, mode


def test_mono_greys_the_figure_and_jupyter_shows_it() -> None:
    """--mono prints the graph in black and grey as it does the grids (no colour role's ink or
    line left); the Jupyter picture of a problem shows the graph with the key's grids."""
    from handcalc.layout.model import TONES
    from handcalc.render import grid_html

    problem = handcalc.generate(kind="neuron", seed=7)
    colours = {c for pair in TONES.values() for c in pair if c not in ("#222222", "#6b7280")}
    for mode in ("worksheet", "key"):
        coloured = render_html(problem, mode, date="2026-01-01", secret="s")
        mono = render_html(problem, mode, date="2026-01-01", secret="s", mono=True)
        graph = mono[
            mono.index('class="neuron-graph"') : mono.index(
                "</svg>", mono.index('class="neuron-graph"')
            )
        ]
        assert not {c for c in colours if c in graph}, mode
        assert any(c in coloured for c in colours)
    picture = grid_html(problem)
    assert 'class="neuron-graph"' in picture and printed(problem, "dZ1")[0][0] in picture


def test_the_worksheet_page_looks_as_reviewed() -> None:
    problem = handcalc.generate(kind="neuron", seed=7)
    pdf = render_pdf(problem, "worksheet", date="2026-01-01", secret="reference")
    assert_looks_like(pdf, "worksheet-neuron-p1.png")


def test_grading_carries_credit_from_a_slip_in_z() -> None:
    problem = handcalc.generate(kind="neuron", seed=3, sizes=[2, 1])

    def slip(m: Mat) -> Mat:
        rows = [[to_fraction(x) + 1 for x in row] for row in m.to_list()]
        return rational(rows)

    report = handcalc.grade(problem, worked(problem, {"Z1": slip}))
    statuses = report.statuses
    assert statuses["Z1"] == "wrong"
    for later in ("A1", "loss", "dZ1", "dW1", "db1", "W1_new", "b1_new"):
        assert statuses[later] == "carried", (later, statuses[later])
    assert 0 < report.score < report.max_score
    perfect = handcalc.grade(problem, worked(problem, {}))
    assert all(s == "correct" for s in perfect.statuses.values())


def test_the_practice_page_shows_the_drawing(tmp_path: Path) -> None:
    from handcalc.web.app import create_app

    app = create_app(
        {
            "HANDCALC_MODE": "testing",
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'neuron.sqlite3'}",
            "SECRET_KEY": "neuron-secret-key-for-tests-0123456789",
            "INSTRUCTOR_TOKEN": "neuron-instructor-token-0123456789",
        }
    )
    client = app.test_client()
    page = client.get("/?kind=neuron").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    r = client.post("/practice", data={"csrf_token": token.group(1), "kind": "neuron", "seed": "3"})
    assert r.status_code == 302
    sheet = client.get(r.headers["Location"]).get_data(as_text=True)
    assert 'class="neuron-graph"' in sheet and 'data-node="loss"' in sheet
    assert 'name="dW1[0][0]"' in sheet  # the grids stay the inputs
