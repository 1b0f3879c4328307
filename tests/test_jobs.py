"""Class PDFs as jobs (handcalc.jobs, handcalc.storage, handcalc.tasks, handcalc batch --queue,
handcalc worker): in-process without Redis, and through a real redis-server and real Celery
workers started here on a free loopback port."""

from __future__ import annotations

import io
import os
import subprocess
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest
from click.testing import CliRunner
from queue_support import HANDCALC, Worker, queue_missing, redis_server

from handcalc import jobs
from handcalc.batch import make_batch
from handcalc.cli import cli
from handcalc.roster import Student
from handcalc.storage import JobNotFound, StorageError, open_storage

SECRET = "test-secret-of-the-queue-tests-0123456789"
CLASS = [Student("s1", "Ada Lovelace"), Student("s2", "Alan Turing"), Student("s3", "Grace Hopper")]
#: options near the generator's limits: student s9's own variant makes no problem, s0's and s1's do
TIGHT = {"sizes": [6, 6], "batch": 5}


def texts(path: Path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def same_files(a: Path, b: Path) -> None:
    """The same file names in both folders, and every PDF with the same text page by page."""
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir())
    for name in names:
        assert texts(a / name) == texts(b / name), name


# --- in-process: no Redis ---------------------------------------------------------------------


def test_a_job_runs_in_process_without_a_broker(tmp_path: Path) -> None:
    """No queue configured: the same task functions run here, and write what handcalc batch
    writes (the names and the text of every PDF, the class key too), plus one zip."""
    storage = open_storage((tmp_path / "jobs").as_uri())
    job = jobs.new_job(storage, CLASS, secret=SECRET, date="2026-01-05", owner="me")
    assert jobs.progress(storage, job).to_dict()["state"] == "running"
    jobs.run_inline(storage, job, SECRET)
    now = jobs.progress(storage, job)
    assert (now.total, now.done, now.failed, now.finished, now.owner) == (3, 3, [], True, "me")
    expected = tmp_path / "batch"
    make_batch(CLASS, expected, secret=SECRET, date="2026-01-05", workers=1)
    same_files(storage.files(job), expected)
    for s in CLASS:
        pages = texts(storage.files(job) / f"{s.id}-worksheet.pdf")
        assert len(pages) >= 1 and s.name in pages[0] and s.id in pages[0]
    archive = zipfile.ZipFile(storage.result(job))
    assert sorted(archive.namelist()) == sorted(f"sheets/{p.name}" for p in expected.iterdir())
    class_key = (storage.files(job) / "class-key.pdf").read_bytes()
    assert archive.read("sheets/class-key.pdf") == class_key


def test_job_ids_are_random_and_never_a_path(tmp_path: Path) -> None:
    storage = open_storage((tmp_path / "jobs").as_uri())
    ids = {storage.new_job_id() for _ in range(50)}
    assert len(ids) == 50 and all(len(i) == 24 for i in ids)
    for bad in ("../../etc", "short", "a" * 80, "abc/def" * 4, ""):
        with pytest.raises(JobNotFound):
            jobs.progress(storage, bad)
    with pytest.raises(JobNotFound, match="retention"):
        jobs.progress(storage, storage.new_job_id())
    with pytest.raises(StorageError, match="file:///"):
        open_storage("s3://bucket/jobs")
    with pytest.raises(StorageError, match="ABSOLUTE"):
        open_storage("file://server/jobs")


def test_retention_removes_an_expired_jobs_files(tmp_path: Path, monkeypatch: Any) -> None:
    storage = open_storage((tmp_path / "jobs").as_uri())
    old = jobs.new_job(storage, CLASS[:1], secret=SECRET)
    (storage.files(old) / "s1-worksheet.pdf").write_bytes(b"%PDF")
    made = jobs.progress(storage, old).created
    assert storage.remove_expired(now=made + 23.9 * 3600) == []
    assert storage.remove_expired(now=made + 24.1 * 3600) == [old]  # 24 h by default
    assert not storage.folder(old).exists()
    with pytest.raises(JobNotFound):
        jobs.progress(storage, old)
    # the retention time from the environment; making a job removes the expired ones first
    monkeypatch.setenv("HANDCALC_JOB_RETENTION_HOURS", "0.0001")
    old = jobs.new_job(storage, CLASS[:1], secret=SECRET)
    time.sleep(0.5)
    new = jobs.new_job(storage, CLASS[:1], secret=SECRET)
    assert not storage.folder(old).exists() and storage.folder(new).exists()
    monkeypatch.setenv("HANDCALC_JOB_RETENTION_HOURS", "soon")
    with pytest.raises(StorageError, match="RETENTION"):
        storage.remove_expired()


def test_a_storage_error_is_retried_with_backoff(tmp_path: Path, monkeypatch: Any) -> None:
    """The task retries a storage error (OSError) and the student is done; a student's own bad
    input is not retried (Celery's eager mode: the task's own code, no broker)."""
    pytest.importorskip("celery")
    from handcalc import tasks

    storage = open_storage((tmp_path / "jobs").as_uri())
    monkeypatch.setenv("HANDCALC_STORAGE_URL", storage.url)
    monkeypatch.setenv("HANDCALC_SECRET_KEY", SECRET)
    job = jobs.new_job(storage, CLASS[:2], secret=SECRET)
    real, calls = jobs.run_student, []

    def flaky(*args: Any) -> bool:
        calls.append(args[2])
        if len(calls) == 1:
            raise OSError(5, "Input/output error")
        return real(*args)

    monkeypatch.setattr(jobs, "run_student", flaky)
    monkeypatch.setitem(tasks.app.conf, "task_always_eager", True)
    tasks.student_task.apply(("job", 0))  # not a job: logged, nothing else
    tasks.student_task.apply((job, 0))
    assert calls == [0, 0] and jobs.progress(storage, job).done == 1
    tasks.student_task.apply((job, 1))  # the last student: the last step runs too
    assert calls == [0, 0, 1] and jobs.progress(storage, job).finished
    assert [tasks.backoff(n) // 1 for n in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_a_worker_with_another_secret_fails_every_student_clearly(tmp_path: Path) -> None:
    storage = open_storage((tmp_path / "jobs").as_uri())
    job = jobs.new_job(storage, CLASS[:1], secret=SECRET)
    assert jobs.run_student(storage, job, 0, "another-secret-entirely-0123456789abcdef")
    (failure,) = jobs.progress(storage, job).failed
    assert "HANDCALC_SECRET_KEY" in failure["error"] and failure["id"] == "s1"


# --- through Redis and real workers -----------------------------------------------------------


@pytest.fixture(scope="module")
def redis() -> Iterator[str]:
    why = queue_missing()
    if why:
        pytest.skip(why)
    with redis_server() as url:
        yield url


@pytest.fixture(scope="module")
def queue_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("queue")
    return {
        "HANDCALC_SECRET_KEY": SECRET,
        "HANDCALC_STORAGE_URL": (folder / "jobs").as_uri(),
        "HANDCALC_QUEUE_VISIBILITY_SECONDS": "4",  # a killed worker's tasks come back soon
    }


@pytest.fixture(scope="module")
def worker(redis: str, queue_env: dict[str, str], tmp_path_factory: Any) -> Iterator[Worker]:
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    started = Worker(redis, queue_env, log, 2, "--max-tasks-per-child", "3").wait_ready()
    yield started
    started.stop()


def test_batch_through_the_queue_writes_what_it_writes_without(
    worker: Worker, redis: str, queue_env: dict[str, str], tmp_path: Path
) -> None:
    """handcalc batch --queue: a real worker makes the sheets (in processes replaced every 3
    tasks), the command waits with its progress bar, and OUT has the same files as without."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\n" + "".join(f"s{i},Student Number{i}\n" for i in range(1, 5)))
    env = {**os.environ, **queue_env}
    queued = subprocess.run(
        [HANDCALC, "batch", str(roster), "--out", str(tmp_path / "q"), "--queue", redis],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert queued.returncode == 0, queued.stderr + worker.log.read_text()[-3000:]
    assert "4/4" in queued.stderr and "wrote 8 sheets for 4 students" in queued.stderr
    here = CliRunner().invoke(
        cli, ["batch", str(roster), "--out", str(tmp_path / "p"), "--workers", "1"],
        env={"HANDCALC_QUEUE_URL": "", "HANDCALC_SECRET_KEY": SECRET},
    )  # fmt: skip
    assert here.exit_code == 0, here.output
    same_files(tmp_path / "q", tmp_path / "p")
    first = texts(tmp_path / "q" / "s3-key.pdf")
    assert "Student Number3" in first[0] and len(first) >= 1
    assert "handcalc.student" in worker.log.read_text()
    assert not list(open_storage(queue_env["HANDCALC_STORAGE_URL"]).root.iterdir())  # removed


def test_a_failing_student_is_reported_and_the_others_finish(
    worker: Worker, redis: str, queue_env: dict[str, str]
) -> None:
    storage = open_storage(queue_env["HANDCALC_STORAGE_URL"])
    students = [Student("s0", "Zero"), Student("s9", "Nine"), Student("s1", "One")]
    job = jobs.new_job(storage, students, options=TIGHT, secret=SECRET)
    jobs.send(storage, job, redis)
    done = jobs.wait(storage, job, timeout=120)
    assert (done.total, done.done, done.finished) == (3, 2, True)
    (failed,) = done.failed
    assert (failed["id"], failed["name"], failed["index"]) == ("s9", "Nine", 1)
    assert "student 's9'" in failed["error"] and "budgets" in failed["error"]
    archive = zipfile.ZipFile(storage.result(job))
    names = set(archive.namelist())
    assert {"sheets/s0-key.pdf", "sheets/s1-worksheet.pdf", "sheets/class-key.pdf"} <= names
    assert not any("s9" in n for n in names)
    assert "Nine (id s9): student 's9'" in archive.read("sheets/not-included.txt").decode()
    key = pypdf.PdfReader(io.BytesIO(archive.read("sheets/class-key.pdf")))
    assert "One" in key.pages[0].extract_text() and "Nine" not in key.pages[0].extract_text()


def test_a_killed_worker_leaves_its_tasks_to_another(
    redis: str, queue_env: dict[str, str], tmp_path: Path
) -> None:
    """acks_late: a worker killed mid-job (SIGKILL, its pool too) acknowledged nothing it had
    taken; another worker started after it finishes the job, every student done."""
    import redis as redis_client

    url = redis.removesuffix("/0") + "/1"  # a database of its own: no other worker there
    storage = open_storage(queue_env["HANDCALC_STORAGE_URL"])
    students = [Student(f"k{i}", f"Kill Test{i}") for i in range(5)]
    job = jobs.new_job(storage, students, secret=SECRET)
    first = Worker(url, queue_env, tmp_path / "first.log", 1).wait_ready()
    jobs.send(storage, job, url)
    broker = redis_client.Redis.from_url(url)
    deadline = time.monotonic() + 60
    # killed while it works on a task after the first: one done, one taken and not acknowledged
    while jobs.progress(storage, job).done < 1 or not broker.hlen("unacked"):
        assert time.monotonic() < deadline, first.log.read_text()[-2000:]
        time.sleep(0.02)
    first.kill()
    held = broker.hlen("unacked")
    now = jobs.progress(storage, job)
    assert held >= 1 and now.done < 5 and not now.finished  # killed with tasks in hand
    second = Worker(url, queue_env, tmp_path / "second.log", 1).wait_ready()
    try:
        done = jobs.wait(storage, job, timeout=90)
    finally:
        second.stop()
    assert (done.done, done.failed, done.finished) == (5, [], True)
    assert len(zipfile.ZipFile(storage.result(job)).namelist()) == 11


def test_batch_through_the_queue_names_a_failing_student(
    worker: Worker, redis: str, queue_env: dict[str, str], tmp_path: Path
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name\ns0,Zero\ns9,Nine\n")
    result = subprocess.run(
        [HANDCALC, "batch", str(roster), "--out", str(tmp_path / "q"), "--queue", redis,
         "--sizes", "6,6", "--batch", "5"],
        env={**os.environ, **queue_env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "failed: Nine (id s9): student 's9': no problem with these options" in result.stderr
    assert "1 student failed (above); the sheets of the other 1" in result.stderr
    assert sorted(p.name for p in (tmp_path / "q").iterdir()) == [
        "class-key.pdf", "s0-key.pdf", "s0-worksheet.pdf",
    ]  # fmt: skip
