"""Batch DNS that never stalls: a budget spent only waiting on DNS, rows finishing out of order,
and a dead resolver costing about one time-out per thread, against real sockets on loopback."""

from __future__ import annotations

import functools
import io
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from screening import Candidate, Context, Policy, disposable, screen
from screening import batch as batch_module
from screening import pipeline as pipeline_module
from screening.batch import run_batch
from screening.model import Finding
from screening.pipeline import DNS_FAILURE_CODES, explain
from screening.resolver import MX, UNKNOWN, MailResolver
from tests.dnsserver import DnsServer, mx


class DeadResolver:
    """A UDP port that is bound and never answers; it counts the queries it swallows."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.received = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._swallow, daemon=True, name="dead-resolver")
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def _swallow(self) -> None:
        while not self._stop.is_set():
            try:
                self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.received += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def dead() -> Iterator[DeadResolver]:
    server = DeadResolver()
    yield server
    server.stop()


@pytest.fixture
def quiet_server() -> Iterator[DnsServer]:
    """Live for acme.com and gmail.com, silent for quiet0..quiet39.example."""
    zone = {"acme.com": mx("mx.acme.com"), "gmail.com": mx("mx.gmail.com")}
    server = DnsServer(zone, silent=[f"quiet{i}.example" for i in range(40)]).start()
    yield server
    server.stop()


def _spin(seconds: float) -> None:
    """Keep the CPU busy, as 32 threads' checks do at the start of a batch."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_budget_counts_time_waiting_on_dns_not_on_the_cpu(dns_server, monkeypatch):
    """A row that spent longer than its whole DNS budget on the CPU before its first query still gets
    the budget: before, it was held as `dns.unknown` ("budget spent") though DNS answered at once."""

    def busy(candidate, context):
        _spin(0.4)
        return ()

    monkeypatch.setattr(pipeline_module, "CHECKS", {"busy": busy, **pipeline_module.CHECKS})
    context = Context(resolver=MailResolver([dns_server.address], timeout=0.2), dns_budget_seconds=0.3)
    result = screen(Candidate("li@acme.com"), context)
    assert [f.code for f in result.findings] == []
    assert result.verdict == "accepted"


def test_a_name_that_failed_is_asked_once_per_screening(dns_server):
    """The mail check and the disposable-MX check both want timeout.example's MX: one time-out, not two."""
    resolver = MailResolver([dns_server.address], timeout=0.2)
    before = dns_server.queries[("timeout.example", "MX")]
    result = screen(Candidate("li@timeout.example"), Context(resolver=resolver, dns_budget_seconds=1.0))
    assert dns_server.queries[("timeout.example", "MX")] == before + 1
    assert (result.verdict, result.category) == ("held", "uncertain")
    assert result.explanation is not None and result.explanation.dns_only


def test_rows_finish_out_of_order_and_are_written_in_order(quiet_server, monkeypatch):
    """The first row waits on a silent domain; the others finish meanwhile, far more than the old window of
    4 x workers rows, and the output still keeps input order."""
    finished: list[str] = []
    lock = threading.Lock()
    real_screen = batch_module.screen

    def recording(candidate, context):
        result = real_screen(candidate, context)
        with lock:
            finished.append(candidate.email)
        return result

    monkeypatch.setattr(batch_module, "screen", recording)
    emails = ["li@quiet0.example"] + [f"p{i}@acme.com" for i in range(60)]
    text = "Email\n" + "\n".join(emails) + "\n"
    context = Context(resolver=MailResolver([quiet_server.address], timeout=1.0), dns_budget_seconds=2.0)
    sink = io.StringIO()
    run_batch(io.StringIO(text), sink, in_format="csv", out_format="csv", context=context, workers=4)
    written = [line.split(",")[0] for line in sink.getvalue().splitlines()[1:]]
    assert written == emails
    assert finished.index("li@quiet0.example") > 4 * 4  # the old code waited for it after 15 others


def test_a_dead_resolver_costs_about_one_time_out_per_thread(dead):
    rows, workers = 300, 8
    resolver = MailResolver([dead.address], timeout=0.2, canary="gmail.com", down_seconds=30)
    context = Context(resolver=resolver, dns_budget_seconds=0.5)
    text = "Email,Company\n" + "".join(f"p{i}@company{i % 50}.example,Co {i}\n" for i in range(rows))
    sink = io.StringIO()
    started = time.monotonic()
    summary = run_batch(io.StringIO(text), sink, in_format="csv", out_format="csv", context=context, workers=workers)
    elapsed = time.monotonic() - started
    assert summary.verdicts == {"held": rows}
    assert summary.dns_only == rows
    # Before: one 0.2 s time-out per row (and a second when budget remained), 300 / 8 x 0.2 s = 7.5 s at least.
    # Now: the first waves time out (one per thread, a second while the probe runs), then nothing is asked.
    assert dead.received <= 3 * workers + 2, dead.received
    assert resolver.trips == 1 and resolver.down
    assert elapsed < 0.2 * rows / workers
    assert "did not answer" in sink.getvalue()


def test_names_that_never_answer_behind_a_live_resolver_do_not_take_it_down(quiet_server):
    resolver = MailResolver([quiet_server.address], timeout=0.05, down_after=3)
    context = Context(resolver=resolver, dns_budget_seconds=0.5)
    for i in range(10):  # ten silent names in a row: the probe is answered, so the resolver stays up
        assert screen(Candidate(f"li@quiet{i}.example"), context).findings[0].code == "dns.unknown"
    assert resolver.trips == 0 and not resolver.down
    assert screen(Candidate("li@acme.com"), context).findings == ()


def test_a_resolver_taken_down_is_probed_again_and_comes_back(quiet_server):
    resolver = MailResolver([quiet_server.address], timeout=0.1, down_after=3, down_seconds=0.3)
    quiet_server.silent |= {"acme.com", ""}  # nothing answers now ("" is the root the probe asks)
    for _ in range(3):
        assert resolver.mail_domain("acme.com").status == UNKNOWN
    started = time.monotonic()
    outcome = resolver.mail_domain("acme.com")  # the probe: not answered either, so the resolver is down
    assert outcome.status == UNKNOWN and resolver.down and resolver.trips == 1
    quick = time.monotonic()
    outcome = resolver.mail_domain("acme.com")
    assert time.monotonic() - quick < 0.05, "while down, a query is answered at once"
    assert "did not answer 3 queries in a row" in outcome.detail and "not a reason to reject" in outcome.detail
    quiet_server.silent -= {"acme.com", ""}
    deadline = started + 5
    while resolver.mail_domain("acme.com").status != MX:
        assert time.monotonic() < deadline, "the resolver never came back"
    assert not resolver.down and resolver.trips == 1


def test_health_probe_asks_even_while_down(quiet_server):
    """The sweeper's DNS watch must see DNS come back at once, not after the down period."""
    resolver = MailResolver([quiet_server.address], timeout=0.05, canary="gmail.com", down_after=2, down_seconds=60)
    quiet_server.silent |= {"acme.com", "gmail.com"}
    for _ in range(3):
        resolver.mail_domain("acme.com")
    assert resolver.down
    quiet_server.silent -= {"acme.com", "gmail.com"}
    assert resolver.health() == ""
    assert not resolver.down and resolver.mail_domain("acme.com").status == MX


def test_held_only_for_dns_is_counted_apart_in_the_summary(dns_server):
    context = Context(resolver=MailResolver([dns_server.address], timeout=0.2), dns_budget_seconds=0.5)
    text = "Email,Company\nli@timeout.example,Acme\nbob@servfail.example,Acme\nsam@acme.com,Acme\nx@eu.rival.co.uk,R\n"
    summary = run_batch(io.StringIO(text), io.StringIO(), in_format="csv", out_format="csv", context=context)
    assert summary.dns_only == 2
    assert summary.categories == {("held", "uncertain"): 2, ("accepted", ""): 2}
    report = summary.report()
    assert report[0] == "screened 4 rows: 2 accepted, 2 held"
    assert "  accepted: 2 clean" in report and "  held: 2 uncertain" in report
    assert any(line.startswith("  held only because DNS did not answer: 2 ") for line in report)


def test_dns_failure_codes_are_what_the_checks_emit():
    """The DNS-only test leaves out exactly the findings that say DNS did not answer."""
    held = [Finding("dns.unknown", "uncertain", 50, ""), Finding("dnsbl.unknown", "uncertain", 0, "")]
    assert DNS_FAILURE_CODES == {"dns.unknown", "dnsbl.unknown"}
    assert explain(held, Policy()).dns_only
    with_student = [*held, Finding("people.student", "student", 60, "")]
    assert not explain(with_student, Policy()).dns_only


def test_lists_are_built_once_before_the_threads_start(monkeypatch):
    """Lazily built lists (functools.cache) are built by every thread that asks before the first build
    ends; the batch builds them in the calling thread first, so 16 threads do not build 16 copies."""
    real = disposable.bundled_index()
    builds: list[str] = []

    @functools.cache
    def slow_first_build():
        builds.append(threading.current_thread().name)
        _spin(0.2)  # the real merge takes seconds of CPU
        return real

    monkeypatch.setattr(disposable, "bundled_index", slow_first_build)
    text = "Email\n" + "".join(f"p{i}@acme.com\n" for i in range(40))
    summary = run_batch(
        io.StringIO(text), io.StringIO(), in_format="csv", out_format="csv", context=Context(), workers=16
    )
    assert summary.verdicts == {"accepted": 40}
    assert builds == [threading.current_thread().name]
