"""An assignment's class PDFs as a job (web/jobs.py): the API (202, progress, download), the
instructor's page (a button, a page that refreshes itself, the failures listed), 404 for an
unknown or another assignment's job, the instructor's credentials required; in-process without
a queue, and through a real redis-server and a real Celery worker."""

from __future__ import annotations

import io
import re
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest
from flask import Flask
from flask.testing import FlaskClient
from handcalc.web.app import create_app
from web_support import SECRET, SPEC, TOKEN, csrf_of

import handcalc
from handcalc import jobs

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/: the queue's harness
from queue_support import Worker, queue_missing, redis_server

AUTH = {"Authorization": f"Bearer {TOKEN}"}
NAMES = ["Ada Lovelace", "Alan Turing", "Grace Hopper"]


def make_app(tmp_path: Path, **config: Any) -> Flask:
    """An app on a fresh SQLite file (these tests are about jobs, not the database)."""
    return create_app(
        {
            "HANDCALC_MODE": "testing",
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'handcalc.sqlite3'}",
            "SECRET_KEY": SECRET,
            "INSTRUCTOR_TOKEN": TOKEN,
            "STORAGE_URL": (tmp_path / "jobs").as_uri(),
            **config,
        }
    )


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    monkeypatch.delenv("HANDCALC_QUEUE_URL", raising=False)
    return make_app(tmp_path).test_client()


def new_class(client: FlaskClient, names: list[str], title: str = "Homework 1") -> int:
    r = client.post("/api/v1/assignments", headers=AUTH, json={"title": title, "spec": SPEC})
    assert r.status_code == 201, r.json
    aid = int(r.json["id"])
    r = client.post(f"/api/v1/assignments/{aid}/roster", headers=AUTH, json={"students": names})
    assert r.status_code == 200, r.json
    return aid


def finished(client: FlaskClient, status: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(status, headers=AUTH)
        assert r.status_code == 200, r.json
        if r.json["state"] == "finished":
            return dict(r.json)
        assert time.monotonic() < deadline, r.json
        time.sleep(0.2)


def sign_in(client: FlaskClient) -> str:
    page = client.get("/instructor/login").get_data(as_text=True)
    r = client.post("/instructor/login", data={"token": TOKEN, "csrf_token": csrf_of(page)})
    assert r.status_code == 303
    return csrf_of(client.get("/instructor/").get_data(as_text=True))


def pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def test_the_api_makes_the_class_pdfs_as_a_job(client: FlaskClient) -> None:
    """202 with the job's id and where to follow it; progress; the zip, whose sheets are the
    gradebook's single downloads (the same text), with the class key."""
    aid = new_class(client, NAMES)
    r = client.post(f"/api/v1/assignments/{aid}/sheets", headers=AUTH, json={"paper": "a4"})
    assert r.status_code == 202, r.json
    job = r.json["job"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", job) and r.json["total"] == 3
    assert r.headers["Location"] == r.json["status"] == f"/api/v1/assignments/{aid}/jobs/{job}"
    body = finished(client, r.json["status"])
    assert (body["total"], body["done"], body["failed"], body["failures"]) == (3, 3, 0, [])
    download = client.get(body["download"], headers=AUTH)
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert f"assignment-{aid}-sheets.zip" in download.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    top = f"assignment-{aid}"
    expected = {f"{top}/class-key.pdf"} | {
        f"{top}/{stem}-{mode}.pdf"
        for stem in ("ada-lovelace-1", "alan-turing-2", "grace-hopper-3")
        for mode in ("worksheet", "key", "solutions")
    }
    assert set(archive.namelist()) == expected
    sign_in(client)
    for mode in ("worksheet", "key"):
        single = client.get(f"/instructor/assignments/{aid}/students/2/{mode}.pdf")
        assert single.status_code == 200
        zipped = pdf_text(archive.read(f"{top}/alan-turing-2-{mode}.pdf"))
        assert zipped == pdf_text(single.data) and "Alan Turing" in zipped[0]
    key = pdf_text(archive.read(f"{top}/class-key.pdf"))
    assert all(name in key[0] for name in NAMES) and len(key) >= 4


def test_a_job_is_reached_under_its_own_assignment_only(client: FlaskClient) -> None:
    aid, other = new_class(client, NAMES[:1]), new_class(client, NAMES[1:2], "Homework 2")
    r = client.post(f"/api/v1/assignments/{aid}/sheets", headers=AUTH, json={})
    job = r.json["job"]
    finished(client, r.json["status"])
    for url in (
        f"/api/v1/assignments/{other}/jobs/{job}",
        f"/api/v1/assignments/{other}/jobs/{job}/download",
        f"/api/v1/assignments/{aid}/jobs/{'x' * 24}",
        f"/api/v1/assignments/{aid}/jobs/..%2F..%2Fetc",
        f"/api/v1/assignments/{aid}/jobs/{job}x/download",
        f"/api/v1/assignments/999/jobs/{job}",
    ):
        r = client.get(url, headers=AUTH)
        assert r.status_code == 404, url
        assert "error" in r.json
    # the instructor's credentials
    assert client.get(f"/api/v1/assignments/{aid}/jobs/{job}").status_code == 401
    assert client.post(f"/api/v1/assignments/{aid}/sheets", json={}).status_code == 401
    bad = {"Authorization": "Bearer not-the-token"}
    r = client.get(f"/api/v1/assignments/{aid}/jobs/{job}/download", headers=bad)
    assert r.status_code == 401
    page = client.get(f"/instructor/assignments/{aid}/jobs/{job}")
    assert page.status_code == 302 and "/instructor/login" in page.headers["Location"]
    assert client.get(f"/instructor/assignments/{aid}/jobs/{job}/download").status_code == 302
    # nothing to make, and a paper nobody has
    empty = client.post("/api/v1/assignments", headers=AUTH, json={"title": "E", "spec": SPEC})
    r = client.post(f"/api/v1/assignments/{empty.json['id']}/sheets", headers=AUTH, json={})
    assert r.status_code == 404 and "no students" in r.json["error"]["message"]
    r = client.post(f"/api/v1/assignments/{aid}/sheets", headers=AUTH, json={"paper": "a0"})
    assert r.status_code == 400


def test_the_page_shows_progress_failures_and_the_download(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A button on the assignment page starts the job; its page refreshes itself while it
    runs, then lists the student who failed, with the error, and links the zip."""
    real, seen = jobs.render_student, threading.Event()

    def grace_fails(job: Any) -> Any:
        if job.student.name == "Grace Hopper":
            seen.wait(30)  # the job runs until the test has seen its page at work
            raise handcalc.HandcalcError("no draw meets the budgets (a test)")
        return real(job)

    monkeypatch.setattr(jobs, "render_student", grace_fails)
    aid = new_class(client, NAMES)
    csrf = sign_in(client)
    assignment = client.get(f"/instructor/assignments/{aid}").get_data(as_text=True)
    assert f'action="/instructor/assignments/{aid}/sheets"' in assignment
    r = client.post(f"/instructor/assignments/{aid}/sheets", data={"csrf_token": csrf})
    assert r.status_code == 303
    url = r.headers["Location"]
    page = client.get(url).get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page and "Working:" in page
    seen.set()
    deadline = time.monotonic() + 90
    while "Finished:" not in page:
        assert time.monotonic() < deadline
        time.sleep(0.2)
        page = client.get(url).get_data(as_text=True)
    assert "http-equiv" not in page and "2 of 3 students, 1 failed" in page
    assert "<strong>Grace Hopper</strong> (id 3): no draw meets the budgets (a test)" in page
    link = re.search(r'href="([^"]+/download)"', page)
    assert link and link[1] == f"{url}/download"
    download = client.get(link[1])
    assert download.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert not any("grace" in n for n in archive.namelist())
    note = archive.read(f"assignment-{aid}/not-included.txt").decode()
    assert "Grace Hopper (id 3): no draw meets the budgets (a test)" in note
    # no CSRF token, no job
    assert client.post(f"/instructor/assignments/{aid}/sheets", data={}).status_code == 400


# --- through a real queue ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def queue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    why = queue_missing()
    if why:
        pytest.skip(why)
    folder = tmp_path_factory.mktemp("queue")
    storage = (folder / "jobs").as_uri()
    with redis_server() as url:
        env = {"HANDCALC_SECRET_KEY": SECRET, "HANDCALC_STORAGE_URL": storage}
        worker = Worker(url, env, folder / "worker.log", 1).wait_ready()
        try:
            yield url, storage
        finally:
            worker.stop()


def test_the_job_goes_to_the_workers_with_a_queue(
    queue: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, storage = queue
    monkeypatch.setenv("HANDCALC_QUEUE_URL", url)  # as a deployment sets it
    called: list[Any] = []
    monkeypatch.setattr(jobs, "run_inline", lambda *a, **k: called.append(a))
    client = make_app(tmp_path, STORAGE_URL=storage).test_client()
    aid = new_class(client, NAMES[:2])
    r = client.post(f"/api/v1/assignments/{aid}/sheets", headers=AUTH, json={})
    assert r.status_code == 202
    body = finished(client, r.json["status"])
    assert (body["done"], body["failed"]) == (2, 0) and called == []  # not run here
    archive = zipfile.ZipFile(io.BytesIO(client.get(body["download"], headers=AUTH).data))
    assert len(archive.namelist()) == 7
    assert "Ada Lovelace" in pdf_text(archive.read(f"assignment-{aid}/ada-lovelace-1-key.pdf"))[0]


def test_a_queue_that_cannot_be_reached_is_a_503(tmp_path: Path) -> None:
    from queue_support import free_port

    client = make_app(tmp_path, QUEUE_URL=f"redis://127.0.0.1:{free_port()}/0").test_client()
    aid = new_class(client, NAMES[:1])
    r = client.post(f"/api/v1/assignments/{aid}/sheets", headers=AUTH, json={})
    assert r.status_code == 503 and r.headers["Retry-After"] == "60"
    assert "queue cannot be reached" in r.json["error"]["message"]
    assert not list((tmp_path / "jobs").iterdir())  # nothing left behind


def test_a_job_whose_process_died_ends_instead_of_running_for_ever(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An in-process job outlives nothing: when its process stops (here its runner does
    nothing, as a process killed mid-job), its heartbeat goes stale and the next look at it ends
    it, saying why; a job heard of recently is left running."""
    from handcalc.web import jobs as web_jobs

    monkeypatch.setattr(jobs, "run_inline", lambda *a, **k: None)  # dies at once, silently
    aid = new_class(client, NAMES)
    r = client.post(f"/api/v1/assignments/{aid}/sheets", headers=AUTH, json={})
    status, job = r.json["status"], r.json["job"]
    heartbeat = tmp_path / "jobs" / job / web_jobs.HEARTBEAT
    time.sleep(0.3)
    assert heartbeat.exists()
    assert client.get(status, headers=AUTH).json["state"] == "running"  # heard of just now
    stale = time.time() - web_jobs.STALE_SECONDS - 1
    heartbeat.write_text(f"{stale}\n", encoding="utf-8")
    body = finished(client, status, timeout=30)
    assert (body["done"], body["failed"]) == (0, 3)
    assert all(
        "stopped" in f["error"] and "start the job again" in f["error"] for f in body["failures"]
    )
