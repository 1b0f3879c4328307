"""An assignment as a question bank for a learning platform's own quiz engine (issue 16, item 3),
and its regrade records read back (item 5).

The bank holds one variant per roster student: their own problem (the one their link grades),
titled with their name, so the platform can hand each student theirs or draw from the pool.
With no roster yet it holds the assignment's own sample problem (seed 0, the one its page
describes); the ``X-Handcalc-Bank`` header says which. The library writes the formats
(:mod:`handcalc.export`: QTI 2.1, QTI 1.2 as Canvas imports it, Moodle XML); this module decides
whose problems go in and bounds the work of one request.

**The bound.** A bank is made while the request waits, so one request makes at most about
:data:`EXPORT_SECONDS` of work, estimated before anything is made from the size of the sheet in
that format (measured on the assignment's sample problem: export time follows the XML written,
and making an exact-mode problem costs per number; the constants below say where the figures
come from). A larger roster is refused (409) with the number of parts it comes in, each part
asked with ``?part=k`` (students by id, :func:`students_per_request` of them a part); the parts'
variants keep their numbers, so imported parts never collide.

Every variant is exported without its seed (the stems of the CLI's banks name it): a student
who read a seed in a quiz could make the key with ``handcalc generate`` (the service never shows
students their seed either, ``problems.student_copy``).
"""

from __future__ import annotations

import dataclasses
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import Blueprint, Flask, Response, jsonify, request, url_for
from sqlalchemy import select
from werkzeug.exceptions import Conflict

from handcalc import Problem
from handcalc.export import FORMATS, Variant
from handcalc.export.moodle import moodle
from handcalc.export.qti12 import qti12
from handcalc.export.qti21 import qti21
from handcalc.values import parse_whole

from . import access, courses, db, handout
from .api import json_only
from .auth import instructor_token, signed_in
from .gradebook import students_count
from .handout import let_others_run  # gevent: the other requests run between students
from .models import Assignment, Regrade, Student
from .problems import problem_of, read_options, sheet_numbers
from .tokens import variant_seed

#: the writers of :data:`handcalc.export.FORMATS`, called with variants of our own (named)
WRITERS: dict[str, Callable[[Sequence[Variant], str], bytes]] = {
    "qti21": qti21,
    "qti12": qti12,
    "moodle": moodle,
}
assert tuple(WRITERS) == FORMATS
#: what each format is called in messages, and its file's extension
LABELS = {"qti21": "QTI 2.1", "qti12": "QTI 1.2 (Canvas)", "moodle": "Moodle XML"}
EXTENSIONS = {"qti21": "zip", "qti12": "zip", "moodle": "xml"}
MIMETYPES = {"qti21": "application/zip", "qti12": "application/zip", "moodle": "application/xml"}

#: the work one request may do, in seconds of one core (estimated before anything is made): a
#: gevent worker serves nothing else meanwhile while the bank is written (making the problems
#: lets the others run between students), and gunicorn's timeout is 30 s
EXPORT_SECONDS = 4.0
#: writing a bank takes about this long per MiB of XML written (uncompressed), whatever the format
#: and sheet: measured 49-75 ms/MiB (median 67) over 2-2-2, 4-3-4-3, 8-8-8 and 6-6-6-6-6 sheets in
#: the three formats on one core of the development machine (bench/bench_exports.py); exact mode
#: writes slower, 67-242 ms/MiB, which its cost of making (below, rounded up) pays for: the bound
#: takes 90, and a request at the bound measured 2.4-3.6 s (cold) for its 4 s estimate
EXPORT_MS_PER_MIB = 90.0
#: making a student's problem, per number on the sheet: exact mode 0.6-1.3 ms (sympy; the
#: default 4-3-4-3 sheet, 228 numbers, 0.3 s), the other modes 0.005-0.016 ms (same bench); a
#: problem made before (a student's check) is kept in memory, but the bound counts it anyway
MAKE_MS_PER_NUMBER = 0.02
MAKE_EXACT_MS_PER_NUMBER = 1.5
#: the variants of one request at most, whatever the estimate
MAX_PER_REQUEST = 2000
#: regrade records in one answer of the API, unless ``?limit=`` asks for fewer (or up to 100)
REGRADES_PAGE = 20
MAX_REGRADES_PAGE = 100


# --- the bank ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Named(Variant):
    """A student's variant: its category (QTI section, Canvas bank, Moodle category) is titled
    with their name."""

    name: str = ""

    def title(self, bank: str) -> str:
        return f"{bank}: {self.name}"


def unseeded(problem: Problem) -> Problem:
    """``problem`` without its seed: the stems then do not name it (see the module's doc)."""
    return dataclasses.replace(problem, seed=None)


def uncompressed(data: bytes) -> int:
    """The bytes of XML a bank holds (the sum of a zip's files, or the file)."""
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sum(info.file_size for info in archive.infolist())
    return len(data)


@dataclass(frozen=True)
class Cost:
    """What one student's variant of a sheet costs in a format: the XML written (measured on
    the sample problem) and the estimated milliseconds to make the problem and write it."""

    xml_bytes: int
    ms: float


@lru_cache(maxsize=256)
def cost(kind: str, spec_json: str, fmt: str) -> Cost:
    """The cost of a variant of the sheet ``(kind, spec_json)`` in ``fmt``: the sample problem is
    written once (per process) to measure it; every variant of a sheet has the same cells."""
    sample = problem_of(kind, spec_json, 0)
    written = uncompressed(WRITERS[fmt]([Named(1, unseeded(sample), "sample")], "sample"))
    options = read_options(kind, json.loads(spec_json))
    exact = getattr(options, "transcendental", None) == "exact"
    per_number = MAKE_EXACT_MS_PER_NUMBER if exact else MAKE_MS_PER_NUMBER
    ms = written / 2**20 * EXPORT_MS_PER_MIB + sheet_numbers(kind, options) * per_number
    return Cost(written, ms)


def students_per_request(row: Assignment, fmt: str) -> int:
    """How many students' variants one request makes for ``row``'s sheet in ``fmt`` (1 at
    least: a single variant is what the CLI writes)."""
    found = cost(row.kind, row.spec_json, fmt)
    fits = int(EXPORT_SECONDS * 1000 // max(found.ms, 1e-6))
    return max(1, min(MAX_PER_REQUEST, fits))


def parts_of(row: Assignment, fmt: str, students: int) -> int:
    """How many requests ``row``'s bank of ``students`` takes in ``fmt`` (the assignment page
    links each part; 1 with no roster: the sample problem)."""
    if students <= 1:
        return 1
    return max(1, -(-students // students_per_request(row, fmt)))


@dataclass(frozen=True)
class Bank:
    """A bank ready to send: its bytes, what it holds (the ``X-Handcalc-Bank`` header), its
    file name."""

    data: bytes
    holds: str
    filename: str


def _parts_said(row: Assignment, fmt: str, students: int, per: int, parts: int) -> str:
    found = cost(row.kind, row.spec_json, fmt)
    # the formats a request holds more of this sheet in: "(QTI 2.1: 158, Moodle XML: 282)"
    others = [
        f"{LABELS[f]}: {n}"
        for f in FORMATS
        if f != fmt and (n := students_per_request(row, f)) > per
    ]
    more = f" ({', '.join(others)})" if others else ""
    return (
        f"the {LABELS[fmt]} bank of assignment {row.id}'s {students} students is too large "
        f"for one request (about {students * found.ms / 1000:.0f} s of work, "
        f"{students * found.xml_bytes / 2**20:.0f} MiB of XML): one request makes at most "
        f"{per} students of this sheet{more}; download it in {parts} parts, ?part=1 to "
        f"?part={parts}"
    )


def bank(row: Assignment, fmt: str, raw_part: str | None) -> Bank:
    """``row``'s bank in ``fmt``: a variant per roster student (the part ``raw_part`` of a
    roster too large for one request), or the sample problem while the roster is empty."""
    session = db.session()
    students = students_count(session, row.id)
    filename = f"assignment-{row.id}-{fmt}"
    if not students:
        handout.numbered(raw_part, "part", 1, "the bank comes in")
        sample = unseeded(problem_of(row.kind, row.spec_json, 0))
        data = WRITERS[fmt]([Named(1, sample, "sample problem (no roster yet)")], row.title)
        holds = "sample; no roster yet: the assignment's own problem (seed 0), one variant"
        return Bank(data, holds, f"{filename}.{EXTENSIONS[fmt]}")
    per = students_per_request(row, fmt)
    parts = parts_of(row, fmt, students)
    if parts > 1 and (raw_part is None or not raw_part.strip()):
        raise Conflict(_parts_said(row, fmt, students, per, parts))
    part = handout.numbered(raw_part, "part", parts, "the bank comes in")
    offset = (part - 1) * per
    rows = session.execute(
        select(Student.id, Student.name)
        .where(Student.assignment_id == row.id)
        .order_by(Student.id)
        .offset(offset)
        .limit(per)
    ).all()
    secret = access.secret()
    variants: list[Variant] = []
    missing: list[str] = []
    for number, (_, name) in enumerate(rows, offset + 1):
        let_others_run()
        problem = access.variant_problem(
            row.kind, row.spec_json, variant_seed(secret, row.id, name)
        )
        if problem is None:
            missing.append(name)
        else:
            variants.append(Named(number, unseeded(problem), name))
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if missing[5:] else "")
        raise Conflict(
            f"the options of assignment {row.id} make no problem for {len(missing)} "
            f"student{'s' * (len(missing) != 1)} ({shown}): no draw meets the generator's "
            "budgets; loosen the options, then export again"
        )
    data = WRITERS[fmt](variants, row.title)
    first, last = offset + 1, offset + len(rows)
    holds = f"roster; students {first}-{last} of {students}, one variant each"
    if parts > 1:
        holds += f"; part {part} of {parts}"
        filename += f"-part{part}"
    return Bank(data, holds, f"{filename}.{EXTENSIONS[fmt]}")


def download(row: Assignment, fmt: str) -> Response:
    """The bank as a download, ``?part=k`` of a large roster."""
    found = bank(row, fmt, request.args.get("part"))
    return Response(
        found.data,
        mimetype=MIMETYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "X-Handcalc-Bank": found.holds,
        },
    )


# --- regrade records --------------------------------------------------------------------------


def iso(moment: Any) -> str:
    """A stored (naive UTC) time as ISO 8601 with a Z."""
    text: str = moment.isoformat(timespec="seconds")
    return text + "Z"


def regrade_records(row: Assignment, limit: int, before: int | None) -> dict[str, Any]:
    """``row``'s regrade records newest first, ``limit`` of them (those older than the record
    ``before`` when given), with the address of the next ones (None after the oldest)."""
    query = select(Regrade).where(Regrade.assignment_id == row.id)
    if before is not None:
        query = query.where(Regrade.id < before)
    found = db.session().scalars(query.order_by(Regrade.id.desc()).limit(limit + 1)).all()
    shown = found[:limit]
    more = len(found) > limit
    return {
        "assignment": row.id,
        "regrades": [
            {"id": r.id, "created_at": iso(r.created_at), "summary": r.summary} for r in shown
        ],
        "next": (
            url_for("exports_api.regrades", assignment_id=row.id, before=shown[-1].id, limit=limit)
            if more
            else None
        ),
    }


# --- routes -----------------------------------------------------------------------------------

pages = Blueprint("exports", __name__, url_prefix="/instructor")
api = Blueprint("exports_api", __name__, url_prefix="/api/v1/assignments")
api.before_request(json_only)


def _view(fmt: str, guard: Callable[..., Any], who: str) -> Callable[..., Response]:
    """The download of ``fmt``, behind ``guard`` (the pages' sign-in or the API's token)."""

    def view(assignment_id: int) -> Response:
        return download(courses.assignment(assignment_id), fmt)

    view.__name__ = view.__qualname__ = f"export_{fmt}"
    view.__doc__ = f"The assignment as a {LABELS[fmt]} question bank ({who})."
    return guard(view)


# one route a format (not ``export.<fmt>``): each is an instructor's route of its own, which the
# OpenAPI document and the cross-course test list one by one
for _fmt in FORMATS:
    pages.add_url_rule(
        f"/assignments/<int:assignment_id>/export.{_fmt}",
        endpoint=f"export_{_fmt}",
        view_func=_view(_fmt, signed_in, "a signed-in instructor"),
        methods=["POST"],  # the page's form, CSRF-checked: no cross-site link starts the work
    )
    api.add_url_rule(
        f"/<int:assignment_id>/export.{_fmt}",
        endpoint=f"export_{_fmt}",
        view_func=_view(_fmt, instructor_token, "a bearer token"),
        methods=["GET"],
    )


@api.get("/<int:assignment_id>/regrades")
@instructor_token
def regrades(assignment_id: int) -> Response:
    """The assignment's regrade records, newest first (``?limit=``, ``?before=<id>``)."""
    row = courses.assignment(assignment_id)
    raw_limit, raw_before = request.args.get("limit"), request.args.get("before")
    limit = (
        REGRADES_PAGE
        if raw_limit is None
        else parse_whole(raw_limit, "limit", 1, MAX_REGRADES_PAGE)
    )
    before = None if raw_before is None else parse_whole(raw_before, "before", 1, 2**31 - 1)
    return jsonify(regrade_records(row, limit, before))


def init_app(app: Flask) -> None:
    """Register the page downloads and the API (CSRF-exempt: bearer tokens, never cookies)."""
    app.register_blueprint(pages)
    app.register_blueprint(api)
    app.extensions["csrf"].exempt(api)
    app.jinja_env.globals["export_parts"] = parts_of  # the page's download links, part by part
