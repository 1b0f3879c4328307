"""The roster of an assignment: names as typed, uploaded as CSV or sent as JSON, put on the
roster (a name already there keeps its link), students looked up by name or id, and their links
(as paths, as full URLs, as CSV for a mail merge). The pages and the instructor API share it."""

from __future__ import annotations

import csv
import io
import unicodedata
from typing import Any

from flask import abort, url_for
from sqlalchemy import select

from handcalc.batch import parse_roster

from . import access, db
from .errors import InputError
from .gradebook import safe_cell
from .inputs import check_name, check_unicode
from .models import Assignment, Student
from .tokens import student_token

MAX_NAME_CHARS = 100
MAX_ROSTER = 2000
LINKS_HEADER = ("student_id", "name", "link")


def names_from_json(raw: Any) -> list[str]:
    """The ``students`` of an API request: a list of names, each once."""
    if not isinstance(raw, list) or not raw or len(raw) > MAX_ROSTER:
        raise InputError(f"students: expected a list of 1 to {MAX_ROSTER} student names")
    names = []
    for i, name in enumerate(raw):
        where = f"students[{i}]"
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS:
            raise InputError(f"{where}: expected text of 1 to {MAX_NAME_CHARS} characters")
        check_unicode(name, where)
        names.append(check_name(name.strip(), where))
    return list(dict.fromkeys(names))


def _check(name: str, where: str) -> str:
    if len(name) > MAX_NAME_CHARS:
        raise InputError(
            f"{where}: {len(name)} characters ({name[:30]!r}…); a name has at most {MAX_NAME_CHARS}"
        )
    return check_name(name, where)


def _at_most(names: list[str]) -> list[str]:
    if len(names) > MAX_ROSTER:
        raise InputError(
            f"{len(names)} students at once; at most {MAX_ROSTER} (add the rest after)"
        )
    return names


def names_from_text(text: str) -> list[str]:
    """The names typed in the roster box: one a line (a comma is part of a name, as in
    "Hopper, Grace"), blank lines skipped, a name typed twice added once."""
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise InputError("Type at least one student name (one a line).")
    for i, name in enumerate(names, start=1):
        _check(name, f"name {i}")
    return _at_most(list(dict.fromkeys(names)))


def names_from_csv(data: bytes, filename: str) -> list[str]:
    """The names of a roster CSV as ``handcalc batch`` reads it: a header line with an ``id``
    column and optionally ``name``. The service knows a student by name (their link and numbers
    come from it), so each student is their name, or their id where the name is empty, and two
    students with one name are refused rather than merged."""
    where = _shown(filename)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(
            f"{where}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}); save "
            "the roster as CSV UTF-8 (a spreadsheet's own format, such as .xlsx, is not read)"
        ) from None
    binary = next((c for c in text if unicodedata.category(c) == "Cc" and c not in "\t\r\n"), None)
    if binary is not None:
        raise InputError(
            f"{where}: not a CSV text file (it holds the control character U+{ord(binary):04X}); "
            "save the roster as CSV UTF-8 (a spreadsheet's own format, such as .xlsx, is not "
            "read)"
        )
    students = parse_roster(text, where)
    ids: dict[str, str] = {}
    for s in students:
        name = _check(s.name or s.id, f"{where}: the student with id {s.id!r}")
        if name in ids:
            raise InputError(
                f"{where}: ids {ids[name]!r} and {s.id!r} have the same name {name!r}; the "
                f"service tells students apart by name, so make the names differ (e.g. "
                f"{name + ' (' + s.id + ')'!r})"
            )
        ids[name] = s.id
    return _at_most(list(ids))


def _shown(filename: str) -> str:
    """An uploaded file's name, fit to be shown in a message."""
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(c for c in base if unicodedata.category(c)[0] != "C")[:60].strip()
    return clean or "the CSV file"


def add_to_roster(row: Assignment, names: list[str]) -> str:
    """Put ``names`` on the roster (those already there keep their links); what was done."""
    there = set(
        db.session().scalars(
            select(Student.name).where(Student.assignment_id == row.id, Student.name.in_(names))
        )
    )
    add_students(row, names)
    added = len(names) - len(there)
    said = f"{added} student{'s' * (added != 1)} added"
    if there:
        said += (
            f"; {len(there)} {'was' if len(there) == 1 else 'were'} on the roster already "
            f"(links unchanged)"
        )
    return said + "."


# --- links ------------------------------------------------------------------------------------


def link(assignment_id: int, student_id: int) -> str:
    """A student's page as a full URL (the host the instructor reached the service by)."""
    token = student_token(access.secret(), assignment_id, student_id)
    return url_for("student.sheet", token=token, _external=True)


def links_csv(row: Assignment) -> str:
    """student_id, name, link: a line per student of the roster, by id."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LINKS_HEADER)
    students = db.session().execute(
        select(Student.id, Student.name).where(Student.assignment_id == row.id).order_by(Student.id)
    )
    for sid, name in students:
        writer.writerow([sid, safe_cell(name), link(row.id, sid)])
    return out.getvalue()


# --- students on the roster ------------------------------------------------------------------


def add_students(row: Assignment, names: list[str]) -> list[Student]:
    """Put ``names`` on the roster (those already there keep their links); their rows."""
    session = db.session()
    existing = {
        s.name: s
        for s in session.scalars(
            select(Student).where(Student.assignment_id == row.id, Student.name.in_(names))
        )
    }
    for name in names:
        if name not in existing:
            existing[name] = Student(assignment_id=row.id, name=name)
            session.add(existing[name])
    session.commit()
    return [existing[name] for name in names]


def student_link(row: Assignment, student: Student) -> str:
    """A student's page, as a path."""
    return f"/s/{student_token(access.secret(), row.id, student.id)}"


def roster_student(row: Assignment, name: str) -> Student:
    found = db.session().scalar(
        select(Student).where(Student.assignment_id == row.id, Student.name == name)
    )
    if found is None:
        abort(404, f"no student {name[:MAX_NAME_CHARS]!r} on the roster of assignment {row.id}")
    return found


def roster_student_id(row: Assignment, student_id: int) -> Student:
    found = db.session().get(Student, student_id) if 0 < student_id < 2**31 else None
    if found is None or found.assignment_id != row.id:
        abort(404, f"no student {student_id} on the roster of assignment {row.id}")
    return found
