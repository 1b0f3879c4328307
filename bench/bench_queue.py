"""A class job (worksheet + key for every student, then the class key and the zip) through
Celery on Redis with 1 worker and with 2 workers on this machine, and the same job in-process
(eager: no broker), in one run.

    python bench/bench_queue.py                 # 1,000 students (about 10 minutes on 2 cores)
    python bench/bench_queue.py --students 100  # quicker

Each worker is ``handcalc worker --concurrency 1`` (one process; ``--max-tasks-per-child`` 100,
as started by default), started and ready before the clock starts. Printed: students a second
("pairs/s": a worksheet and a key), the scaling factor of 2 workers over 1, the queue's cost per
task (tasks that find no job to work on, through one worker; and 1 worker against in-process,
both one process), and the last step's time. A real
``redis-server`` is started on a free loopback port and stopped after.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from queue_support import Worker, queue_missing, redis_server

from handcalc import jobs
from handcalc.roster import Student
from handcalc.storage import open_storage

SECRET = "bench-secret-of-the-queue-0123456789abcdef"


def class_of(n: int) -> list[Student]:
    return [Student(f"b{i:05d}", f"Student {i}") for i in range(n)]


def eager(storage_url: str, n: int) -> tuple[float, float]:
    """Seconds for the students, and for the last step, in this process."""
    storage = open_storage(storage_url)
    job = jobs.new_job(storage, class_of(n), secret=SECRET, date="2026-01-05")
    jobs.run_student(storage, job, 0, SECRET)  # this process warm, as a worker is
    storage.remove(job)
    job = jobs.new_job(storage, class_of(n), secret=SECRET, date="2026-01-05")
    start = time.perf_counter()
    for index in range(n):
        jobs.run_student(storage, job, index, SECRET)
    middle = time.perf_counter()
    jobs.finish(storage, job, SECRET)
    end = time.perf_counter()
    assert jobs.progress(storage, job).done == n
    storage.remove(job)
    return middle - start, end - middle


def queued(url: str, env: dict[str, str], folder: Path, n: int, workers: int) -> float:
    """Seconds from sending the job to its zip, with ``workers`` one-process workers."""
    storage = open_storage(env["HANDCALC_STORAGE_URL"])
    started = [
        Worker(url, env, folder / f"worker-{workers}-{i}.log", 1).wait_ready()
        for i in range(workers)
    ]
    try:
        job = jobs.new_job(storage, class_of(n), secret=SECRET, date="2026-01-05")
        start = time.perf_counter()
        jobs.send(storage, job, url)
        done = jobs.wait(storage, job, poll=0.1)
        seconds = time.perf_counter() - start
    finally:
        for worker in started:
            worker.stop()
    assert done.done == n and not done.failed, done
    storage.remove(job)
    return seconds


def round_trip(url: str, env: dict[str, str], folder: Path, n: int) -> float:
    """Seconds a task costs the queue alone: ``n`` tasks of a job that is not there (each opens
    the storage, finds nothing and ends), one one-process worker, until the broker holds none."""
    import redis

    from handcalc.tasks import QUEUE, send_job

    worker = Worker(url, env, folder / "round-trip.log", 1).wait_ready()
    broker = redis.Redis.from_url(url)
    try:
        start = time.perf_counter()
        send_job(url, "x" * 24, n)
        while broker.llen(QUEUE) or broker.hlen("unacked"):
            time.sleep(0.005)
        return (time.perf_counter() - start) / n
    finally:
        worker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument(
        "--round-trips", type=int, default=None, help="tasks that find no job [--students]"
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    why = queue_missing()
    if why:
        sys.exit(f"bench_queue: {why}")
    n = args.students
    with tempfile.TemporaryDirectory(prefix="handcalc-bench-queue-") as tmp:
        folder = Path(tmp)
        storage_url = (folder / "jobs").as_uri()
        env = {"HANDCALC_SECRET_KEY": SECRET, "HANDCALC_STORAGE_URL": storage_url}
        students, last = eager(storage_url, n)
        print(f"{n} students, worksheet + key each (the default 4-3-4-3 sheet)")
        print(
            f"  eager (in-process, no broker): {n / (students + last):6.2f} pairs/s  "
            f"{students + last:7.1f} s  (students {students:.1f} s, last step {last:.1f} s)"
        )
        with redis_server() as url:
            one = queued(url, env, folder, n, 1)
            print(f"  Celery, 1 worker:              {n / one:6.2f} pairs/s  {one:7.1f} s")
            two = queued(url, env, folder, n, 2)
            print(f"  Celery, 2 workers:             {n / two:6.2f} pairs/s  {two:7.1f} s")
            trip = round_trip(url, env, folder, args.round_trips or n)
        print(f"  scaling, 2 workers / 1:        {one / two:6.2f}x")
        extra = 1000 * (one - students - last) / n
        print(f"  1 worker against eager:        {extra:+6.1f} ms a student")
        print(
            f"  the queue's cost a task:       {1000 * trip:6.1f} ms  (a task that finds no job: "
            f"broker, Celery, storage; {1000 * students / n:.0f} ms of work a student)"
        )


if __name__ == "__main__":
    main()
