"""Capture-time signals, stored on the submission for screening to weigh."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from app.capture.tokens import TokenCheck

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str | None) -> str | None:
    """scheme://host[:port] of a URL as a browser states its origin (no user info, no default port),
    or None if it has none."""
    if not url:
        return None
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number
        return None
    if not scheme or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or DEFAULT_PORTS.get(scheme) == port:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def origin_allowed(origin: str | None, allowed: Iterable[str]) -> bool | None:
    """True/False against the form's list; None when the form has no list or the browser sent no origin.

    Entries are exact origins (`https://www.example.com`) or subdomain wildcards
    (`https://*.example.com`, which also matches the bare domain).
    """
    allowed = [a.strip().lower().rstrip("/") for a in allowed if a and a.strip()]
    if not allowed or not origin:
        return None
    origin = origin.lower()
    scheme, _, host = origin.partition("://")
    for entry in allowed:
        if entry == origin:
            return True
        entry_scheme, _, entry_host = entry.partition("://")
        if entry_host.startswith("*.") and entry_scheme == scheme:
            base = entry_host[2:]
            if host == base or host.endswith("." + base):
                return True
    return False


def capture_signals(
    *,
    token: TokenCheck,
    honeypot: str,
    origin: str | None,
    referer: str | None,
    allowed_origins: Iterable[str],
    own_origins: Iterable[str],
) -> dict[str, Any]:
    """Everything suspicious or reassuring we can see before screening runs.

    `own_origins` are the origins our own pages (hosted form, iframe) post from: the one the request
    was addressed to and PUBLIC_BASE_URL's, which differ behind a TLS-terminating proxy that is not
    trusted for X-Forwarded-Proto/Host."""
    seen_origin = origin if origin and origin != "null" else origin_of(referer)
    allowed = list(allowed_origins)
    own = {o.lower() for o in own_origins if o}
    verdict = True if seen_origin in own else origin_allowed(seen_origin, allowed)
    return {
        "honeypot": bool(honeypot),
        "token": token.status,
        "token_static": token.static,
        "fill_seconds": None if token.age_seconds is None else round(token.age_seconds, 3),
        "origin": seen_origin,
        "origin_allowed": verdict,
    }
