"""The service ships in the wheel: installed into a fresh venv, it serves its pages, static files,
OpenAPI document and the printed sheet's grid from any directory (as ``handcalc.web``).

Nothing is downloaded (as in tests/test_wheel.py): the wheel is built without build isolation and
installed with --no-deps; the fresh venv sees .venv's site-packages through a .pth file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, pathlib, handcalc, handcalc.web.app as web
assert pathlib.Path(web.__file__).is_relative_to(pathlib.Path(r'{venv}')), web.__file__
app = web.create_app({{"HANDCALC_MODE": "testing", "DATABASE_URL": "sqlite:///here.sqlite3",
                       "WTF_CSRF_ENABLED": False}})
c = app.test_client()
assert c.get("/healthz").json == {{"status": "ok"}}
assert c.get("/api/v1/openapi.json").json["openapi"].startswith("3.")
assert c.get("/static/style.css").status_code == 200
assert "stroke" in c.get("/assets/grid.css").get_data(as_text=True)
assert 'name="sizes"' in c.get("/").get_data(as_text=True)
token = c.post("/api/v1/practice", json={{"spec": {{"sizes": [2, 2, 2]}}, "seed": 1}}).json["token"]
page = c.post("/p/" + token, data={{"Z1[0][0]": "1"}}).get_data(as_text=True)
assert 'name="dW2[1][1]"' in page and 'id="mark-Z1"' in page, page[:500]
print("ok")
"""


def test_wheel_serves_the_app_from_another_directory(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "VIRTUAL_ENV") and not k.startswith("HANDCALC_")
    }
    env["PIP_NO_INDEX"] = "1"

    def run(*args: object, cwd: Path | None = None) -> str:
        return subprocess.run(
            [str(a) for a in args],
            cwd=cwd,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        ).stdout

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
            "*.sqlite3*",
            ".hypothesis",
            ".*_cache",
        ),
    )
    dist = tmp_path / "dist"
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
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in (
        "openapi.json",
        "static/style.css",
        "static/app.js",
        "templates/base.html",
        "templates/worksheet.html",
        "templates/instructor/assignment.html",
    ):
        assert f"handcalc/web/{name}" in names
    assert not any(n.startswith("web/") for n in names)

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    site = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    )
    (site / "handcalc_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert run(python, "-c", SCRIPT.format(venv=venv), cwd=elsewhere).strip() == "ok"
