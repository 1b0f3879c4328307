"""Handing out a class from the instructor's pages: the roster typed one name a line or uploaded
as CSV, the links as CSV (pages and API), each student's PDFs, and the class's PDFs as one zip."""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from collections import Counter
from typing import Any
from urllib.parse import unquote, urlsplit

import pypdf
import pytest
from flask.testing import FlaskClient
from handcalc.web import handout, roster
from handcalc.web.tokens import variant_seed
from web_support import SECRET, SPEC, TOKEN, csrf_of, student_problem

from handcalc.layout import printed

PAGE = "/instructor/assignments/{}"


def sign_in(client: FlaskClient) -> str:
    """Sign in; a CSRF token of the session."""
    page = client.get("/instructor/login").get_data(as_text=True)
    r = client.post("/instructor/login", data={"token": TOKEN, "csrf_token": csrf_of(page)})
    assert r.status_code == 303
    return csrf_of(client.get("/instructor/").get_data(as_text=True))


def flashes(page: str) -> list[tuple[str, str]]:
    """The page's messages: flashed (a success) or an error shown with its form."""
    shown = r'<p class="flash (flash-\w+)" role="(?:status|alert)"[^>]*>([^<]*)</p>'
    found = re.findall(shown, page)
    return [(kind, html.unescape(text)) for kind, text in found]


def roster_names(client: FlaskClient, aid: int, auth: dict[str, str]) -> list[str]:
    text = client.get(f"/api/v1/assignments/{aid}/links.csv", headers=auth).get_data(as_text=True)
    return [row["name"] for row in csv.DictReader(io.StringIO(text))]


def add_typed(client: FlaskClient, aid: int, csrf: str, text: str) -> list[tuple[str, str]]:
    r = client.post(
        f"{PAGE.format(aid)}/roster",
        data={"csrf_token": csrf, "students": text},
        follow_redirects=True,
    )
    page = r.get_data(as_text=True)
    said = flashes(page)
    if said and said[0][0] == "flash-error":  # refused: the page again, the names as typed
        assert r.status_code == 400
        shown = re.search(r'<textarea name="students"[^>]*>([^<]*)</textarea>', page)
        assert shown and html.unescape(shown[1]) == text
    else:
        assert r.status_code == 200
    return said


def upload(client: FlaskClient, aid: int, csrf: str, data: bytes, name: str = "roster.csv") -> Any:
    r = client.post(
        f"{PAGE.format(aid)}/roster",
        data={"csrf_token": csrf, "source": "csv", "roster": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    said = flashes(r.get_data(as_text=True))
    assert r.status_code == (400 if said and said[0][0] == "flash-error" else 200)
    return said


def text_of(pdf: bytes) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def tokens(text: str) -> Counter[str]:
    return Counter(text.replace("−", "-").split())


# --- the roster -------------------------------------------------------------------------------


def test_one_name_a_line_keeps_commas_in_names(
    client: FlaskClient, assignment: int, auth: dict[str, str]
) -> None:
    csrf = sign_in(client)
    said = add_typed(client, assignment, csrf, "Hopper, Grace\n  Ada Lovelace \n\nHopper, Grace\n")
    assert said == [("flash-ok", "2 students added.")]
    assert roster_names(client, assignment, auth) == ["Hopper, Grace", "Ada Lovelace"]
    said = add_typed(client, assignment, csrf, "Ada Lovelace\nAlan Turing")
    assert said == [("flash-ok", "1 student added; 1 was on the roster already (links unchanged).")]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Type at least one student name (one a line)."),
        ("\n  \n", "Type at least one student name (one a line)."),
        ("ada\n" + "x" * 101, "name 2: 101 characters ('xxxxx"),
        ("ada\nbad\x00name", "name 2: 'bad\\x00name' holds the control character U+0000"),
    ],
)
def test_a_roster_that_cannot_be_read_adds_nobody(
    client: FlaskClient, assignment: int, auth: dict[str, str], typed: str, message: str
) -> None:
    said = add_typed(client, assignment, sign_in(client), typed)
    assert len(said) == 1 and said[0][0] == "flash-error"
    assert said[0][1].startswith("Nobody was added. " + message), said
    assert roster_names(client, assignment, auth) == []


def test_too_many_names_at_once(
    client: FlaskClient, assignment: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(roster, "MAX_ROSTER", 3)
    said = add_typed(client, assignment, sign_in(client), "a\nb\nc\nd")
    assert said == [
        ("flash-error", "Nobody was added. 4 students at once; at most 3 (add the rest after)")
    ]


def test_a_roster_csv_as_handcalc_batch_takes_it(
    client: FlaskClient, assignment: int, auth: dict[str, str]
) -> None:
    csrf = sign_in(client)
    data = '\ufeffid,name,email\ns1,"Hopper, Grace",g@x\ns2,,a@x\n\ns3,Grégoire Dupont,\n'
    said = upload(client, assignment, csrf, data.encode())
    assert said == [("flash-ok", "3 students added.")]
    # the name where there is one, else the id
    assert roster_names(client, assignment, auth) == ["Hopper, Grace", "s2", "Grégoire Dupont"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "roster.csv: empty; expected a header line with the columns id and name"),
        (b"name\nada\n", "roster.csv: no 'id' column; the header line has name"),
        (b"id,name\n", "roster.csv: no students below the header line"),
        (b"id,name\ns1,ada\ns1,alan\n", "roster.csv line 3: duplicate id 's1' (first on line 2)"),
        (b"id,name\ns1,\xe9mile\n", "roster.csv: not UTF-8 text (byte 0xe9 at offset 11)"),
        (b"PK\x03\x04\x14\x00\x06\x00", "roster.csv: not a CSV text file (it holds the control"),
        (
            b"id,name\ns1,Ada\ns3,Hopper, Grace\n",
            "roster.csv line 3: 3 fields where the header has 2 (' Grace' left over); put a "
            'name with a comma in quotes: s3,"Hopper, Grace"',
        ),
        (
            b"id,name\ns1,Li Wei\ns2,Li Wei\n",
            "roster.csv: ids 's1' and 's2' have the same name 'Li Wei'; the service tells "
            "students apart by name, so make the names differ (e.g. 'Li Wei (s2)')",
        ),
        (
            b"id,name\ns1," + b"y" * 101 + b"\n",
            "roster.csv: the student with id 's1': 101 characters ('yyyy",
        ),
    ],
)
def test_a_roster_csv_that_cannot_be_read_adds_nobody(
    client: FlaskClient, assignment: int, auth: dict[str, str], data: bytes, message: str
) -> None:
    said = upload(client, assignment, sign_in(client), data)
    assert len(said) == 1 and said[0][0] == "flash-error", said
    assert said[0][1].startswith("Nobody was added. " + message), said
    assert roster_names(client, assignment, auth) == []


def test_the_upload_form_without_a_file(client: FlaskClient, assignment: int) -> None:
    csrf = sign_in(client)
    r = client.post(
        f"{PAGE.format(assignment)}/roster",
        data={"csrf_token": csrf, "source": "csv"},
        follow_redirects=True,
    )
    assert flashes(r.get_data(as_text=True)) == [
        ("flash-error", "Nobody was added. Choose a roster CSV file to upload.")
    ]
    # a file name from the client is shown without its path or control characters
    said = upload(client, assignment, csrf, b"", "/home/me/class\x07.csv")
    assert said[0][1].startswith("Nobody was added. class.csv: empty")


# --- links ------------------------------------------------------------------------------------


def test_links_csv_from_the_page_and_the_api(
    client: FlaskClient, assignment: int, auth: dict[str, str]
) -> None:
    csrf = sign_in(client)
    add_typed(client, assignment, csrf, 'Hopper, Grace\n=HYPERLINK("x")\n@sum\n李伟')
    page = client.get(PAGE.format(assignment)).get_data(as_text=True)
    assert f'href="/instructor/assignments/{assignment}/links.csv"' in page
    r = client.get(f"{PAGE.format(assignment)}/links.csv")
    api = client.get(f"/api/v1/assignments/{assignment}/links.csv", headers=auth)
    for response in (r, api):
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert response.headers["Cache-Control"] == "no-store"  # links are credentials
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="assignment-{assignment}-links.csv"'
        )
    assert r.data == api.data
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0] == ["student_id", "name", "link"]
    assert [row[1] for row in rows[1:]] == ["Hopper, Grace", '\'=HYPERLINK("x")', "'@sum", "李伟"]
    for sid, _name, link in rows[1:]:
        parts = urlsplit(link)
        assert parts.scheme == "http" and parts.netloc == "localhost", link
        student = client.get(f"/api/v1{parts.path}").json  # the link opens that student's page
        assert student["student"] == dict((r[0], r[1]) for r in rows[1:])[sid].lstrip("'")
    # the instructor's only: the pages want a session, the API the token
    anonymous = client.application.test_client()
    assert anonymous.get(f"{PAGE.format(assignment)}/links.csv").status_code == 302
    assert anonymous.get(f"/api/v1/assignments/{assignment}/links.csv").status_code == 401
    assert client.get("/api/v1/assignments/999/links.csv", headers=auth).status_code == 404


def test_grades_csv_keeps_formulas_out_and_links_apart(
    client: FlaskClient, assignment: int
) -> None:
    csrf = sign_in(client)
    add_typed(client, assignment, csrf, "=1+1\n-2\n+3\n@x\nplain")
    text = client.get(f"{PAGE.format(assignment)}/grades.csv").get_data(as_text=True)
    names = [row["student"] for row in csv.DictReader(io.StringIO(text))]
    assert names == ["'=1+1", "'-2", "'+3", "'@x", "plain"]
    assert "/s/" not in text  # links are credentials: they travel in links.csv only


# --- a student's PDFs -------------------------------------------------------------------------


def pdf_url(aid: int, sid: int, mode: str) -> str:
    return f"{PAGE.format(aid)}/students/{sid}/{mode}.pdf"


def test_a_students_worksheet_key_and_solutions(
    client: FlaskClient, assignment: int, auth: dict[str, str]
) -> None:
    csrf = sign_in(client)
    add_typed(client, assignment, csrf, "Grégoire Dupont, Jr.\nada")
    sid = 1
    problem = student_problem(assignment, "Grégoire Dupont, Jr.")
    page = client.get(PAGE.format(assignment)).get_data(as_text=True)
    got = {}
    for mode in ("worksheet", "key", "solutions"):
        assert f'href="{pdf_url(assignment, sid, mode)}"' in page
        r = client.get(pdf_url(assignment, sid, mode))
        assert r.status_code == 200 and r.mimetype == "application/pdf", r.data[:200]
        assert r.headers["Cache-Control"] == "no-store"
        stem = f"assignment-{assignment}-gregoire-dupont-jr-{sid}-{mode}.pdf"
        assert r.headers["Content-Disposition"] == (
            f"attachment; filename=\"{stem}\"; filename*=UTF-8''"
            f"assignment-{assignment}-gr%C3%A9goire-dupont-jr-{sid}-{mode}.pdf"
        )
        pages, text = text_of(r.data)
        assert pages >= 1
        assert "Homework 1 · Grégoire Dupont, Jr." in text, text[:200]
        got[mode] = text
    # the key holds what the worksheet leaves blank: the loss, the updated weights
    answers = [  # as the sheet prints them: 1.219, not 1219/1000
        v.replace("−", "-")
        for cell in ("loss", "W2_new", "b2_new")
        for row in printed(problem, cell)
        for v in row
    ]
    assert Counter(answers) <= tokens(got["key"]) - tokens(got["worksheet"])
    assert answers[1] in got["key"].replace("−", "-")
    assert "Backward pass" in got["solutions"]
    # the same problem as the JSON key, whose file name now says whose it is too
    key = client.get(f"{PAGE.format(assignment)}/students/{sid}/key")
    assert key.json["given"] == problem.to_dict()["given"]
    assert (
        f'filename="assignment-{assignment}-gregoire-dupont-jr-{sid}-key.json"'
        in (key.headers["Content-Disposition"])
    )


def test_pdf_file_names_of_names_without_ascii_letters(
    client: FlaskClient, assignment: int
) -> None:
    add_typed(client, assignment, sign_in(client), '李伟\n../../etc/passwd\n"quoted";x')
    heads = [
        client.get(pdf_url(assignment, sid, "worksheet")).headers["Content-Disposition"]
        for sid in (1, 2, 3)
    ]
    assert heads[0] == (
        f'attachment; filename="assignment-{assignment}-student-1-worksheet.pdf"; '
        f"filename*=UTF-8''assignment-{assignment}-%E6%9D%8E%E4%BC%9F-1-worksheet.pdf"
    )
    assert unquote(heads[0].split("''")[1]) == f"assignment-{assignment}-李伟-1-worksheet.pdf"
    assert heads[1] == f'attachment; filename="assignment-{assignment}-etc-passwd-2-worksheet.pdf"'
    assert heads[2] == f'attachment; filename="assignment-{assignment}-quoted-x-3-worksheet.pdf"'


def test_letter_paper(client: FlaskClient, assignment: int) -> None:
    add_typed(client, assignment, sign_in(client), "ada")
    r = client.get(pdf_url(assignment, 1, "key") + "?paper=letter")
    box = pypdf.PdfReader(io.BytesIO(r.data)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    page = client.get(PAGE.format(assignment) + "?paper=letter").get_data(as_text=True)
    assert f'href="{pdf_url(assignment, 1, "key")}?paper=letter"' in page


@pytest.mark.parametrize(
    ("path", "code", "message"),
    [
        ("/students/1/answers.pdf", 404, "no 'answers' PDF; there are: worksheet, key, solutions"),
        (
            "/students/1/key.pdf?paper=a5",
            400,
            "paper: 'a5' is not accepted; accepted: a4, letter, a3",
        ),
        ("/students/99/key.pdf", 404, "no student 99 on the roster of assignment"),
        ("/students/0/key.pdf", 404, "no student 0"),
    ],
)
def test_pdfs_that_are_not_there(
    client: FlaskClient, assignment: int, path: str, code: int, message: str
) -> None:
    add_typed(client, assignment, sign_in(client), "ada")
    r = client.get(PAGE.format(assignment) + path)
    assert r.status_code == code
    assert message in r.get_data(as_text=True).replace("&#39;", "'")


def test_another_assignments_student_is_not_on_this_roster(
    client: FlaskClient, assignment: int, auth: dict[str, str]
) -> None:
    other = client.post(
        "/api/v1/assignments", headers=auth, json={"title": "Other", "spec": SPEC}
    ).json["id"]
    client.post(f"/api/v1/assignments/{other}/roster", headers=auth, json={"students": ["bob"]})
    sign_in(client)
    assert client.get(pdf_url(assignment, 1, "key")).status_code == 404
    assert client.get(pdf_url(other, 1, "key")).status_code == 200


def test_keys_are_the_instructors_only(
    client: FlaskClient, assignment: int, roster: dict[str, str]
) -> None:
    for mode in ("worksheet", "key", "solutions"):
        r = client.get(pdf_url(assignment, 1, mode))
        assert r.status_code == 302 and "/instructor/login" in r.headers["Location"]
    r = client.post(f"{PAGE.format(assignment)}/pdfs.zip")
    assert r.status_code in (302, 400)  # signed out (or no CSRF token): nothing is rendered
    # the student's page offers none of the instructor's downloads
    html = client.get(roster["ada"]).get_data(as_text=True)
    assert ".pdf" not in html and "links.csv" not in html and "/key" not in html


# --- the class's PDFs as one zip --------------------------------------------------------------


def class_zip(client: FlaskClient, aid: int, csrf: str, **form: str) -> Any:
    return client.post(f"{PAGE.format(aid)}/pdfs.zip", data={"csrf_token": csrf, **form})


def test_the_class_as_one_zip(client: FlaskClient, assignment: int) -> None:
    csrf = sign_in(client)
    add_typed(client, assignment, csrf, "Hopper, Grace\nAlan Turing\n李伟")
    page = client.get(PAGE.format(assignment)).get_data(as_text=True)
    assert f'action="/instructor/assignments/{assignment}/pdfs.zip"' in page
    r = class_zip(client, assignment, csrf)
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert r.is_streamed  # made while it is sent
    assert r.headers["Cache-Control"] == "no-store"
    top = f"assignment-{assignment}-students-1-3"
    assert r.headers["Content-Disposition"] == f'attachment; filename="{top}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(r.data))
    assert archive.testzip() is None
    stems = ["hopper-grace-1", "alan-turing-2", "李伟-3"]
    assert archive.namelist() == [
        *(
            f"{top}/{folder}/{stem}-{mode}.pdf"
            for stem in stems
            for folder, mode in (
                ("worksheets", "worksheet"),
                ("keys", "key"),
                ("solutions", "solutions"),
            )
        ),
        f"{top}/class-key.pdf",
        f"{top}/links.csv",
    ]
    # each file is the one the student's own download gives
    for sid, stem in enumerate(stems, start=1):
        for mode, folder in (("key", "keys"), ("worksheet", "worksheets")):
            single = client.get(pdf_url(assignment, sid, mode)).data
            assert text_of(archive.read(f"{top}/{folder}/{stem}-{mode}.pdf")) == text_of(single)
    # the class key: every key, in order of the roster, titled
    pages, text = text_of(archive.read(f"{top}/class-key.pdf"))
    keys = [text_of(archive.read(f"{top}/keys/{stem}-key.pdf")) for stem in stems]
    assert pages == sum(n for n, _ in keys)
    assert text.index("Hopper, Grace") < text.index("Alan Turing")
    reader = pypdf.PdfReader(io.BytesIO(archive.read(f"{top}/class-key.pdf")))
    assert reader.metadata and reader.metadata.title == (
        "Homework 1 — class answer key (students 1–3)"
    )
    links = list(csv.reader(io.StringIO(archive.read(f"{top}/links.csv").decode())))
    assert [row[:2] for row in links] == [
        ["student_id", "name"],
        ["1", "Hopper, Grace"],
        ["2", "Alan Turing"],
        ["3", "李伟"],
    ]


def test_a_large_class_comes_in_parts(
    client: FlaskClient, assignment: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handout, "CLASS_PART", 2)
    csrf = sign_in(client)
    add_typed(client, assignment, csrf, "ada\nalan\ngrace")
    page = client.get(PAGE.format(assignment)).get_data(as_text=True)
    assert '<option value="1">1–2</option><option value="2">3–3</option>' in page
    assert "A class of 3 comes in 2 parts of up to 2 students" in page
    r = class_zip(client, assignment, csrf, part="2", paper="letter")
    top = f"assignment-{assignment}-students-3-3"
    archive = zipfile.ZipFile(io.BytesIO(r.data))
    assert sorted(archive.namelist()) == sorted(
        [
            f"{top}/worksheets/grace-3-worksheet.pdf",
            f"{top}/keys/grace-3-key.pdf",
            f"{top}/solutions/grace-3-solutions.pdf",
            f"{top}/class-key.pdf",
            f"{top}/links.csv",
        ]
    )
    box = pypdf.PdfReader(io.BytesIO(archive.read(f"{top}/keys/grace-3-key.pdf"))).pages[0]
    assert round(float(box.mediabox.width)) == 612  # letter
    for part, code in (("3", 404), ("0", 400), ("x", 400), ("²", 400)):
        r = class_zip(client, assignment, csrf, part=part)
        assert r.status_code == code, part
        assert "part" in r.get_data(as_text=True)
    assert class_zip(client, assignment, csrf, paper="a5").status_code == 400


def test_an_empty_class_has_no_zip(client: FlaskClient, assignment: int) -> None:
    csrf = sign_in(client)
    page = client.get(PAGE.format(assignment)).get_data(as_text=True)
    assert "pdfs.zip" not in page and "links.csv" not in page
    r = class_zip(client, assignment, csrf)
    assert r.status_code == 404
    assert "has no students yet" in r.get_data(as_text=True)
    assert class_zip(client, 999, csrf).status_code == 404


def test_students_left_out_of_a_zip_are_named_in_it(
    client: FlaskClient, assignment: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    csrf = sign_in(client)
    add_typed(client, assignment, csrf, "ada\nalan\ngrace")
    real_problem, real_pdf = handout.access.variant_problem, handout.pdf
    alan = variant_seed(SECRET, assignment, "alan")

    def no_problem_for_alan(kind: str, spec_json: str, seed: int) -> Any:
        return None if seed == alan else real_problem(kind, spec_json, seed)

    def grace_fails(*args: Any) -> bytes:
        if args[4] == "grace":
            raise RuntimeError("a bug")
        return real_pdf(*args)

    monkeypatch.setattr(handout.access, "variant_problem", no_problem_for_alan)
    monkeypatch.setattr(handout, "pdf", grace_fails)
    r = class_zip(client, assignment, csrf)
    archive = zipfile.ZipFile(io.BytesIO(r.data))
    assert archive.testzip() is None
    top = f"assignment-{assignment}-students-1-3"
    names = archive.namelist()
    assert f"{top}/keys/ada-1-key.pdf" in names and f"{top}/class-key.pdf" in names
    assert not any("alan" in n or "grace" in n for n in names)
    note = archive.read(f"{top}/not-included.txt").decode()
    assert "alan (id 2): the assignment's options make no problem for this student" in note
    assert "grace (id 3): making the PDFs failed (logged)" in note


def test_the_zip_needs_the_forms_csrf_token(client: FlaskClient, assignment: int) -> None:
    add_typed(client, assignment, sign_in(client), "ada")
    r = client.post(f"{PAGE.format(assignment)}/pdfs.zip")
    assert r.status_code == 400
    assert "expired or was not sent from this site" in r.get_data(as_text=True)


def test_a_download_gives_up_after_failures_in_a_row(
    client: FlaskClient, assignment: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    csrf = sign_in(client)
    add_typed(client, assignment, csrf, "a\nb\nc\nd\ne")

    def broken(*args: Any) -> bytes:
        raise RuntimeError("a bug that fails every student")

    monkeypatch.setattr(handout, "pdf", broken)
    archive = zipfile.ZipFile(io.BytesIO(class_zip(client, assignment, csrf).data))
    top = f"assignment-{assignment}-students-1-5"
    assert archive.namelist() == [f"{top}/links.csv", f"{top}/not-included.txt"]
    note = archive.read(f"{top}/not-included.txt").decode().splitlines()
    assert note[1:] == [
        "a (id 1): making the PDFs failed (logged)",
        "b (id 2): making the PDFs failed (logged)",
        "c (id 3): making the PDFs failed (logged)",
        "d (id 4): not tried after 3 failures in a row",
        "e (id 5): not tried after 3 failures in a row",
    ]
