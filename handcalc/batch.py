"""A class set: one worksheet and one answer key per student (worked solutions too, on request),
and the class key of all keys.

Each student's variant comes from an HMAC of their ID and the secret (``verify.student_seed``),
never from a counter, so a student cannot work out a classmate's problem and the same roster and
secret give the same sheets again. Every sheet prints its student's name and ID from the roster.
PDFs are rendered in a process pool, WeasyPrint warm in each worker. The roster is read by
:mod:`handcalc.roster` and the class key is written by :mod:`handcalc.class_key`; their names are
importable from here too.
"""

from __future__ import annotations

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
