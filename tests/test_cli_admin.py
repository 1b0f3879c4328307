"""``handcalc admin``: courses, instructors and API tokens made from the command line work on the
service (a token made here opens its course's API, a password set here signs in), passwords are
never arguments nor printed, and mistakes are one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from handcalc.cli import cli

SECRET = "s" * 20 + "-test-secret-0123456789"
TOKEN = "instructor-token-for-tests"
PASSWORD = "a-long-enough-password-7"


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'h.sqlite3'}"


def admin(url: str, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["admin", *args, "--database", url], input=stdin)
    return result.exit_code, result.output


def test_courses_instructors_and_tokens_made_here_work_on_the_service(url: str) -> None:
    from handcalc.web.app import create_app

    assert admin(url, "create-course", "ML 101") == (0, "course 2: ML 101\n")  # 1: the default
    code, said = admin(
        url, "add-instructor", "ada@example.edu", "--course", "ML 101", stdin=PASSWORD
    )
    assert code == 0 and "ada@example.edu teaches 'ML 101' (new account)" in said
    assert PASSWORD not in said
    code, said = admin(url, "token", "--course", "ML 101")
    token = said.splitlines()[0]
    assert code == 0 and token.startswith("hcc_") and len(token) > 30
    code, said = admin(url, "list-courses")
    assert code == 0
    assert "2\tML 101\tada@example.edu\t0 assignments\t1 API token\n" in said
    assert "1\tDefault course\tno instructor\t0 assignments\t0 API tokens\n" in said

    app = create_app(
        {"HANDCALC_MODE": "testing", "DATABASE_URL": url, "SECRET_KEY": SECRET,
         "INSTRUCTOR_TOKEN": TOKEN, "WTF_CSRF_ENABLED": False}
    )  # fmt: skip
    client = app.test_client()
    r = client.post(
        "/api/v1/assignments",
        headers={"Authorization": f"Bearer {token}"},
        json={"title": "HW", "spec": {"sizes": [2, 2, 2]}},
    )
    assert r.status_code == 201 and r.json["course"] == 2
    login = {"login": "ada@example.edu", "password": PASSWORD}
    assert client.post("/instructor/login", data=login).status_code == 303
    # revoked: the token opens nothing any more
    assert admin(url, "token", "--course", "ML 101", "--revoke")[1].startswith("1 API token of")
    r = client.get("/api/v1/assignments/1/stats", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    # a second course for ada: no password asked; closing her account signs her out
    admin(url, "create-course", "ML 102")
    code, said = admin(url, "add-instructor", "ada@example.edu", "--course", "ML 102")
    assert code == 0 and "(existing account)" in said
    assert (
        "ada@example.edu: account closed" in admin(url, "remove-instructor", "ada@example.edu")[1]
    )
    assert client.get("/instructor/").status_code == 302
    app.extensions["handcalc.db"].kw["bind"].dispose()


def test_mistakes_are_one_line(url: str) -> None:
    admin(url, "create-course", "ML 101")
    assert admin(url, "create-course", "ML 101") == (
        1,
        "Error: there is a course 'ML 101' already\n",
    )
    code, said = admin(url, "add-instructor", "bo", "--course", "ML 999", stdin=PASSWORD)
    assert code == 1 and "no course 'ML 999' (there are: " in said
    code, said = admin(url, "add-instructor", "bo", "--course", "ML 101", stdin="short\n")
    assert code == 1 and "password: at least 12 characters" in said and "short" not in said[6:]
    code, said = admin(url, "add-instructor", "bo", "--course", "ML 101", stdin="")
    assert code == 1 and "no password on standard input" in said
    assert admin(url, "remove-instructor", "nobody")[0] == 1
    code, said = admin("postgresql+psycopg://u:secret@127.0.0.1:1/x", "list-courses")
    assert code == 1 and "cannot reach the database" in said and "secret" not in said
