"""Memory: resident size of a gunicorn web worker and of the RQ worker after 10,000 submissions.

    .venv/bin/python -m bench.memory                    # SQLite, 10,000 submissions
    .venv/bin/python -m bench.memory --db postgres --n 10000

wrk posts the whitepaper form (as in bench.capture) until at least N rows are
stored, each request from its own client address (X-Forwarded-For behind TRUSTED_PROXY_COUNT=1, as
behind a proxy; from one address screening would hold them all as a burst); the web workers'
VmRSS/VmHWM are read from /proc. Then `leadsieve
worker` (the shipped worker class, normal mode, with its sweeper) screens them
against the suite's loopback DNS server (tests/dnsserver.py: nothing touches
real DNS); when no submission is left `received`, the worker's VmRSS/VmHWM are
read, together with the largest work-horse child seen while it ran.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.capture import SLUG, capture_script, fetch_token
from bench.common import (
    ROOT,
    Gunicorn,
    app_env,
    count_rows,
    database,
    machine,
    private_redis,
    rss_kib,
    run_wrk,
    seed,
)


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def main(argv: list[str] | None = None) -> int:
    """Submit, read the web workers' RSS, screen, read the RQ worker's RSS."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for screening")
    args = parser.parse_args(argv)

    from tests.dnsserver import suite_server

    print("machine:", json.dumps(machine()), flush=True)
    dns = suite_server()
    try:
        with (
            tempfile.TemporaryDirectory(prefix="leadsieve-mem-") as tmp,
            private_redis(Path(tmp)) as redis_url,
            database(args.db, Path(tmp)) as url,
        ):
            work = Path(tmp)
            env = app_env(
                database_url=url,
                redis_url=redis_url,
                instance=work,
                DNS_NAMESERVERS=dns.address,
                TRUSTED_PROXY_COUNT="1",
            )
            seed(env)
            web = Gunicorn("app:create_app()", env, log=work / "gunicorn.log").start("/healthz")
            try:
                token = fetch_token(web.base, SLUG)
                start = {pid: rss_kib(pid) for pid in web.worker_pids()}
                rounds = 0
                while count_rows(url) < args.n:
                    rounds += 1
                    run_wrk(
                        web.base + f"/f/{SLUG}",
                        capture_script(
                            work / f"m{rounds}.lua", slug=SLUG, token=token, tag=f"m{rounds}", forwarded=True
                        ),
                        duration=10,
                    )
                stored = count_rows(url)
                web_rss = {pid: rss_kib(pid) for pid in web.worker_pids()}
            finally:
                web.stop()
            print(f"stored {stored} submissions")
            for pid, rss in web_rss.items():
                print(
                    f"  web worker {pid}: VmRSS {rss['VmRSS'] / 1024:.1f} MiB, "
                    f"peak {rss['VmHWM'] / 1024:.1f} MiB "
                    f"(at start {start[pid]['VmRSS'] / 1024:.1f} MiB)",
                    flush=True,
                )

            started = time.monotonic()
            worker = subprocess.Popen(
                [sys.executable, "-m", "app", "worker"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=open(work / "worker.log", "wb"),
                start_new_session=True,
            )
            horse_peak = 0
            left = stored
            try:
                while time.monotonic() - started < args.timeout:
                    for child in _children(worker.pid):
                        try:
                            horse_peak = max(horse_peak, rss_kib(child).get("VmRSS", 0))
                        except OSError:
                            pass
                    left = count_rows(url, where="where status = 'received'")
                    if left == 0 or worker.poll() is not None:
                        break
                    time.sleep(0.5)
                elapsed = time.monotonic() - started
                worker_rss = rss_kib(worker.pid)
            finally:
                worker.terminate()
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
            screened = stored - left
            print(
                f"RQ worker screened {screened} in {elapsed:.0f} s "
                f"({screened / elapsed:.1f}/s, incl. start-up); "
                f"{left} left received"
            )
            print(
                f"  RQ worker: VmRSS {worker_rss['VmRSS'] / 1024:.1f} MiB, "
                f"peak {worker_rss['VmHWM'] / 1024:.1f} "
                f"MiB; largest work horse seen {horse_peak / 1024:.1f} MiB"
            )
            statuses = count_rows(url, where="where status = 'screened'")
            print(f"  rows screened: {statuses}")
    finally:
        dns.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
