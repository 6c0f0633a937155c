"""The resolver against a real DNS server on loopback: every outcome, the budget and the cache."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from screening import Candidate, Context, Policy, screen
from screening.resolver import A_ONLY, MX, NO_MAIL, NULL_MX, NXDOMAIN, UNKNOWN, MailResolver, parse_nameserver
from tests.dnsserver import DnsServer, mx

# Four DNSBL zones whose entry for 127.0.0.2 never answers, beside a mail domain that never answers.
SILENT_ZONES = ("z1.example", "z2.example", "z3.example", "z4.example")


@pytest.fixture
def short_ttl_server() -> Iterator[DnsServer]:
    """A private server: 1-second TTLs, and five names that time out (one MX, four DNSBL)."""
    silent = ["timeout.example", *(f"2.0.0.127.{zone}" for zone in SILENT_ZONES)]
    server = DnsServer({"acme.com": mx("mx.acme.com")}, silent=silent, ttl=1).start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("domain", "status"),
    [
        ("acme.com", MX),
        ("null-mx.example", NULL_MX),
        ("a-only.example", A_ONLY),
        ("aaaa-only.example", A_ONLY),
        ("no-mail.example", NO_MAIL),
        ("nowhere.example", NXDOMAIN),
        ("servfail.example", UNKNOWN),
        ("timeout.example", UNKNOWN),
    ],
)
def test_mail_domain_outcomes(resolver, domain, status):
    assert resolver.mail_domain(domain).status == status


@pytest.mark.parametrize(
    ("email", "code", "verdict"),
    [
        ("li@acme.com", None, "accepted"),
        ("li@null-mx.example", "dns.null_mx", "rejected"),
        ("li@a-only.example", "dns.a_only", "accepted"),
        ("li@no-mail.example", "dns.no_mail", "rejected"),
        ("li@nowhere.example", "dns.nxdomain", "rejected"),
        ("li@servfail.example", "dns.unknown", "held"),
        ("li@timeout.example", "dns.unknown", "held"),
    ],
)
def test_dns_findings_and_verdicts(dns_context, email, code, verdict):
    result = screen(Candidate(email), dns_context)
    assert [f.code for f in result.findings if f.code.startswith("dns.")] == ([code] if code else [])
    assert result.verdict == verdict
    # Our resolver failing is never a reason to reject a person.
    if code == "dns.unknown":
        assert result.category == "uncertain"
        assert "not a reason to reject" in result.findings[-1].evidence


def test_cache_answers_repeat_lookups_without_asking(dns_server, resolver):
    before = dns_server.queries[("acme.com", "MX")]
    for _ in range(5):
        assert resolver.mail_domain("acme.com").status == MX
        assert resolver.mail_domain("nowhere.example").status == NXDOMAIN
    assert dns_server.queries[("acme.com", "MX")] == before + 1
    assert resolver.cache.hits() >= 8


def test_budget_bounds_one_screening(short_ttl_server):
    """Five silent look-ups at 0.3 s each would take 1.5 s; the 0.5 s budget stops them together."""
    resolver = MailResolver([short_ttl_server.address], timeout=0.3)
    policy = Policy(dnsbl_zones=SILENT_ZONES)
    context = Context(resolver=resolver, policy=policy, dns_budget_seconds=0.5)
    started = time.monotonic()
    result = screen(Candidate("li@timeout.example", ip="127.0.0.2"), context)
    assert time.monotonic() - started < 0.9
    assert [f.code for f in result.findings] == ["dns.unknown"] + ["dnsbl.unknown"] * 4
    assert "budget for this screening was spent" in result.findings[-1].evidence
    assert result.verdict == "held" and result.category == "uncertain"


def test_cache_forgets_an_answer_when_its_ttl_runs_out(short_ttl_server):
    resolver = MailResolver([short_ttl_server.address], timeout=0.3)
    for _ in range(3):
        assert resolver.mail_domain("acme.com").status == MX
    assert short_ttl_server.queries[("acme.com", "MX")] == 1
    time.sleep(1.1)
    assert resolver.mail_domain("acme.com").status == MX
    assert short_ttl_server.queries[("acme.com", "MX")] == 2


def test_unreachable_nameserver_is_unknown_not_invalid(tmp_path):
    from tests.conftest import free_port

    resolver = MailResolver([f"127.0.0.1:{free_port()}"], timeout=0.2)
    result = screen(Candidate("li@acme.com"), Context(resolver=resolver))
    assert result.verdict == "held" and result.category == "uncertain"


def test_dnsbl_off_by_default_and_on_when_configured(resolver):
    from screening import Policy

    plain = screen(Candidate("li@acme.com", ip="127.0.0.2"), Context(resolver=resolver))
    assert not [f for f in plain.findings if f.code.startswith("dnsbl")]
    context = Context(resolver=resolver, policy=Policy(dnsbl_zones=("bl.example",)))
    listed = screen(Candidate("li@acme.com", ip="127.0.0.2"), context)
    assert [f.code for f in listed.findings] == ["dnsbl.listed"]
    clean = screen(Candidate("li@acme.com", ip="127.0.0.3"), context)
    assert clean.findings == ()
    failing = screen(Candidate("li@acme.com", ip="127.0.0.4"), context)
    assert [f.code for f in failing.findings] == ["dnsbl.unknown"] and failing.verdict == "accepted"


@pytest.mark.parametrize(
    ("text", "address", "port"),
    [
        ("127.0.0.1", "127.0.0.1", 53),
        ("127.0.0.1:5353", "127.0.0.1", 5353),
        ("[::1]:5353", "::1", 5353),
    ],
)
def test_parse_nameserver(text, address, port):
    nameserver = parse_nameserver(text)
    assert (nameserver.address, nameserver.port) == (address, port)


@pytest.mark.parametrize("text", ["['127.0.0.1:53']", "dns.example", "127.0.0.1:http", "127.0.0.1:70000"])
def test_bad_nameserver_is_refused_loudly(text):
    with pytest.raises(ValueError, match="nameserver"):
        parse_nameserver(text)


@pytest.fixture
def internal_only_server() -> Iterator[DnsServer]:
    """A resolver that knows only internal names: NXDOMAIN for the rest of the world (gmail.com too)."""
    server = DnsServer({"intranet.corp": mx("mx.intranet.corp")}).start()
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("domain", "status"), [("nowhere.example", NXDOMAIN), ("no-mail.example", NO_MAIL), ("acme.com", MX)]
)
def test_negative_answers_count_while_the_canary_resolves(dns_server, domain, status):
    resolver = MailResolver([dns_server.address], timeout=0.3, canary="gmail.com")
    assert resolver.mail_domain(domain).status == status


def test_a_resolver_that_denies_the_canary_gives_unknown_not_nxdomain(internal_only_server):
    resolver = MailResolver([internal_only_server.address], timeout=0.3, canary="gmail.com")
    outcome = resolver.mail_domain("initech.com")
    assert outcome.status == UNKNOWN
    assert "gmail.com has no mail servers either" in outcome.detail
    assert MailResolver([internal_only_server.address], timeout=0.3).mail_domain("initech.com").status == NXDOMAIN


def test_behind_an_internal_only_resolver_people_are_held_not_rejected(internal_only_server):
    resolver = MailResolver([internal_only_server.address], timeout=0.3, canary="gmail.com")
    result = screen(Candidate(email="li@initech.com"), Context(resolver=resolver, dns_budget_seconds=1.0))
    assert result.verdict == "held"
    assert [f.code for f in result.findings] == ["dns.unknown"]


def test_an_unanswered_canary_is_unknown_too(short_ttl_server):
    resolver = MailResolver([short_ttl_server.address], timeout=0.3, canary="timeout.example")
    outcome = resolver.mail_domain("nowhere.example")
    assert outcome.status == UNKNOWN and "could not check that the resolver works" in outcome.detail
