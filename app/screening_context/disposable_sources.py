"""Disposable-address lists downloaded into the instance directory, and the mail-exchanger ledger in Redis.

`leadsieve lists refresh` fetches each DISPOSABLE_SOURCE_URLS list, refuses a copy that is too large,
in another format, or much smaller than the last good one (a truncated download or a publisher's
accident must not quietly switch detection off), and swaps each accepted copy in atomically (temporary
file + `os.replace`), the manifest last. Screening processes compare the manifest's modification time
when they build a context, so workers use new lists without a restart; the worker's parent re-checks on
each admin-lists refresh, so the work horses it forks inherit the merged index instead of each merging it.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError

from screening.disposable import (
    DisposableIndex,
    ListFormatError,
    MemoryMxLedger,
    SourceInfo,
    bundled_index,
    parse_domain_list,
)

log = logging.getLogger(__name__)

MANIFEST = "sources.json"
MAX_BYTES = 32 * 1024 * 1024  # the largest public lists are ~3 MB; a page 10x that is not a list
MIN_ENTRIES = 1000  # a first copy smaller than this is not one of the public lists
MIN_SHARE_OF_PREVIOUS = 0.5  # a new copy less than half the last good one is truncated or broken
TIMEOUT_SECONDS = 30.0
USER_AGENT = "leadsieve-lists-refresh"

_INDEX = "leadsieve.disposable_index"
_LEDGER = "leadsieve.mx_ledger"
_lock = threading.Lock()


class SourceRefused(Exception):
    """A downloaded list that must not replace the previous copy; the message says why."""


@dataclass(frozen=True)
class RefreshOutcome:
    """What happened to one configured URL."""

    url: str
    name: str
    accepted: bool
    entries: int  # in the copy now in use (the new one if accepted, the kept one otherwise)
    previous: int
    reason: str = ""

    def line(self) -> str:
        """One line for the command's output."""
        if self.accepted:
            return f"ok       {self.name}: {self.entries} domains (previous copy: {self.previous or 'none'})"
        kept = f"kept the previous copy ({self.previous} domains)" if self.previous else "no copy in use"
        return f"refused  {self.name}: {self.reason}; {kept}"


def lists_directory(app: Flask) -> Path:
    """Where downloaded lists live: <instance>/disposable."""
    return Path(app.config["INSTANCE_PATH"]) / "disposable"


def source_name(url: str) -> str:
    """The name evidence shows: host and path, e.g. `lists.example.org/disposable.txt`."""
    parts = urlsplit(url)
    return f"{parts.hostname or ''}{parts.path}".rstrip("/") or url


def _file_for(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16] + ".txt"


def read_manifest(directory: Path) -> list[dict[str, Any]]:
    """The accepted copies, as the last refresh wrote them ([] if none)."""
    try:
        data = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    return list(data.get("sources", []))


def _write_atomically(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fetch(url: str, *, max_bytes: int = MAX_BYTES, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """The body at `url`; SourceRefused for HTTP errors, time-outs, oversize or a cut-off transfer."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise SourceRefused("only http and https URLs are fetched")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise SourceRefused(f"{int(length)} bytes is over the {max_bytes}-byte limit")
            body: bytes = response.read(max_bytes + 1)
            if length and length.isdigit() and len(body) < int(length):
                # read(n) returns what arrived when the server hangs up early; the header says more was due.
                raise SourceRefused(f"the transfer was cut off after {len(body)} of {length} bytes (truncated)")
    except urllib.error.HTTPError as exc:
        raise SourceRefused(f"HTTP {exc.code} {exc.reason}") from exc
    except http.client.IncompleteRead as exc:
        raise SourceRefused(f"the transfer was cut off after {len(exc.partial)} bytes (truncated)") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise SourceRefused(f"could not download: {exc}") from exc
    if len(body) > max_bytes:
        raise SourceRefused(f"more than the {max_bytes}-byte limit")
    return body


def validate(body: bytes, *, previous: int, min_entries: int, min_share: float) -> list[str]:
    """The domains of a downloaded list, or SourceRefused saying what is wrong with it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceRefused(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    try:
        domains = parse_domain_list(text)
    except ListFormatError as exc:
        raise SourceRefused(f"wrong format: {exc}") from exc
    if previous and len(domains) < min_share * previous:
        raise SourceRefused(
            f"only {len(domains)} domains against {previous} in the previous copy "
            f"(under {min_share:.0%}: truncated or broken)"
        )
    if len(domains) < min_entries:
        raise SourceRefused(f"only {len(domains)} domains, fewer than the {min_entries} a list must have")
    return domains


def refresh_sources(
    urls: Sequence[str],
    directory: Path,
    *,
    max_bytes: int = MAX_BYTES,
    min_entries: int = MIN_ENTRIES,
    min_share: float = MIN_SHARE_OF_PREVIOUS,
    timeout: float = TIMEOUT_SECONDS,
) -> list[RefreshOutcome]:
    """Download, validate and swap in each configured list; a refused one leaves its previous copy in use.

    Lists no longer configured are dropped. The manifest is replaced last, in one step, so a reader
    sees either the old set of copies or the new one.
    """
    directory.mkdir(parents=True, exist_ok=True)
    old = {entry["url"]: entry for entry in read_manifest(directory)}
    kept: list[dict[str, Any]] = []
    outcomes: list[RefreshOutcome] = []
    for url in dict.fromkeys(u.strip() for u in urls if u.strip()):
        name = source_name(url)
        before = old.get(url)
        previous = int(before["entries"]) if before else 0
        try:
            body = fetch(url, max_bytes=max_bytes, timeout=timeout)
            domains = validate(body, previous=previous, min_entries=min_entries, min_share=min_share)
        except SourceRefused as exc:
            outcomes.append(RefreshOutcome(url, name, False, previous, previous, str(exc)))
            if before:
                kept.append(before)
            continue
        filename = _file_for(url)
        _write_atomically(directory / filename, "\n".join(domains) + "\n")
        kept.append(
            {
                "url": url,
                "name": name,
                "file": filename,
                "entries": len(domains),
                "sha256": hashlib.sha256(body).hexdigest(),
                "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        )
        outcomes.append(RefreshOutcome(url, name, True, len(domains), previous))
    _write_atomically(directory / MANIFEST, json.dumps({"sources": kept}, indent=2) + "\n")
    in_use = {entry["file"] for entry in kept}
    for entry in old.values():
        if entry["file"] not in in_use:
            (directory / entry["file"]).unlink(missing_ok=True)
    return outcomes


def load_downloaded(directory: Path) -> list[tuple[SourceInfo, list[str]]]:
    """The accepted copies as sources for `DisposableIndex.merged` (a missing file is skipped)."""
    out = []
    for entry in read_manifest(directory):
        try:
            text = (directory / entry["file"]).read_text(encoding="utf-8")
        except FileNotFoundError:
            log.warning("disposable list %s is in the manifest but its file is missing", entry.get("url"))
            continue
        info = SourceInfo(entry["name"], entry["url"], "as published", entry.get("fetched_at", ""))
        out.append((info, text.split()))
    return out


def _stamp(directory: Path) -> tuple[int, int] | None:
    try:
        stat = (directory / MANIFEST).stat()
    except OSError:  # none yet (or unreadable: the bundled lists still apply)
        return None
    return stat.st_mtime_ns, stat.st_size


def disposable_for(app: Flask) -> DisposableIndex:
    """The bundled index merged with the downloaded lists, re-merged when the manifest changes.

    One `stat` per call; merging (a fraction of a second) happens only after a refresh.
    """
    directory = lists_directory(app)
    stamp = _stamp(directory)
    cached = app.extensions.get(_INDEX)
    if cached is not None and cached[0] == stamp:
        return cached[1]  # type: ignore[no-any-return]
    with _lock:
        cached = app.extensions.get(_INDEX)
        if cached is not None and cached[0] == stamp:
            return cached[1]  # type: ignore[no-any-return]
        index = bundled_index()
        if stamp is not None:
            try:
                index = index.merged(load_downloaded(directory))
            except (OSError, ValueError, KeyError) as exc:
                log.warning("could not read the downloaded disposable lists (%s); using the bundled ones", exc)
        app.extensions[_INDEX] = (stamp, index)
        return index


class RedisMxLedger:
    """The mail-exchanger ledger (see `screening.disposable.MxLedger`) in the shared Redis, beside the DNS
    cache, so every worker learns from every other. Distinct domains are counted with HyperLogLogs
    (fixed size, and adding a domain twice changes nothing, so re-screening is harmless). While Redis
    is unreachable this process's memory stands in, and Redis is left alone for `BACKOFF_SECONDS`.
    """

    PREFIX = "leadsieve:dns:disposable-mx:"
    OTHER_PREFIX = "leadsieve:dns:other-mx:"
    BACKOFF_SECONDS = 30.0

    def __init__(self, connection: Redis) -> None:
        self.connection = connection
        self.local = MemoryMxLedger()
        self._quiet_until = 0.0

    def _failed(self, exc: RedisError) -> None:
        log.info("mail-exchanger ledger unavailable in Redis (%s); using this process's for now", exc)
        self._quiet_until = time.monotonic() + self.BACKOFF_SECONDS

    def counts(self, exchangers: Iterable[str]) -> dict[str, tuple[int, int]]:
        """exchanger -> (known disposable domains, other domains) seen using it."""
        names = list(exchangers)
        if not names or time.monotonic() < self._quiet_until:
            return self.local.counts(names)
        try:
            pipe = self.connection.pipeline(transaction=False)
            for name in names:
                pipe.pfcount(self.PREFIX + name)
                pipe.pfcount(self.OTHER_PREFIX + name)
            values = pipe.execute()
        except RedisError as exc:
            self._failed(exc)
            return self.local.counts(names)
        return {name: (int(values[2 * i]), int(values[2 * i + 1])) for i, name in enumerate(names)}

    def record(self, exchangers: Iterable[str], domain: str, *, disposable: bool) -> None:
        """Count `domain` at each exchanger (as disposable or as other)."""
        names = list(exchangers)
        if not names:
            return
        if time.monotonic() < self._quiet_until:
            self.local.record(names, domain, disposable=disposable)
            return
        prefix = self.PREFIX if disposable else self.OTHER_PREFIX
        try:
            pipe = self.connection.pipeline(transaction=False)
            for name in names:
                pipe.pfadd(prefix + name, domain)
            pipe.execute()
        except RedisError as exc:
            self._failed(exc)
            self.local.record(names, domain, disposable=disposable)


def mx_ledger_for(app: Flask) -> RedisMxLedger | None:
    """One ledger per process on the app's Redis (None without one)."""
    ledger = app.extensions.get(_LEDGER)
    if ledger is None:
        redis = app.extensions.get("leadsieve.redis")
        if redis is None:
            return None
        ledger = app.extensions[_LEDGER] = RedisMxLedger(redis)
    return ledger  # type: ignore[no-any-return]
