"""Disposable addresses: several bundled sources merged with wildcard parents, the known-legitimate guard,
never academic, list parsing, and the mail-exchanger signal against a real DNS server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from screening import Candidate, Context, screen
from screening.disposable import (
    BUNDLED_SOURCES,
    DisposableIndex,
    ListFormatError,
    MemoryMxLedger,
    SourceInfo,
    build_index,
    bundled_index,
    legitimate_domains,
    parse_domain_list,
    seed_exchangers,
    shared_exchangers,
)
from screening.resolver import MailResolver
from tests.dnsserver import DnsServer, mx

SOURCES_MD = Path(__file__).resolve().parents[2] / "screening" / "data" / "SOURCES.md"


def codes(email: str, context: Context | None = None) -> list[str]:
    return [f.code for f in screen(Candidate(email), context or Context()).findings]


def only_on(source: str) -> str:
    """A domain that `source` lists and no other bundled source does (the class measured: 'only on other lists')."""
    index = bundled_index()
    bit = next(1 << i for i, s in enumerate(index.sources) if s.name == source)
    return next(d for d, mask in sorted(index.domains.items()) if mask == bit and d.count(".") == 1)


def not_on_first_source() -> list[str]:
    """One domain per other source that the long-standing first source does not list."""
    return [only_on(s.name) for s in bundled_index().sources[1:]]


def test_several_independent_sources_each_recorded():
    index = bundled_index()
    assert len(index.sources) >= 4
    assert [s.name for s in index.sources] == [name for name, *_ in BUNDLED_SOURCES]
    record = SOURCES_MD.read_text(encoding="utf-8")
    for source in index.sources:
        assert source.entries >= 1000, source
        assert source.version and source.licence
        assert source.name in record and source.licence in record, f"{source.name} missing from SOURCES.md"


@pytest.mark.parametrize("source", [name for name, *_ in BUNDLED_SOURCES[1:]])
def test_domain_only_on_another_source_is_caught_and_named(source):
    domain = only_on(source)
    result = screen(Candidate(f"li@{domain}"))
    finding = next(f for f in result.findings if f.code == "email.disposable")
    assert f"listed by {source} (1 of {len(bundled_index().sources)} sources)" in finding.evidence
    assert result.verdict == "rejected" and result.category == "spam"


def test_subdomain_of_a_listed_parent_is_caught():
    parent = only_on("mailchecker")
    result = screen(Candidate(f"li@x.y.{parent}"))
    finding = next(f for f in result.findings if f.code == "email.disposable")
    assert f"under {parent}" in finding.evidence


@pytest.mark.parametrize(
    "email",
    [
        "li@mailinatorco.com",  # look-alike of a listed name
        "li@acmemailinator.com",  # a listed name as the end of a label is not a parent
        "li@mailinator.com.evil.net",  # a listed name in front of another domain
        "li@shop.com.ar",  # com.ar is on a list (and the guard's): a public suffix covers nobody
    ],
)
def test_near_misses_are_not_disposable(email):
    assert "email.disposable" not in codes(email)


@pytest.mark.parametrize("domain", ["naver.com", "yeah.net", "tutanota.com", "nus.edu.sg", "bigmir.net", "asics.com"])
def test_ordinary_mailboxes_some_list_carries_are_not_disposable(domain):
    """Free-mail providers, a university and companies that aggregated lists carry by mistake."""
    assert domain in legitimate_domains()
    assert "email.disposable" not in codes(f"li@{domain}")


@pytest.mark.parametrize("domain", ["gmial.com", "hotmial.com", "gmail.con"])
def test_listed_typo_of_a_popular_provider_is_a_typo_not_a_throwaway(domain):
    assert bundled_index().match(domain) is not None  # typo-squatted domains are on the lists
    result = screen(Candidate(f"li@{domain}"))
    assert [f.code for f in result.findings] == ["email.typo"]
    assert result.category == "invalid"


def test_build_index_merges_masks_and_drops_legitimate():
    a, b = SourceInfo("a", "test", "MIT", "1"), SourceInfo("b", "test", "MIT", "1")
    index = build_index(
        [(a, ["Temp.Example", "*.wild.example", "gmail.com", "co.uk"]), (b, ["temp.example", "other.example"])],
        legitimate=frozenset({"gmail.com"}),
    )
    assert index.match("temp.example").sources == ("a", "b")  # type: ignore[union-attr]
    assert index.match("deep.er.wild.example").domain == "wild.example"  # type: ignore[union-attr]
    assert index.match("gmail.com") is None
    assert index.match("co.uk") is not None and index.match("shop.co.uk") is None  # PSL stops the walk
    assert [s.entries for s in index.sources] == [3, 2]
    more = index.merged([(SourceInfo("c", "https://lists.example/x.txt", "?", "today"), ["new.example"])])
    assert more.match("new.example").sources == ("c",)  # type: ignore[union-attr]
    assert index.match("new.example") is None  # the original is untouched


def test_context_index_replaces_the_bundled_one():
    index = build_index([(SourceInfo("downloaded", "test", "?", "1"), ["fresh-throwaway.example"])])
    assert "email.disposable" in codes("li@fresh-throwaway.example", Context(disposable=index))
    assert "email.disposable" not in codes("li@fresh-throwaway.example")


# --- never academic ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email", ["li@dwse.edu.pl", "li@cs.dwse.edu.pl", "li@itsme.edu.pl", "li@creo.cad.edu.gr", "li@forklift.edu"]
)
def test_listed_domain_that_looks_academic_is_never_academic(email):
    result = screen(Candidate(email))
    assert "academic.domain" not in [f.code for f in result.findings]
    assert result.category == "spam" and result.verdict == "rejected"


@pytest.mark.parametrize("email", ["li@mit.edu", "li@cs.uni.ac.uk", "li@unimelb.edu.au", "li@uni-passau.de"])
def test_real_universities_stay_academic(email):
    assert "academic.domain" in codes(email)
    assert "email.disposable" not in codes(email)


# --- list formats (shared with `leadsieve lists refresh`) --------------------------------------------


def test_parse_plain_text_with_comments_and_wildcards():
    text = "# a list\n\nTemp.Example\n*.wild.example  # every subdomain\n  spaced.example \n"
    assert parse_domain_list(text) == ["spaced.example", "temp.example", "wild.example"]


def test_parse_json_array():
    assert parse_domain_list('["b.example", "A.example", "a.example"]') == ["a.example", "b.example"]


@pytest.mark.parametrize(
    "text",
    [
        "<!doctype html><html><body>Not found</body></html>",
        "domain,added\nmailinator.com,2020-01-01\nyopmail.com,2020-01-02\n",
        '{"domains": ["mailinator.com"]}',
        "[not json",
        "[1, 2]",
        "",
    ],
)
def test_parse_refuses_what_is_not_a_list(text):
    with pytest.raises(ListFormatError):
        parse_domain_list(text)


# --- mail exchangers ---------------------------------------------------------------------------------


def _listed_not_seeded(n: int) -> list[str]:
    """Listed domains (registrable, two labels) whose own names are not seeded exchangers."""
    seed = seed_exchangers()
    out = [d for d in sorted(bundled_index().domains) if d.count(".") == 1 and d not in seed and d.endswith(".com")]
    return out[:n]


LEARNERS = _listed_not_seeded(5)


@pytest.fixture
def mx_server() -> Iterator[DnsServer]:
    zone = {
        # A fresh domain (on no list) whose mail goes to YOPmail's exchanger, and one at Mailinator's.
        "fresh-inbox.example": mx("mx.yopmail.com"),
        "fresh-inbox2.example": mx("mail2.mailinator.com"),
        # Ordinary companies at the big hosted-mail providers.
        "corp-google.example": mx("aspmx.l.google.com", "alt1.aspmx.l.google.com"),
        "corp-outlook.example": mx("corp-outlook-example.mail.protection.outlook.com"),
        # A new disposable exchanger that only the installation's own traffic reveals.
        **{d: mx(f"mx{i}.newtemp.example") for i, d in enumerate(LEARNERS)},
        "unlisted-newtemp.example": mx("mx.newtemp.example"),
        # A host that serves ordinary companies too.
        **{f"customer{i}.example": mx("mx.smallhost.example") for i in range(4)},
        "unlisted-smallhost.example": mx("mx.smallhost.example"),
    }
    server = DnsServer(zone, silent=["silent-inbox.example"]).start()
    yield server
    server.stop()


@pytest.fixture
def mx_context(mx_server: DnsServer) -> Context:
    return Context(resolver=MailResolver([mx_server.address], timeout=0.3), dns_budget_seconds=1.0)


def test_seed_is_listed_disposable_and_not_shared_infrastructure():
    index = bundled_index()
    assert len(seed_exchangers()) >= 30
    for exchanger in seed_exchangers():
        listing = index.match(exchanger)
        assert listing is not None and len(listing.sources) >= 2, exchanger
    assert not set(seed_exchangers()) & shared_exchangers()


@pytest.mark.parametrize(
    ("email", "host"),
    [("li@fresh-inbox.example", "mx.yopmail.com"), ("li@fresh-inbox2.example", "mail2.mailinator.com")],
)
def test_mx_at_a_known_disposable_exchanger_is_flagged(mx_context, email, host):
    result = screen(Candidate(email), mx_context)
    finding = next(f for f in result.findings if f.code == "dns.disposable_mx")
    assert f"is handled by {host}" in finding.evidence and "disposable-address service" in finding.evidence
    assert "email.disposable" not in [f.code for f in result.findings]  # no list knows the domain itself
    assert result.verdict == "rejected" and result.category == "spam"


def test_mx_check_reuses_the_dns_checks_answer(mx_server, mx_context):
    screen(Candidate("li@fresh-inbox.example"), mx_context)
    assert mx_server.queries[("fresh-inbox.example", "MX")] == 1


@pytest.mark.parametrize(
    "email", ["li@corp-google.example", "li@corp-outlook.example", "li@silent-inbox.example", "li@nowhere.example"]
)
def test_mx_at_ordinary_hosts_or_unknown_is_not_flagged(mx_context, email):
    assert "dns.disposable_mx" not in codes(email, mx_context)


def test_exchanger_learned_from_listed_domains_flags_a_new_domain(mx_context):
    context = Context(resolver=mx_context.resolver, dns_budget_seconds=1.0, mx_ledger=MemoryMxLedger())
    assert "dns.disposable_mx" not in codes("li@unlisted-newtemp.example", context)  # nothing learned yet
    for domain in LEARNERS[:3]:
        assert "email.disposable" in codes(f"li@{domain}", context)
    result = screen(Candidate("li@unlisted-newtemp.example"), context)
    finding = next(f for f in result.findings if f.code == "dns.disposable_mx")
    assert "mail for unlisted-newtemp.example is handled by mx.newtemp.example" in finding.evidence
    assert "which serves 3 known disposable domains" in finding.evidence
    assert finding.weight == 60 and result.verdict == "held"


def test_too_few_or_mostly_ordinary_domains_teach_nothing(mx_context):
    ledger = MemoryMxLedger()
    context = Context(resolver=mx_context.resolver, dns_budget_seconds=1.0, mx_ledger=ledger)
    for domain in LEARNERS[:2]:
        codes(f"li@{domain}", context)
    assert "dns.disposable_mx" not in codes("li@unlisted-newtemp.example", context)  # two is not enough
    # A host seen serving four ordinary companies, then three listed domains: a shared host, not a provider.
    for i in range(4):
        assert "dns.disposable_mx" not in codes(f"li@customer{i}.example", context)
    for listed in ("a.example", "b.example", "c.example"):
        ledger.record(["smallhost.example"], listed, disposable=True)
    assert ledger.counts(["smallhost.example"]) == {"smallhost.example": (3, 4)}
    assert "dns.disposable_mx" not in codes("li@unlisted-smallhost.example", context)


def test_shared_infrastructure_is_never_learned(mx_context):
    ledger = MemoryMxLedger()
    context = Context(resolver=mx_context.resolver, dns_budget_seconds=1.0, mx_ledger=ledger)
    codes("li@corp-google.example", context)
    assert ledger.counts(["google.com"]) == {"google.com": (0, 0)}


def test_an_empty_context_index_is_used_as_given():
    """A context may carry an index with no domains (e.g. tests): it is not replaced by the bundled one."""
    assert "email.disposable" not in codes("li@mailinator.com", Context(disposable=DisposableIndex()))
