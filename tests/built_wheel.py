"""Build the wheel once per test session and install it into a fresh venv, without downloading:
the wheel is built without build isolation (setuptools from .venv) from a copy of the tree,
installed with --no-deps --no-index, and the fresh venv sees .venv's site-packages for the
dependencies through a .pth file (which adds a path but never runs .venv's editable-install hook).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IGNORED = (
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
    "*.sqlite3*",
    ".hypothesis",
    ".*_cache",
)


def run(*args: object, cwd: Path | None = None) -> str:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("HANDCALC_")
    }
    env["PIP_NO_INDEX"] = "1"
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout


@dataclass(frozen=True)
class InstalledWheel:
    names: frozenset[str]  # the files in the wheel
    venv: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


def install_wheel(workdir: Path) -> InstalledWheel:
    source = workdir / "source"  # a copy, so a build never touches the shared checkout
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*IGNORED))
    dist = workdir / "dist"
    run(
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
    venv = workdir / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    installed = InstalledWheel(frozenset(zipfile.ZipFile(wheel).namelist()), venv)
    site = Path(
        run(
            installed.python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"
        ).strip()
    )
    (site / "handcalc_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        installed.python,
        "install",
        "--no-deps",
        "-q",
        wheel,
    )
    return installed
