"""A class set: one worksheet and one answer key per student (worked solutions too, on request),
and the class key of all keys.

Each student's variant comes from an HMAC of their ID and the secret (``verify.student_seed``),
never from a counter, so a student cannot work out a classmate's problem and the same roster and
secret give the same sheets again. Every sheet prints its student's name and ID from the roster.
The class key starts with an index (name, ID, code, page), sorted by name, and holds the keys in
that order. PDFs are rendered in a process pool, WeasyPrint warm in each worker.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import multiprocessing
import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import HandcalcError

ID_COLUMNS = ("id", "student_id", "student id")
NAME_COLUMNS = ("name", "student", "student_name", "student name")
MAX_ROSTER_BYTES = 5_000_000
CLASS_KEY = "class-key.pdf"
CLASS_KEY_TITLE = "Backpropagation by hand — class answer key"


class RosterError(HandcalcError):
    """The roster CSV cannot be read as a list of students."""


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""

    @property
    def stem(self) -> str:
        """The student's part of a file name: the ID with anything unsafe replaced."""
        return re.sub(r"[^A-Za-z0-9._-]", "_", self.id).strip(".") or "_"


@dataclass(frozen=True)
class Sheets:
    """What the batch wrote for one student."""

    student: Student
    seed: int
    code: str
    worksheet: Path
    key: Path
    fingerprint: str
    #: the worked solutions, where the batch makes them
    solutions: Path | None = None
    #: pages of the key (0: not counted yet)
    key_pages: int = 0


# --- the roster --------------------------------------------------------------------------------


def read_roster(path: str | Path) -> list[Student]:
    """Students from a CSV file with an ``id`` column (and optionally ``name``), in file order."""
    where = str(path)
    data = Path(path).read_bytes()
    if len(data) > MAX_ROSTER_BYTES:
        raise RosterError(f"{where}: larger than {MAX_ROSTER_BYTES} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RosterError(
            f"{where}: not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); "
            f"save the roster as CSV UTF-8"
        ) from None
    return parse_roster(text, where)


def parse_roster(text: str, where: str = "roster") -> list[Student]:
    if not text.strip():
        raise RosterError(f"{where}: empty; expected a header line with the columns id and name")
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as e:
        raise RosterError(f"{where}: not a CSV file ({e})") from None
    header = [h.strip().lower() for h in rows[0]]
    id_col = next((header.index(c) for c in ID_COLUMNS if c in header), None)
    if id_col is None:
        shown = ", ".join(h for h in header if h) or "nothing"
        raise RosterError(
            f"{where}: no 'id' column; the header line has {shown} "
            f"(expected the columns id and name)"
        )
    name_col = next((header.index(c) for c in NAME_COLUMNS if c in header), None)
    students: list[Student] = []
    first_line: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines are harmless
        extra = [cell for cell in row[len(header) :] if cell.strip()]
        if extra:
            # "s3,Hopper, Grace" without quotes: the name would silently lose its second part
            raise RosterError(
                f"{where} line {line}: {len(row)} fields where the header has {len(header)} "
                f"({', '.join(map(repr, extra))} left over); put a name with a comma in "
                'quotes: s3,"Hopper, Grace"'
            )
        sid = row[id_col].strip() if id_col < len(row) else ""
        if not sid:
            raise RosterError(f"{where} line {line}: the id is empty")
        if sid in first_line:
            raise RosterError(
                f"{where} line {line}: duplicate id {sid!r} (first on line {first_line[sid]})"
            )
        first_line[sid] = line
        name = row[name_col].strip() if name_col is not None and name_col < len(row) else ""
        students.append(Student(sid, name))
    if not students:
        raise RosterError(f"{where}: no students below the header line")
    stems: dict[str, str] = {}
    for s in students:
        if s.stem.lower() in stems:
            raise RosterError(
                f"{where}: ids {stems[s.stem.lower()]!r} and {s.id!r} would share "
                f"the file name {s.stem!r}"
            )
        stems[s.stem.lower()] = s.id
    return students


# --- one student, in a worker ------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    student: Student
    out: Path
    kind: str
    options: dict[str, Any]
    secret: bytes
    paper: str
    date: str
    attempt: int = 0
    solutions: bool = False
    orientation: str = "auto"
    mono: bool = False


def _warm() -> None:
    """Each worker renders a tiny page first, so fonts and the CSS machinery are loaded once."""
    from .render import html_to_pdf

    html_to_pdf('<p style="font-family: DejaVu Sans">warm 1/2 −3</p>')


def _render_student(job: _Job) -> Sheets:
    from .api import generate
    from .layout import build_sheet
    from .render import render_pdf
    from .verify import canonical, student_seed, verification_code

    seed = student_seed(job.student.id, job.secret, job.attempt)
    try:
        problem = generate(kind=job.kind, seed=seed, **job.options)
    except HandcalcError as e:
        raise HandcalcError(f"student {job.student.id!r}: {e}") from None
    sheet = build_sheet(problem)
    paths = {}
    pages = 0
    who = (job.student.name, job.student.id)
    for mode in ("worksheet", "key", "solutions") if job.solutions else ("worksheet", "key"):
        pdf = render_pdf(
            problem,
            mode,
            job.paper,
            secret=job.secret,
            date=job.date,
            sheet=sheet,
            student=who,
            orientation=job.orientation,
            mono=job.mono,
        )
        paths[mode] = job.out / f"{job.student.stem}-{mode}.pdf"
        paths[mode].write_bytes(pdf)
        if mode == "key":  # counted here, in the worker: the class key's index needs it
            pages = _pages(pdf)
    return Sheets(
        job.student,
        seed,
        verification_code(problem, job.secret),
        paths["worksheet"],
        paths["key"],
        hashlib.sha256(canonical(problem)).hexdigest(),
        paths.get("solutions"),
        pages,
    )


# --- the class set -----------------------------------------------------------------------------


def make_batch(
    students: Sequence[Student],
    out: str | Path,
    *,
    kind: str = "mlp",
    secret: str | bytes | None = None,
    paper: str = "a4",
    date: str | datetime.date | None = None,
    workers: int | None = None,
    progress: Callable[[Sheets], None] | None = None,
    solutions: bool = False,
    orientation: str = "auto",
    mono: bool = False,
    **options: Any,
) -> list[Sheets]:
    """Worksheets and keys for ``students`` in ``out`` (with ``solutions``, worked solutions too),
    and ``out/class-key.pdf``; one variant each, in roster order. ``orientation`` and ``mono``
    are as for ``render_pdf``.

    ``options`` are spec options as for ``generate``. ``progress`` is called once per student done.
    """
    from . import kinds
    from .verify import secret_key

    kinds.get(kind).Options.from_options(options)  # a bad option fails here, not in every worker
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    when = date or datetime.date.today()
    day = when.isoformat() if isinstance(when, datetime.date) else str(when)
    key = secret_key(secret)
    jobs = [
        _Job(s, out, kind, dict(options), key, paper, day, 0, solutions, orientation, mono)
        for s in students
    ]
    done = _run(jobs, workers, progress)
    seen: dict[str, Student] = {}
    for i, sheets in enumerate(done):  # a variant equal to an earlier student's is drawn again
        while sheets.fingerprint in seen:
            job = jobs[i] = _Job(**{**jobs[i].__dict__, "attempt": jobs[i].attempt + 1})
            sheets = done[i] = _render_student(job)
        seen[sheets.fingerprint] = sheets.student
    write_class_key(done, out / CLASS_KEY, paper=paper, date=day)
    return done


def _run(
    jobs: list[_Job], workers: int | None, progress: Callable[[Sheets], None] | None
) -> list[Sheets]:
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    if workers == 1:
        _warm()
        results = []
        for job in jobs:
            results.append(_render_student(job))
            if progress:
                progress(results[-1])
        return results
    # fork: workers start with handcalc, sympy and WeasyPrint already imported by this process
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_warm) as pool:
        futures = [pool.submit(_render_student, job) for job in jobs]
        # every worker is forked by now: this process warms up too, while they work, for the
        # class key's index it renders at the end (1.8 s cold, 0.14 s warm for 200 students)
        _warm()
        try:
            for future in futures:
                sheets = future.result()
                if progress:
                    progress(sheets)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)  # one bad student stops the batch
            raise
        return [f.result() for f in futures]


# --- the class key ---------------------------------------------------------------------------


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
    lengths = [s.key_pages or _pages(s.key.read_bytes()) for s in ordered]
    first = target.with_name(f".{target.stem}-index.pdf")
    first.write_bytes(_index_pdf(ordered, lengths, paper, date, title))
    try:
        merge_pdfs([first, *(s.key for s in ordered)], target, title)
    finally:
        first.unlink(missing_ok=True)


#: index lines a page holds (9 pt monospace lines fit 55 on letter, 59 on A4, below the heading)
INDEX_ROWS = 48
INDEX_NAME_CHARS = 36


def _pages(pdf: bytes) -> int:
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
