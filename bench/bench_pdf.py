"""PDF throughput of ``handcalc batch`` against raw WeasyPrint on the same HTML, in the same run.

For N students (200 by default) the batch path generates each student's variant, lays it out,
renders the worksheet and the key to HTML and then PDF, writes the files and merges the class key,
on a process pool using every core. The baseline renders exactly the same HTML documents (made
beforehand, not timed) with nothing but ``weasyprint.HTML(string=...).write_pdf()`` on a pool of
the same size, also writing the files. Rounds alternate between the two and the best wall time of
each is kept, because other work on a shared machine only ever makes a round slower.

    .venv/bin/python bench/bench_pdf.py                  # 200 students, 2 rounds
    .venv/bin/python bench/bench_pdf.py --students 40 --rounds 1

Targets (issue 3): overhead over raw WeasyPrint at most 15 %, at least 5 worksheet+key pairs/s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

SECRET = "bench-secret"
DATE = "2026-01-01"


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the pool's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _raw_warm() -> None:
    import weasyprint

    weasyprint.HTML(string="<p>warm</p>").write_pdf()


def _raw(job: tuple[str, str]) -> int:
    """Raw WeasyPrint: one HTML document to one PDF file."""
    import weasyprint

    html, path = job
    pdf = weasyprint.HTML(string=html).write_pdf()
    Path(path).write_bytes(pdf)
    return len(pdf)


def documents(students: list, out: Path) -> list[tuple[str, str]]:
    """The exact HTML the batch renders for every student (worksheet and key)."""
    from handcalc.api import generate
    from handcalc.layout import build_sheet
    from handcalc.render import render_html
    from handcalc.verify import student_seed

    jobs = []
    for s in students:
        problem = generate(seed=student_seed(s.id, SECRET))
        sheet = build_sheet(problem)
        for mode in ("worksheet", "key"):
            html = render_html(problem, mode, secret=SECRET, date=DATE, sheet=sheet)
            jobs.append((html, str(out / f"{s.stem}-{mode}.pdf")))
    return jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    from handcalc.batch import Student, make_batch

    students = [Student(f"s{i:04d}") for i in range(args.students)]
    work = Path(tempfile.mkdtemp(prefix="handcalc-bench-"))
    try:
        jobs = documents(students, work / "raw")
        (work / "raw").mkdir()
        context = multiprocessing.get_context("fork")
        batch_times, raw_times, batch_cpu, raw_cpu = [], [], [], []
        for _ in range(args.rounds):
            out = work / "batch"
            shutil.rmtree(out, ignore_errors=True)
            start, cpu = time.perf_counter(), _cpu()
            make_batch(students, out, secret=SECRET, date=DATE, workers=args.workers)
            batch_times.append(time.perf_counter() - start)
            batch_cpu.append(_cpu() - cpu)

            start, cpu = time.perf_counter(), _cpu()
            with ProcessPoolExecutor(
                args.workers, mp_context=context, initializer=_raw_warm
            ) as pool:
                list(pool.map(_raw, jobs, chunksize=1))
            raw_times.append(time.perf_counter() - start)
            raw_cpu.append(_cpu() - cpu)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    batch, raw = min(batch_times), min(raw_times)
    pairs = args.students / batch
    overhead = batch / raw - 1
    print(
        f"students {args.students}, workers {args.workers}, cores {os.cpu_count()}, "
        f"python {sys.version.split()[0]}"
    )
    print(
        f"handcalc batch      {batch:7.2f} s  {pairs:5.2f} pairs/s   (rounds: "
        f"{', '.join(f'{t:.2f}' for t in batch_times)})"
    )
    print(
        f"raw WeasyPrint      {raw:7.2f} s  {args.students / raw:5.2f} pairs/s   (rounds: "
        f"{', '.join(f'{t:.2f}' for t in raw_times)})"
    )
    print(f"ratio batch/raw     {batch / raw:7.3f}   overhead {overhead:+.1%} (target ≤ +15%)")
    print(f"pairs per second    {pairs:7.2f}   (target ≥ 5)")
    # CPU seconds (this process and its workers) do not count time lost to other work on a
    # shared machine: what the cores would deliver if they were ours alone
    per_pair, raw_pair = min(batch_cpu) / args.students, min(raw_cpu) / args.students
    print(
        f"CPU per pair        {per_pair:7.3f} s (raw WeasyPrint {raw_pair:.3f} s, ratio "
        f"{per_pair / raw_pair:.3f}); {args.workers} idle cores: "
        f"{args.workers / per_pair:.2f} pairs/s"
    )
    print(f"load average        {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
