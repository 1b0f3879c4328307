"""A class set: one worksheet and one answer key per student (worked solutions too, on request),
and the class key of all keys.

Each student's variant comes from an HMAC of their ID and the secret (``verify.student_seed``),
never from a counter, so a student cannot work out a classmate's problem and the same roster and
secret give the same sheets again. Every sheet prints its student's name and ID from the roster.
PDFs are rendered in a process pool, WeasyPrint warm in each worker; ``render_student`` is also
the work of each task of a queued job (:mod:`handcalc.jobs`), so both make the same files. The
roster is read by :mod:`handcalc.roster` and the class key is written by
:mod:`handcalc.class_key`; their names are importable from here too.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .class_key import CLASS_KEY as CLASS_KEY
from .class_key import CLASS_KEY_TITLE as CLASS_KEY_TITLE
from .class_key import INDEX_NAME_CHARS as INDEX_NAME_CHARS
from .class_key import INDEX_ROWS as INDEX_ROWS
from .class_key import by_name as by_name
from .class_key import count_pages
from .class_key import merge_pdfs as merge_pdfs
from .class_key import write_class_key as write_class_key
from .errors import HandcalcError
from .roster import ID_COLUMNS as ID_COLUMNS
from .roster import MAX_ROSTER_BYTES as MAX_ROSTER_BYTES
from .roster import NAME_COLUMNS as NAME_COLUMNS
from .roster import RosterError as RosterError
from .roster import Sheets as Sheets
from .roster import Student as Student
from .roster import parse_roster as parse_roster
from .roster import read_roster as read_roster

# --- one student, in a worker ------------------------------------------------------------------

#: seeds tried after a given seed that makes no problem (as the web service does for a student)
MORE_SEEDS = 8


@dataclass(frozen=True)
class StudentJob:
    """What one student's sheets need: the unit of work of a batch's process pool and of a queued
    job's tasks (``handcalc.jobs``), so both make the same files."""

    student: Student
    out: Path
    kind: str
    options: dict[str, Any]
    secret: bytes
    paper: str
    #: printed on the sheets; None: the day they are rendered
    date: str | None
    attempt: int = 0
    solutions: bool = False
    orientation: str = "auto"
    mono: bool = False
    #: the variant's seed as given (the web service's), else derived from the student's ID; a
    #: given seed that makes no problem gives way to the next of ``MORE_SEEDS`` that does
    seed: int | None = None
    #: the sheet's title becomes "TITLE · NAME" (the web service's sheets), instead of the
    #: student's name and ID printed on it
    title: str | None = None
    #: the student's part of the file names (``student.stem`` unless given)
    stem: str | None = None

    def path(self, mode: str) -> Path:
        return self.out / f"{self.stem or self.student.stem}-{mode}.pdf"


def _warm() -> None:
    """Each worker renders a tiny page first, so fonts and the CSS machinery are loaded once."""
    from .render import html_to_pdf

    html_to_pdf('<p style="font-family: DejaVu Sans">warm 1/2 −3</p>')


def _problem(job: StudentJob) -> tuple[int, Any]:
    from .api import MAX_SEED, generate
    from .verify import student_seed

    if job.seed is None:
        seed = student_seed(job.student.id, job.secret, job.attempt)
        try:
            return seed, generate(kind=job.kind, seed=seed, **job.options)
        except HandcalcError as e:
            raise HandcalcError(f"student {job.student.id!r}: {e}") from None
    for tried in range(job.seed, job.seed + MORE_SEEDS + 1):
        seed = tried % (MAX_SEED + 1)
        try:
            return seed, generate(kind=job.kind, seed=seed, **job.options)
        except HandcalcError:
            continue
    raise HandcalcError(
        f"student {job.student.id!r}: the options make no problem for this student (no draw "
        "meets the generator's budgets); loosen them"
    )


def render_student(job: StudentJob) -> Sheets:
    """One student's worksheet and key (and worked solutions) written to ``job.out``; a
    ``HandcalcError`` when the options make no problem for them."""
    from .layout import build_sheet
    from .render import render_pdf
    from .verify import canonical, verification_code

    seed, problem = _problem(job)
    sheet = build_sheet(problem)
    who: tuple[str, str] | None = (job.student.name, job.student.id)
    if job.title is not None:
        sheet = dataclasses.replace(sheet, title=f"{job.title} · {job.student.name}")
        who = None
    paths = {}
    pages = 0
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
        paths[mode] = job.path(mode)
        paths[mode].write_bytes(pdf)
        if mode == "key":  # counted here, in the worker: the class key's index needs it
            pages = count_pages(pdf)
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


def redraw_duplicates(
    done: list[Sheets], jobs: list[StudentJob], render: Callable[[StudentJob], Sheets]
) -> None:
    """A student whose variant equals an earlier student's gets another (``attempt`` + 1), in
    place; ``done[i]`` is ``jobs[i]``'s. Variants from given seeds are left as they are."""
    seen: dict[str, Student] = {}
    for i, sheets in enumerate(done):
        while sheets.fingerprint in seen and jobs[i].seed is None:
            job = jobs[i] = dataclasses.replace(jobs[i], attempt=jobs[i].attempt + 1)
            sheets = done[i] = render(job)
        seen[sheets.fingerprint] = sheets.student


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
        StudentJob(s, out, kind, dict(options), key, paper, day, 0, solutions, orientation, mono)
        for s in students
    ]
    done = _run(jobs, workers, progress)
    redraw_duplicates(done, jobs, render_student)
    write_class_key(done, out / CLASS_KEY, paper=paper, date=day)
    return done


def _run(
    jobs: list[StudentJob], workers: int | None, progress: Callable[[Sheets], None] | None
) -> list[Sheets]:
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    if workers == 1:
        _warm()
        results = []
        for job in jobs:
            results.append(render_student(job))
            if progress:
                progress(results[-1])
        return results
    # fork: workers start with handcalc, sympy and WeasyPrint already imported by this process
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_warm) as pool:
        futures = [pool.submit(render_student, job) for job in jobs]
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
