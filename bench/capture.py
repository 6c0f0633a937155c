"""Capture throughput and latency: `POST /f/<slug>` under gunicorn vs a bare Flask hello-world.

    .venv/bin/python -m bench.capture                 # SQLite and PostgreSQL, 3 runs of 15 s each
    .venv/bin/python -m bench.capture --db sqlite --runs 1 --duration 5

Both servers run under the same gunicorn settings (2 sync workers, loopback);
wrk (2 threads, 32 connections) alternates between them run by run, so both
see the same machine load. Each capture request posts the whitepaper demo form
urlencoded, with a signed token fetched from `/f/<slug>/token` and a different
e-mail per request. Afterwards the stored rows and queued screening jobs are
counted, so the figures are of requests that really stored leads.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.common import (
    WRK_DONE,
    Gunicorn,
    app_env,
    count_rows,
    cpu_seconds,
    database,
    machine,
    private_redis,
    rss_kib,
    run_wrk,
    seed,
)

SLUG = "whitepaper-lead-quality"
FIELDS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "company": "Acme Analytics",
    "job_title": "Head of Data",
    "country": "United Kingdom",
    "consent": "y",
    "utm_source": "bench",
    "utm_medium": "wrk",
}


def capture_script(path: Path, *, slug: str, token: str, tag: str, forwarded: bool = False) -> Path:
    """Lua that POSTs the form with a new e-mail each time (per thread: bench.<tag>.<thread>.<n>@acme.com).

    With `forwarded`, each request also claims its own client address in X-Forwarded-For (for a server
    run with TRUSTED_PROXY_COUNT=1), so screening sees many visitors instead of one burst from 127.0.0.1.
    """
    prefix = urlencode({**FIELDS, "token": token}) + "&email="
    client = (
        '["X-Forwarded-For"] = "10." .. tid .. "." .. (math.floor(counter / 250) % 250) .. "." .. (counter % 250), '
        if forwarded
        else ""
    )
    path.write_text(
        f"""
local threads = {{}}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
local counter = 0
local prefix = [==[{prefix}]==]
function request()
  counter = counter + 1
  local body = prefix .. "bench.{tag}." .. tid .. "." .. counter .. "%40acme.com"
  local headers = {{{client}["Content-Type"] = "application/x-www-form-urlencoded"}}
  return wrk.format("POST", "/f/{slug}", headers, body)
end
"""
        + WRK_DONE
    )
    return path


def fetch_token(base: str, slug: str) -> str:
    """A fresh signed token, as embed.js gets one."""
    with urllib.request.urlopen(f"{base}/f/{slug}/token", timeout=5) as response:
        return json.load(response)["token"]


def queued_jobs(redis_url: str) -> int:
    """Screening jobs waiting in our private Redis (no worker runs during the benchmark)."""
    from redis import Redis

    client = Redis.from_url(redis_url)
    try:
        return int(client.llen("rq:queue:screening"))
    finally:
        client.close()


def measured_wrk(server: Gunicorn, path: str, script: Path, args: argparse.Namespace) -> dict[str, Any]:
    """wrk against one server, with the CPU its web workers spent per answered request (less swayed by what
    else runs on the machine than req/s: a process waiting for the CPU spends none)."""
    pids = server.worker_pids()
    before = cpu_seconds(pids)
    result = run_wrk(
        server.base + path, script, threads=args.threads, connections=args.connections, duration=args.duration
    )
    result["worker_cpu_ms"] = (cpu_seconds(pids) - before) / max(1, result["requests"]) * 1000
    return result


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median, min and max of req/s, p50/p99 and web CPU per request over runs."""
    out: dict[str, Any] = {}
    for key in ("rps", "p50_ms", "p99_ms", "worker_cpu_ms"):
        values = [r[key] for r in runs]
        out[key] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
    return out


def bench_database(kind: str, work: Path, hello: Gunicorn, args: argparse.Namespace) -> dict[str, Any]:
    """All runs against one database kind."""
    directory = work / kind
    directory.mkdir()
    with private_redis(directory) as redis_url, database(kind, directory) as database_url:
        env = app_env(database_url=database_url, redis_url=redis_url, instance=directory)
        seed(env)
        server = Gunicorn("app:create_app()", env, log=directory / "gunicorn.log").start("/healthz")
        try:
            token = fetch_token(server.base, SLUG)
            hello_lua = work / "hello.lua"
            # Warm both up (imports, pools, first queries) before measuring.
            run_wrk(hello.base + "/", hello_lua, duration=3, connections=args.connections, threads=args.threads)
            run_wrk(
                server.base + f"/f/{SLUG}",
                capture_script(directory / "warm.lua", slug=SLUG, token=token, tag=f"{kind}w"),
                duration=3,
                connections=args.connections,
                threads=args.threads,
            )
            time.sleep(2)  # requests of the warm-up still in flight must not straddle the count
            rows_before, jobs_before = count_rows(database_url), queued_jobs(redis_url)
            hello_runs, capture_runs = [], []
            for n in range(args.runs):
                hello_runs.append(measured_wrk(hello, "/", hello_lua, args))
                script = capture_script(directory / f"run{n}.lua", slug=SLUG, token=token, tag=f"{kind}{n}")
                capture_runs.append(measured_wrk(server, f"/f/{SLUG}", script, args))
                h, c = hello_runs[-1], capture_runs[-1]
                print(
                    f"  {kind:8} run {n + 1}: hello {h['rps']:7.0f} req/s p50 {h['p50_ms']:5.1f} p99 "
                    f"{h['p99_ms']:5.1f} ms | capture {c['rps']:6.0f} req/s p50 {c['p50_ms']:5.1f} p99 "
                    f"{c['p99_ms']:5.1f} ms | ratio {c['rps'] / h['rps']:.2f} | web CPU ms/request hello "
                    f"{h['worker_cpu_ms']:.2f} capture {c['worker_cpu_ms']:.2f} | capture non-2xx/3xx "
                    f"{c['non_2xx_3xx']} socket errors {c['socket_errors']}",
                    flush=True,
                )
            time.sleep(2)  # let requests still in flight when wrk stopped finish
            rows_added = count_rows(database_url) - rows_before
            jobs_added = queued_jobs(redis_url) - jobs_before
            web_rss = {pid: rss_kib(pid) for pid in server.worker_pids()}
        finally:
            server.stop()
    answered = sum(r["requests"] for r in capture_runs)
    result = {
        "database": kind,
        "hello": hello_runs,
        "capture": capture_runs,
        "hello_summary": summarise(hello_runs),
        "capture_summary": summarise(capture_runs),
        "ratios": [c["rps"] / h["rps"] for c, h in zip(capture_runs, hello_runs, strict=True)],
        "capture_answered": answered,
        "rows_stored": rows_added,
        "jobs_queued": jobs_added,
        "capture_non_2xx_3xx": sum(r["non_2xx_3xx"] for r in capture_runs),
        "web_worker_rss_kib": web_rss,
    }
    print(
        f"  {kind}: wrk counted {answered} capture answers; {rows_added} rows stored, {jobs_added} screening "
        f"jobs queued (rows >= answers: requests in flight when wrk stopped still completed)",
        flush=True,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run, print a summary (and write JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--json", type=Path, help="write all figures here")
    args = parser.parse_args(argv)

    facts = machine()
    print("machine:", json.dumps(facts), flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="leadsieve-bench-") as tmp:
        work = Path(tmp)
        (work / "hello.lua").write_text(WRK_DONE)
        hello = Gunicorn(
            "bench.hello:app", app_env(database_url="", redis_url="", instance=work), log=work / "hello.log"
        ).start("/")
        try:
            for kind in args.db:
                results.append(bench_database(kind, work, hello, args))
        finally:
            hello.stop()
    after = machine()
    facts["ended"], facts["loadavg_after"] = after["date"], after["loadavg"]
    print("\nsummary (median [min–max] over runs):")
    for r in results:
        h, c = r["hello_summary"], r["capture_summary"]
        ratios = r["ratios"]
        print(
            f"  {r['database']:8} hello {h['rps']['median']:.0f} "
            f"[{h['rps']['min']:.0f}–{h['rps']['max']:.0f}] "
            f"req/s, p99 {h['p99_ms']['median']:.1f} ms | capture {c['rps']['median']:.0f} "
            f"[{c['rps']['min']:.0f}–{c['rps']['max']:.0f}] req/s, p50 {c['p50_ms']['median']:.1f} ms, "
            f"p99 {c['p99_ms']['median']:.1f} [{c['p99_ms']['min']:.1f}–{c['p99_ms']['max']:.1f}] ms | ratio "
            f"{statistics.median(ratios):.2f} [{min(ratios):.2f}–{max(ratios):.2f}] | p99 ratio "
            f"{c['p99_ms']['median'] / h['p99_ms']['median']:.1f} | web CPU ms/request hello "
            f"{h['worker_cpu_ms']['median']:.2f} capture {c['worker_cpu_ms']['median']:.2f} | non-2xx/3xx "
            f"{r['capture_non_2xx_3xx']} | rows {r['rows_stored']} for {r['capture_answered']} answers"
        )
        for pid, rss in r["web_worker_rss_kib"].items():
            print(f"           web worker {pid}: VmRSS {rss['VmRSS'] / 1024:.1f} MiB (peak {rss['VmHWM'] / 1024:.1f})")
    print("machine after:", json.dumps(facts))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"machine": facts, "args": vars(args) | {"json": str(args.json)}, "results": results},
                indent=1,
                default=str,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
