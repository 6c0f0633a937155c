"""Failed sign-ins, counted per (account, client): waits grow for that pair only.

A limit per account let any stranger lock an admin out by failing on purpose. Here each client
(an IP address; an IPv6 client's /64, which one household or server usually holds whole) gets
`free` failures per account, then must wait `base` seconds, doubling with each further failure up
to `cap`. The real user, signing in from their own address, is not slowed at all; a guesser gets a
few tries a day per address (and the per-IP limit, RATELIMIT_LOGIN, caps all their tries). Unknown
addresses are counted the same way, so the answers reveal nothing about which accounts exist.
Every failure on a real account also counts towards `User.failed_sign_ins`, which the user is told
on their next sign-in.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.users import normal_email
from app.models import SignInFailures, User

# Failures older than this are forgotten: the next one starts the count again.
FORGET_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class ThrottleRules:
    """LOGIN_FREE_FAILURES, LOGIN_DELAY_SECONDS and LOGIN_MAX_DELAY_SECONDS."""

    free: int = 5
    base: int = 15
    cap: int = 900


def wait_seconds(failures: int, rules: ThrottleRules) -> int:
    """How long after the last failure the next try must wait: 0 for the first `free` failures, then
    base, 2 × base, 4 × base … up to cap."""
    if failures < rules.free:
        return 0
    return min(rules.cap, rules.base * 2 ** min(failures - rules.free, 30))


def client_key(address: str | None) -> str:
    """The client as counted: the IP address, or an IPv6 address's /64 (one subscriber's network)."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return (address or "unknown")[:64]
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped or ip) if ip.version == 6 else str(ip)


def account_key(email: str) -> str:
    """SHA-256 of the e-mail given: fixed width, and no list of addresses strangers typed."""
    return hashlib.sha256(normal_email(email).encode()).hexdigest()


def retry_after(session: Session, *, email: str, client: str, now: datetime, rules: ThrottleRules) -> int:
    """Seconds this client must still wait before trying this account again (0: go ahead)."""
    row = session.execute(
        select(SignInFailures.failures, SignInFailures.last_failure_at).where(
            SignInFailures.account == account_key(email), SignInFailures.client == client
        )
    ).first()
    if row is None or now - row.last_failure_at > FORGET_AFTER:
        return 0
    remaining = (row.last_failure_at + timedelta(seconds=wait_seconds(row.failures, rules)) - now).total_seconds()
    return max(0, math.ceil(remaining))


def record_failure(session: Session, *, email: str, client: str, now: datetime) -> None:
    """Count a failed sign-in for (account, client), and for the user if the account exists.

    The count goes up in one UPDATE, so concurrent failures are all counted; the first failure of a
    pair inserts its row (a concurrent insert of the same pair loses the race and updates instead)."""
    account = account_key(email)
    session.execute(delete(SignInFailures).where(SignInFailures.last_failure_at < now - FORGET_AFTER))
    bump = (
        update(SignInFailures)
        .where(SignInFailures.account == account, SignInFailures.client == client)
        .values(
            failures=case((SignInFailures.last_failure_at < now - FORGET_AFTER, 1), else_=SignInFailures.failures + 1),
            last_failure_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if not session.execute(bump).rowcount:  # type: ignore[attr-defined]
        try:
            with session.begin_nested():
                session.add(SignInFailures(account=account, client=client, failures=1, last_failure_at=now))
        except IntegrityError:
            session.execute(bump)
    session.execute(
        update(User)
        .where(User.email == normal_email(email))
        .values(failed_sign_ins=User.failed_sign_ins + 1)
        .execution_options(synchronize_session=False)
    )
    session.flush()


def clear_failures(session: Session, *, email: str, client: str) -> None:
    """This client signed in to this account: its slate is clean (other clients' counts stay)."""
    session.execute(
        delete(SignInFailures).where(SignInFailures.account == account_key(email), SignInFailures.client == client)
    )
