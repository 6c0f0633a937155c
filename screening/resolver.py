"""Mail-domain look-ups over DNS (dnspython), with time-outs, a budget and a shared cache.

One `MailResolver` per process: its dnspython cache respects each record's TTL
(negative answers included) and is thread-safe, so every job in a worker and
every thread of the batch command share it. A look-up never raises: the answer
says `unknown` when the resolver failed (time-out, SERVFAIL, no nameserver), so
our own trouble never turns into a rejected person.

Two things keep a slow or dead resolver from costing more than it must:
- a screening's `DnsBudget` counts only the seconds spent waiting on DNS, so rows
  queued behind a busy CPU (32 batch threads at start-up) do not lose their budget
  before their first query, and a name that failed once in a screening is not asked
  again by the next check of the same screening;
- after `down_after` full time-outs in a row the resolver is probed once, bypassing
  the cache; if the probe is not answered either, the resolver is taken as down for
  `down_seconds` and queries say `unknown` at once (then one query probes again).
  A dead resolver so costs about one time-out per concurrent caller, not one per
  row; a run of names that never answer behind a working resolver does not trip it.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

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


@dataclass
class DnsBudget:
    """The DNS time one screening may spend, counted while waiting on DNS only (not on the CPU).

    Also remembers the names that failed within this screening, so that a second check asking the
    same name (the disposable-MX check after the mail check) gets the same `unknown` at once.
    One screening runs in one thread; a budget is never shared between screenings.
    """

    seconds: float
    spent: float = 0.0
    failed: dict[tuple[str, str], str] = field(default_factory=dict)

    def remaining(self) -> float:
        """Seconds left for DNS in this screening."""
        return self.seconds - self.spent

    def charge(self, seconds: float) -> None:
        """Count `seconds` spent waiting on a query."""
        self.spent += max(0.0, seconds)


# What a look-up may be bounded by: a per-screening budget, an absolute time.monotonic() deadline, or nothing.
Deadline = DnsBudget | float | None


class _Breaker:
    """Consecutive full time-outs, and until when the resolver is taken as down (thread-safe)."""

    def __init__(self, down_after: int, down_seconds: float) -> None:
        self.down_after = down_after
        self.down_seconds = down_seconds
        self.timeouts = 0
        self.down_until: float | None = None
        self.probing = False
        self.trips = 0
        self._lock = threading.Lock()

    def claim(self) -> str:
        """'go' (ask), 'probe' (this caller probes the resolver first) or 'down' (answer unknown now)."""
        if self.down_after <= 0:
            return "go"
        with self._lock:
            if self.probing:
                return "down" if self.down_until is not None else "go"
            if self.down_until is not None:
                if time.monotonic() < self.down_until:
                    return "down"
                self.probing = True
                return "probe"
            if self.timeouts >= self.down_after:
                self.probing = True
                return "probe"
            return "go"

    def answered(self) -> None:
        """A reply came back (whatever it said): the resolver is up."""
        with self._lock:
            self.timeouts = 0
            self.down_until = None

    def timed_out(self) -> None:
        """One more full time-out in a row."""
        with self._lock:
            self.timeouts += 1

    def probed(self, alive: bool) -> None:
        """The probe's outcome: alive clears everything, silence takes the resolver down for a while."""
        with self._lock:
            self.probing = False
            if alive:
                self.timeouts = 0
                self.down_until = None
            else:
                if self.down_until is None:
                    self.trips += 1
                self.down_until = time.monotonic() + self.down_seconds

    def why_down(self) -> str:
        """The evidence for a query answered `unknown` without asking."""
        return (
            f"the resolver did not answer {self.down_after} queries in a row nor a probe; "
            f"not asked again for up to {self.down_seconds:g}s (a hold, not a reason to reject)"
        )


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
        down_after: int = 8,
        down_seconds: float = 5.0,
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
        # The probe asks the same nameservers without the cache: only a reply proves they answer.
        prober = dns.resolver.Resolver(configure=False)
        prober.nameservers = list(resolver.nameservers)
        prober.timeout = prober.lifetime = timeout
        self._prober = prober
        self._breaker = _Breaker(down_after, down_seconds)

    @property
    def down(self) -> bool:
        """Whether the resolver is taken as down right now (queries answered `unknown` without asking)."""
        until = self._breaker.down_until
        return until is not None and time.monotonic() < until

    @property
    def trips(self) -> int:
        """How many times the resolver was taken as down (the benchmark and tests read it)."""
        return self._breaker.trips

    @property
    def nameservers(self) -> list[str]:
        """The nameservers asked, for messages."""
        return [str(ns) for ns in self._resolver.nameservers]

    @property
    def cache(self) -> dns.resolver.LRUCache:
        """The cache (tests and the benchmark read its `hits()` and `misses()`)."""
        return self._resolver.cache  # type: ignore[return-value]

    def _probe(self) -> bool:
        """Whether the nameservers answer at all: the canary (or the root) asked past the cache."""
        try:
            self._prober.resolve(self.canary or ".", "NS" if not self.canary else "MX", search=False)
        except dns.exception.Timeout:
            return False
        except dns.exception.DNSException:
            return True  # NXDOMAIN, SERVFAIL, refused: something answered, so time-outs are per name
        return True

    def _query(
        self, name: str, rdtype: str, deadline: Deadline, *, bypass: bool = False
    ) -> tuple[str, dns.resolver.Answer | None, str]:
        """('ok', answer, '') / ('nxdomain', None, '') / ('unknown', None, why); never raises.

        Time waited is charged to a `DnsBudget`; `bypass` skips the down-check (the health probe).
        """
        if self.problem:
            return UNKNOWN, None, self.problem
        budget = deadline if isinstance(deadline, DnsBudget) else None
        if budget is not None and (name, rdtype) in budget.failed:
            return UNKNOWN, None, budget.failed[(name, rdtype)]
        if not bypass:
            claim = self._breaker.claim()
            if claim == "down":
                return UNKNOWN, None, self._breaker.why_down()
            if claim == "probe":
                started = time.monotonic()
                alive = self._probe()
                if budget is not None:
                    budget.charge(time.monotonic() - started)
                self._breaker.probed(alive)
                if not alive:
                    return UNKNOWN, None, self._breaker.why_down()
        status, answer, why = self._ask(name, rdtype, deadline, budget)
        if budget is not None and status == UNKNOWN:
            budget.failed[(name, rdtype)] = why
        return status, answer, why

    def _ask(
        self, name: str, rdtype: str, deadline: Deadline, budget: DnsBudget | None
    ) -> tuple[str, dns.resolver.Answer | None, str]:
        """One query within the time left; the time waited charged to `budget`, time-outs to the breaker."""
        lifetime = self.timeout
        if budget is not None:
            lifetime = min(lifetime, budget.remaining())
        elif deadline is not None:
            lifetime = min(lifetime, deadline - time.monotonic())  # type: ignore[operator]
        if lifetime <= 0:
            return UNKNOWN, None, "the DNS time budget for this screening was spent"
        started = time.monotonic()
        try:
            answer = self._resolver.resolve(
                dns.name.from_text(name), rdtype, search=False, raise_on_no_answer=False, lifetime=lifetime
            )
        except dns.resolver.NXDOMAIN:
            self._breaker.answered()
            return NXDOMAIN, None, ""
        except dns.exception.Timeout:
            # Only a query given the whole time-out says the resolver may be gone; a cut-short one does not.
            if lifetime >= self.timeout:
                self._breaker.timed_out()  # enough in a row and the next caller probes (_Breaker.claim)
            return UNKNOWN, None, f"no answer within {lifetime:.1f}s"
        except dns.resolver.NoNameservers:
            self._breaker.answered()
            return UNKNOWN, None, "the nameservers failed (SERVFAIL or refused)"
        except dns.resolver.YXDOMAIN:
            return UNKNOWN, None, "the name is too long after substitution"
        except dns.exception.DNSException as exc:
            # Malformed replies and similar: still our side's problem, never the person's.
            return UNKNOWN, None, f"DNS error: {exc}"
        finally:
            if budget is not None:
                budget.charge(time.monotonic() - started)
        self._breaker.answered()
        return "ok", answer, ""

    def mail_domain(self, domain: str, *, deadline: Deadline = None) -> MailDomain:
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
        return self._canary_doubt(None, bypass=True)  # the health probe asks even while marked down

    def _canary_doubt(self, deadline: Deadline, *, bypass: bool = False) -> str:
        """Why this resolver's negative answers cannot be trusted right now, or '' if they can."""
        status, answer, why = self._query(self.canary, "MX", deadline, bypass=bypass)
        if status == "ok" and answer is not None and answer.rrset is not None and len(answer.rrset):
            return ""
        if status == UNKNOWN:
            return f"could not check that the resolver works (canary {self.canary}: {why})"
        return (
            f"the resolver says {self.canary} has no mail servers either, so its negative answers "
            "cannot be trusted (a resolver without internet access?)"
        )

    def _mail_domain(self, domain: str, deadline: Deadline) -> MailDomain:
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

    def listed(self, name: str, *, deadline: Deadline = None) -> tuple[bool | None, str]:
        """DNSBL-style: does `name` have an A record? (True, txt) / (False, '') / (None, why)."""
        status, answer, why = self._query(name, "A", deadline)
        if status == NXDOMAIN:
            return False, ""
        if status == UNKNOWN or answer is None:
            return None, why
        if answer.rrset is None or not len(answer.rrset):
            return False, ""
        return True, ", ".join(r.to_text() for r in answer.rrset)
