"""Mail-domain look-ups over DNS (dnspython), with time-outs, a budget and a shared cache.

One `MailResolver` per process: its dnspython cache respects each record's TTL
(negative answers included) and is thread-safe, so every job in a worker and
every thread of the batch command share it. A look-up never raises: the answer
says `unknown` when the resolver failed (time-out, SERVFAIL, no nameserver), so
our own trouble never turns into a rejected person.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Sequence
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.nameserver
import dns.resolver

# Outcomes of `mail_domain()`.
MX = "mx"  # has MX hosts: can receive mail
NULL_MX = "null_mx"  # RFC 7505 "MX 0 .": says it never receives mail
A_ONLY = "a_only"  # no MX, but an address record: mail goes to the host itself (weak)
NO_MAIL = "no_mail"  # the name exists but has neither MX nor A/AAAA
NXDOMAIN = "nxdomain"  # the domain does not exist
UNKNOWN = "unknown"  # time-out, SERVFAIL, budget spent: we do not know


@dataclass(frozen=True)
class MailDomain:
    """What DNS says about a domain as a mail destination."""

    status: str
    hosts: tuple[str, ...] = ()
    detail: str = ""


def parse_nameserver(text: str) -> dns.nameserver.Do53Nameserver:
    """`1.2.3.4`, `1.2.3.4:5353`, `[::1]:5353` or `::1` as a UDP/TCP nameserver; ValueError otherwise."""
    text = text.strip()
    address, port = text, "53"
    if text.startswith("["):
        address, _, rest = text[1:].partition("]")
        port = rest.lstrip(":") or "53"
    elif text.count(":") == 1:
        address, _, port = text.partition(":")
    try:
        ipaddress.ip_address(address)
        number = int(port)
    except ValueError as exc:
        raise ValueError(f"nameserver {text!r} is not IP[:port] (e.g. 127.0.0.1:5353 or [::1]:53)") from exc
    if not 0 < number < 65536:
        raise ValueError(f"nameserver {text!r}: port out of range")
    return dns.nameserver.Do53Nameserver(address, number)


class MailResolver:
    """A dnspython resolver with a per-query timeout and a TTL-respecting cache.

    Args:
        nameservers: e.g. ["127.0.0.1:5353"]; empty means the system's (/etc/resolv.conf).
        timeout: seconds one query may take, all retries included.
        cache_size: entries kept in the LRU cache shared by every caller.
        cache: any object with dnspython's cache protocol (`get(key)`, `put(key, answer)`,
            `flush(key=None)`) to use instead, e.g. one that forked worker processes share.
        canary: a domain known to receive mail (e.g. gmail.com). Before a "does not exist" or
            "no mail" answer counts, the canary must resolve: a resolver that only knows internal
            names, or a sandbox's, says NXDOMAIN for everything, and that must never reject people.
            Empty: negative answers are taken as they come.
    """

    def __init__(
        self,
        nameservers: Sequence[str] = (),
        *,
        timeout: float = 2.0,
        cache_size: int = 50_000,
        cache: object | None = None,
        canary: str = "",
    ) -> None:
        self.timeout = timeout
        self.canary = canary.strip().rstrip(".")
        self.problem = ""
        if nameservers:
            resolver = dns.resolver.Resolver(configure=False)
            resolver.nameservers = [parse_nameserver(ns) for ns in nameservers]
        else:
            try:
                resolver = dns.resolver.Resolver(configure=True)
            except dns.resolver.NoResolverConfiguration as exc:
                # No usable system resolver (e.g. an offline laptop): every look-up says unknown.
                resolver = dns.resolver.Resolver(configure=False)
                resolver.nameservers = []
                self.problem = f"no system resolver configured ({exc})"
        resolver.timeout = timeout
        resolver.lifetime = timeout
        resolver.cache = cache if cache is not None else dns.resolver.LRUCache(cache_size)  # type: ignore[assignment]
        self._resolver = resolver

    @property
    def nameservers(self) -> list[str]:
        """The nameservers asked, for messages."""
        return [str(ns) for ns in self._resolver.nameservers]

    @property
    def cache(self) -> dns.resolver.LRUCache:
        """The cache (tests and the benchmark read its `hits()` and `misses()`)."""
        return self._resolver.cache  # type: ignore[return-value]

    def _query(self, name: str, rdtype: str, deadline: float | None) -> tuple[str, dns.resolver.Answer | None, str]:
        """('ok', answer, '') / ('nxdomain', None, '') / ('unknown', None, why); never raises."""
        if self.problem:
            return UNKNOWN, None, self.problem
        lifetime = self.timeout
        if deadline is not None:
            lifetime = min(lifetime, deadline - time.monotonic())
            if lifetime <= 0:
                return UNKNOWN, None, "the DNS time budget for this screening was spent"
        try:
            answer = self._resolver.resolve(
                dns.name.from_text(name), rdtype, search=False, raise_on_no_answer=False, lifetime=lifetime
            )
        except dns.resolver.NXDOMAIN:
            return NXDOMAIN, None, ""
        except dns.exception.Timeout:
            return UNKNOWN, None, f"no answer within {lifetime:.1f}s"
        except dns.resolver.NoNameservers:
            return UNKNOWN, None, "the nameservers failed (SERVFAIL or refused)"
        except dns.resolver.YXDOMAIN:
            return UNKNOWN, None, "the name is too long after substitution"
        except dns.exception.DNSException as exc:
            # Malformed replies and similar: still our side's problem, never the person's.
            return UNKNOWN, None, f"DNS error: {exc}"
        return "ok", answer, ""

    def mail_domain(self, domain: str, *, deadline: float | None = None) -> MailDomain:
        """MX first; with no MX, A then AAAA (RFC 5321 implicit MX). A negative outcome counts only
        if the resolver passes the canary check; otherwise it is unknown."""
        outcome = self._mail_domain(domain, deadline)
        if outcome.status in (NXDOMAIN, NO_MAIL) and self.canary:
            doubt = self._canary_doubt(deadline)
            if doubt:
                return MailDomain(UNKNOWN, (), doubt)
        return outcome

    def health(self) -> str:
        """Why this resolver cannot screen addresses right now ('' when it can): the canary domain must
        have MX records. Without a canary configured nothing can be said, so '' (assumed working)."""
        if not self.canary:
            return self.problem
        return self._canary_doubt(None)

    def _canary_doubt(self, deadline: float | None) -> str:
        """Why this resolver's negative answers cannot be trusted right now, or '' if they can."""
        status, answer, why = self._query(self.canary, "MX", deadline)
        if status == "ok" and answer is not None and answer.rrset is not None and len(answer.rrset):
            return ""
        if status == UNKNOWN:
            return f"could not check that the resolver works (canary {self.canary}: {why})"
        return (
            f"the resolver says {self.canary} has no mail servers either, so its negative answers "
            "cannot be trusted (a resolver without internet access?)"
        )

    def _mail_domain(self, domain: str, deadline: float | None) -> MailDomain:
        status, answer, why = self._query(domain, "MX", deadline)
        if status != "ok":
            return MailDomain(status, (), why)
        assert answer is not None
        if answer.rrset is not None and len(answer.rrset):
            records = sorted(answer.rrset, key=lambda r: r.preference)
            hosts = tuple(r.exchange.to_text(omit_final_dot=True) for r in records)
            if len(records) == 1 and records[0].exchange == dns.name.root:
                return MailDomain(NULL_MX, (), "null MX (RFC 7505)")
            return MailDomain(MX, tuple(h for h in hosts if h))
        for rdtype in ("A", "AAAA"):
            status, answer, why = self._query(domain, rdtype, deadline)
            if status == "ok" and answer is not None and answer.rrset is not None and len(answer.rrset):
                return MailDomain(A_ONLY, (domain,), f"{rdtype} record only")
            if status == UNKNOWN:
                return MailDomain(UNKNOWN, (), why)
        return MailDomain(NO_MAIL, (), "neither MX nor A/AAAA records")

    def listed(self, name: str, *, deadline: float | None = None) -> tuple[bool | None, str]:
        """DNSBL-style: does `name` have an A record? (True, txt) / (False, '') / (None, why)."""
        status, answer, why = self._query(name, "A", deadline)
        if status == NXDOMAIN:
            return False, ""
        if status == UNKNOWN or answer is None:
            return None, why
        if answer.rrset is None or not len(answer.rrset):
            return False, ""
        return True, ", ".join(r.to_text() for r in answer.rrset)
