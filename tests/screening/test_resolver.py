"""The resolver against a real DNS server on loopback: every outcome, the budget and the cache."""

from __future__ import annotations

import time

import pytest

from screening import Candidate, Context, screen
from screening.resolver import A_ONLY, MX, NO_MAIL, NULL_MX, NXDOMAIN, UNKNOWN, MailResolver, parse_nameserver


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


def test_budget_bounds_one_screening(resolver):
    context = Context(resolver=resolver, dns_budget_seconds=0.2)
    started = time.monotonic()
    result = screen(Candidate("li@timeout.example"), context)
    assert time.monotonic() - started < 0.6
    assert result.verdict == "held"


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
