"""One parse of the e-mail address per screening, shared by every check that needs it."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email


@dataclass(frozen=True)
class Address:
    """The parts of an address; `error` says why it is not one (then the other fields may be empty)."""

    raw: str
    normalized: str = ""
    local: str = ""
    domain: str = ""  # ASCII (IDNA) form, lower case: what DNS and the lists compare
    display_domain: str = ""  # Unicode form, for evidence
    quoted: bool = False
    error: str = ""

    @property
    def valid(self) -> bool:
        """Syntactically an address."""
        return not self.error


@functools.lru_cache(maxsize=4096)
def parse_address(email: str) -> Address:
    """Validate syntax with email-validator (internationalised addresses allowed; quoted ones parsed)."""
    raw = (email or "").strip()
    try:
        result = validate_email(raw, check_deliverability=False, allow_quoted_local=True)
    except EmailNotValidError as exc:
        return Address(raw, error=str(exc))
    local = result.local_part
    return Address(
        raw,
        normalized=result.normalized,
        local=local,
        domain=(result.ascii_domain or result.domain).lower(),
        display_domain=result.domain.lower(),
        quoted=local.startswith('"'),
    )


def domain_key(value: str) -> str:
    """A domain in the one form lists and DNS compare: lower-case ASCII (IDNA), no '@' or final dot.

    Admins may type `bücher.example` or `xn--bcher-kva.example`; both must match either spelling.
    """
    text = value.strip().lower().removeprefix("@").rstrip(".")
    if not text:
        return ""
    address = parse_address(f"x@{text}")
    return address.domain if address.valid else text


def email_key(value: str) -> str:
    """An address in the one form lists compare: lower-case local part @ ASCII (IDNA) domain."""
    address = parse_address(value)
    if not address.valid:
        return value.strip().lower()
    return f"{address.local.lower()}@{address.domain}"
