"""The README works when pasted: every code block in it runs here, as a reader would run it.

- ``python`` blocks are doctests (``>>>`` lines and the output they print), run in order in one
  namespace;
- ``json`` blocks parse, and an authored problem among them solves;
- ``bash`` blocks run in order in one shell, as if pasted into one terminal with the venv
  activated, in an empty folder that holds the files the text says the reader has (``mine.json``
  is the README's own example, ``problem.json``, ``answers.json``, ``roster.csv``). A command that
  starts a server (``handcalc serve``, ``gunicorn``) runs in the background on a free loopback
  port until the next one starts, and ``curl`` talks to it. Only the quick start's own scripts are
  left out (CI runs ``scripts/test.sh``; ``scripts/demo.sh`` is the same commands).
"""

from __future__ import annotations

import doctest
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import handcalc

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
SERVER = re.compile(r"^\s*(\S*handcalc serve|gunicorn)\b")


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(README) if lang == language]


def test_every_block_has_a_language_this_test_runs() -> None:
    assert {lang for lang, _ in BLOCK.findall(README)} <= {"python", "json", "bash"}
    assert README.count("```") == 2 * len(BLOCK.findall(README))


def test_python_blocks_are_doctests_that_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HANDCALC_SECRET_KEY", "x" * 8 + "readme-doctest-secret-0123456789")
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    namespace: dict[str, object] = {}
    found = blocks("python")
    assert found
    for number, body in enumerate(found, 1):
        test = parser.get_doctest(body, namespace, f"README python block {number}", None, 0)
        assert test.examples, f"python block {number} has no >>> lines: it would not be tested"
        output: list[str] = []
        result = runner.run(test, out=output.append, clear_globs=False)
        assert result.failed == 0, "".join(output)


def test_json_blocks_parse_and_the_authored_problem_solves() -> None:
    documents = [json.loads(body) for body in blocks("json")]
    authored = [d for d in documents if "given" in d and "steps" not in d]
    assert authored
    for doc in authored:
        problem = handcalc.solve(doc)
        assert problem.steps and problem == handcalc.Problem.from_json(problem.to_json())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


PRELUDE = r"""
set -euo pipefail
servers=()
stop_servers() { for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done;
                 for pid in "${servers[@]}"; do wait "$pid" 2>/dev/null || true; done; servers=(); }
trap stop_servers EXIT
wait_healthz() {
    for _ in $(seq 150); do
        curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    echo "readme: no server answered on port $PORT" >&2; return 1
}
"""


def shell_script(port: int) -> str:
    """Every bash block, in order, as one script (servers to the background, loopback only)."""
    lines = [PRELUDE]
    for body in blocks("bash"):
        for line in body.replace("\\\n", " ").splitlines():
            if re.match(r"\s*(bash scripts/|\. \.venv/bin/activate)", line):
                continue  # the quick start itself (CI runs scripts/test.sh); the venv is active
            line = line.replace("0.0.0.0", "127.0.0.1").replace("8000", str(port))
            if SERVER.match(line):
                lines.append("stop_servers")
                lines.append(f"{line.split(' #')[0]} > server.log 2>&1 & servers+=($!)")
                lines.append("wait_healthz")
            else:
                lines.append(line)
    return "\n".join(lines) + "\n"


def test_bash_blocks_run_as_pasted(tmp_path: Path) -> None:
    port = free_port()
    (tmp_path / "mine.json").write_text(
        next(body for body in blocks("json") if '"given"' in body), encoding="utf-8"
    )
    problem = handcalc.generate(seed=7)
    (tmp_path / "problem.json").write_text(problem.to_json(), encoding="utf-8")
    cells = {s.name: problem.text(s.name) for s in problem.steps[:3]}
    (tmp_path / "answers.json").write_text(json.dumps({"cells": cells}), encoding="utf-8")
    (tmp_path / "roster.csv").write_text("id,name\n101,Ada Lovelace\n102,Alan Turing\n")
    home = tmp_path / "home"
    home.mkdir()
    venv = Path(sys.executable).parent
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HANDCALC_", "WEB_CONCURRENCY", "VIRTUAL_ENV"))
    }
    env.update(
        PATH=f"{venv}:{env.get('PATH', '')}",
        VIRTUAL_ENV=str(venv.parent),
        HOME=str(home),
        PORT=str(port),
        HANDCALC_INSTANCE=str(tmp_path / "instance"),
    )
    script = shell_script(port)
    result = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = (tmp_path / "server.log").read_text() if (tmp_path / "server.log").exists() else ""
    assert result.returncode == 0, (
        f"{result.stderr[-3000:]}\n--- server log ---\n{log[-2000:]}\n--- script ---\n{script}"
    )
