"""Cross-origin rules for the public endpoints, from each form's allowed origins.

A form with no list accepts any origin (nothing configured yet); a form with a
list answers CORS only for those origins and may be framed only by them. No
credentials are ever allowed: public forms do not use cookies.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.capture.signals import origin_allowed


def allowed_origin(origin: str | None, allowed: Sequence[str]) -> str | None:
    """The origin to echo in Access-Control-Allow-Origin, or None to send no CORS headers."""
    if not origin or origin == "null":
        return None
    if not [a for a in allowed if a.strip()]:
        return origin
    return origin if origin_allowed(origin, allowed) else None


def cors_headers(origin: str | None, allowed: Sequence[str], *, preflight: bool) -> dict[str, str]:
    """Headers for a CORS answer (empty when the origin is not allowed)."""
    echoed = allowed_origin(origin, allowed)
    if echoed is None:
        return {}
    headers = {"Access-Control-Allow-Origin": echoed}
    if preflight:
        headers.update(
            {
                "Access-Control-Allow-Methods": "GET, POST",
                "Access-Control-Allow-Headers": "Content-Type, Accept",
                "Access-Control-Max-Age": "600",
            }
        )
    else:
        headers["Access-Control-Expose-Headers"] = "Retry-After"
    return headers


def frame_ancestors(allowed: Sequence[str]) -> str:
    """CSP frame-ancestors for a form's pages: its own origin plus the list, or anyone if there is none.

    A CSP `https://*.example.com` matches subdomains only, while `origin_allowed` (CORS, the origin
    signal) also lets the bare domain in; the bare host is added so both say the same."""
    entries: list[str] = []
    for entry in (a.strip().rstrip("/") for a in allowed if a.strip()):
        scheme, sep, host = entry.partition("://")
        bare = f"{scheme}{sep}{host[2:]}" if host.startswith("*.") else None
        entries += [e for e in (entry, bare) if e and e not in entries]
    return "frame-ancestors " + (" ".join(["'self'", *entries]) if entries else "*")
