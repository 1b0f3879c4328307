"""Lab sheets: the figures and questions as a PDF, the answer version with answers computed from
the run (which parameters stop moving and why, which layer saturates and why, …), and the
worksheet without them."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest

from handcalc.diagnostics import Health, health
from handcalc.labs import (
    figures_of,
    health_questions,
    lab_html,
    lab_pdf,
    still_entries,
    trace_questions,
    why_still,
    write_labs,
)
from handcalc.tracing import Trace, trace

DATE = "2026-01-01"


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(p.extract_text().split()) for p in reader.pages)


@pytest.fixture(scope="module")
def problem_run() -> Trace:
    return trace(seed=7)


@pytest.fixture(scope="module")
def deep() -> Health:
    return health(layers=3, units=16, steps=20, samples=160)


def test_a_trace_lab_sheet_and_its_answers(problem_run: Trace, tmp_path: Path) -> None:
    paths = write_labs(problem_run, tmp_path, date=DATE)
    assert [p.name for p in paths] == ["lab.pdf", "lab-answers.pdf"]
    sheet, answers = (_text(p.read_bytes()) for p in paths)
    for text in (sheet, answers):
        assert "Which parameters stop moving after epoch 50, and why?" in text
        assert "Name" in text and "ID" in text and DATE in text
        assert "MLP 4-3-4-3" in text
    assert "every parameter (46 of 46 entries" in answers
    assert "equal Y exactly" in answers  # table rounding: dZ = A − Y = 0
    assert "every parameter (46" not in sheet
    key = problem_run.problem.text("W3_new")[0][0]
    assert f"the key's W3_new[1,1] is {key}" in answers and key not in sheet
    meta = pypdf.PdfReader(paths[1]).metadata
    assert meta is not None and meta.title.startswith("Training over epochs — answers")


def test_a_health_lab_sheet_answers_which_layer_saturates(deep: Health) -> None:
    figures = figures_of(deep)
    html = lab_html(deep, answers=False, date=DATE, figures=figures)
    assert html.count('<img src="data:image/svg+xml;base64,') == 4
    assert 'class="answer"' not in html and 'class="line"' in html
    text = _text(lab_pdf(deep, answers=True, date=DATE, figures=figures))
    assert "Figure (1): which layer saturates, and why?" in text
    assert "bad: 3 of 3 layers saturate (over 5 %)" in text
    assert "what the figures say" in text


def test_frozen_layers_and_dead_units_are_the_reasons_given() -> None:
    run = trace(seed=3, data="moons", epochs=60, samples=80, frozen="1")
    still = still_entries(run, 15)
    assert {("W1", r, c) for r in range(1, 9) for c in (1, 2)} <= set(still)
    reasons = why_still(run, 15, still)
    assert reasons[0] == "layer 1 is frozen: never updated"
    assert any("off (Z ≤ 0) for every sample" in r for r in reasons)


def test_questions_follow_the_run(problem_run: Trace, deep: Health) -> None:
    texts = [q.text for q in trace_questions(problem_run)]
    assert texts[0].startswith("Epoch 1 is the step of the worksheet")
    assert not any("decision regions" in t for t in texts)  # 4 inputs: no boundary
    moons = trace(seed=3, data="moons", epochs=40, samples=60)
    moon_questions = trace_questions(moons)
    assert not moon_questions[0].text.startswith("Epoch 1")
    assert "epoch 0:" in moon_questions[-1].answer
    asked = [q.text for q in health_questions(deep)]
    assert len(asked) == 5 and "BatchNorm" in asked[-1]
    two = health(layers=2, units=8, steps=5, samples=40, configurations=("bad", "kaiming"))
    assert len(health_questions(two)) == 4  # nothing to compare BatchNorm with
