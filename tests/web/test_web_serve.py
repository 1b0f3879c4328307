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
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def production_server(tmp_path: Path, workers: int | None = None, **env: str) -> Iterator[int]:
    """README's production command (gunicorn with ``handcalc.web.gunicorn_config``) on a free
    loopback port, with fresh strong secrets, a SQLite file in ``tmp_path`` and ``env`` on top;
    yields the port once /healthz answers, and stops the server after."""
    import secrets

    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HANDCALC_")}
    environment.update(
        HANDCALC_SECRET_KEY=secrets.token_urlsafe(32),
        HANDCALC_INSTRUCTOR_TOKEN=secrets.token_urlsafe(18),
        HANDCALC_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **env,
    )
    command = [sys.executable, "-m", "gunicorn", "-c", "python:handcalc.web.gunicorn_config"]
    command += ["-w", str(workers)] if workers else []
    command += ["-b", f"127.0.0.1:{port}", "handcalc.web.app:create_app()"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        yield port
    finally:
        process.terminate()
        process.communicate(timeout=30)


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


def _slow_client(port: int, body: bytes, every: float, answers: list[bytes]) -> None:
    """A client that sends its headers at once and its body one byte every ``every`` seconds."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(
            b"POST /api/v1/practice HTTP/1.1\r\nHost: localhost\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        try:
            for byte in body:
                time.sleep(every)
                s.sendall(bytes([byte]))
            answers.append(s.recv(65536))
        except OSError as e:  # the server gave up on us: what it said first may be waiting
            try:
                answers.append(s.recv(65536) or f"closed: {e}".encode())
            except OSError:
                answers.append(f"closed: {e}".encode())


def test_slow_clients_do_not_hold_the_production_server(tmp_path: Path) -> None:
    """Slowloris against the production command: 2 workers, twice as many clients sending their
    bodies a byte a second. /healthz answers at once, and each slow client gets 408 after the
    body deadline (sync workers left /healthz unanswered for 30 s)."""
    import threading

    with production_server(tmp_path, HANDCALC_BODY_SECONDS="3") as port:
        answers: list[bytes] = []
        clients = [
            threading.Thread(target=_slow_client, args=(port, b'{"spec": {}}' * 4, 1.0, answers))
            for _ in range(4)
        ]
        for client in clients:
            client.start()
        time.sleep(1.5)  # every slow client is connected and in its body
        started = time.monotonic()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=20) as r:
            assert json.loads(r.read()) == {"status": "ok"}
        waited = time.monotonic() - started
        assert waited < 2.0, f"/healthz waited {waited:.1f} s behind slow clients"
        for client in clients:
            client.join(timeout=30)
        assert len(answers) == 4
        for answer in answers:
            assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
            assert b"did not arrive within 3 s" in answer
