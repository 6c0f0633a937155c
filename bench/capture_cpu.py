"""CPU per request of the public endpoints, in-process, through the app's WSGI callable (no server, no client).

    .venv/bin/python -m bench.capture_cpu                  # SQLite and PostgreSQL, 300 requests x 7 rounds
    .venv/bin/python -m bench.capture_cpu --db sqlite --n 500

Best of `--rounds` of process CPU time per request: hello-world, GET /healthz, GET /f/<slug>/token,
and POST /f/<slug> (bench.capture's urlencoded post, then the same as JSON), each after a warm-up,
on a private Redis and a throw-away database as in bench.capture. The app is called directly with a
WSGI environ, so the figures are the application's own cost, hot in the CPU's caches; under gunicorn
on a busy machine each costs several times more (bench.capture prints the web workers' CPU per
request), but the differences between code versions show here with far less noise. Only public
endpoints are called, so any version of the code can be measured (run it from that tree).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.capture import FIELDS, SLUG
from bench.common import app_env, database, machine, private_redis, seed


def environ(method: str, path: str, body: bytes = b"", content_type: str = "") -> dict[str, Any]:
    """A WSGI environ as gunicorn would build it for a loopback client."""
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "bench",
        "HTTP_ACCEPT": "*/*",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }
    if body:
        env["CONTENT_LENGTH"], env["CONTENT_TYPE"] = str(len(body)), content_type
    return env


def call(app: Any, env: dict[str, Any]) -> str:
    """Run one request to completion; its status line."""
    status: list[str] = []
    body: Iterable[bytes] = app(env, lambda s, _headers, _exc=None: status.append(s))
    b"".join(body)
    close = getattr(body, "close", None)
    if close is not None:
        close()
    return status[0]


def cpu_ms(request: Callable[[int], None], n: int, rounds: int) -> float:
    """Best of `rounds` of process CPU ms per request."""
    best = float("inf")
    for r in range(rounds):
        started = time.process_time()
        for i in range(n):
            request(r * n + i)
        best = min(best, (time.process_time() - started) / n * 1000)
    return best


def measure(kind: str, n: int, rounds: int) -> dict[str, float]:
    """Every endpoint against one database kind."""
    from app import create_app
    from bench.hello import app as hello
    from config import load_config

    with tempfile.TemporaryDirectory(prefix="leadsieve-cpu-") as tmp, private_redis(Path(tmp)) as redis_url:
        with database(kind, Path(tmp)) as url:
            env = app_env(database_url=url, redis_url=redis_url, instance=Path(tmp))
            seed(env)
            app = create_app(load_config(env))
            token = json.loads(b"".join(app(environ("GET", f"/f/{SLUG}/token"), lambda *_: lambda _b: None)))["token"]

            def get(target: Any, path: str) -> Callable[[int], None]:
                def request(_: int) -> None:
                    call(target, environ("GET", path))

                return request

            def form_post(i: int) -> None:
                body = urlencode({**FIELDS, "token": token, "email": f"cpu.{i}@acme.com"}).encode()
                status = call(app, environ("POST", f"/f/{SLUG}", body, "application/x-www-form-urlencoded"))
                assert status.startswith(("200", "303")), status

            def json_post(i: int) -> None:
                body = json.dumps({**FIELDS, "token": token, "email": f"cpu.json.{i}@acme.com"}).encode()
                status = call(app, environ("POST", f"/f/{SLUG}", body, "application/json"))
                assert status.startswith("202"), status

            for i in range(100):
                form_post(-i - 1)
                json_post(-i - 1)
            figures = {
                "hello-world": cpu_ms(get(hello, "/"), n * 5, rounds),
                "GET /healthz": cpu_ms(get(app, "/healthz"), n * 5, rounds),
                "GET /f/<slug>/token": cpu_ms(get(app, f"/f/{SLUG}/token"), n, rounds),
                "POST /f/<slug> form": cpu_ms(form_post, n, rounds),
                "POST /f/<slug> JSON": cpu_ms(json_post, n, rounds),
            }
            app.extensions["leadsieve.engine"].dispose()
    return figures


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--n", type=int, default=300, help="requests per round (x5 for hello and /healthz)")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    print("machine:", json.dumps(machine()), flush=True)
    for kind in args.db:
        for label, ms in measure(kind, args.n, args.rounds).items():
            print(f"  {kind:8} {label:22} {ms:.3f} ms CPU per request", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
