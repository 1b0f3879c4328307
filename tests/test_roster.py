"""Rosters: a CSV of ids and names, with a BOM, blank lines and other spellings of the columns;
anything else is one clear error naming the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from handcalc.roster import RosterError, Student, parse_roster, read_roster


def _roster(tmp_path: Path, text: str | bytes, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_roster_with_names_bom_blank_lines_and_aliases(tmp_path):
    path = _roster(tmp_path, "\ufeffStudent_ID, Name\n a1 ,Ada\n\nb2,Bo\n")
    assert read_roster(path) == [Student("a1", "Ada"), Student("b2", "Bo")]
    assert parse_roster("id\nx\n") == [Student("x", "")]
    assert parse_roster('id,name\ns3,"Hopper, Grace"\n') == [Student("s3", "Hopper, Grace")]
    assert parse_roster("id,name\ns4,Ada,,\n") == [Student("s4", "Ada")]  # empty extras are fine


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty; expected a header line with the columns id and name"),
        ("   \n", "empty"),
        ("name,email\nAda,a@x\n", "no 'id' column; the header line has name, email"),
        ("id,name\n", "no students below the header line"),
        ("id,name\ns1,A\ns2,B\ns1,C\n", "line 4: duplicate id 's1' (first on line 2)"),
        ("id,name\n,A\n", "line 2: the id is empty"),
        ("id,name\ns3,Hopper, Grace\n", "line 2: 3 fields where the header has 2 (' Grace' left"),
        ("id\na/b\na_b\n", "would share the file name 'a_b'"),
    ],
)
def test_roster_errors_are_clear(tmp_path, text, message):
    with pytest.raises(RosterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_roster(_roster(tmp_path, text))


def test_non_utf8_roster(tmp_path):
    path = _roster(tmp_path, "id,name\ns1,Jos\xe9\n".encode("latin-1"))
    with pytest.raises(RosterError, match=r"not UTF-8 \(byte 0xe9 at offset 14\)"):
        read_roster(path)
