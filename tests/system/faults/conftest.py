"""Real worker processes (`python worker.py`, RQ's forking worker) that tests can start and SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from app.runtime.embedded_redis import RedisServer

ROOT = Path(__file__).resolve().parents[3]


class WorkerProcesses:
    """Start workers with the app's settings (plus overrides) and kill them like a power cut would."""

    def __init__(self, settings: dict[str, Any], log_dir: Path) -> None:
        self.settings, self.log_dir = settings, log_dir
        self.running: list[subprocess.Popen[bytes]] = []

    def env(self, **overrides: Any) -> dict[str, str]:
        """The environment a deployed worker would have."""
        env = dict(os.environ)
        for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DNS_NAMESERVERS", "SMTP_URL", "SMTP_FROM"):
            value = self.settings.get(name)
            if value:
                env[name] = ",".join(value) if isinstance(value, list | tuple) else str(value)
        env.update(
            {
                "LEADSIEVE_ENV": "development",
                "LEADSIEVE_INSTANCE": str(self.log_dir / "instance"),
                "ALLOWED_PRIVATE_DESTINATIONS": "127.0.0.1",
                "LOG_LEVEL": "INFO",
                "DNS_TIMEOUT_SECONDS": "0.5",
                "DNS_BUDGET_SECONDS": "1.5",
                "SCREENING_LISTS_TTL_SECONDS": "0",
                "JOB_TIMEOUT_SECONDS": "3",
                "SQLITE_BUSY_TIMEOUT_SECONDS": "1",
                "DELIVERY_TIMEOUT_SECONDS": "2",
                "DELIVERY_BACKOFF": "1,1,1",
                "SWEEP_AFTER_SECONDS": "1",
                "SWEEP_INTERVAL_SECONDS": "1",
            }
        )
        env.update({k: str(v) for k, v in overrides.items()})
        return env

    def start(self, **overrides: Any) -> subprocess.Popen[bytes]:
        """One more worker, in its own process group (so its work-horse dies with it)."""
        with open(self.log_dir / f"worker-{len(self.running)}.log", "wb") as log:  # the child keeps its copy
            process = subprocess.Popen(
                [sys.executable, str(ROOT / "worker.py")],
                cwd=ROOT,
                env=self.env(**overrides),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the worker, its work-horse and its scheduler at once: no clean-up, no goodbye to RQ.
        (RQ puts the work-horse in a process group of its own, so the children are found through /proc.)"""
        family = [process.pid, *descendants(process.pid)]
        for pid in family:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        process.wait(10)

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    self.kill(process)

    def logs(self, tail: int | None = 3000) -> str:
        """What the workers printed: the last `tail` characters of each log (for failure messages), or all."""
        texts = (p.read_text(errors="replace") for p in sorted(self.log_dir.glob("worker-*.log")))
        return "\n".join(text[-tail:] if tail else text for text in texts)


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, read from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found.extend(children)
        todo.extend(children)
    return found


@pytest.fixture
def workers(settings: dict[str, Any], app: Any, tmp_path: Path) -> Iterator[WorkerProcesses]:
    """Worker processes on the test app's database, Redis and DNS server; all stopped afterwards."""
    pool = WorkerProcesses(settings, tmp_path)
    yield pool
    pool.stop_all()


def wait_until(
    predicate: Callable[[], Any], *, timeout: float = 30.0, message: str = "", logs: Callable[[], str] | None = None
) -> Any:
    """Poll until `predicate()` is truthy; fail with the workers' logs otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out: {message}\n{logs() if logs else ''}")


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis server for one test alone, so the test may stop and restart it (the session's stays up)."""
    server = RedisServer(tmp_path / "private-redis").start()
    yield server
    server.stop()


class LiveServer:
    """The app served over real HTTP on loopback (werkzeug's threaded server), as a visitor reaches it."""

    def __init__(self, app: Any) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def post_json(self, path: str, body: dict[str, Any], *, client_ip: str) -> tuple[int, Any]:
        """POST JSON from `client_ip` (sent as X-Forwarded-For: the app trusts one proxy); (status, JSON)."""
        request = urllib.request.Request(
            self.url + path,
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "X-Forwarded-For": client_ip},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(errors="replace")

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


@pytest.fixture
def live_server(app: Any) -> Iterator[LiveServer]:
    """The test app over HTTP; set TRUSTED_PROXY_COUNT=1 in `settings` to give visitors their own IPs."""
    server = LiveServer(app)
    yield server
    server.stop()


def add_webhook(app: Any, url: str) -> int:
    """A webhook destination for every lead, to `url` on loopback."""
    from app.db import session_scope
    from app.forwarding.destinations import create_destination

    with app.app_context(), session_scope() as session:
        destination = create_destination(
            session, kind="webhook", target=url, actor="test", allowed_private=["127.0.0.1"]
        )
        session.commit()
        return destination.id
