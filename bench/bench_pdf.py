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
import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

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


# --- one worksheet, warm: handcalc (WeasyPrint) beside Typst on the same pages --------------------


def _typ(text: str) -> str:
    """A Typst string literal."""
    return json.dumps(text, ensure_ascii=False)


def typst_markup(sheet: Any, pages: Any, mode: str = "worksheet") -> str:
    """The very pages handcalc.pages placed, as Typst markup: every piece at its place, every
    block a table of its entries (ruled for boxes, bracketed for given values), labels, glyphs,
    the header, the conventions, steps and scratch work; the same fonts (DejaVu)."""
    from handcalc.layout import LABEL_PT

    paper = "us-letter" if pages.paper == "letter" else pages.paper
    flipped = str(pages.orientation == "landscape").lower()
    out = [
        f'#set page(paper: "{paper}", flipped: {flipped}, '
        "margin: (top: 11mm, right: 13mm, bottom: 13mm, left: 13mm), "
        "footer: context [#set text(8pt, fill: luma(85)); #h(1fr) page "
        "#counter(page).display() of #counter(page).final().first()])",
        '#set text(font: "DejaVu Sans", size: 8.5pt)',
        "#set par(leading: 0.3em)",
    ]

    def at(x: float, y: float, body: str) -> str:
        return f"#place(top + left, dx: {x:.2f}mm, dy: {y:.2f}mm)[{body}]"

    line = "#box(width: {}mm, stroke: (bottom: 0.2mm))"
    for number, page in enumerate(pages.pages):
        if number:
            out.append("#pagebreak()")
        for piece in page.pieces:
            x, y, w = piece.x, piece.y, piece.width
            if piece.kind == "header":
                title = f'#text(13pt, weight: "bold", {_typ(sheet.title)})'
                head = f"{title} #text(13pt, {_typ('— ' + mode)}) \\ "
                ident = f"Name {line.format(45)} ID {line.format(25)} Date {DATE} Code XXXX-XXXX"
                body = f"{head}#text({_typ(sheet.description)}) \\ {ident}"
                out.append(at(x, y, f"#block(width: {w:.1f}mm, stroke: (bottom: 0.4mm))[{body}]"))
            elif piece.kind == "rules":
                items = ", ".join(f"[#text({_typ(rule)})]" for rule in piece.lines)
                out.append(at(x, y, f"#block(width: {w:.1f}mm)[#set text(8pt); #enum({items})]"))
            elif piece.kind in ("heading", "legend", "scratch"):
                text = piece.text or ("Scratch work" if piece.kind == "scratch" else "legend")
                dashed = ', stroke: (dash: "dashed", paint: luma(180))'
                stroke = dashed if piece.kind == "scratch" else ""
                box = f"#block(width: {w:.1f}mm, height: {piece.height:.1f}mm{stroke})"
                out.append(at(x, y, f"{box}[#text({_typ(text)})]"))
            elif piece.kind in ("steps", "exact"):
                for dx, text in piece.split():
                    lines = " \\ ".join(f"#text({_typ(row)})" for row in text.splitlines())
                    out.append(at(x + dx, y, f"#set text(8pt); {lines}"))
            elif piece.kind == "grid":
                out.append(_typst_grid(piece.grid, x, y, mode, LABEL_PT))
    return "\n".join(out)


_STROKES = {
    "given": "none",
    "ones": "none",
    "answer": "0.25mm",
    "copy": '(thickness: 0.25mm, dash: "dashed")',
    "work": '(thickness: 0.35mm, dash: "dotted")',
}


def _typst_grid(grid: Any, x: float, y: float, mode: str, label_pt: float) -> str:
    mono = 'font: "DejaVu Sans Mono"'
    out = []
    for bx, by, text in grid.label_bands():
        out.append(
            f"#place(top + left, dx: {x + bx:.2f}mm, dy: {y + by - 3.75:.2f}mm)"
            f"[#text({mono}, size: {label_pt}pt, {_typ(text)})]"
        )
    for b in grid.blocks:
        if not (b.rows and b.cols) or b.box is None:
            continue
        show = b.role in ("ones", "given") or mode == "key"
        cells = ", ".join(f"[#text({_typ(t if show else '')})]" for row in b.texts for t in row)
        fill = ", fill: luma(238)" if b.role == "given" else ""
        table = (
            f"#table(columns: ({b.box.col:.3f}mm,) * {b.cols}, rows: {b.box.row:.3f}mm, "
            f"align: right + horizon, inset: (right: 1.8mm, rest: 0pt), "
            f"stroke: {_STROKES[b.role]}{fill}, {cells})"
        )
        out.append(
            f"#place(top + left, dx: {x + b.box.x:.2f}mm, dy: {y + b.box.y:.2f}mm)"
            f"[#set text({mono}, size: 8.5pt); {table}]"
        )
    for k in grid.marks:
        glyph = f'#text(12pt, weight: "bold", {_typ(k.text)})'
        out.append(
            f"#place(top + left, dx: {x + k.x:.2f}mm, dy: {y + k.y:.2f}mm)"
            f"[#box(width: {k.width:.2f}mm, height: {k.height:.2f}mm)"
            f"[#align(center + horizon)[{glyph}]]]"
        )
    return "\n".join(out)


_LATEX_SUBS = str.maketrans(
    {
        "−": "-",
        "₀": "0",
        "₁": "1",
        "₂": "2",
        "₃": "3",
        "₄": "4",
        "ᵀ": "T",
        "∘": "o",
        "·": ".",
        "σ": "s",
        "′": "'",
        "≈": "~",
        "Σ": "S",
        "½": "1/2",
        "—": "--",
        "“": "``",
        "”": "''",
        "×": "x",
        "∂": "d",
        "ᶻ": "z",
        "⁻": "-",
        "…": "...",
        "_": "\\_",
        "&": "\\&",
        "%": "\\%",
        "#": "\\#",
        "^": "\\^{}",
        "$": "\\$",
        "{": "(",
        "}": ")",
    }
)


def _tex(text: str) -> str:
    """Text for pdflatex with the base fonts: the sheet's symbols spelled in ASCII."""
    return "".join(c for c in text.translate(_LATEX_SUBS) if ord(c) < 128)


def latex_markup(sheet: Any, pages: Any) -> str:
    """The same pages for pdflatex (base LaTeX only: a picture environment a page, every piece
    \\put at its place, every entry a framed box or a right-aligned number)."""
    width, height = pages.width, pages.height
    out = [
        "\\documentclass[10pt]{article}",
        f"\\usepackage[paperwidth={width + 26}mm,paperheight={height + 24}mm,"
        "margin=0pt]{geometry}"
        if False
        else "",
        "\\setlength{\\unitlength}{1mm}\\pagestyle{plain}",
        f"\\setlength{{\\textwidth}}{{{width}mm}}\\setlength{{\\textheight}}{{{height}mm}}",
        "\\setlength{\\oddsidemargin}{-12.4mm}\\setlength{\\topmargin}{-14.4mm}",
        "\\setlength{\\fboxsep}{0pt}\\begin{document}\\ttfamily\\small",
    ]
    for number, page in enumerate(pages.pages):
        if number:
            out.append("\\newpage")
        out.append(f"\\noindent\\begin{{picture}}({width:.1f},{height:.1f})")

        def put(x: float, y: float, body: str) -> None:
            out.append(f"\\put({x:.2f},{height - y:.2f}){{{body}}}")

        for piece in page.pieces:
            x, y, w = piece.x, piece.y, piece.width
            if piece.kind in ("header", "heading", "legend", "scratch"):
                text = piece.text or piece.kind
                put(x, y + 4, f"\\makebox(0,0)[l]{{{_tex(text)}}}")
            elif piece.kind == "rules":
                text = " ".join(f"{i}. {_tex(rule)}" for i, rule in enumerate(piece.lines, 1))
                put(
                    x, y, f"\\makebox(0,0)[tl]{{\\parbox[t]{{{w:.1f}mm}}{{\\footnotesize {text}}}}}"
                )
            elif piece.kind in ("steps", "exact"):
                for dx, text in piece.split():
                    for i, row in enumerate(text.splitlines()):
                        put(
                            x + dx,
                            y + 3 + 3.4 * i,
                            f"\\makebox(0,0)[l]{{\\footnotesize {_tex(row)}}}",
                        )
            elif piece.kind == "grid":
                grid = piece.grid
                for bx, by, text in grid.label_bands():
                    put(x + bx, y + by - 1, f"\\makebox(0,0)[bl]{{{_tex(text)}}}")
                for b in grid.blocks:
                    if not (b.rows and b.cols) or b.box is None:
                        continue
                    col, row = b.box.col, b.box.row
                    for i, entries in enumerate(b.texts):
                        for j, t in enumerate(entries):
                            ex, ey = x + b.box.x + j * col, y + b.box.y + (i + 1) * row
                            shown = _tex(t) if b.role in ("given", "ones") else ""
                            frame = (
                                "framebox" if b.role in ("answer", "copy", "work") else "makebox"
                            )
                            put(ex, ey, f"\\{frame}({col:.2f},{row:.2f})[r]{{{shown}\\ }}")
                for k in grid.marks:
                    put(
                        x + k.x,
                        y + k.y + k.height,
                        f"\\makebox({k.width:.2f},{k.height:.2f}){{{_tex(k.text)}}}",
                    )
        out.append("\\end{picture}")
    out.append("\\end{document}")
    return "\n".join(line for line in out if line)


def _pdflatex(tex: str, folder: Path) -> bytes:
    (folder / "sheet.tex").write_text(tex, encoding="ascii")
    subprocess.run(
        ["pdflatex", "-interaction=batchmode", "-halt-on-error", "sheet.tex"],
        cwd=folder,
        check=True,
        capture_output=True,
    )
    return (folder / "sheet.pdf").read_bytes()


def one_sheet(repeat: int) -> None:
    """One worksheet PDF, warm (each renderer run once first, then ``repeat`` times, the best
    kept): handcalc end to end from a problem, WeasyPrint alone on handcalc's HTML, and Typst
    (the ``typst`` package, if installed) on the same pages as Typst markup."""
    import handcalc
    from handcalc.layout import build_sheet
    from handcalc.pages import _LAST, paginate
    from handcalc.render import _page, html_to_pdf, render_pdf

    problem = handcalc.generate(seed=7)
    sheet = build_sheet(problem)
    html, size = _page(problem, "worksheet", PAPER, SECRET, DATE, sheet, False)
    pages = paginate(sheet, PAPER)

    def end_to_end() -> bytes:
        _LAST.clear()
        return render_pdf(problem, "worksheet", PAPER, secret=SECRET, date=DATE)

    contenders: dict[str, Callable[[], bytes]] = {
        "handcalc render_pdf (layout, pages, HTML, WeasyPrint)": end_to_end,
        "WeasyPrint alone on that HTML": lambda: html_to_pdf(html, size),
    }
    try:
        import typst

        markup = typst_markup(sheet, pages)
        contenders["Typst on the same pages (markup made, compiled)"] = lambda: typst.compile(
            typst_markup(sheet, pages).encode(), format="pdf"
        )
        contenders["Typst compile alone"] = lambda: typst.compile(markup.encode(), format="pdf")
    except ImportError:
        print("typst not installed: pip install typst (into any path on PYTHONPATH)")
    if shutil.which("pdflatex"):
        folder = Path(tempfile.mkdtemp(prefix="handcalc-latex-"))
        tex = latex_markup(sheet, pages)
        contenders["pdflatex on the same pages (one run of the process)"] = lambda: _pdflatex(
            tex, folder
        )
    else:
        print("pdflatex not installed: apt-get install texlive-latex-base")
    print(
        f"one worksheet PDF (seed 7, 4-3-4-3, A4, {len(pages.pages)} pages), warm, best of {repeat}"
    )
    for name, run in contenders.items():
        pdf = run()
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            pdf = run()
            times.append(time.perf_counter() - start)
        print(f"  {name:55s} {min(times) * 1000:7.1f} ms   {len(pdf) // 1024} KB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--one-sheet",
        type=int,
        metavar="N",
        help="instead: one worksheet PDF, warm, best of N, beside Typst on the same pages",
    )
    args = parser.parse_args()
    if args.one_sheet:
        one_sheet(args.one_sheet)
        return

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
