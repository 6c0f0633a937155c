"""Whether DNS can screen addresses right now, shared by every process through Redis.

Offline, every submission is held as `dns.unknown`; that must be said where people look (the admin
banner, `make run`'s output, `/readyz`, metrics) instead of only in each finding's evidence, and the
holds must be screened again as soon as DNS answers. The worker probes the canary domain on each sweep
turn and records the result here; the web process only reads it.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from redis import Redis
from redis.exceptions import RedisError

from screening.resolver import MailResolver

KEY = "leadsieve:dns-health"
# Kept a while after the last probe: a worker that stops probing must not leave a banner up forever.
KEEP_SECONDS = 3600


@dataclass(frozen=True)
class DnsHealth:
    """One probe: whether DNS works, why not, and since when (epoch seconds) it has been in this state."""

    ok: bool
    why: str
    since: float
    checked_at: float


def probe(resolver: MailResolver) -> tuple[bool, str]:
    """Ask the canary now: (True, '') or (False, why)."""
    why = resolver.health()
    return not why, why


def record(redis: Redis, ok: bool, why: str, *, now: float | None = None) -> tuple[DnsHealth, DnsHealth | None]:
    """Store a probe's result; returns (current, previous). `since` carries over while the state holds."""
    now = time.time() if now is None else now
    previous = read(redis)
    since = previous.since if previous is not None and previous.ok == ok else now
    current = DnsHealth(ok=ok, why=why, since=since, checked_at=now)
    redis.set(KEY, json.dumps(asdict(current)), ex=KEEP_SECONDS)
    return current, previous


def read(redis: Redis) -> DnsHealth | None:
    """The last probe any worker recorded, or None (never probed, expired, or Redis unreachable)."""
    try:
        raw = redis.get(KEY)
    except RedisError:
        return None
    if not raw:
        return None
    try:
        return DnsHealth(**json.loads(raw))
    except (TypeError, ValueError):
        return None


NOTICE = "DNS unavailable: submissions are held and screened again automatically when it answers."
