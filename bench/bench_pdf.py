"""PDF throughput of ``handcalc batch`` against raw WeasyPrint on the same HTML, in the same run.

For N students (200 by default) the batch path derives each student's variant, lays it out,
renders the worksheet and the key to HTML and then PDF, writes the files and merges the class key,
on a process pool using every core. Two baselines render the very same documents (made beforehand,
not timed) on a pool of the same size, writing the files too:

- ``raw``: ``weasyprint.HTML(string=page).write_pdf()`` on the standalone page (CSS inline), i.e.
  what anybody would do with the HTML ``handcalc generate --format html`` writes;
- ``raw, tuned``: the same page without its inline CSS, with WeasyPrint's parsed stylesheet and
  font configuration kept per process, as ``handcalc.render`` does: the fair baseline for what
  handcalc's own Python costs on top of WeasyPrint.

Rounds alternate between the contenders and the best wall time of each is kept, because other work
on a shared machine only ever makes a round slower. CPU seconds (this process and its workers)
are reported as well: they hardly depend on what else the machine runs.

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
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

SECRET = "bench-secret"
DATE = "2026-01-01"
PAPER = "a4"


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the pools' workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _warm() -> None:
    import weasyprint

    weasyprint.HTML(string="<p>warm</p>").write_pdf()


def _raw(job: tuple[str, str, str]) -> None:
    """Raw WeasyPrint: one standalone HTML page to one PDF file."""
    import weasyprint

    html, path, _ = job
    Path(path).write_bytes(weasyprint.HTML(string=html).write_pdf())


def _raw_tuned(job: tuple[str, str, str]) -> None:
    """WeasyPrint with the stylesheet parsed and the fonts configured once per process."""
    import weasyprint

    from handcalc.render import _font_config, _stylesheet

    html, path, size = job
    pdf = weasyprint.HTML(string=html).write_pdf(
        stylesheets=[_stylesheet(size)], font_config=_font_config()
    )
    Path(path).write_bytes(pdf)


def documents(students: list, out: Path, inline_css: bool) -> list[tuple[str, str, str]]:
    """The exact HTML the batch renders for every student (worksheet and key), with its CSS
    page size (the orientation is chosen per sheet)."""
    from handcalc.api import generate
    from handcalc.layout import build_sheet
    from handcalc.render import _page
    from handcalc.verify import student_seed

    jobs = []
    for s in students:
        problem = generate(seed=student_seed(s.id, SECRET))
        sheet = build_sheet(problem)
        for mode in ("worksheet", "key"):
            html, size = _page(
                problem, mode, PAPER, SECRET, DATE, sheet, inline_css, student=(s.name, s.id)
            )
            jobs.append((html, str(out / f"{s.stem}-{mode}.pdf"), size))
    return jobs


def _pool(render: Callable[[tuple[str, str]], None], jobs: list, workers: int) -> None:
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_warm) as pool:
        list(pool.map(render, jobs, chunksize=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    from handcalc.batch import Student, make_batch

    students = [Student(f"s{i:04d}") for i in range(args.students)]
    work = Path(tempfile.mkdtemp(prefix="handcalc-bench-"))
    (work / "raw").mkdir()
    standalone = documents(students, work / "raw", inline_css=True)
    bare = documents(students, work / "raw", inline_css=False)
    contenders: dict[str, Callable[[], None]] = {
        "handcalc batch": lambda: make_batch(
            students, work / "batch", secret=SECRET, date=DATE, workers=args.workers
        ),
        "raw WeasyPrint": lambda: _pool(_raw, standalone, args.workers),
        "raw, tuned": lambda: _pool(_raw_tuned, bare, args.workers),
    }
    wall: dict[str, list[float]] = {name: [] for name in contenders}
    cpu: dict[str, list[float]] = {name: [] for name in contenders}
    try:
        for _ in range(args.rounds):
            for name, run in contenders.items():
                shutil.rmtree(work / "batch", ignore_errors=True)
                start, used = time.perf_counter(), _cpu()
                run()
                wall[name].append(time.perf_counter() - start)
                cpu[name].append(_cpu() - used)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    n = args.students
    best = {name: min(times) for name, times in wall.items()}
    per_pair = {name: min(times) / n for name, times in cpu.items()}
    print(
        f"students {n}, workers {args.workers}, cores {os.cpu_count()}, "
        f"python {sys.version.split()[0]}"
    )
    print(f"{'':16s} {'wall s':>8s} {'pairs/s':>8s} {'CPU s/pair':>11s}   rounds (wall s)")
    for name in contenders:
        rounds = ", ".join(f"{t:.2f}" for t in wall[name])
        print(
            f"{name:16s} {best[name]:8.2f} {n / best[name]:8.2f} {per_pair[name]:11.3f}   {rounds}"
        )
    ours = "handcalc batch"
    for base in ("raw WeasyPrint", "raw, tuned"):
        print(
            f"overhead over {base:15s} wall {best[ours] / best[base] - 1:+7.1%}   "
            f"CPU {per_pair[ours] / per_pair[base] - 1:+7.1%}   (target ≤ +15%)"
        )
    print(
        f"pairs per second: {n / best[ours]:.2f} measured, "
        f"{args.workers / per_pair[ours]:.2f} on {args.workers} idle cores "
        f"(workers / CPU per pair)   (target ≥ 5)"
    )
    print(f"load average      {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
