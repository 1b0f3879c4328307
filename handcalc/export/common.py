"""What the three formats share: the stem (given matrices and tables as HTML), a variant of a
bank, identifiers, the XML and zip writers, the IMS manifest."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from ..graph import Step
from ..printing import printed
from ..problem import Problem
from .entries import SIGNIFICANT, Entry

IMSCP = "http://www.imsglobal.org/xsd/imscp_v1p1"


def table(caption: str, rows: Sequence[Sequence[str]], head: Sequence[str] = ()) -> ET.Element:
    """An HTML table with a caption (a matrix, a lookup table, the answer grid)."""
    table = ET.Element("table", {"border": "1"})
    ET.SubElement(table, "caption").text = caption
    body = ET.SubElement(table, "tbody")
    if head:
        tr = ET.SubElement(body, "tr")
        for text in head:
            ET.SubElement(tr, "th").text = text
    for row in rows:
        tr = ET.SubElement(body, "tr")
        for text in row:
            ET.SubElement(tr, "td").text = text
    return table


def stem(problem: Problem) -> list[ET.Element]:
    """The problem as every question of it shows it: what it is, the given matrices, the lookup
    tables (given, never asked)."""
    seed = "" if problem.seed is None else f" (seed {problem.seed})"
    intro = ET.Element("p")
    intro.text = f"{problem.kind}{seed}: {problem.describe()}. Given:"
    parts = [intro]
    for name in problem.graph.given:
        parts.append(table(name, printed(problem, name)))
    for name, lookup in problem.tables.items():
        rows = [
            [joined(r["z"]), joined(r["a"])]
            for r in [row.to_dict(lookup.columns, lookup.digits) for row in lookup.rows]
        ]
        caption = f"{name}: read {lookup.cell} from {lookup.argument}"
        parts.append(table(caption, rows, ("z", lookup.function)))
    return parts


def joined(value: str | list[str]) -> str:
    """A table row's argument or value: one number, or a softmax column's, spaced."""
    return value if isinstance(value, str) else " ".join(value)


def ask(step: Step, entries: list[list[Entry]]) -> ET.Element:
    """What to compute and how to type it."""
    p = ET.Element("p")
    shape = f"{len(entries)}×{len(entries[0])}" if entries and entries[0] else "empty"
    p.text = (
        f"Compute {step.formula} ({shape}). Type each entry as a decimal; a fraction without a "
        f"finite decimal rounded to at least {SIGNIFICANT} significant digits."
    )
    return p


def html(parts: Sequence[ET.Element]) -> str:
    """Elements as the HTML text Moodle and Canvas take in a question."""
    return "".join(ET.tostring(p, encoding="unicode", method="html") for p in parts)


def key_text(step: Step, entries: list[list[Entry]]) -> str:
    """The key as the sheet prints it (fractions too), for the feedback."""
    rows = "; ".join(", ".join(e.key for e in row) for row in entries)
    return f"Key: {step.name} = [{rows}]"


def ident(text: str) -> str:
    """An XML/QTI identifier from a cell's name (``s1.dW2`` → ``s1_dW2``)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", text)


@dataclass(frozen=True)
class Variant:
    """One problem of a bank, with the category (QTI section, Canvas bank) it goes into."""

    number: int  #: from 1
    problem: Problem

    @property
    def ident(self) -> str:
        return f"v{self.number}"

    def title(self, bank: str) -> str:
        seed = "" if self.problem.seed is None else f" (seed {self.problem.seed})"
        return f"{bank}: variant {self.number}{seed}"


def xml(root: ET.Element) -> bytes:
    """A document with its declaration, indented (readable when an import fails)."""
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def manifest(resources: list[tuple[str, str, str]]) -> bytes:
    """An IMS content package manifest listing each resource (identifier, type, file)."""
    manifest = ET.Element("manifest", {"xmlns": IMSCP, "identifier": "handcalc_manifest"})
    ET.SubElement(manifest, "organizations")
    listed = ET.SubElement(manifest, "resources")
    for ident, kind, href in resources:
        resource = ET.SubElement(
            listed, "resource", {"identifier": f"res_{ident}", "type": kind, "href": href}
        )
        ET.SubElement(resource, "file", {"href": href})
    return xml(manifest)


def zipped(files: dict[str, bytes]) -> bytes:
    """Files as the bytes of a zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def metadata(parent: ET.Element, fields: dict[str, str]) -> None:
    """QTI 1.2 ``qtimetadata``: label → entry fields (Canvas reads its settings there)."""
    metadata = ET.SubElement(parent, "qtimetadata")
    for label, value in fields.items():
        field = ET.SubElement(metadata, "qtimetadatafield")
        ET.SubElement(field, "fieldlabel").text = label
        ET.SubElement(field, "fieldentry").text = value
