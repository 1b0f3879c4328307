"""Load benchmark of the grading service: gunicorn (2 workers) and wrk, on loopback only.

1. Throughput and latency at 16 connections, in the same run: ``GET /healthz`` (a bare endpoint:
   the baseline) and ``POST /api/v1/practice/<token>/check`` (grading a whole worksheet; the
   bodies cycle through the key, several one-cell mistakes and an unreadable entry, so no two
   consecutive requests are the same). Targets: check ≥ 50 % of healthz's requests per second,
   check p99 ≤ 50 ms, no errors.
2. Durability: submissions (``POST /api/v1/s/<token>/submissions``) under load while one worker
   is killed with SIGKILL; every submission acknowledged with 201 must be in the database.

    .venv/bin/python bench/bench_service.py [--seconds 8] [--spec '{"sizes": [4, 3, 4, 3]}']

Needs Debian's ``wrk`` (scripts/setup.sh installs it). Prints the figures and the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import handcalc

HERE = Path(__file__).resolve().parent
LUA = HERE / "wrk_post.lua"
CONNECTIONS = 16
STUDENTS = 64


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def call(base: str, path: str, body: Any = None, token: str | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        base + path, data=data, headers=headers, method="GET" if body is None else "POST"
    )
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read())


def start(
    port: int, env: dict[str, str], workers: int = 2, extra: list[str] | None = None
) -> subprocess.Popen[bytes]:
    """gunicorn as README's production command runs it (its settings module: gevent workers;
    ``extra``: options to compare)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            "python:handcalc.web.gunicorn_config",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--backlog",
            "256",
            "--log-level",
            "warning",
            *(extra or []),
            "handcalc.web.app:create_app()",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(
                "gunicorn stopped: " + process.stderr.read().decode()[-2000:]
                if process.stderr
                else ""
            )
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not answer within 30 s")


def workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def cpu_ms(master: int) -> float:
    """CPU time (user + system) the workers have used so far, in ms."""
    total = 0
    for pid in workers_of(master):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return 1000 * total / os.sysconf("SC_CLK_TCK")


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    assert match, text
    return float(match[1]) * UNITS[match[2]]


def wrk(
    url: str,
    seconds: float,
    script: Path | None = None,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    connections: int = CONNECTIONS,
    threads: int = 2,
) -> dict[str, Any]:
    """One wrk run (``connections`` open at once, on ``threads`` threads); its requests per
    second, latency percentiles (ms) and errors."""
    command = [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{seconds:g}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if script:
        command += ["-s", str(script)]
    command.append(url)
    if args:
        command += ["--", *args]
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, env=env, timeout=seconds + 60
    ).stdout
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", out, re.M))
    requests = int(re.search(r"(\d+) requests in", out)[1])  # type: ignore[index]
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),  # type: ignore[index]
        "requests": requests,
        "p50": _ms(percentiles["50"]),
        "p90": _ms(percentiles["90"]),
        "p99": _ms(percentiles["99"]),
        "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0,
        "non2xx": int(non2xx[1]) if non2xx else 0,
        "raw": out,
    }


def answer_variants(problem: handcalc.Problem) -> list[dict[str, Any]]:
    """The key, then the key with one cell wrong (a different cell each), then an unreadable
    entry: what a class sends, more or less."""
    tables = problem.tables
    key = {s.name: problem.text(s.name) for s in problem.steps if s.name not in tables}
    variants = [{"cells": key}]
    for name in list(key)[:: max(1, len(key) // 12)]:
        cells = json.loads(json.dumps(key))
        cells[name][0][0] = "7/3"
        variants.append({"cells": cells})
    cells = json.loads(json.dumps(key))
    cells["Z1"][0][0] = "two"
    variants.append({"cells": cells})
    return variants


def write_requests(path: Path, rows: list[tuple[str, dict[str, Any]]]) -> None:
    path.write_text("".join(f"{p}\t{json.dumps(b, separators=(',', ':'))}\n" for p, b in rows))


def line(name: str, r: dict[str, Any]) -> str:
    return (
        f"{name:<22} {r['rps']:>9.1f} req/s   p50 {r['p50']:6.2f} ms   p90 {r['p90']:6.2f} ms"
        f"   p99 {r['p99']:6.2f} ms   errors {r['socket_errors'] + r['non2xx']}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each wrk run")
    parser.add_argument("--spec", default="{}", help="spec options of the problem (JSON)")
    parser.add_argument(
        "--gunicorn",
        default="",
        help="more gunicorn options, to compare with the production command "
        "(e.g. '--preload' or '-k gthread --threads 4')",
    )
    options = parser.parse_args()
    if shutil.which("wrk") is None:
        print("bench_service: needs wrk (apt-get install wrk, or bash scripts/setup.sh)")
        return 2
    spec = json.loads(options.spec)
    with tempfile.TemporaryDirectory(prefix="handcalc-bench-") as tmp:
        work = Path(tmp)
        database = work / "bench.sqlite3"
        token = secrets.token_urlsafe(24)
        env = {
            **os.environ,
            "HANDCALC_ENV": "production",
            "HANDCALC_SECRET_KEY": secrets.token_urlsafe(32),
            "HANDCALC_INSTRUCTOR_TOKEN": token,
            "HANDCALC_DATABASE_URL": f"sqlite:///{database}",
            "HANDCALC_INSTANCE": str(work),
            # the per-token limit is for a class; wrk is one client sending thousands a minute
            "HANDCALC_CHECKS_PER_MINUTE": str(10**7),
            "HANDCALC_PRACTICE_PER_MINUTE": str(10**7),
            # the load comes from one address: its practice CPU budget would stop it in seconds
            "HANDCALC_PRACTICE_CPU_SECONDS": str(10**7),
        }
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        extra = options.gunicorn.split()
        server = start(port, env, extra=extra)
        try:
            practice = call(base, "/api/v1/practice", {"spec": spec, "seed": 7})
            problem = handcalc.generate(seed=7, **spec)
            check_path = f"/api/v1/practice/{practice['token']}/check"
            checks = work / "checks.tsv"
            write_requests(checks, [(check_path, v) for v in answer_variants(problem)])
            print(
                f"problem: {problem.describe()}; {len(problem.steps)} cells; "
                f"gunicorn 2 workers {' '.join(extra) or '(gunicorn_config: gevent)'}; "
                f"wrk {CONNECTIONS} connections, "
                f"{options.seconds:g} s a run; {os.cpu_count()} CPUs"
            )
            wrk(base + "/healthz", 2)  # warm-up: imports, caches
            wrk(base, 2, LUA, [str(checks)])
            runs = {"healthz": [], "check": []}  # type: dict[str, list[dict[str, Any]]]
            cpu = {"healthz": [0.0, 0], "check": [0.0, 0]}
            for _ in range(2):  # interleaved, so both see the same machine
                for name, url, script in (
                    ("healthz", base + "/healthz", None),
                    ("check", base, LUA),
                ):
                    before = cpu_ms(server.pid)
                    run = wrk(url, options.seconds / 2, script, [str(checks)] if script else None)
                    cpu[name][0] += cpu_ms(server.pid) - before
                    cpu[name][1] += run["requests"]
                    runs[name].append(run)
            healthz = _merge(runs["healthz"])
            check = _merge(runs["check"])
            print(line("GET /healthz", healthz))
            print(line("POST …/check", check))
            ratio = check["rps"] / healthz["rps"]
            errors = sum(r["socket_errors"] + r["non2xx"] for r in runs["healthz"] + runs["check"])
            per = {name: used / max(1, n) for name, (used, n) in cpu.items()}
            print(
                f"server CPU per request: healthz {per['healthz']:.2f} ms, check "
                f"{per['check']:.2f} ms (so on a machine to itself check / healthz ≤ "
                f"{per['healthz'] / per['check']:.2f}); load average "
                f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
            )
            print(
                f"check / healthz throughput: {ratio:.2f} (target ≥ 0.50)  "
                f"check p99: {check['p99']:.1f} ms (target ≤ 50)  errors: {errors} (target 0)"
            )

            # --- durability: SIGKILL a worker while submissions are coming in -------------------
            aid = call(
                base,
                "/api/v1/assignments",
                {"title": "bench", "spec": spec, "max_attempts": 100_000},
                token,
            )["id"]
            names = [f"s{k:03d}" for k in range(STUDENTS)]
            links = call(base, f"/api/v1/assignments/{aid}/roster", {"students": names}, token)[
                "links"
            ]
            variants = answer_variants(problem)
            submissions = work / "submissions.tsv"
            write_requests(
                submissions,
                [
                    (f"/api/v1{links[n]}/submissions", variants[k % len(variants)])
                    for k, n in enumerate(names)
                ],
            )
            acked_file = work / "acked.txt"
            seconds = max(4.0, options.seconds)
            load = subprocess.Popen(
                [
                    "wrk",
                    "-t2",
                    f"-c{CONNECTIONS}",
                    f"-d{seconds:g}s",
                    "--timeout",
                    "10s",
                    "-s",
                    str(LUA),
                    base,
                    "--",
                    str(submissions),
                ],
                env={**os.environ, "WRK_ACKED": str(acked_file)},
                stdout=subprocess.PIPE,
                text=True,
            )
            time.sleep(seconds / 2)
            victim = workers_of(server.pid)[0]
            os.kill(victim, signal.SIGKILL)
            killed_at = time.monotonic()
            out, _ = load.communicate(timeout=seconds + 60)
            respawned = [pid for pid in workers_of(server.pid) if pid != victim]
            acked = [int(x) for x in acked_file.read_text().split()]
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
                stored = {row[0] for row in db.execute("SELECT id FROM submission")}
            missing = sorted(set(acked) - stored)
            lost = re.search(
                r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                r"timeout (\d+)",
                out,
            )
            print(
                f"SIGKILL of worker {victim} {seconds / 2:g} s into {seconds:g} s of submissions"
                f" ({time.monotonic() - killed_at:.1f} s before the end); workers after: "
                f"{len(respawned)}"
            )
            print(
                f"acknowledged submissions: {len(acked)}; in the database: "
                f"{len(set(acked) & stored)}; missing: {len(missing)}; rows stored: "
                f"{len(stored)}; requests cut by the kill: "
                f"{sum(map(int, lost.groups())) if lost else 0}"
            )
            ok = ratio >= 0.5 and check["p99"] <= 50 and errors == 0 and not missing and acked
            print("targets met" if ok else "targets NOT met")
            return 0
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()


def _merge(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Interleaved runs as one: requests per second averaged; the worse percentile of each."""
    return {
        "rps": sum(r["rps"] for r in runs) / len(runs),
        "p50": max(r["p50"] for r in runs),
        "p90": max(r["p90"] for r in runs),
        "p99": max(r["p99"] for r in runs),
        "socket_errors": sum(r["socket_errors"] for r in runs),
        "non2xx": sum(r["non2xx"] for r in runs),
    }


if __name__ == "__main__":
    sys.exit(main())
