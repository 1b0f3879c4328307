"""QTI 2.1: an IMS content package with an ``assessmentItem`` a cell (a ``textEntryInteraction``
an entry, each scored with its tolerance) and an ``assessmentTest`` with a section a variant."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from xml.etree import ElementTree as ET

from ..graph import Step
from .common import Variant, ask, ident, manifest, stem, table, xml, zipped
from .entries import Entry, graded

QTI21 = "http://www.imsglobal.org/xsd/imsqti_v2p1"


def qti21(variants: Sequence[Variant], title: str) -> bytes:
    """An IMS content package: an item a cell, a test with a section a variant, the manifest."""
    files: dict[str, bytes] = {}
    test = ET.Element(
        "assessmentTest", {"xmlns": QTI21, "identifier": "handcalc_bank", "title": title}
    )
    part = ET.SubElement(
        test,
        "testPart",
        {"identifier": "part", "navigationMode": "nonlinear", "submissionMode": "individual"},
    )
    for variant in variants:
        section = ET.SubElement(
            part,
            "assessmentSection",
            {"identifier": variant.ident, "title": variant.title(title), "visible": "true"},
        )
        given = stem(variant.problem)
        for step, entries in graded(variant.problem):
            name = f"{variant.ident}_{ident(step.name)}"
            href = f"items/{name}.xml"
            files[href] = xml(_qti21_item(name, variant, title, step, entries, given))
            ET.SubElement(section, "assessmentItemRef", {"identifier": name, "href": href})
    files["test.xml"] = xml(test)
    listing = manifest(
        [("test", "imsqti_test_xmlv2p1", "test.xml")]
        + [(ident(h[6:-4]), "imsqti_item_xmlv2p1", h) for h in files if h.startswith("items/")]
    )
    return zipped({"imsmanifest.xml": listing, **files})


def _qti21_item(
    ident: str,
    variant: Variant,
    title: str,
    step: Step,
    entries: list[list[Entry]],
    given: list[ET.Element],
) -> ET.Element:
    item = ET.Element(
        "assessmentItem",
        {
            "xmlns": QTI21,
            "identifier": ident,
            "title": f"{step.name} — {variant.title(title)}",
            "adaptive": "false",
            "timeDependent": "false",
        },
    )
    flat = [e for row in entries for e in row]
    for e in flat:
        declaration = ET.SubElement(
            item,
            "responseDeclaration",
            {"identifier": _response(e), "cardinality": "single", "baseType": "float"},
        )
        ET.SubElement(ET.SubElement(declaration, "correctResponse"), "value").text = e.text
    for name, default in (("SCORE", "0"), ("MAXSCORE", str(len(flat)))):
        outcome = ET.SubElement(
            item,
            "outcomeDeclaration",
            {"identifier": name, "cardinality": "single", "baseType": "float"},
        )
        ET.SubElement(ET.SubElement(outcome, "defaultValue"), "value").text = default
    body = ET.SubElement(item, "itemBody")
    body.extend([*copy.deepcopy(given), ask(step, entries)])  # given is every item's
    grid = table(step.name, [["" for _ in row] for row in entries])
    cells = grid.iter("td")
    for e in flat:
        ET.SubElement(
            next(cells),
            "textEntryInteraction",
            {"responseIdentifier": _response(e), "expectedLength": "12"},
        )
    body.append(grid)
    for html_table in body.iter("table"):  # QTI's XHTML has no presentational attributes
        html_table.attrib.pop("border", None)
    processing = ET.SubElement(item, "responseProcessing")
    for e in flat:
        condition = ET.SubElement(ET.SubElement(processing, "responseCondition"), "responseIf")
        if e.tolerance:
            mode = {
                "toleranceMode": "absolute",
                "tolerance": f"{e.tolerance_text} {e.tolerance_text}",
            }
        else:
            mode = {"toleranceMode": "exact"}
        equal = ET.SubElement(condition, "equal", mode)
        ET.SubElement(equal, "variable", {"identifier": _response(e)})
        ET.SubElement(equal, "correct", {"identifier": _response(e)})
        add = ET.SubElement(
            ET.SubElement(condition, "setOutcomeValue", {"identifier": "SCORE"}), "sum"
        )
        ET.SubElement(add, "variable", {"identifier": "SCORE"})
        ET.SubElement(add, "baseValue", {"baseType": "float"}).text = "1"
    return item


def _response(e: Entry) -> str:
    return f"RESPONSE_{e.i + 1}_{e.j + 1}"
