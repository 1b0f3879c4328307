"""``handcalc serve``: a real server (gunicorn) on 127.0.0.1, its secrets kept between starts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from handcalc.web.serve import banner, settings

from handcalc.cli import cli


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(url: str, process: subprocess.Popen[str], seconds: float = 30) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                body: bytes = r.read()
                return body
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {seconds} s")


def test_serve_help() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.output and "--db" in result.output and "gunicorn" in result.output


def test_local_settings_keep_their_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HANDCALC_SECRET_KEY",
        "HANDCALC_INSTRUCTOR_TOKEN",
        "HANDCALC_DATABASE_URL",
        "HANDCALC_ENV",
    ):
        monkeypatch.delenv(name, raising=False)
    first = settings(tmp_path, None)
    assert first == settings(tmp_path, None)
    assert first["DATABASE_URL"] == f"sqlite:///{tmp_path / 'handcalc.sqlite3'}"
    assert settings(tmp_path, "sqlite:///x.db")["DATABASE_URL"] == "sqlite:///x.db"
    text = banner(first, "127.0.0.1", 8000, 2)
    assert first["INSTRUCTOR_TOKEN"] in text and "http://localhost:8000/" in text
    assert first["SECRET_KEY"] not in text


def test_serve_runs_a_server(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANDCALC_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from handcalc.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--instance",
            str(tmp_path),
            "--workers",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert json.loads(wait_for(f"http://127.0.0.1:{port}/healthz", process)) == {"status": "ok"}
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/practice",
            method="POST",
            data=json.dumps({"spec": {"sizes": [2, 2, 2]}, "seed": 1}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            assert r.status == 201
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=30)
    token = (tmp_path / "instructor_token").read_text().strip()
    assert f"instructor token: {token}" in out
    assert (tmp_path / "handcalc.sqlite3").exists()
