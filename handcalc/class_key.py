"""The class key: an index of the class (name, ID, verification code, the page where each
student's key starts), sorted by name, then every student's key in that order, as one PDF.

The index has a fixed number of lines a page, so its own length (and every page number after it)
is known before it is drawn. The PDFs are merged by poppler's ``pdfunite`` where it is installed,
by pypdf otherwise.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from .roster import Sheets

CLASS_KEY = "class-key.pdf"
CLASS_KEY_TITLE = "Backpropagation by hand — class answer key"


def by_name(sheets: Iterable[Sheets]) -> list[Sheets]:
    """The class in the order of the class key: by name (case and accents aside, as a person
    looks a name up), students without a name last, by ID."""
    return sorted(
        sheets,
        key=lambda s: (
            not s.student.name,
            unicodedata.normalize("NFKD", s.student.name).casefold(),
            s.student.id,
        ),
    )


def write_class_key(
    sheets: Sequence[Sheets],
    target: Path,
    *,
    paper: str = "a4",
    date: str = "",
    title: str = CLASS_KEY_TITLE,
) -> None:
    """The class key: an index of the class (name, ID, verification code, the page where the
    student's key starts), sorted by name, then every key in that order; one PDF at ``target``."""
    ordered = by_name(sheets)
    lengths = [s.key_pages or count_pages(s.key.read_bytes()) for s in ordered]
    first = target.with_name(f".{target.stem}-index.pdf")
    first.write_bytes(_index_pdf(ordered, lengths, paper, date, title))
    try:
        merge_pdfs([first, *(s.key for s in ordered)], target, title)
    finally:
        first.unlink(missing_ok=True)


#: index lines a page holds (9 pt monospace lines fit 55 on letter, 59 on A4, below the heading)
INDEX_ROWS = 48
INDEX_NAME_CHARS = 36


def count_pages(pdf: bytes) -> int:
    """The number of pages of a PDF."""
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


def _index_pdf(
    ordered: Sequence[Sheets], lengths: Sequence[int], paper: str, date: str, title: str
) -> bytes:
    """The index as lines of monospace text, a fixed number a page, so its own length (and every
    page number after it) is known before it is drawn; one text box a page, as WeasyPrint is
    fastest with (a table of 200 rows took 2 s)."""
    from markupsafe import escape

    from .render import html_to_pdf

    size = {"letter": "letter", "a3": "A3"}.get(paper, "A4")
    chunks = [ordered[i : i + INDEX_ROWS] for i in range(0, len(ordered), INDEX_ROWS)] or [[]]
    page = len(chunks) + 1
    width = min(INDEX_NAME_CHARS, max([4, *(len(s.student.name) for s in ordered)]))
    id_width = max([2, *(len(s.student.id) for s in ordered)])
    head = f"{'Name'.ljust(width)}  {'ID'.ljust(id_width)}  {'Code'.ljust(9)}  Page"
    blocks = []
    k = 0
    for chunk in chunks:
        lines = [head, "─" * len(head)]
        for sheets in chunk:
            name = sheets.student.name
            if len(name) > width:
                name = name[: width - 1] + "…"
            lines.append(
                f"{name.ljust(width)}  {sheets.student.id.ljust(id_width)}  "
                f"{sheets.code.ljust(9)}  {page:>4}"
            )
            page += lengths[k]
            k += 1
        blocks.append(f"<pre>{escape(chr(10).join(lines))}</pre>")
    students = f"{len(ordered)} student{'s' * (len(ordered) != 1)}"
    html = (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}"
        f"</title><style>@page {{ size: {size}; margin: 13mm; @bottom-right {{ content: 'page ' "
        f"counter(page); font: 7pt 'DejaVu Sans'; }} }} body {{ font: 9pt 'DejaVu Sans'; }} "
        f"h1 {{ font-size: 13pt; margin: 0 0 1mm; }} p {{ margin: 0 0 3mm; color: #444; }} "
        f"pre {{ font: 9pt/4.4mm 'DejaVu Sans Mono'; margin: 0; break-after: page; }} "
        f"pre:last-child {{ break-after: auto; }}</style></head><body><h1>{escape(title)}</h1>"
        f"<p>Index: {students}, sorted by name; each key starts on the page given"
        f"{f', dated {escape(date)}' if date else ''}.</p>{''.join(blocks)}</body></html>"
    )
    return html_to_pdf(html)


def merge_pdfs(paths: Iterable[Path], target: Path, title: str = CLASS_KEY_TITLE) -> None:
    """One PDF of the given PDFs' pages, in order (the class key), titled ``title``.

    poppler's ``pdfunite`` (Debian's poppler-utils) merges about ten times faster than pypdf, which
    is the fallback; pdfunite drops the document information, so the title is added after it as a
    PDF incremental update (a few hundred bytes appended, nothing rewritten).
    """
    files = [str(p) for p in paths]
    pdfunite = shutil.which("pdfunite")
    if pdfunite and len(files) > 1:
        try:
            subprocess.run([pdfunite, *files, str(target)], check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError):
            pass  # e.g. too many files for one command line: pypdf below
        else:
            _add_title(target, title)
            return
    from pypdf import PdfWriter

    writer = PdfWriter()
    for path in files:
        writer.append(path)
    writer.add_metadata({"/Title": title})
    with open(target, "wb") as f:
        writer.write(f)


def _add_title(path: Path, title: str) -> None:
    """Append an information dictionary with ``title`` to a PDF with a classic xref table."""
    data = path.read_bytes()
    root = re.findall(rb"/Root\s+(\d+)\s+(\d+)\s+R", data[-4096:])
    previous = re.findall(rb"startxref\s+(\d+)", data[-1024:])
    if not root or not previous:
        return  # not the layout pdfunite writes: leave the merged file untitled
    number = max(int(n) for n in re.findall(rb"(?m)^(\d+) 0 obj", data)) + 1
    text = "<FEFF" + title.encode("utf-16-be").hex().upper() + ">"
    body = f"{number} 0 obj\n<< /Title {text} /Creator (handcalc) >>\nendobj\n".encode()
    start = len(data) + (0 if data.endswith(b"\n") else 1)
    xref = start + len(body)
    tail = (
        f"xref\n0 1\n0000000000 65535 f \n{number} 1\n{start:010d} 00000 n \n"
        f"trailer\n<< /Size {number + 1} /Root {int(root[-1][0])} {int(root[-1][1])} R "
        f"/Info {number} 0 R /Prev {int(previous[-1])} >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    with open(path, "ab") as f:
        f.write((b"" if data.endswith(b"\n") else b"\n") + body + tail)
