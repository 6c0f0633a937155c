"""What a public form post asks Redis before anything else, in one round trip: may this client post
(RATELIMIT_CAPTURE), and which version of the forms is current (`app.capture.form_cache`).

Flask-Limiter did the limit before: its middleware pass and its decorator each evaluated the
request (the first finding nothing to count), and it paid one round trip per limit in
RATELIMIT_CAPTURE (two with the default "20 per minute;300 per hour"), then the form lookup paid
another. Here one Lua script counts every window and reads the version.

The counting is Flask-Limiter's fixed window, with its order and its rule: the shortest window
first, and nothing counted past the first one exceeded. While Redis is unreachable the process
counts in its own memory (RATELIMIT_IN_MEMORY_FALLBACK_ENABLED) and tries Redis again after a
pause that doubles up to MAX_PAUSE_SECONDS; with neither Redis nor the fallback the post is let
through (RATELIMIT_SWALLOW_ERRORS) rather than refused, so no lead is lost to our own outage.
When RATELIMIT_STORAGE_URI names another store than REDIS_URL, that store counts (through the
`limits` library, one call per window) and the version costs a round trip of its own.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter, RateLimiter
from redis.exceptions import NoScriptError, RedisError
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from app.capture.form_cache import VERSION_KEY, FormCache, new_version
from app.capture.link import RedisLink

log = logging.getLogger(__name__)

SCOPE = "capture"
FIRST_PAUSE_SECONDS = 1.0
MAX_PAUSE_SECONDS = 30.0

# KEYS: one counter per window (shortest first), then the forms' version.
# ARGV: each window's length in seconds, each window's allowance, then a fresh version to set if none is.
# Returns {index of the first window exceeded (0: none), seconds until it resets, the version}.
_SCRIPT = """
local n = #KEYS - 1
local breached, retry = 0, 0
for i = 1, n do
  local count = redis.call('INCR', KEYS[i])
  local ttl = redis.call('TTL', KEYS[i])
  if ttl < 0 then
    redis.call('EXPIRE', KEYS[i], ARGV[i])
    ttl = tonumber(ARGV[i])
  end
  if count > tonumber(ARGV[n + i]) then
    breached, retry = i, ttl
    break
  end
end
redis.call('SET', KEYS[n + 1], ARGV[2 * n + 1], 'NX')
return {breached, retry, redis.call('GET', KEYS[n + 1])}
"""
_SCRIPT_SHA = hashlib.sha1(_SCRIPT.encode()).hexdigest()


@dataclass(frozen=True)
class Verdict:
    """The gate's answer: refused with Retry-After seconds (0 = allowed), and the forms' version."""

    retry_after: int
    version: str | None


def too_many(retry_after: int) -> TooManyRequests:
    """The 429 the shared error page turns into HTML or JSON, with Retry-After."""
    return TooManyRequests(response=Response(status=429, headers={"Retry-After": str(max(1, retry_after))}))


class CaptureGate:
    """The rate limit and the forms' version for public form posts; one per app."""

    def __init__(
        self,
        *,
        link: RedisLink,
        other_store: RateLimiter | None = None,
        memory_fallback: bool = True,
        swallow_errors: bool = True,
    ) -> None:
        self.link, self.other_store = link, other_store
        self.memory_fallback, self.swallow_errors = memory_fallback, swallow_errors
        self.memory = FixedWindowRateLimiter(MemoryStorage())
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._pause = FIRST_PAUSE_SECONDS

    def ask(self, client: str, forms: FormCache, windows: tuple[RateLimitItem, ...]) -> Verdict:
        """Count one post from `client` in each of `windows` (shortest first) and read the forms' version."""
        if time.monotonic() < self._down_until:
            return Verdict(self._count_in_memory(client, windows), None)
        if self.other_store is not None and windows:
            try:
                retry_after = _count_with(self.other_store, client, windows)
            except (RedisError, OSError) as exc:
                self._lost(exc)
                return Verdict(self._count_in_memory(client, windows), None)
            return Verdict(retry_after, forms.version())
        keys = [item.key_for(SCOPE, client) for item in windows]
        args: list[int | str] = [item.get_expiry() for item in windows]
        args += [item.amount for item in windows]
        try:
            breached, retry, version = self._run([*keys, VERSION_KEY], [*args, new_version()])
        except RedisError as exc:
            self._lost(exc)
            return Verdict(self._count_in_memory(client, windows), None)
        self._pause = FIRST_PAUSE_SECONDS
        if breached:
            log.info("capture rate limit %s exceeded by %s", windows[int(breached) - 1], client)
        return Verdict(int(retry) if breached else 0, version.decode() if isinstance(version, bytes) else version)

    def _run(self, keys: list[str], args: list[int | str]) -> list[Any]:
        """The script by its SHA1 (loaded with EVAL the first time and after a Redis restart)."""
        try:
            [reply] = self.link.call(("EVALSHA", _SCRIPT_SHA, len(keys), *keys, *args))
        except NoScriptError:
            [reply] = self.link.call(("EVAL", _SCRIPT, len(keys), *keys, *args))
        return list(reply)

    def _lost(self, exc: Exception) -> None:
        with self._lock:
            if time.monotonic() >= self._down_until:
                log.warning("capture rate limit: Redis unreachable (%s); counting in memory for %gs", exc, self._pause)
                self._down_until = time.monotonic() + self._pause
                self._pause = min(self._pause * 2, MAX_PAUSE_SECONDS)
        if not (self.memory_fallback or self.swallow_errors):
            raise exc

    def _count_in_memory(self, client: str, windows: tuple[RateLimitItem, ...]) -> int:
        return _count_with(self.memory, client, windows) if self.memory_fallback else 0


def _count_with(limiter: RateLimiter, client: str, windows: tuple[RateLimitItem, ...]) -> int:
    """Seconds to wait if a window is exceeded (0 if not), counted by a `limits` strategy."""
    for item in windows:
        if not limiter.hit(item, SCOPE, client):
            reset, _ = limiter.get_window_stats(item, SCOPE, client)
            return int(reset - time.time()) + 1
    return 0


@functools.lru_cache(maxsize=8)
def windows_of(limits: str) -> tuple[RateLimitItem, ...]:
    """RATELIMIT_CAPTURE's windows, shortest first (parsed once per value: the view reads the setting on
    every post, so a change to it applies at once, as Flask-Limiter's did)."""
    return tuple(sorted(parse_many(limits), key=lambda item: item.get_expiry()))


def _same_redis(storage_uri: str, redis_url: str) -> bool:
    """Whether the limiter's store is REDIS_URL (config spells a unix socket redis+unix:// for it)."""
    return storage_uri.replace("redis+unix://", "unix://", 1) == redis_url


def init_app(app: Flask, limiter: Limiter) -> None:
    """The app's gate, counting on REDIS_URL through capture's connection (app/capture/link.py) unless
    RATELIMIT_STORAGE_URI names another store: then that store counts, through Flask-Limiter's own `limits`
    strategy."""
    config = app.config
    storage_uri = config.get("RATELIMIT_STORAGE_URI") or config["REDIS_URL"]
    # A limiter disabled at start-up builds no strategy (it would count nowhere): REDIS_URL counts then.
    other_store = limiter.limiter if limiter.enabled and not _same_redis(storage_uri, config["REDIS_URL"]) else None
    app.extensions["leadsieve.capture_gate"] = CaptureGate(
        link=app.extensions["leadsieve.capture_link"],
        other_store=other_store,
        memory_fallback=bool(config.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)),
        swallow_errors=bool(config.get("RATELIMIT_SWALLOW_ERRORS", True)),
    )


def check_capture() -> Verdict:
    """The current post's verdict; the caller raises `too_many(verdict.retry_after)` when it is refused."""
    config = current_app.config
    gate: CaptureGate = current_app.extensions["leadsieve.capture_gate"]
    windows = windows_of(config["RATELIMIT_CAPTURE"]) if config.get("RATELIMIT_ENABLED", True) else ()
    return gate.ask(request.remote_addr or "127.0.0.1", current_app.extensions["leadsieve.form_cache"], windows)
