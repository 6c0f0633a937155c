"""A DNS answer cache that every job of every worker shares, kept in Redis.

RQ's forking worker runs each job in a fresh work horse, so a cache held in the
worker's memory would start empty for every job. Answers are therefore stored in
Redis (which the workers share anyway) with each answer's own remaining TTL as the
key's expiry, behind a small per-process LRU. Redis trouble only costs a look-up:
the cache then misses, it never fails a screening, and Redis is left alone for
`BACKOFF_SECONDS` so that a batch run without Redis does not wait on it per look-up.

Values are dnspython `Answer` objects, pickled as RQ pickles its jobs: the Redis
holding them is the same trusted one that holds the job queue.
"""

from __future__ import annotations

import logging
import pickle
import time
from typing import Any

import dns.resolver
from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

PREFIX = "leadsieve:dns:"
BACKOFF_SECONDS = 30.0


class SharedDnsCache:
    """dnspython's cache protocol over Redis, with a per-process LRU in front.

    Args:
        connection: the Redis the workers share.
        local_size: answers kept in this process's LRU.
    """

    def __init__(self, connection: Redis, *, local_size: int = 10_000) -> None:
        self.connection = connection
        self.local = dns.resolver.LRUCache(local_size)
        self.shared_hits = 0
        self._quiet_until = 0.0

    def _available(self) -> bool:
        return time.monotonic() >= self._quiet_until

    def _failed(self, exc: RedisError) -> None:
        log.info("shared DNS cache unavailable (%s); using this process's cache for %.0fs", exc, BACKOFF_SECONDS)
        self._quiet_until = time.monotonic() + BACKOFF_SECONDS

    @staticmethod
    def _key(key: tuple[Any, Any, Any]) -> str:
        name, rdtype, rdclass = key
        return f"{PREFIX}{name}|{int(rdtype)}|{int(rdclass)}"

    def get(self, key: tuple[Any, Any, Any]) -> dns.resolver.Answer | None:
        """This process's copy, else the shared one (if it has not expired)."""
        answer = self.local.get(key)
        if answer is not None:
            return answer
        if not self._available():
            return None
        try:
            raw = self.connection.get(self._key(key))
        except RedisError as exc:
            self._failed(exc)
            return None
        if raw is None:
            return None
        answer = pickle.loads(raw if isinstance(raw, bytes) else raw.encode())  # noqa: S301 - our own Redis, as for RQ's jobs
        if answer.expiration <= time.time():
            return None
        self.shared_hits += 1
        self.local.put(key, answer)
        return answer  # type: ignore[no-any-return]

    def put(self, key: tuple[Any, Any, Any], answer: dns.resolver.Answer) -> None:
        """Keep the answer here and in Redis for the rest of its TTL."""
        self.local.put(key, answer)
        ttl = int(answer.expiration - time.time())
        if ttl <= 0 or not self._available():
            return
        try:
            self.connection.set(self._key(key), pickle.dumps(answer), ex=ttl)
        except RedisError as exc:
            self._failed(exc)

    def flush(self, key: tuple[Any, Any, Any] | None = None) -> None:
        """Forget one answer, or every answer (here and in Redis)."""
        self.local.flush(key)
        try:
            if key is not None:
                self.connection.delete(self._key(key))
            else:
                for name in self.connection.scan_iter(match=f"{PREFIX}*", count=1000):
                    self.connection.delete(name)
        except RedisError as exc:
            self._failed(exc)

    def hits(self) -> int:
        """Answers served without asking DNS (this process's LRU and Redis)."""
        return int(self.local.hits()) + self.shared_hits

    def misses(self) -> int:
        """Look-ups that had to ask DNS (or found an expired answer)."""
        return int(self.local.misses()) - self.shared_hits
