"""Moodle XML: a ``<quiz>`` with a category a variant, a ``cloze`` question a cell (its
entries ``NUMERICAL`` sub-answers), a ``numerical`` question for a single number (the loss)."""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree as ET

from ..graph import Step
from .common import Variant, ask, html, key_text, stem, table, xml
from .entries import Entry, graded


def moodle(variants: Sequence[Variant], title: str) -> bytes:
    """A ``<quiz>``: a category a variant, then its questions."""
    quiz = ET.Element("quiz")
    for variant in variants:
        category = ET.SubElement(quiz, "question", {"type": "category"})
        path = f"$course$/top/{_slash_free(title)}/{_slash_free(variant.title(title))}"
        _text(ET.SubElement(category, "category"), path)
        given = stem(variant.problem)
        for step, entries in graded(variant.problem):
            quiz.append(_moodle_question(variant, step, entries, given))
    return xml(quiz)


def _slash_free(text: str) -> str:
    return text.replace("/", "∕")


def _text(parent: ET.Element, text: str, html: bool = False) -> None:
    if html:
        parent.set("format", "html")
    ET.SubElement(parent, "text").text = text


def _moodle_question(
    variant: Variant, step: Step, entries: list[list[Entry]], given: list[ET.Element]
) -> ET.Element:
    single = len(entries) == 1 and len(entries[0]) == 1
    question = ET.Element("question", {"type": "numerical" if single else "cloze"})
    _text(ET.SubElement(question, "name"), f"{variant.ident} {step.name}")
    shown = [*given, ask(step, entries)]
    if not single:
        grid = table(step.name, [[_cloze(e) for e in row] for row in entries])
        shown.append(grid)
    _text(ET.SubElement(question, "questiontext"), html(shown), html=True)
    _text(ET.SubElement(question, "generalfeedback"), key_text(step, entries), html=True)
    ET.SubElement(question, "penalty").text = "0"
    ET.SubElement(question, "hidden").text = "0"
    if single:
        entry = entries[0][0]
        ET.SubElement(question, "defaultgrade").text = "1"
        answer = ET.SubElement(
            question, "answer", {"fraction": "100", "format": "moodle_auto_format"}
        )
        _text(answer, entry.text)
        ET.SubElement(answer, "tolerance").text = entry.tolerance_text
        _text(ET.SubElement(answer, "feedback"), "", html=True)
        for tag, value in (("unitgradingtype", "0"), ("showunits", "3"), ("unitsleft", "0")):
            ET.SubElement(question, tag).text = value
    return question


def _cloze(entry: Entry) -> str:
    """A NUMERICAL sub-answer worth 1 mark."""
    return f"{{1:NUMERICAL:={entry.text}:{entry.tolerance_text}}}"
