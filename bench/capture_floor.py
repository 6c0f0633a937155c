"""How fast a capture endpoint can be on this machine, beside hello-world and leadsieve's own.

    .venv/bin/python -m bench.capture_floor                 # SQLite and PostgreSQL, 2 runs of 10 s
    .venv/bin/python -m bench.capture_floor --db sqlite --runs 1 --duration 5

The same gunicorn (2 sync workers) and wrk (-t2 -c32) as bench/capture.py, the same urlencoded post
(bench.capture's script: a new e-mail each time), alternating run by run with hello-world. Variants:

- `raw`: a bare WSGI callable that parses the body (urllib), stores it with one INSERT on a driver
  connection it keeps (sqlite3 in WAL, or psycopg in autocommit: committed before it answers, as
  capture must) and answers 303. What storing a post costs without any framework.
- `raw+redis`: `raw` plus one Redis round trip before the INSERT (an INCR, as a rate limit does).
- `flask`: `raw` as a Flask view (`request.form`, `redirect`).
- `leadsieve`: the real `POST /f/<slug>`.

The differences between the rows are what each layer costs here, under the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from bench.capture import SLUG, capture_script, fetch_token
from bench.common import WRK_DONE, Gunicorn, app_env, database, machine, private_redis, run_wrk, seed

TABLE = "bench_floor_posts"
VARIANTS = ("raw", "raw+redis", "flask", "leadsieve")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def _store(url: str) -> Callable[[str, str], None]:
    """An INSERT committed when it returns, on a driver connection of each thread's own."""
    local = threading.local()
    if url.startswith("sqlite"):
        import sqlite3

        def sqlite_connection() -> Any:
            connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=30)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            return connection

        def insert_sqlite(email: str, fields: str) -> None:
            if not hasattr(local, "connection"):
                local.connection = sqlite_connection()
            local.connection.execute(f"INSERT INTO {TABLE} (email, fields) VALUES (?, ?)", (email, fields))

        return insert_sqlite
    import psycopg

    def insert_pg(email: str, fields: str) -> None:
        if not hasattr(local, "connection"):
            local.connection = psycopg.connect(
                url.replace("postgresql+psycopg://", "postgresql://", 1), autocommit=True
            )
        local.connection.execute(f"INSERT INTO {TABLE} (email, fields) VALUES (%s, %s)", (email, fields), prepare=True)

    return insert_pg


def make_app(variant: str, database_url: str, redis_url: str) -> Any:
    """The WSGI app of one variant."""
    if variant == "flask":
        from flask import Flask, redirect, request

        flask_app = Flask(__name__)
        insert = _store(database_url)

        @flask_app.get("/ready")
        def ready() -> str:
            return "ok"

        @flask_app.post("/f/<slug>")
        def post(slug: str) -> Any:
            fields = request.form
            insert(fields.get("email", ""), json.dumps(fields.to_dict()))
            return redirect(f"/f/{slug}/thanks", code=303)

        return flask_app
    insert = _store(database_url)
    redis = None
    if variant == "raw+redis":
        from redis import Redis

        redis = Redis.from_url(redis_url)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "POST":  # the readiness probe
            start_response("200 OK", [("Content-Length", "2")])
            return [b"ok"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        fields = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
        if redis is not None:
            redis.incr(f"floor:{environ.get('REMOTE_ADDR')}")
        insert(fields.get("email", ""), json.dumps(fields))
        start_response("303 See Other", [("Location", environ["PATH_INFO"] + "/thanks"), ("Content-Length", "0")])
        return [b""]

    return app


def _wsgi_from_env() -> Any:
    variant = os.environ.get("FLOOR_VARIANT")
    return make_app(variant, os.environ["DATABASE_URL"], os.environ["REDIS_URL"]) if variant else None


app = _wsgi_from_env()


def create_table(url: str) -> None:
    """The table the floor variants insert into."""
    from sqlalchemy import text

    from app.db import make_engine

    engine = make_engine(url)
    key = "INTEGER PRIMARY KEY" if url.startswith("sqlite") else "SERIAL PRIMARY KEY"
    with engine.begin() as connection:
        connection.execute(text(f"CREATE TABLE IF NOT EXISTS {TABLE} (id {key}, email TEXT, fields TEXT)"))
    engine.dispose()


def bench_database(kind: str, work: Path, hello: Gunicorn, args: argparse.Namespace) -> dict[str, Any]:
    """Every variant against one database kind, alternating with hello-world."""
    directory = work / kind
    directory.mkdir()
    hello_lua = work / "hello.lua"
    results: dict[str, Any] = {}
    with private_redis(directory) as redis_url, database(kind, directory) as database_url:
        env = app_env(database_url=database_url, redis_url=redis_url, instance=directory)
        seed(env)
        create_table(database_url)
        for variant in args.variants:
            target = "app:create_app()" if variant == "leadsieve" else "bench.capture_floor:app"
            server = Gunicorn(
                target,
                {**env, "FLOOR_VARIANT": variant if variant != "leadsieve" else ""},
                log=directory / "g.log",
                worker_class=args.worker_class,
                threads=args.gunicorn_threads,
            )
            server.start("/healthz" if variant == "leadsieve" else "/ready")
            try:
                token = fetch_token(server.base, SLUG) if variant == "leadsieve" else "x"
                script = capture_script(directory / f"{variant}.lua", slug=SLUG, token=token, tag=variant)
                run_wrk(
                    server.base + f"/f/{SLUG}", script, duration=2, threads=args.threads, connections=args.connections
                )
                runs = []
                for _ in range(args.runs):
                    h = run_wrk(
                        hello.base + "/",
                        hello_lua,
                        duration=args.duration,
                        threads=args.threads,
                        connections=args.connections,
                    )
                    c = run_wrk(
                        server.base + f"/f/{SLUG}",
                        script,
                        duration=args.duration,
                        threads=args.threads,
                        connections=args.connections,
                    )
                    runs.append(
                        {"hello": h, "capture": c, "ratio": c["rps"] / h["rps"], "p99_ratio": c["p99_ms"] / h["p99_ms"]}
                    )
                    print(
                        f"  {kind:8} {variant:10} hello {h['rps']:6.0f} req/s p99 {h['p99_ms']:5.1f} | "
                        f"{c['rps']:6.0f} req/s p99 {c['p99_ms']:6.1f} ms | ratio {runs[-1]['ratio']:.2f}, "
                        f"p99 ratio {runs[-1]['p99_ratio']:.1f} | non-2xx/3xx {c['non_2xx_3xx']}",
                        flush=True,
                    )
                results[variant] = runs
            finally:
                server.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print a summary."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--worker-class", default="sync", help="gunicorn worker class of every server (gthread: threads)"
    )
    parser.add_argument("--gunicorn-threads", type=int, default=1, help="threads per gunicorn worker (gthread)")
    args = parser.parse_args(argv)
    print("machine:", json.dumps(machine()), flush=True)
    summary = {}
    with tempfile.TemporaryDirectory(prefix="leadsieve-floor-") as tmp:
        work = Path(tmp)
        (work / "hello.lua").write_text(WRK_DONE)
        hello = Gunicorn(
            "bench.hello:app",
            app_env(database_url="", redis_url="", instance=work),
            log=work / "h.log",
            worker_class=args.worker_class,
            threads=args.gunicorn_threads,
        )
        hello.start("/")
        try:
            for kind in args.db:
                summary[kind] = bench_database(kind, work, hello, args)
        finally:
            hello.stop()
    print(
        f"\nsummary (median ratio to hello-world over runs), loadavg {' '.join(f'{x:.2f}' for x in os.getloadavg())}:"
    )
    for kind, variants in summary.items():
        cells = [
            f"{variant} {statistics.median(r['ratio'] for r in runs):.2f} "
            f"(p99 {statistics.median(r['p99_ratio'] for r in runs):.1f}x)"
            for variant, runs in variants.items()
        ]
        print(f"  {kind:8} " + " | ".join(cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
