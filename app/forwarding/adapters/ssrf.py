"""SSRF guard: destinations may only reach public addresses, unless an operator allowed a private one.

Checked twice. When a destination is saved, its host is resolved and every address
must be public. When sending, the host is resolved again, the addresses are checked
again, and the connection goes to one of exactly those checked addresses (see
`app.forwarding.adapters.http`), so a DNS answer that changes between check and connect (DNS
rebinding) cannot steer a request inside the network.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

SCHEMES = {"http": 80, "https": 443}
# Ranges `is_global` does not cover, or covers only in newer Pythons.
EXTRA_BLOCKED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "100.64.0.0/10",  # carrier-grade NAT; also Alibaba Cloud's metadata 100.100.100.200
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "fc00::/7",  # unique local (AWS IPv6 metadata fd00:ec2::254)
        "fec0::/10",  # deprecated site-local
    )
)
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class BadDestination(ValueError):
    """The target is not a usable http(s) URL, or its host does not resolve."""


class UnsafeDestination(ValueError):
    """The target's host resolves to an address the SSRF guard refuses."""


class Unresolvable(BadDestination):
    """The host name does not resolve (now); at send time this is worth a retry."""


@dataclass(frozen=True)
class Target:
    """A parsed destination URL and the checked addresses to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]
    username: str = ""
    password: str = ""


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4, Teredo), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def blocked_reason(ip: IPAddress) -> str | None:
    """Why this address may not be a destination (private, loopback, ...), or None if it is public."""
    inner = embedded_ipv4(ip)
    if inner is not None:
        reason = blocked_reason(inner)
        return f"{reason} (inside {ip})" if reason else None
    for attribute, reason in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local / cloud metadata"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    ):
        if getattr(ip, attribute):
            return f"{reason} address {ip}"
    if any(ip.version == net.version and ip in net for net in EXTRA_BLOCKED):
        return f"private address {ip}"
    if not ip.is_global:
        return f"non-public address {ip}"
    return None


def is_allowed(host: str, ip: IPAddress, allowed: Sequence[str]) -> bool:
    """True when the operator listed this host name, this address, or a range holding it."""
    host = host.lower().rstrip(".")
    candidates = [ip] + ([inner] if (inner := embedded_ipv4(ip)) is not None else [])
    for entry in allowed:
        entry = entry.strip().lower().rstrip(".")
        if not entry:
            continue
        if entry == host:
            return True
        try:
            network = ipaddress.ip_network(entry.strip("[]"), strict=False)
        except ValueError:
            continue  # a host name that is not this one
        if any(c.version == network.version and c in network for c in candidates):
            return True
    return False


def system_resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for host (IP literals come back as they are)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Unresolvable(f"cannot resolve host {host!r}: {exc}") from exc
    seen: dict[str, None] = {}
    for _family, _type, _proto, _name, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]).split("%", 1)[0], None)
    return list(seen)


def parse_url(url: str) -> SplitResult:
    """The split URL if it is absolute http(s) with a host; BadDestination otherwise."""
    if not isinstance(url, str) or any(ch in url for ch in "\r\n\t\x00 "):
        raise BadDestination("the URL must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise BadDestination(f"not a valid URL: {exc}") from exc
    if parts.scheme.lower() not in SCHEMES:
        raise BadDestination("only http:// and https:// destinations are allowed")
    if not parts.hostname:
        raise BadDestination("the URL has no host")
    return parts


def check_destination(
    target: str, allowed_private: Sequence[str] = (), *, resolve: Resolver = system_resolve
) -> Target:
    """Parse and resolve `target`; refuse it unless every address is public or explicitly allowed.

    Args:
        target: the destination URL.
        allowed_private: host names, addresses or CIDR ranges allowed although private
            (the ALLOWED_PRIVATE_DESTINATIONS setting).
        resolve: how to turn (host, port) into addresses; the system resolver by default.

    Returns the parsed target with the checked addresses, in the resolver's order.
    Raises BadDestination (Unresolvable for DNS failures) or UnsafeDestination.
    """
    parts = parse_url(target)
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    port = parts.port or SCHEMES[scheme]
    addresses = resolve(host, port)
    if not addresses:
        raise Unresolvable(f"host {host!r} has no addresses")
    for address in addresses:
        ip = ipaddress.ip_address(address)
        reason = blocked_reason(ip)
        if reason and not is_allowed(host, ip, allowed_private):
            where = reason if host.strip("[]") == address else f"{host} resolves to {reason}"
            raise UnsafeDestination(
                f"refused: {where}; list the host or range in ALLOWED_PRIVATE_DESTINATIONS to allow it"
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(
        scheme=scheme,
        host=host,
        port=port,
        path=path,
        addresses=tuple(addresses),
        username=parts.username or "",
        password=parts.password or "",
    )
