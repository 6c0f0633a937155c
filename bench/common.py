"""What every benchmark needs: a private Redis, a throw-away database, gunicorn, wrk, /proc readings.

Nothing here touches a service someone else runs: Redis is our own on a unix
socket under a temporary directory, PostgreSQL gets a database created for the
run and dropped after it, the servers listen on free loopback ports.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "bench-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def machine() -> dict[str, str]:
    """The facts docs/benchmarks.md records beside every figure."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        mem_kb = 0
    facts = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "ram": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=2) as conn:
            facts["postgresql"] = conn.execute("show server_version").fetchone()[0]
    except Exception as exc:  # noqa: BLE001 - a missing server is a fact to print, not a failure
        facts["postgresql"] = f"unavailable ({type(exc).__name__})"
    return facts


@contextmanager
def private_redis(directory: Path) -> Iterator[str]:
    """Our own redis-server on a unix socket; yields its URL."""
    from app.runtime.embedded_redis import RedisServer

    server = RedisServer(directory / "redis").start()
    try:
        yield server.url
    finally:
        server.stop()


@contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, or a PostgreSQL database dropped afterwards."""
    from app.runtime.migrations import upgrade

    if kind == "sqlite":
        url = f"sqlite:///{directory / 'bench.db'}"
        upgrade(url)
        yield url
        return
    if kind != "postgres":
        raise ValueError(f"unknown database kind {kind!r}")
    import psycopg

    name = f"leadsieve_bench_{os.getpid()}_{int(time.time())}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    url = f"{base}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def app_env(*, database_url: str, redis_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """Environment for leadsieve processes of a benchmark.

    The capture rate limit stays ON (its Redis round trips are part of the cost)
    but high enough that one loopback client is never refused.
    """
    env = dict(os.environ)
    env.update(
        {
            "LEADSIEVE_ENV": "development",
            "LEADSIEVE_INSTANCE": str(instance),
            "SECRET_KEY": SECRET,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "RATELIMIT_CAPTURE": "100000000 per minute",
            "LOG_LEVEL": "WARNING",
        }
    )
    env.update(extra)
    return env


def seed(env: dict[str, str]) -> list[str]:
    """The demo forms, created in the benchmark's database; returns their slugs."""
    from app import create_app
    from app.db import session_scope
    from app.runtime.seed import seed_demo
    from config import load_config

    app = create_app(load_config(env))
    with app.app_context(), session_scope() as session:
        slugs = [form.slug for form in seed_demo(session)]
        session.commit()
    app.extensions["leadsieve.engine"].dispose()
    return slugs


def count_rows(database_url: str, table: str = "submissions", where: str = "") -> int:
    """Rows in a table of the benchmark's database."""
    from sqlalchemy import text

    from app.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f"select count(*) from {table} {where}")).scalar_one())
    finally:
        engine.dispose()


class Gunicorn:
    """gunicorn serving `target` on a free loopback port (sync workers unless told otherwise)."""

    def __init__(
        self,
        target: str,
        env: dict[str, str],
        *,
        workers: int = 2,
        log: Path,
        worker_class: str = "sync",
        threads: int = 1,
    ) -> None:
        self.port = free_port()
        self.target, self.env, self.workers, self.log = target, env, workers, log
        self.worker_class, self.threads = worker_class, threads
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        """http://127.0.0.1:port"""
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/") -> Gunicorn:
        """Launch and wait until `ready_path` answers."""
        binary = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
        self.process = subprocess.Popen(
            [
                binary,
                "--workers",
                str(self.workers),
                "--worker-class",
                self.worker_class,
                "--threads",
                str(self.threads),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "--error-logfile",
                str(self.log),
                self.target,
            ],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn {self.target} exited; see {self.log}")
            try:
                with urllib.request.urlopen(self.base + ready_path, timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn {self.target} did not answer in 30 s; see {self.log}")

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the master)."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self) -> None:
        """SIGTERM the master (it stops its workers) and wait."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds these processes have used so far (/proc/<pid>/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def rss_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


# Lua for wrk: a `done` hook that prints one JSON line the Python side parses.
WRK_DONE = r"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, '
    .. '"non_2xx_3xx": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end
"""


def run_wrk(url: str, script: Path, *, threads: int = 2, connections: int = 32, duration: int = 15) -> dict[str, Any]:
    """Run wrk and return req/s, p50/p99 (ms) and error counts."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("BENCH "))
    raw = json.loads(line.removeprefix("BENCH "))
    return {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "requests": raw["requests"],
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "non_2xx_3xx": raw["non_2xx_3xx"],
        "socket_errors": raw["connect"] + raw["read"] + raw["write"] + raw["timeout"],
    }
