"""Batch screening rows/s with live, slow, partly silent and dead DNS, and the `--workers` sweep.

    .venv/bin/python bench/batch_dns.py [--rows 1530] [--silent 60] [--workers 1,8,16,32,64,128]
                                        [--delay 0.08] [--no-command]

Generated trade-show rows (bench/screening.py's generator) over company, free-mail and
non-existent domains, screened with the production DNS settings (2 s per query, 4 s budget per
row, canary gmail.com), a fresh resolver cache for every run, against:
  live    the loopback DNS server of the tests answering at once;
  slow    the same, every answer delayed by --delay seconds (a cold recursive resolver);
  silent  live, but --silent of the rows' domains never answer (each costs a 2 s time-out);
  dead    a UDP port that is bound and never answers (the resolver is gone).
In-process (`run_batch`, CSV in and out) for each --workers value, then the real
`leadsieve screen` command with its default --workers on the same rows (fresh process, migrated
SQLite instance, DNS_NAMESERVERS pointing at each server). For each run: seconds, rows/s, rows held
only because DNS did not answer (`dns_only`), and how often the resolver was taken as down.
Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.screening import command_env, load, machine, make_rows, run_measured  # noqa: E402
from screening import Context  # noqa: E402
from screening.batch import DEFAULT_WORKERS, Summary, run_batch  # noqa: E402
from screening.bundled import preload  # noqa: E402
from screening.resolver import MailResolver  # noqa: E402
from tests.dnsserver import DnsServer, mx  # noqa: E402

FREEMAIL = ["gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "gmx.de", "web.de"]
TIMEOUT, BUDGET, CANARY = 2.0, 4.0, "gmail.com"  # the production defaults (config.py)


class SlowDnsServer(DnsServer):
    """The test server, every answer `delay` seconds late (its UDP handler runs a thread per query)."""

    def __init__(self, *args, delay: float, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.delay = delay

    def answer(self, wire: bytes) -> bytes | None:
        time.sleep(self.delay)
        return super().answer(wire)


def zone_and_domains(rows: int, silent: int) -> tuple[dict[str, dict[str, list[str]]], list[str], list[str]]:
    """Company domains (about one per five rows) with MX, free-mail, a few NXDOMAIN; and `silent` names."""
    companies = [f"company{i}.example" for i in range(max(20, rows // 5))]
    zone = {name: mx(f"mx.{name}") for name in companies + FREEMAIL}
    gone = [f"gone{i}.example" for i in range(max(1, rows // 100))]
    quiet = [f"quiet{i}.example" for i in range(silent)]
    return zone, companies + FREEMAIL * 20 + gone, quiet


def leads_csv(rows: int, domains: list[str], quiet: list[str], seed: int = 13) -> str:
    """The rows as CSV; each silent domain used by exactly one row, spread over the file."""
    generated = make_rows(rows, domains, seed=seed)
    rng = random.Random(seed)
    for i, name in zip(rng.sample(range(rows), len(quiet)), quiet, strict=True):
        local = generated[i]["Email"].split("@")[0]
        generated[i]["Email"] = f"{local}@{name}"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(generated[0]))
    writer.writeheader()
    writer.writerows(generated)
    return buffer.getvalue()


def run_in_process(text: str, nameserver: str, workers: int) -> tuple[float, Summary, int]:
    """Seconds, summary and resolver trips of one `run_batch` with a cold cache."""
    resolver = MailResolver([nameserver], timeout=TIMEOUT, canary=CANARY)
    context = Context(resolver=resolver, dns_budget_seconds=BUDGET)
    started = time.perf_counter()
    summary = run_batch(
        io.StringIO(text), io.StringIO(), in_format="csv", out_format="csv", context=context, workers=workers
    )
    return time.perf_counter() - started, summary, resolver.trips


def run_command(text: str, nameserver: str) -> tuple[float, list[str]]:
    """`leadsieve screen leads.csv -o out.csv` with its default --workers: wall seconds and its report."""
    leadsieve = str(Path(sys.executable).with_name("leadsieve"))
    with tempfile.TemporaryDirectory(prefix="bench-batch-dns-") as tmp:
        folder = Path(tmp)
        leads, out = folder / "leads.csv", folder / "out.csv"
        leads.write_text(text, encoding="utf-8")
        env = command_env(folder / "instance", nameserver)
        env.update(DNS_TIMEOUT_SECONDS=str(TIMEOUT), DNS_BUDGET_SECONDS=str(BUDGET), DNS_CANARY_DOMAIN=CANARY)
        subprocess.run([leadsieve, "db", "upgrade"], env=env, check=True, capture_output=True)
        seconds, _, code = run_measured([leadsieve, "screen", str(leads), "-o", str(out)], env, folder / "err.txt")
        report = (folder / "err.txt").read_text().strip().splitlines()
        if code != 0:
            raise SystemExit(f"leadsieve screen failed ({code}): {report[-3:]}")
    return seconds, [line for line in report if line.startswith(("screened", "  "))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1530)
    parser.add_argument("--silent", type=int, default=60, help="rows whose domain never answers (silent run)")
    parser.add_argument("--workers", default="1,8,16,32,64,128", help="comma-separated thread counts")
    parser.add_argument("--delay", type=float, default=0.08, help="seconds each answer waits (slow run)")
    parser.add_argument("--scenarios", default="live,slow,silent,dead")
    parser.add_argument("--repeat", type=int, default=1, help="runs per in-process figure; the median is kept")
    parser.add_argument("--no-command", action="store_true", help="skip timing `leadsieve screen`")
    args = parser.parse_args()
    sweep = [int(w) for w in args.workers.split(",") if w.strip()]
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]

    load_before = load()
    preload()
    zone, domains, quiet = zone_and_domains(args.rows, args.silent)
    live = DnsServer(zone).start()
    slow = SlowDnsServer(zone, delay=args.delay).start()
    silent = DnsServer(zone, silent=quiet).start()
    dead = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never read, never answers
    dead.bind(("127.0.0.1", 0))
    servers = {
        "live": (live.address, leads_csv(args.rows, domains, [])),
        "slow": (slow.address, leads_csv(args.rows, domains, [])),
        "silent": (silent.address, leads_csv(args.rows, domains, quiet)),
        "dead": (f"127.0.0.1:{dead.getsockname()[1]}", leads_csv(args.rows, domains, [])),
    }
    results: list[tuple[str, str, float, Summary | None, int | str]] = []
    # Warm-up, not measured: the first screening builds the merged disposable index and other caches.
    run_batch(io.StringIO(servers["live"][1]), io.StringIO(), in_format="csv", out_format="csv", context=Context())
    try:
        for scenario in scenarios:
            nameserver, text = servers[scenario]
            for workers in sweep if scenario != "dead" else sorted({min(sweep), DEFAULT_WORKERS, max(sweep)}):
                runs = sorted(
                    (run_in_process(text, nameserver, workers) for _ in range(max(1, args.repeat))),
                    key=lambda run: run[0],
                )
                seconds, summary, trips = runs[len(runs) // 2]
                print(
                    f"  {scenario} {workers} threads: {summary.rows} rows in {seconds:.2f}s = "
                    f"{summary.rows / seconds:,.0f}/s, held only for DNS {summary.dns_only}, trips {trips} "
                    f"(runs: {', '.join(f'{run[0]:.2f}s' for run in runs)})",
                    file=sys.stderr,
                )
                results.append((scenario, f"run_batch, {workers} threads", seconds, summary, trips))
            if not args.no_command:
                seconds, report = run_command(text, nameserver)
                print(f"  {scenario} command: {seconds:.2f}s; " + " | ".join(report), file=sys.stderr)
                dns_only = next((line for line in report if "only because DNS" in line), "")
                held = dns_only.split(":")[1].split("(")[0].strip() if dns_only else "0"
                results.append(
                    (scenario, f"`leadsieve screen` (default {DEFAULT_WORKERS} threads)", seconds, None, held)
                )
    finally:
        for server in (live, slow, silent):
            server.stop()
        dead.close()

    print(
        f"\n{args.rows} rows; silent: {args.silent} of them at domains that never answer; "
        f"slow: +{args.delay}s per answer; median of {args.repeat} in-process run(s)\n"
    )
    print("| DNS | path | seconds | rows/s | held only for DNS | resolver taken down |")
    print("|---|---|---:|---:|---:|---:|")
    for scenario, path, seconds, counted, extra in results:
        if counted is not None:
            rate = counted.rows / seconds
            print(f"| {scenario} | {path} | {seconds:.2f} | {rate:,.0f} | {counted.dns_only} | {extra} |")
        else:
            print(f"| {scenario} | {path} | {seconds:.2f} | {args.rows / seconds:,.0f} | {extra} | |")
    print("\n```\n" + machine() + "\n```")
    print("\nLoad before the run:\n\n```\n" + load_before + "\n```")
    print("\nLoad after the run:\n\n```\n" + load() + "\n```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
