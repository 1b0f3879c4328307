"""Lab sheets: the figures of a trace or of a health run with questions to answer from them, and
the answer version, as printable HTML and PDF (Jinja2 templates ``lab_trace.html`` and
``lab_health.html``, WeasyPrint through ``handcalc.render``).

The answers are computed from the run itself, so every seed and option gets its own key; the
questions are :mod:`handcalc.lab_questions`', importable from here too.
"""

from __future__ import annotations

import base64
import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .lab_questions import LISTED as LISTED
from .lab_questions import STILL as STILL
from .lab_questions import Question as Question
from .lab_questions import health_questions, trace_questions
from .lab_questions import settle_epoch as settle_epoch
from .lab_questions import still_entries as still_entries
from .lab_questions import why_still as why_still

if TYPE_CHECKING:
    from .diagnostics import Health
    from .tracing import Trace


@dataclass(frozen=True)
class Figure:
    caption: str
    svg: str  # a data: URI


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def figures_of(subject: Trace | Health) -> list[Figure]:
    """The figures a lab sheet shows, as SVG data URIs whose text is text (WeasyPrint sets it in
    DejaVu Sans, five times faster than drawing every glyph as a path)."""
    from . import plots
    from .diagnostics import Health

    if isinstance(subject, Health):
        return [
            Figure(caption, _data_uri(plots.svg_bytes(make(subject), text_as_paths=False)))
            for caption, make in (
                ("Forward: the tanh outputs of each hidden layer", plots.activations_figure),
                ("Backward: the gradient at each hidden layer's output", plots.gradients_figure),
                ("Each weight matrix's gradient and its grad:data ratio", plots.weights_figure),
                (
                    "The update:data ratio of each weight matrix over the steps",
                    plots.updates_figure,
                ),
            )
        ]
    figures = [
        Figure(
            "Every weight and bias over the epochs; the loss below",
            _data_uri(plots.svg_bytes(plots.parameters_figure(subject), text_as_paths=False)),
        )
    ]
    if plots.has_boundary(subject):
        figures.append(
            Figure(
                "The decision regions at a few epochs",
                _data_uri(plots.svg_bytes(plots.boundary_figure(subject), text_as_paths=False)),
            )
        )
    return figures


def lab_html(
    subject: Trace | Health,
    answers: bool = False,
    date: str | None = None,
    figures: list[Figure] | None = None,
) -> str:
    """The lab sheet of a trace or a health run; ``answers`` fills in the answers."""
    from .diagnostics import Health
    from .render import environment

    when = date or datetime.date.today().isoformat()
    shown = figures if figures is not None else figures_of(subject)
    if isinstance(subject, Health):
        template = environment().get_template("lab_health.html")
        return template.render(
            health=subject,
            settings=subject.settings,
            summary=subject.summary(),
            figures=shown,
            questions=health_questions(subject),
            answers=answers,
            date=when,
        )
    template = environment().get_template("lab_trace.html")
    return template.render(
        trace=subject,
        spec=subject.spec,
        figures=shown,
        questions=trace_questions(subject),
        answers=answers,
        date=when,
    )


def lab_pdf(
    subject: Trace | Health,
    answers: bool = False,
    date: str | None = None,
    figures: list[Figure] | None = None,
) -> bytes:
    """The lab sheet as PDF (A4)."""
    from .render import html_to_pdf

    return html_to_pdf(lab_html(subject, answers, date, figures))


def write_labs(subject: Trace | Health, out: Path, date: str | None = None) -> list[Path]:
    """``out/lab.pdf`` (the questions) and ``out/lab-answers.pdf`` (with the answers)."""
    out.mkdir(parents=True, exist_ok=True)
    figures = figures_of(subject)
    written = []
    for name, answers in (("lab.pdf", False), ("lab-answers.pdf", True)):
        path = out / name
        path.write_bytes(lab_pdf(subject, answers, date, figures))
        written.append(path)
    return written
