"""Grading throughput of two web instances against one, in one run: the check endpoint
(``POST /api/v1/practice/<token>/check``, a whole worksheet, bodies cycling through the key and
one-cell mistakes) loaded by wrk as bench_service.py does (its server start, wrk runs and bodies
are reused from there), on loopback only.

Three set-ups, each gunicorn with README's production settings and ``--workers`` workers per
instance, all on one database (PostgreSQL in a throwaway cluster when Debian's is installed, else
one SQLite file):

- one instance counting its limits per process (no Redis: the baseline, as bench_service.py);
- one instance counting its limits in Redis (``HANDCALC_REDIS_URL``: what sharing costs);
- two instances, both counting in the same Redis, each loaded by its own wrk with half the
  connections (what a load balancer in front of two instances would give them).

Runs are interleaved (each set-up twice, ``--seconds`` split between the two), so all three see
the same machine. On one machine the instances share its cores: two instances give more only
while one does not use them all (``--workers 1`` on 2 cores shows it); more machines are what
scales grading beyond that.

    .venv/bin/python bench/bench_instances.py [--seconds 10] [--workers 1]

Needs Debian's wrk and redis-server (scripts/setup.sh dev installs both).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bench_service
from bench_service import CONNECTIONS, LUA, answer_variants, call, line, write_requests, wrk

import handcalc

TESTS = Path(__file__).resolve().parent.parent / "tests"
# the servers' harness of the test suite: one way to start them
sys.path[:0] = [str(TESTS), str(TESTS / "web")]
import queue_support  # noqa: E402
import web_support  # noqa: E402


@contextlib.contextmanager
def database(work: Path) -> Iterator[str]:
    """A PostgreSQL database brought up to date by ``handcalc db upgrade`` (as production does),
    or a SQLite file where PostgreSQL cannot be started here."""
    if web_support.postgres_missing():
        yield f"sqlite:///{work / 'bench.sqlite3'}"
        return
    with web_support.postgres_cluster() as cluster:
        url = cluster.empty_database("bench")
        command = Path(sys.executable).parent / "handcalc"
        subprocess.run([str(command), "db", "upgrade", "--database", url], check=True)
        yield url


def stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        server.kill()


def process_cpu_ms(pid: int) -> float:
    """CPU time (user + system) a process has used so far, in ms."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return 1000 * (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_setup(
    servers: list[tuple[str, subprocess.Popen[bytes]]], seconds: float, checks: Path, redis: int
) -> dict[str, Any]:
    """wrk against every server at once (the connections and wrk's two threads shared among
    them, so every set-up is sent the same load); the summed throughput, the worst percentiles,
    every error, and the CPU the servers' workers and Redis spent a request."""
    connections = CONNECTIONS // len(servers)
    threads = max(1, 2 // len(servers))
    results: list[dict[str, Any]] = [{} for _ in servers]

    def load(k: int) -> None:
        results[k] = wrk(servers[k][0], seconds, LUA, [str(checks)], None, connections, threads)

    before = [bench_service.cpu_ms(server.pid) for _, server in servers]
    redis_before = process_cpu_ms(redis)
    running = [threading.Thread(target=load, args=(k,)) for k in range(len(servers))]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    used = sum(bench_service.cpu_ms(s.pid) - b for (_, s), b in zip(servers, before, strict=True))
    requests = sum(r["requests"] for r in results)
    return {
        "rps": sum(r["rps"] for r in results),
        "p50": max(r["p50"] for r in results),
        "p90": max(r["p90"] for r in results),
        "p99": max(r["p99"] for r in results),
        "socket_errors": sum(r["socket_errors"] for r in results),
        "non2xx": sum(r["non2xx"] for r in results),
        "requests": requests,
        "cpu_ms": used,
        "redis_ms": process_cpu_ms(redis) - redis_before,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="load of each set-up")
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers per instance")
    parser.add_argument("--spec", default="{}", help="spec options of the problem (JSON)")
    options = parser.parse_args()
    for tool in ("wrk", "redis-server"):
        if shutil.which(tool) is None:
            print(f"bench_instances: needs {tool} (bash scripts/setup.sh dev)")
            return 2
    spec = json.loads(options.spec)
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="handcalc-bench-")))
        url = stack.enter_context(database(work))
        redis = stack.enter_context(queue_support.redis_server())
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("HANDCALC_")},
            "HANDCALC_ENV": "production",
            "HANDCALC_SECRET_KEY": secrets.token_urlsafe(32),
            "HANDCALC_INSTRUCTOR_TOKEN": secrets.token_urlsafe(18),
            "HANDCALC_DATABASE_URL": url,
            "HANDCALC_INSTANCE": str(work),
            # wrk is one client sending thousands a minute: limits counted, never reached
            "HANDCALC_CHECKS_PER_MINUTE": str(10**7),
            "HANDCALC_PRACTICE_PER_MINUTE": str(10**7),
            "HANDCALC_PRACTICE_CPU_SECONDS": str(10**7),
        }
        servers: dict[str, tuple[str, subprocess.Popen[bytes]]] = {}
        for name, extra in (
            ("alone", {}),
            ("redis-1", {"HANDCALC_REDIS_URL": redis}),
            ("redis-2", {"HANDCALC_REDIS_URL": redis}),
        ):
            port = bench_service.free_port()
            server = bench_service.start(port, {**env, **extra}, options.workers)
            stack.callback(stop, server)
            servers[name] = (f"http://127.0.0.1:{port}", server)
        import redis as redis_client

        redis_pid = int(redis_client.Redis.from_url(redis).info("server")["process_id"])
        practice = call(servers["alone"][0], "/api/v1/practice", {"spec": spec, "seed": 7})
        problem = handcalc.generate(seed=7, **spec)
        checks = work / "checks.tsv"
        path = f"/api/v1/practice/{practice['token']}/check"
        write_requests(checks, [(path, v) for v in answer_variants(problem)])
        setups = {
            "1 instance, no Redis": [servers["alone"]],
            "1 instance, Redis": [servers["redis-1"]],
            "2 instances, Redis": [servers["redis-1"], servers["redis-2"]],
        }
        print(
            f"problem: {problem.describe()}; {len(problem.steps)} cells; "
            f"{options.workers} gunicorn worker(s) an instance; database "
            f"{url.split(':', 1)[0]}; wrk {CONNECTIONS} connections in all, "
            f"{options.seconds:g} s a set-up; {os.cpu_count()} CPUs"
        )
        for chosen in setups.values():  # warm-up: imports, caches, connections
            run_setup(chosen, 1, checks, redis_pid)
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in setups}
        for _ in range(2):  # interleaved, so every set-up sees the same machine
            for name, chosen in setups.items():
                runs[name].append(run_setup(chosen, options.seconds / 2, checks, redis_pid))
        merged = {name: bench_service._merge(got) for name, got in runs.items()}
        for name, result in merged.items():
            requests = max(1, sum(r["requests"] for r in runs[name]))
            web = sum(r["cpu_ms"] for r in runs[name]) / requests
            cache = sum(r["redis_ms"] for r in runs[name]) / requests
            print(f"{line(name, result)}   CPU a request: web {web:.2f} ms, Redis {cache:.3f} ms")
        alone, shared, two = (merged[name]["rps"] for name in setups)
        errors = sum(r["socket_errors"] + r["non2xx"] for r in merged.values())
        print(
            f"Redis-counted / per-process limits (1 instance): {shared / alone:.2f}; "
            f"2 instances / 1 instance (both Redis): {two / shared:.2f}; errors: {errors}; "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
