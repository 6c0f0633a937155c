"""The registry of named checks.

A check is a function `(candidate, context) -> Iterable[Finding]`. Adding a check
is adding one function and one line in `CHECKS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from email_validator import EmailNotValidError, validate_email

from screening.context import Context
from screening.model import Candidate, Finding

Check = Callable[[Candidate, Context], Iterable[Finding]]


def check_email_syntax(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Reject addresses that cannot exist; DNS is not consulted here."""
    try:
        validate_email(candidate.email, check_deliverability=False)
    except EmailNotValidError as exc:
        yield Finding("email.syntax", "invalid", 100, f"{candidate.email!r} is not a valid address: {exc}")


def check_honeypot(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """A filled hidden field means a bot filled every input it found."""
    if candidate.signals.get("honeypot"):
        yield Finding("capture.honeypot", "spam", 100, "the hidden honeypot field was filled in")


CHECKS: dict[str, Check] = {
    "email.syntax": check_email_syntax,
    "capture.honeypot": check_honeypot,
}
