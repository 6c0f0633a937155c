"""Screens per second through `screen()` and the batch path, against a loopback DNS server.

    .venv/bin/python bench/screening.py [--rows 10000] [--domains 2000] [--workers 8]

Measures, on the same generated leads:
  1. screen() with no resolver (the pure checks alone),
  2. screen() one at a time, DNS cold (fresh cache) then warm,
  3. the batch path (`run_batch`, CSV in and out, thread pool) cold then warm,
  4. the real `leadsieve screen` command on the same leads written to a CSV file (a fresh
     process: CLI start, migrated SQLite instance in a temporary directory, DNS cold),
and prints a Markdown table for docs/benchmarks.md, with the machine and its load.
Nothing leaves the machine: the DNS server is tests/dnsserver.py on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from screening import Candidate, Context, screen  # noqa: E402
from screening.batch import run_batch  # noqa: E402
from screening.bundled import preload  # noqa: E402
from screening.context import ListEntry, Lists  # noqa: E402
from screening.resolver import MailResolver  # noqa: E402
from tests.dnsserver import DnsServer, mx  # noqa: E402

FIRST = ["Ana", "Li", "Raj", "Sam", "Kim", "Jo", "Maria", "Chen", "Olga", "Tom", "Aisha", "Pedro"]
LAST = ["Patel", "Wei", "Garcia", "Smith", "Müller", "Nguyen", "Kowalski", "Rossi", "Tanaka", "Okafor"]
TITLES = ["CTO", "Head of Marketing", "Sales manager", "PhD student", "Engineer", "Professor", "VP Sales", ""]
MESSAGES = [
    "",
    "We need pricing for 40 seats.",
    "Can we see a demo?",
    "Cheap backlinks and SEO services http://a.ru http://b.ru http://c.ru",
    "Looking for a job",
]


def make_zone(domains: int) -> tuple[dict[str, dict[str, list[str]]], list[str]]:
    """`domains` company domains with MX, plus a few A-only and non-existent ones."""
    names = [f"company{i}.example" for i in range(domains)]
    zone = {name: mx(f"mx.{name}") for name in names}
    for i in range(0, domains, 20):
        zone[names[i]] = {"A": ["192.0.2.10"]}  # 5% A-only
    return zone, names + [f"gone{i}.example" for i in range(domains // 20)]  # ~5% NXDOMAIN


def make_rows(count: int, domains: list[str], seed: int = 7) -> list[dict[str, str]]:
    """Leads that look like a trade-show export."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        domain = rng.choice(domains)
        rows.append(
            {
                "Email": f"{first.lower()}.{i}@{domain}",
                "First Name": first,
                "Last Name": last,
                "Company": domain.split(".")[0].title(),
                "Job Title": rng.choice(TITLES),
                "Message": rng.choice(MESSAGES),
                "Booth": f"B{i % 90}",
            }
        )
    return rows


def candidates(rows: list[dict[str, str]]) -> list[Candidate]:
    return [
        Candidate(
            r["Email"],
            first_name=r["First Name"],
            last_name=r["Last Name"],
            company=r["Company"],
            job_title=r["Job Title"],
            message=r["Message"],
        )
        for r in rows
    ]


def timed(label: str, count: int, fn) -> tuple[str, int, float]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    fn()
    seconds = time.perf_counter() - started
    print(f"  {label}: {count} in {seconds:.2f}s = {count / seconds:,.0f}/s", file=sys.stderr)
    return label, count, seconds


def command_env(instance: Path, nameserver: str) -> dict[str, str]:
    """The environment for the CLI: a private instance and the loopback DNS server, nothing shared."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REDIS_", "DATABASE_", "DNS_", "LEADSIEVE_", "SCREENING_"))
    }
    env.update(LEADSIEVE_INSTANCE=str(instance), DNS_NAMESERVERS=nameserver)
    return env


def run_measured(command: list[str], env: dict[str, str], log: Path) -> tuple[float, int, int]:
    """Wall seconds, max RSS (KB) and exit code of one child, from its own rusage (os.wait4)."""
    with open(log, "w") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return seconds, usage.ru_maxrss, child.returncode


def time_command(csv_text: str, rows: int, nameserver: str, workers: int) -> tuple[str, int, float]:
    """`leadsieve screen leads.csv -o out.csv` end to end, as an operator runs it."""
    leadsieve = str(Path(sys.executable).with_name("leadsieve"))
    with tempfile.TemporaryDirectory(prefix="bench-screen-") as tmp:
        folder = Path(tmp)
        leads, out = folder / "leads.csv", folder / "out.csv"
        leads.write_text(csv_text, encoding="utf-8")
        env = command_env(folder / "instance", nameserver)
        subprocess.run([leadsieve, "db", "upgrade"], env=env, check=True, capture_output=True)
        command = [leadsieve, "screen", str(leads), "-o", str(out), "--workers", str(workers)]
        seconds, rss_kb, code = run_measured(command, env, folder / "stderr.txt")
        report = (folder / "stderr.txt").read_text().strip().splitlines()
        if code != 0:
            raise SystemExit(f"leadsieve screen failed ({code}): {report[-1:]}")
    shown = f"DNS_NAMESERVERS={nameserver} leadsieve screen leads.csv -o out.csv --workers {workers}"
    print(f"  command: {shown}", file=sys.stderr)
    print(f"  {report[-1]}; {seconds:.2f} s wall, {rss_kb} KB max RSS", file=sys.stderr)
    label = f"`leadsieve screen` command, {workers} threads, DNS cold ({rss_kb // 1024} MB max RSS)"
    return label, rows, seconds


def load() -> str:
    """Load average and the busiest other processes, so a reader can judge the figures."""
    top = subprocess.run(
        ["ps", "-eo", "pcpu,etime,comm", "--sort=-pcpu"], capture_output=True, text=True, check=False
    ).stdout.splitlines()[:6]
    one, five, fifteen = os.getloadavg()
    return "\n".join([f"load average: {one:.2f} {five:.2f} {fifteen:.2f}", *top])


def machine() -> str:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines()[:12]
    return "\n".join(
        [
            f"nproc: {os.cpu_count()}",
            f"python: {platform.python_version()}",
            f"platform: {platform.platform()}",
            *lscpu,
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--domains", type=int, default=2_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--no-command", action="store_true", help="skip timing `leadsieve screen`")
    args = parser.parse_args()

    load_before = load()
    preload()
    zone, domains = make_zone(args.domains)
    server = DnsServer(zone).start()
    lists = Lists.from_entries(
        [
            ("competitor_domain", ListEntry("company3.example", created_by="bench")),
            ("blocked_ip", ListEntry("203.0.113.0/24", created_by="bench")),
        ]
    )
    rows = make_rows(args.rows, domains)
    leads = candidates(rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    csv_text = buffer.getvalue()
    results = []
    try:
        pure = Context(lists=lists)
        results.append(timed("screen(), no DNS", len(leads), lambda: [screen(c, pure) for c in leads]))

        resolver = MailResolver([server.address], timeout=2.0)
        dns = Context(lists=lists, resolver=resolver)
        results.append(timed("screen(), one at a time, DNS cold", len(leads), lambda: [screen(c, dns) for c in leads]))
        results.append(timed("screen(), one at a time, DNS warm", len(leads), lambda: [screen(c, dns) for c in leads]))

        def batch(context: Context) -> None:
            run_batch(
                io.StringIO(csv_text),
                io.StringIO(),
                in_format="csv",
                out_format="csv",
                context=context,
                workers=args.workers,
            )

        cold = Context(lists=lists, resolver=MailResolver([server.address], timeout=2.0))
        results.append(timed(f"batch CSV, {args.workers} threads, DNS cold", len(rows), lambda: batch(cold)))
        results.append(timed(f"batch CSV, {args.workers} threads, DNS warm", len(rows), lambda: batch(cold)))
        if not args.no_command:
            results.append(time_command(csv_text, len(rows), server.address, args.workers))
    finally:
        server.stop()

    print(f"{args.rows} leads over {len(domains)} domains (5% A-only, 5% NXDOMAIN), loopback DNS server\n")
    print("| path | leads | seconds | leads/s |")
    print("|---|---:|---:|---:|")
    for label, count, seconds in results:
        print(f"| {label} | {count} | {seconds:.2f} | {count / seconds:,.0f} |")
    print("\n```\n" + machine() + "\n```")
    print("\nLoad before the run:\n\n```\n" + load_before + "\n```")
    print("\nLoad after the run:\n\n```\n" + load() + "\n```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
