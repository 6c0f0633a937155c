"""Which e-mail addresses are the same person: the key a Lead is stored under.

Policy: the whole address is compared case-insensitively. At providers known to
deliver `name+tag@` to `name@` the tag is dropped, and at Gmail dots in the
local part are ignored (googlemail.com is gmail.com). Elsewhere a `+tag` may be
a separate mailbox, so it is kept.
"""

from __future__ import annotations

GMAIL = frozenset({"gmail.com", "googlemail.com"})
SUBADDRESSING = frozenset(
    {
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "fastmail.com",
        "fastmail.fm",
        "protonmail.com",
        "proton.me",
        "pm.me",
        "yandex.ru",
        "yandex.com",
    }
)


def lead_key(email: str) -> str:
    """The normalised identity of an address (see the module docstring for the policy)."""
    local, _, domain = email.strip().rpartition("@")
    local, domain = local.lower(), domain.lower().rstrip(".")
    if domain in GMAIL:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    elif domain in SUBADDRESSING:
        local = local.split("+", 1)[0]
    return f"{local}@{domain}"
