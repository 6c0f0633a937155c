"""Sending alert notices through the delivery adapters (webhook, e-mail, Slack), retried like deliveries.

Notices are sent by whoever runs the alert turn (a worker's sweep turn, or `leadsieve sweep`), not by an
RQ job: "no worker serves the queues" must reach someone even when no worker runs. Each notice is claimed
with a lease before it is sent (two runners never send it at once) and carries its idempotency key, so a
receiver that de-duplicates sees each event once; failures are retried on DELIVERY_BACKOFF, then dead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.db import rowcount
from app.forwarding.adapters import AttemptResult, DeliverySettings, DestinationSpec, deliver
from app.forwarding.deliveries import next_delay
from app.forwarding.destinations import ALERT_KINDS
from app.models import AlertNotice, utcnow
from app.statuses import DeliveryStatus

log = logging.getLogger(__name__)

WAITING = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


def due_notices(session: Session, *, limit: int) -> list[int]:
    """Ids of notices to send now: pending, retries whose time has come, and expired leases."""
    now = utcnow()
    return list(
        session.scalars(
            select(AlertNotice.id)
            .where(
                AlertNotice.status.in_((*WAITING, DeliveryStatus.SENDING)),
                or_(AlertNotice.next_attempt_at.is_(None), AlertNotice.next_attempt_at <= now),
            )
            .order_by(AlertNotice.id)
            .limit(limit)
        )
    )


def claim(session: Session, notice_id: int, *, lease: timedelta) -> AlertNotice | None:
    """Take the notice for sending if it is due and nobody holds it; None otherwise.

    Commits: the lease must be visible to every other runner before the network call."""
    now = utcnow()
    claimed = rowcount(
        session.execute(
            update(AlertNotice)
            .where(
                AlertNotice.id == notice_id,
                or_(
                    AlertNotice.status.in_(WAITING),
                    (AlertNotice.status == DeliveryStatus.SENDING) & (AlertNotice.next_attempt_at <= now),
                ),
                or_(AlertNotice.next_attempt_at.is_(None), AlertNotice.next_attempt_at <= now),
            )
            .values(status=DeliveryStatus.SENDING, next_attempt_at=now + lease)
        )
    )
    session.commit()
    return session.get(AlertNotice, notice_id) if claimed == 1 else None


def record(session: Session, notice: AlertNotice, result: AttemptResult, *, backoff: Sequence[int]) -> None:
    """Store one attempt's outcome: delivered, a retry at the next step of `backoff`, or dead/failed. Commits:
    each attempt is recorded whatever happens next."""
    notice.attempts += 1
    if result.ok:
        notice.status, notice.sent_at, notice.next_attempt_at, notice.last_error = (
            DeliveryStatus.DELIVERED,
            utcnow(),
            None,
            "",
        )
    elif result.retryable and (delay := next_delay(backoff, notice.attempts, result.retry_after)) is not None:
        notice.status = DeliveryStatus.RETRYING
        notice.next_attempt_at = utcnow() + timedelta(seconds=delay)
        notice.last_error = (result.error or f"HTTP {result.status_code}")[:1000]
    else:
        notice.status = DeliveryStatus.DEAD if result.retryable else DeliveryStatus.FAILED
        notice.next_attempt_at = None
        notice.last_error = (result.error or f"HTTP {result.status_code}")[:1000]
        log.warning(
            "alert notice %s (%s) to destination %s is %s: %s",
            notice.id,
            notice.event,
            notice.destination_id,
            notice.status,
            notice.last_error,
        )
    session.commit()


def send_one(notice: AlertNotice, settings: DeliverySettings) -> AttemptResult:
    """One attempt through the destination's adapter; a destination that stopped taking alerts gets nothing."""
    destination = notice.destination
    if not destination.alerts or destination.kind not in ALERT_KINDS:
        return AttemptResult(ok=False, error="this destination no longer takes alerts", retryable=False)
    spec = DestinationSpec(
        kind=destination.kind,
        target=destination.target,
        secret=destination.secret,
        options=dict(destination.options or {}),
    )
    return deliver(spec, dict(notice.payload), idempotency_key=notice.idempotency_key, settings=settings)


def send_due(
    session: Session,
    *,
    settings: DeliverySettings,
    backoff: Sequence[int],
    lease: timedelta,
    limit: int,
    budget_seconds: float,
) -> int:
    """Send up to `limit` due notices, one attempt each, starting none after `budget_seconds`; returns how
    many were delivered.

    The limit and the budget bound how long one turn keeps a worker from its jobs (an attempt may take the
    whole delivery time-out), and a destination that failed once this turn is not tried again in it (a
    receiver that hangs would cost a time-out per notice); the rest wait for the next turn."""
    delivered, failing = 0, set()
    deadline = time.monotonic() + budget_seconds
    for notice_id in due_notices(session, limit=limit):
        if time.monotonic() >= deadline:
            break
        destination_id = session.scalar(select(AlertNotice.destination_id).where(AlertNotice.id == notice_id))
        if destination_id in failing:
            continue
        notice = claim(session, notice_id, lease=lease)
        if notice is None:
            continue
        result = send_one(notice, settings)
        record(session, notice, result, backoff=backoff)
        delivered += result.ok
        if not result.ok and result.retryable:
            failing.add(notice.destination_id)
    return delivered
