"""The class: its students, read from a roster CSV (an ``id`` column and optionally ``name``),
and the sheets each student is given by a batch.

Every student's ID must make a distinct file name; a name with a comma needs quotes, and a line
with fields left over is refused rather than silently losing part of a name.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import HandcalcError

ID_COLUMNS = ("id", "student_id", "student id")
NAME_COLUMNS = ("name", "student", "student_name", "student name")
MAX_ROSTER_BYTES = 5_000_000


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
