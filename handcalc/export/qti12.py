"""QTI 1.2 as Canvas imports it: a zip of object banks (Canvas question banks), one a variant, a
``numerical_question`` an entry (Canvas's numerical question has one blank)."""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree import ElementTree as ET

from ..graph import Step
from .common import Variant, ask, html, ident, manifest, metadata, stem, xml, zipped
from .entries import Entry, decimal, graded

QTI12 = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"


def qti12(variants: Sequence[Variant], title: str) -> bytes:
    """A zip: an object bank (a Canvas question bank) a variant, a numerical question an entry."""
    files: dict[str, bytes] = {}
    for variant in variants:
        root = ET.Element("questestinterop", {"xmlns": QTI12})
        bank = ET.SubElement(root, "objectbank", {"ident": f"bank_{variant.ident}"})
        metadata(bank, {"bank_title": variant.title(title)})
        given = stem(variant.problem)
        for step, entries in graded(variant.problem):
            for e in (e for row in entries for e in row):
                bank.append(_qti12_item(variant, step, entries, e, given))
        files[f"{variant.ident}/{variant.ident}.xml"] = xml(root)
    listing = manifest([(h.split("/")[0], "imsqti_xmlv1p2", h) for h in files])
    return zipped({"imsmanifest.xml": listing, **files})


def _qti12_item(
    variant: Variant, step: Step, entries: list[list[Entry]], e: Entry, given: list[ET.Element]
) -> ET.Element:
    where = f"{step.name}[{e.i + 1},{e.j + 1}]"
    item = ET.Element(
        "item",
        {"ident": f"{variant.ident}_{ident(step.name)}_{e.i + 1}_{e.j + 1}", "title": where},
    )
    metadata(
        ET.SubElement(item, "itemmetadata"),
        {"question_type": "numerical_question", "points_possible": "1"},
    )
    presentation = ET.SubElement(item, "presentation")
    which = ET.Element("p")
    which.text = f"Enter the entry in row {e.i + 1}, column {e.j + 1} of {step.name}."
    text = html([*given, ask(step, entries), which])
    ET.SubElement(
        ET.SubElement(presentation, "material"), "mattext", {"texttype": "text/html"}
    ).text = text
    response = ET.SubElement(
        presentation, "response_str", {"ident": "response1", "rcardinality": "Single"}
    )
    ET.SubElement(
        ET.SubElement(response, "render_fib", {"fibtype": "Decimal"}),
        "response_label",
        {"ident": "answer1"},
    )
    processing = ET.SubElement(item, "resprocessing")
    ET.SubElement(
        ET.SubElement(processing, "outcomes"),
        "decvar",
        {"maxvalue": "100", "minvalue": "0", "varname": "SCORE", "vartype": "Decimal"},
    )
    condition = ET.SubElement(processing, "respcondition", {"continue": "No"})
    either = ET.SubElement(ET.SubElement(condition, "conditionvar"), "or")
    ET.SubElement(either, "varequal", {"respident": "response1"}).text = e.text
    if e.tolerance:
        both = ET.SubElement(either, "and")
        ET.SubElement(both, "vargte", {"respident": "response1"}).text = decimal(
            e.value - e.tolerance
        )
        ET.SubElement(both, "varlte", {"respident": "response1"}).text = decimal(
            e.value + e.tolerance
        )
    ET.SubElement(condition, "setvar", {"action": "Set", "varname": "SCORE"}).text = "100"
    return item
