"""A class set from a roster: a variant per student from an HMAC of the ID, a worksheet and a key
each, the class key; roster problems give clear errors."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest

import handcalc
from handcalc.batch import (
    Sheets,
    Student,
    by_name,
    make_batch,
)
from handcalc.verify import canonical, student_seed, verification_code

SECRET = "class-secret"


@pytest.fixture(scope="module")
def class_set(tmp_path_factory) -> tuple[Path, list]:
    out = tmp_path_factory.mktemp("sheets")
    students = [Student(f"s{i:03d}", f"Student {i}") for i in range(1, 31)]
    done = make_batch(
        students, out, secret=SECRET, date="2026-01-01", workers=2, sizes="3,2,2", batch=2
    )
    return out, done


def test_thirty_students_get_a_worksheet_a_key_and_a_class_key(class_set):
    out, done = class_set
    files = sorted(p.name for p in out.iterdir())
    assert len([f for f in files if f.endswith("-worksheet.pdf")]) == 30
    assert len([f for f in files if f.endswith("-key.pdf") and f != "class-key.pdf"]) == 30
    assert "class-key.pdf" in files and len(files) == 61
    key_pages = sum(len(pypdf.PdfReader(s.key).pages) for s in done)
    index = 1  # 30 students: one page of index
    assert len(pypdf.PdfReader(out / "class-key.pdf").pages) == index + key_pages
    assert [s.student.id for s in done] == [f"s{i:03d}" for i in range(1, 31)]


def test_variants_are_distinct_and_each_sheet_carries_its_code(class_set):
    _, done = class_set
    assert len({s.fingerprint for s in done}) == 30
    assert len({s.seed for s in done}) == 30
    for s in done[:3]:
        text = pypdf.PdfReader(s.worksheet).pages[0].extract_text()
        assert s.code in text
        assert s.code in pypdf.PdfReader(s.key).pages[0].extract_text()


def test_variants_are_reproducible_from_id_and_secret(class_set):
    _, done = class_set
    for s in done[:5]:
        assert s.seed == student_seed(s.student.id, SECRET)
        again = handcalc.generate(seed=s.seed, sizes="3,2,2", batch=2)
        assert verification_code(again, SECRET) == s.code
        import hashlib

        assert hashlib.sha256(canonical(again)).hexdigest() == s.fingerprint
    # another secret gives other variants: the seed is not a counter or a plain hash of the ID
    assert student_seed("s001", "other") != done[0].seed


def test_serial_batch_writes_the_same_variants(class_set, tmp_path):
    _, done = class_set
    again = make_batch(
        [d.student for d in done[:2]], tmp_path, secret=SECRET, workers=1, sizes="3,2,2", batch=2
    )
    assert [a.fingerprint for a in again] == [d.fingerprint for d in done[:2]]


def test_bad_spec_option_fails_before_any_work(tmp_path):
    with pytest.raises(handcalc.SpecError, match="activation"):
        make_batch([Student("a")], tmp_path / "out", activation="softplus")
    assert not (tmp_path / "out" / "a-worksheet.pdf").exists()


def test_class_key_starts_with_an_index_sorted_by_name(class_set):
    """Name, ID, code and the page where the key starts; the keys follow in that order."""
    out, done = class_set
    reader = pypdf.PdfReader(io.BytesIO((out / "class-key.pdf").read_bytes()))
    assert reader.metadata.title == "Backpropagation by hand — class answer key"
    index = reader.pages[0].extract_text()
    assert "Name" in index and "Page" in index
    ordered = by_name(done)
    assert [s.student.name for s in ordered] == sorted(s.student.name for s in done)
    assert ordered[0].student.name == "Student 1" and ordered[2].student.name == "Student 11"
    lines = index.splitlines()
    rows = [line.split() for line in lines if line.endswith(tuple("0123456789")) and "-" in line]
    assert [(" ".join(r[:-3]), r[-3], r[-2]) for r in rows] == [
        (s.student.name, s.student.id, s.code) for s in ordered
    ]
    page = 2
    for s, row in zip(ordered, rows, strict=True):
        assert int(row[-1]) == page, s.student.id
        key_page = reader.pages[page - 1].extract_text()
        assert s.code in key_page and s.student.name in key_page and "answer key" in key_page
        page += len(pypdf.PdfReader(s.key).pages)


def test_every_sheet_prints_the_students_name_and_id(class_set):
    _, done = class_set
    for s in done[:3]:
        for path in (s.worksheet, s.key):
            text = pypdf.PdfReader(path).pages[0].extract_text()
            assert f"Name {s.student.name}" in text and f"ID {s.student.id}" in text


def test_a_batch_of_worked_solutions(tmp_path):
    students = [Student("b2", "Émile Zola"), Student("b1", "anna Karenina"), Student("b3")]
    done = make_batch(students, tmp_path, secret=SECRET, workers=1, sizes="2,2", solutions=True)
    for s in done:
        assert s.solutions == tmp_path / f"{s.student.id}-solutions.pdf"
        text = pypdf.PdfReader(s.solutions).pages[0].extract_text()
        assert "worked solutions" in text and s.code in text and f"ID {s.student.id}" in text
    # by name: case and accents aside, a student without a name last
    assert [s.student.id for s in by_name(done)] == ["b1", "b2", "b3"]
    assert not (tmp_path / "b1-solutions.pdf").exists() or done[1].solutions


def test_class_key_without_pdfunite_falls_back_to_pypdf(class_set, tmp_path, monkeypatch):
    _, done = class_set
    from handcalc import class_key as batch

    monkeypatch.setattr(batch.shutil, "which", lambda name: None)
    target = tmp_path / "merged.pdf"
    batch.merge_pdfs([s.key for s in done[:3]], target)
    reader = pypdf.PdfReader(target)
    assert reader.metadata.title == batch.CLASS_KEY_TITLE
    assert len(reader.pages) == sum(len(pypdf.PdfReader(s.key).pages) for s in done[:3])


def test_a_student_whose_variant_fails_is_named(tmp_path, monkeypatch):
    from handcalc import api

    def impossible(**_: object) -> None:
        raise handcalc.BudgetError("no problem meets the budgets")

    monkeypatch.setattr(api, "generate", impossible)
    with pytest.raises(handcalc.HandcalcError, match="student 'a1': no problem meets"):
        make_batch([Student("a1")], tmp_path, workers=1)


def test_a_long_index_knows_its_own_length(tmp_path):
    """100 students: 3 index pages of 48 lines, so the first key starts on page 4."""
    from handcalc.class_key import INDEX_ROWS, _index_pdf

    sheets = [
        Sheets(Student(f"id{i:03d}", f"Name {i:03d}"), i, "ABCD-EFGH", tmp_path, tmp_path, "")
        for i in range(100)
    ]
    pdf = pypdf.PdfReader(io.BytesIO(_index_pdf(sheets, [2] * 100, "letter", "", "T")))
    assert INDEX_ROWS == 48 and len(pdf.pages) == 3
    first, last = pdf.pages[0].extract_text(), pdf.pages[2].extract_text()
    assert "Name 000  id000  ABCD-EFGH     4" in first
    assert "Name 099  id099  ABCD-EFGH   202" in last
