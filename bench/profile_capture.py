"""Profile the capture path: N test-client POSTs of the whitepaper form under cProfile.

    .venv/bin/python -m bench.profile_capture              # SQLite, 2,000 posts, top 35 by own time
    .venv/bin/python -m bench.profile_capture --db postgres --n 1000 --sort cumulative

    .venv/bin/python -m bench.profile_capture --breakdown  # CPU ms per capture with parts switched off

Same set-up as bench.capture (private Redis, throw-away database, demo forms),
but in-process, so the profile shows where one request's time goes. The
breakdown (no profiler) times the whole capture, then without the rate limit,
without the enqueue, without the INSERT, and a bare GET /healthz of the same
app: the differences are what each part costs in this process (the Redis and
database servers' own CPU comes on top).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.capture import FIELDS, SLUG
from bench.common import app_env, count_rows, database, private_redis, seed


def cpu_ms_per_call(call: Callable[[int], None], n: int, rounds: int = 3) -> float:
    """Best of `rounds` of process CPU time per call, in ms (CPU time shrugs off other load better)."""
    best = float("inf")
    for r in range(rounds):
        started = time.process_time()
        for i in range(n):
            call(r * n + i)
        best = min(best, (time.process_time() - started) / n * 1000)
    return best


def breakdown(env: dict[str, str], n: int) -> None:
    """Print CPU ms per capture with parts of the path switched off, one at a time, cumulatively."""
    import app.capture.routes as routes
    from app import create_app
    from config import load_config

    settings = load_config(env)

    def poster(app: Any, tag: str) -> Callable[[int], None]:
        client = app.test_client()
        token = client.get(f"/f/{SLUG}/token").get_json()["token"]

        def post(i: int) -> None:
            body = urlencode({**FIELDS, "token": token, "email": f"{tag}.{i}@acme.com"})
            response = client.post(f"/f/{SLUG}", data=body, content_type="application/x-www-form-urlencoded")
            assert response.status_code in (200, 303), response.status_code

        for i in range(50):
            post(-i - 1)
        return post

    def health(client: Any) -> Callable[[int], None]:
        def get(_: int) -> None:
            client.get("/healthz")

        return get

    rows = [("capture, as shipped", poster(create_app(settings), "full"))]
    rows.append(("rate limit off", poster(create_app({**settings, "RATELIMIT_ENABLED": False}), "nolimit")))
    real_enqueue, real_store = routes._queue_screening, routes._store
    try:
        routes._queue_screening = lambda submission_id, **_: None  # type: ignore[assignment]
        rows.append(("... and no enqueue", poster(create_app({**settings, "RATELIMIT_ENABLED": False}), "noq")))
        routes._store = lambda *_: 0  # type: ignore[assignment]
        rows.append(("... and no INSERT/commit", poster(create_app({**settings, "RATELIMIT_ENABLED": False}), "nodb")))
        rows.append(("GET /healthz (Flask + test client floor)", health(create_app(settings).test_client())))
        for label, call in rows:
            print(f"{label:42} {cpu_ms_per_call(call, n):.2f} ms CPU per request", flush=True)
    finally:
        routes._queue_screening, routes._store = real_enqueue, real_store  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    """Post `--n` times under the profiler and print the top functions."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--breakdown", action="store_true", help="CPU per capture with parts switched off")
    args = parser.parse_args(argv)

    from app import create_app
    from config import load_config

    with (
        tempfile.TemporaryDirectory(prefix="leadsieve-prof-") as tmp,
        private_redis(Path(tmp)) as redis_url,
        database(args.db, Path(tmp)) as url,
    ):
        env = app_env(database_url=url, redis_url=redis_url, instance=Path(tmp))
        seed(env)
        if args.breakdown:
            breakdown(env, min(args.n, 500))
            return 0
        app = create_app(load_config(env))
        client = app.test_client()
        token = client.get(f"/f/{SLUG}/token").get_json()["token"]

        def post(i: int) -> None:
            body = urlencode({**FIELDS, "token": token, "email": f"prof.{i}@acme.com"})
            response = client.post(f"/f/{SLUG}", data=body, content_type="application/x-www-form-urlencoded")
            assert response.status_code in (200, 303), response.status_code

        for i in range(50):  # warm up
            post(-i - 1)
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for i in range(args.n):
            post(i)
        profiler.disable()
        elapsed = time.perf_counter() - started
        print(
            f"{args.n} posts in {elapsed:.2f} s under cProfile: {elapsed / args.n * 1000:.2f} ms each; "
            f"{count_rows(url)} rows"
        )
        pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)
        app.extensions["leadsieve.engine"].dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
