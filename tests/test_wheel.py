"""The templates ship in the wheel: build it, install it into a fresh venv, render from elsewhere.

Nothing is downloaded: the wheel is built without build isolation (setuptools from .venv), installed
with --no-deps --no-index, and the fresh venv sees .venv's site-packages for the dependencies
through a .pth file (which adds a path but never runs .venv's editable-install hook).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_NO_INDEX"] = "1"
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_wheel_installs_and_renders_a_pdf_from_another_directory(tmp_path):
    source = tmp_path / "source"  # a copy, so a build never touches the shared checkout
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".venv",
            ".git",
            "build",
            "dist",
            "*.egg-info",
            "__pycache__",
            "tests",
            "bench",
            "out",
            "instance",
            "*.sqlite3",
        ),
    )
    dist = tmp_path / "dist"
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        dist,
        source,
    )
    wheel = next(dist.glob("handcalc-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for template in (
        "_grid.html",
        "grid.css",
        "sheet.css",
        "sheet.html",
        "worksheet.html",
        "solutions.html",
    ):
        assert f"handcalc/templates/{template}" in names
    assert not any(n.startswith(("templates/", "web/")) for n in names)

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
        ).stdout.strip()
    )
    (site / "handcalc_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = (
        "import handcalc, pathlib\n"
        f"assert pathlib.Path(handcalc.__file__).is_relative_to(pathlib.Path(r'{venv}')), "
        "handcalc.__file__\n"
        "p = handcalc.generate(seed=7)\n"
        "pathlib.Path('key.pdf').write_bytes(handcalc.render_pdf(p, 'key'))\n"
        "print(handcalc.verification_code(p))\n"
    )
    code = _run(python, "-c", script, cwd=elsewhere).stdout.strip()
    pdf = (elsewhere / "key.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    import pypdf

    text = pypdf.PdfReader(elsewhere / "key.pdf").pages[0].extract_text()
    assert code in text and "answer key" in text and "47/100" in text
    # the console script works from there too
    _run(
        venv / "bin" / "handcalc",
        "generate",
        "--seed",
        "7",
        "--format",
        "pdf",
        "-o",
        "w.pdf",
        cwd=elsewhere,
    )
    assert (elsewhere / "w.pdf").read_bytes().startswith(b"%PDF")
