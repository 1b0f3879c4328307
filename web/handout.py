"""Handing out a class: the students' worksheets, answer keys and worked solutions as PDFs,
one at a time or a class as one zip (with its links; the roster itself is ``roster``'s).

The library makes the PDFs (``handcalc.render_pdf``) and merges the class key
(``handcalc.batch.merge_pdfs``); this module decides whose problem is whose and what each file
is called.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import logging
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from flask import abort
from sqlalchemy import select

from handcalc import Problem
from handcalc.batch import CLASS_KEY, merge_pdfs
from handcalc.render import MODES, PAPERS, render_pdf
from handcalc.values import parse_whole

from . import access, db, forms
from .gradebook import PAGE_SIZE, safe_cell, students_count
from .models import Assignment, Student
from .roster import LINKS_HEADER, link
from .tokens import variant_seed

log = logging.getLogger(__name__)

#: students in one class download: their PDFs are made while the zip is sent, 0.62 s a student
#: for the default 4-3-4-3 sheet on one core (62 s and 11 MB for 100); a larger class comes in
#: parts of this many, the gradebook's pages
CLASS_PART = PAGE_SIZE
#: the zip's folder of each kind of PDF
FOLDERS = {"worksheet": "worksheets", "key": "keys", "solutions": "solutions"}
MAX_SLUG_CHARS = 40
#: a class download gives up after so many students in a row whose PDFs failed (a bug, then)
FAILURES_IN_A_ROW = 3


# --- file names -------------------------------------------------------------------------------


def slug(text: str, ascii_only: bool = False) -> str:
    """``text`` as part of a file name: letters and digits (of any script, or ASCII only) in
    lower case, anything else a single dash; at most ``MAX_SLUG_CHARS``."""
    if ascii_only:
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    else:
        text = unicodedata.normalize("NFC", text)
    kept = "".join(c if unicodedata.category(c)[0] in "LNM" else " " for c in text.lower())
    return "-".join(kept.split())[:MAX_SLUG_CHARS].strip("-")


def stem(student_id: int, name: str, ascii_only: bool = False) -> str:
    """A student's part of a file name: their name's slug and their id (unique, whatever the
    name; ``student`` where no letter of the name is left)."""
    return f"{slug(name, ascii_only) or 'student'}-{student_id}"


def attachment(unicode_name: str, ascii_name: str) -> str:
    """A Content-Disposition that downloads as ``unicode_name`` (RFC 6266 ``filename*``), or as
    ``ascii_name`` where a client reads only ``filename``."""
    value = f'attachment; filename="{ascii_name}"'
    if unicode_name != ascii_name:
        value += f"; filename*=UTF-8''{quote(unicode_name, safe='')}"
    return value


def student_file(row: Assignment, student: Student, what: str) -> str:
    """``Content-Disposition`` of a student's file, ``what`` being e.g. ``key.pdf``."""
    prefix = f"assignment-{row.id}"
    return attachment(
        f"{prefix}-{stem(student.id, student.name)}-{what}",
        f"{prefix}-{stem(student.id, student.name, ascii_only=True)}-{what}",
    )


# --- PDFs -------------------------------------------------------------------------------------


def paper_of(raw: str | None) -> str:
    """The paper asked for (``a4`` unless said), 400 for another."""
    paper = (raw or "a4").strip().lower() or "a4"
    if paper not in PAPERS:
        accepted = ", ".join(PAPERS)
        abort(400, f"paper: {raw[:20] if raw else ''!r} is not accepted; accepted: {accepted}")
    return paper


def mode_of(raw: str) -> str:
    if raw not in MODES:
        abort(404, f"no {raw[:40]!r} PDF; there are: {', '.join(MODES)}")
    return raw


def _sheet_title(title: str, name: str) -> str:
    return f"{title} · {name}"


def pdf(problem: Problem, mode: str, paper: str, title: str, name: str, secret: str) -> bytes:
    """``mode``'s PDF of a student's problem, headed with the assignment and the student."""
    sheet = dataclasses.replace(forms.layout(problem), title=_sheet_title(title, name))
    return render_pdf(problem, mode, paper, secret=secret, sheet=sheet)


def student_pdf(row: Assignment, student: Student, mode: str, paper: str) -> bytes:
    """A student's worksheet, key or worked solutions (409 when the options make no problem
    for them)."""
    problem = access.student_problem(student)
    return pdf(problem, mode, paper, row.title, student.name, access.secret())


# --- a class as one zip -----------------------------------------------------------------------


def parts_of(row: Assignment) -> int:
    return max(1, -(-students_count(db.session(), row.id) // CLASS_PART))


def part_of(raw: str | None, parts: int) -> int:
    """The part asked for (from 1): 400 for what is not a number, 404 past the last one."""
    return numbered(raw, "part", parts, "the class comes in")


def numbered(raw: str | None, name: str, last: int, whole: str) -> int:
    """The ``name`` asked for, from 1 (1 when none is): 400 for what is not a whole number,
    404 past ``last`` ("no part 3: the class comes in 2 parts")."""
    if raw is None or not raw.strip():
        return 1
    n = parse_whole(raw, name, 1, 10**6)
    if n > last:
        abort(404, f"no {name} {n}: {whole} {last} {name}{'s' * (last != 1)}")
    return n


@dataclass(frozen=True)
class Entry:
    """A student in a class download: what their files need, read before the download starts
    (the zip is made after the request's database session is gone)."""

    id: int
    name: str
    link: str
    seed: int


@dataclass(frozen=True)
class ClassPart:
    """One download of a class: at most ``CLASS_PART`` students, by id."""

    assignment_id: int
    title: str
    kind: str
    spec_json: str
    secret: str
    paper: str
    first: int
    total: int
    entries: tuple[Entry, ...]

    @property
    def last(self) -> int:
        return self.first + len(self.entries) - 1

    @property
    def name(self) -> str:
        return f"assignment-{self.assignment_id}-students-{self.first}-{self.last}"


def class_part(row: Assignment, part: int, paper: str) -> ClassPart:
    """Part ``part`` (from 1) of the class, ``CLASS_PART`` students a part (404 when the roster
    is empty)."""
    total = students_count(db.session(), row.id)
    if not total:
        abort(404, f"assignment {row.id} has no students yet: add them to the roster first")
    offset = (part - 1) * CLASS_PART
    students = db.session().execute(
        select(Student.id, Student.name)
        .where(Student.assignment_id == row.id)
        .order_by(Student.id)
        .offset(offset)
        .limit(CLASS_PART)
    )
    secret = access.secret()
    entries = tuple(
        Entry(sid, name, link(row.id, sid), variant_seed(secret, row.id, name))
        for sid, name in students
    )
    return ClassPart(
        row.id, row.title, row.kind, row.spec_json, secret, paper, offset + 1, total, entries
    )


class _Sink(io.RawIOBase):
    """Where the zip is written: what it has written so far is taken away and sent."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out, self._chunks = b"".join(self._chunks), []
        return out


def let_others_run() -> None:
    """Let the other requests of a gevent worker (gunicorn_config's) run: without it one class
    download held every connection of its worker, and the worker's heartbeat, for a minute.
    ``gevent.idle`` waits until the loop has polled its sockets; ``gevent.sleep(0)`` does not
    poll, and /healthz took seconds during a download with it."""
    try:
        from gevent import idle, monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return
    if monkey.is_module_patched("socket"):
        idle()


def class_zip(part: ClassPart) -> Iterator[bytes]:
    """The zip of ``part``, made while it is sent: each student's worksheet, key and worked
    solutions, the class key (every key, in order), links.csv, and not-included.txt naming any
    student whose PDFs could not be made (the response has begun by then: the zip says so)."""
    sink = _Sink()
    top = part.name
    missing: list[str] = []
    failures = 0  # in a row: a bug that fails every student is reported once, not 100 times
    with (
        tempfile.TemporaryDirectory(prefix="handcalc-class-") as folder,
        zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive,
    ):
        keys: list[Path] = []
        for i, entry in enumerate(part.entries):
            if failures == FAILURES_IN_A_ROW:
                missing += [
                    f"{e.name} (id {e.id}): not tried after {failures} failures in a row"
                    for e in part.entries[i:]
                ]
                break
            problem = access.variant_problem(part.kind, part.spec_json, entry.seed)
            if problem is None:
                missing.append(
                    f"{entry.name} (id {entry.id}): the assignment's options make no problem "
                    "for this student; loosen them"
                )
                continue
            made: dict[str, bytes] = {}
            try:
                for mode in MODES:
                    let_others_run()
                    made[mode] = pdf(problem, mode, part.paper, part.title, entry.name, part.secret)
            except Exception:  # the response has begun: the zip is the only place to say it
                failures += 1
                if failures == 1:
                    log.exception("class download: the PDFs of student %s failed", entry.id)
                else:
                    log.warning("class download: the PDFs of student %s failed too", entry.id)
                missing.append(f"{entry.name} (id {entry.id}): making the PDFs failed (logged)")
                continue
            failures = 0
            who = stem(entry.id, entry.name)
            for mode, data in made.items():
                archive.writestr(f"{top}/{FOLDERS[mode]}/{who}-{mode}.pdf", data)
            keys.append(Path(folder) / f"{len(keys):05d}.pdf")
            keys[-1].write_bytes(made["key"])
            yield sink.take()
        if keys:
            let_others_run()
            merged = Path(folder) / CLASS_KEY
            try:
                merge_pdfs(
                    keys,
                    merged,
                    title=f"{part.title} — class answer key (students {part.first}–{part.last})",
                )
            except Exception:
                log.exception("class download: merging the class key failed")
                missing.append(f"{CLASS_KEY}: merging the keys failed (logged)")
            else:
                archive.write(merged, f"{top}/{CLASS_KEY}")
        links = io.StringIO()
        writer = csv.writer(links, lineterminator="\n")
        writer.writerow(LINKS_HEADER)
        writer.writerows([e.id, safe_cell(e.name), e.link] for e in part.entries)
        archive.writestr(f"{top}/links.csv", links.getvalue())
        if missing:
            archive.writestr(
                f"{top}/not-included.txt",
                "Not in this zip:\n" + "\n".join(missing) + "\n",
            )
    yield sink.take()
