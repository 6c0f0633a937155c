"""One HTTP POST to a checked address: time-out, latency, response excerpt, retry classification.

The connection classes below connect to an address the SSRF guard has just checked
instead of resolving the host name again, while the Host header and TLS SNI/
certificate check still use the name from the URL.
"""

from __future__ import annotations

import base64
import http.client
import socket
import ssl
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from app.forwarding.adapters.ssrf import BadDestination, Target, Unresolvable, UnsafeDestination, check_destination
from app.forwarding.adapters.types import AttemptResult, DeliverySettings

EXCERPT_CHARS = 500
MAX_READ_BYTES = 64 * 1024
RETRYABLE_STATUS = {408, 429}


def _connect_pinned(
    addresses: Sequence[str], port: int, timeout: float | None, source_address: tuple[str, int] | None
) -> socket.socket:
    """A TCP connection to the first of the checked addresses that answers."""
    error: OSError | None = None
    for address in addresses:
        try:
            sock = socket.create_connection((address, port), timeout, source_address)
        except OSError as exc:
            error = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    raise error or OSError("no address to connect to")


class PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTPConnection that connects to pre-checked addresses, never re-resolving the host."""

    def __init__(self, host: str, port: int, *, addresses: Sequence[str], timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.addresses = tuple(addresses)

    def connect(self) -> None:
        """Open the socket to a checked address (the Host header still names self.host)."""
        self.sock = _connect_pinned(self.addresses, self.port, self.timeout, getattr(self, "source_address", None))


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPSConnection to pre-checked addresses; SNI and certificate check use the URL's host name."""

    def __init__(
        self, host: str, port: int, *, addresses: Sequence[str], timeout: float, context: ssl.SSLContext | None = None
    ) -> None:
        self.tls_context = context or ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls_context)
        self.addresses = tuple(addresses)

    def connect(self) -> None:
        """Open the socket to a checked address, then TLS with server_hostname = the URL's host."""
        sock = _connect_pinned(self.addresses, self.port, self.timeout, getattr(self, "source_address", None))
        self.sock = self.tls_context.wrap_socket(sock, server_hostname=self.host)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def is_retryable_status(status: int) -> bool:
    """5xx, 408 and 429 may succeed later; every other non-2xx answer will not."""
    return status >= 500 or status in RETRYABLE_STATUS


def _elapsed_ms(start: float) -> int:
    return int((time.perf_counter() - start) * 1000)


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    settings: DeliverySettings,
    tls_context: ssl.SSLContext | None = None,
) -> AttemptResult:
    """POST `body` to `url` once, after the send-time SSRF check; never raises for network trouble."""
    start = time.perf_counter()
    try:
        target = check_destination(url, settings.allowed_private_destinations)
    except Unresolvable as exc:
        return AttemptResult(ok=False, error=str(exc), retryable=True, latency_ms=_elapsed_ms(start))
    except (BadDestination, UnsafeDestination) as exc:
        return AttemptResult(ok=False, error=str(exc), retryable=False, latency_ms=_elapsed_ms(start))
    return _send(target, body, headers, settings=settings, tls_context=tls_context)


def _send(
    target: Target,
    body: bytes,
    headers: Mapping[str, str],
    *,
    settings: DeliverySettings,
    tls_context: ssl.SSLContext | None,
) -> AttemptResult:
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = PinnedHTTPSConnection(
            target.host, target.port, addresses=target.addresses, timeout=settings.timeout, context=tls_context
        )
    else:
        connection = PinnedHTTPConnection(
            target.host, target.port, addresses=target.addresses, timeout=settings.timeout
        )
    all_headers = {"User-Agent": settings.user_agent, **headers}
    if target.username or target.password:
        credentials = f"{target.username}:{target.password}".encode()
        all_headers["Authorization"] = "Basic " + base64.b64encode(credentials).decode("ascii")
    start = time.perf_counter()
    try:
        connection.request("POST", target.path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read(MAX_READ_BYTES)
    except TimeoutError:
        return AttemptResult(
            ok=False, error=f"timed out after {settings.timeout:g} s", retryable=True, latency_ms=_elapsed_ms(start)
        )
    except (OSError, http.client.HTTPException) as exc:
        return AttemptResult(
            ok=False, error=f"{type(exc).__name__}: {exc}", retryable=True, latency_ms=_elapsed_ms(start)
        )
    finally:
        connection.close()
    latency = _elapsed_ms(start)
    status = response.status
    excerpt = data.decode("utf-8", errors="replace")[:EXCERPT_CHARS]
    if 200 <= status < 300:
        return AttemptResult(ok=True, status_code=status, latency_ms=latency, response_excerpt=excerpt)
    retryable = is_retryable_status(status)
    error = f"HTTP {status} {response.reason}".strip()
    if 300 <= status < 400:
        error += " (redirects are not followed; point the destination at the final URL)"
    retry_after = parse_retry_after(response.getheader("Retry-After")) if retryable else None
    return AttemptResult(
        ok=False,
        status_code=status,
        latency_ms=latency,
        response_excerpt=excerpt,
        error=error,
        retryable=retryable,
        retry_after=retry_after,
    )
