"""A throwaway Redis server and real Celery workers (``handcalc worker``) for the queue's tests
and its benchmark: started on a free loopback port in a temporary folder, stopped after."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

HANDCALC = str(Path(sys.executable).with_name("handcalc"))


def queue_missing() -> str | None:
    """Why the queue cannot be tested here (None: it can)."""
    if shutil.which("redis-server") is None:
        return "needs Debian's redis-server (bash scripts/setup.sh dev)"
    if importlib.util.find_spec("celery") is None or importlib.util.find_spec("redis") is None:
        return "needs the scale extra, celery[redis] (bash scripts/setup.sh dev)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server(port: int | None = None) -> Iterator[str]:
    """A throwaway ``redis-server`` on a loopback port (a free one unless given), saving nothing;
    its URL (database 0). The queue's tests, the shared limits' and the benchmarks all use it."""
    with tempfile.TemporaryDirectory(prefix="handcalc-redis-") as folder:
        port = port or free_port()
        log = Path(folder) / "log"
        process = subprocess.Popen(
            [
                "redis-server",
                *("--port", str(port), "--bind", "127.0.0.1", "--dir", folder),
                *("--save", "", "--appendonly", "no", "--logfile", str(log)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while not _pong(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start: {log.read_text()[-800:]}")
                time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Worker:
    """``handcalc worker`` in a session of its own (so its pool's processes can be killed with
    it); its log in ``log``."""

    def __init__(
        self, url: str, env: dict[str, str], log: Path, concurrency: int = 1, *extra: str
    ) -> None:
        self.log = log
        self._file = open(log, "ab")  # noqa: SIM115 - kept open while the worker runs
        self.process = subprocess.Popen(
            [HANDCALC, "worker", "--queue", url, "--concurrency", str(concurrency), *extra],
            env={**os.environ, **env},
            stdout=self._file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60) -> Worker:
        deadline = time.monotonic() + timeout
        while b" ready." not in self.log.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()  # nothing left running behind the error
                raise RuntimeError(f"the worker did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool at once: nothing is acknowledged or handed back."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._file.close()

    def stop(self) -> None:
        """A warm shutdown (SIGTERM), then SIGKILL for whatever is left after 20 s."""
        if self.process.poll() is None:
            self.process.terminate()
            with suppress(subprocess.TimeoutExpired):
                self.process.wait(20)
        self.kill()
