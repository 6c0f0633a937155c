"""Property: whatever DNS does (time-outs, SERVFAIL, NXDOMAIN or no-mail while the canary fails, a dead
resolver, in any order, through the batch's threads and the resolver's down-marking), no verdict is
"rejected" because of it. Real sockets on loopback: the test DNS server and a port that never answers."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from screening import Context
from screening.batch import run_batch
from screening.resolver import MailResolver
from tests.dnsserver import DnsServer, mx

ROWS = 10
# What DNS says about a row's domain; "ok" is the only one that is a real answer about the person.
OUTCOMES = ("timeout", "servfail", "nxdomain", "no_mail", "ok")
# What it says about the canary (gmail.com stand-ins): only "ok" makes negative answers trustworthy;
# "none" is no canary configured, where negative answers are taken as they come.
CANARIES = ("ok", "timeout", "servfail", "nxdomain", "no_mx", "none")


def domain(outcome: str, i: int) -> str:
    return f"{outcome.replace('_', '')}{i}.example"


@pytest.fixture(scope="module")
def outcomes_server() -> Iterator[DnsServer]:
    zone: dict[str, dict[str, list[str]]] = {}
    for i in range(ROWS):
        zone[domain("ok", i)] = mx(f"mx.{domain('ok', i)}")
        zone[domain("no_mail", i)] = {"TXT": ['"v=spf1 -all"']}
    zone["canary-ok.example"] = mx("mx.canary-ok.example")
    zone["canary-nomx.example"] = {"TXT": ['"no mail"']}
    silent = [domain("timeout", i) for i in range(ROWS)] + ["canary-timeout.example"]
    servfail = [domain("servfail", i) for i in range(ROWS)] + ["canary-servfail.example"]
    server = DnsServer(zone, silent=silent, servfail=servfail).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def dead_port() -> Iterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # bound, never read: every query times out
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.sampled_from(OUTCOMES), min_size=1, max_size=ROWS),
    canary=st.sampled_from(CANARIES),
    dead=st.booleans(),
    workers=st.sampled_from([1, 3, 8]),
    down_after=st.sampled_from([0, 1, 2, 8]),
)
# The corners where a resolver taken as down must still say unknown: no canary to catch a wrong negative.
@example(rows=["ok"] * 6, canary="none", dead=True, workers=1, down_after=1)
@example(
    rows=["timeout", "timeout", "nxdomain", "ok", "no_mail", "ok"], canary="none", dead=False, workers=1, down_after=1
)
@example(rows=["servfail", "timeout", "ok", "timeout"], canary="timeout", dead=False, workers=3, down_after=2)
def test_no_dns_failure_ever_rejects(outcomes_server, dead_port, rows, canary, dead, workers, down_after):
    nameserver = f"127.0.0.1:{dead_port}" if dead else outcomes_server.address
    canary_name = {"no_mx": "canary-nomx.example", "none": ""}.get(canary, f"canary-{canary}.example")
    resolver = MailResolver([nameserver], timeout=0.03, canary=canary_name, down_after=down_after, down_seconds=0.05)
    context = Context(resolver=resolver, dns_budget_seconds=0.1)
    emails = [f"li{i}@{domain(outcome, i)}" for i, outcome in enumerate(rows)]
    sink = io.StringIO()
    run_batch(
        io.StringIO("Email\n" + "\n".join(emails) + "\n"),
        sink,
        in_format="csv",
        out_format="jsonl",
        context=context,
        workers=workers,
    )
    results = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert [r["Email"] for r in results] == emails
    for outcome, result in zip(rows, results, strict=True):
        negative_untrusted = outcome in ("nxdomain", "no_mail") and canary not in ("ok", "none")
        dns_failed = dead or outcome in ("timeout", "servfail") or negative_untrusted
        if outcome == "ok" or dns_failed:
            assert result["verdict"] != "rejected", (outcome, canary, dead, result)
        if dns_failed:
            assert "dns.nxdomain" not in result["findings"] and "dns.no_mail" not in result["findings"], result
        if outcome == "ok" and not dead:
            assert result["verdict"] == "accepted" or "dns.unknown" in result["findings"], result
