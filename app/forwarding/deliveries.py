"""Delivery state: claim, attempt, log, back off, dead-letter, replay.

At-least-once: a delivery is claimed with a lease before sending, so two workers
never send it at the same time, and a worker that dies mid-send leaves a lease
that expires and lets the sweeper try again. Receivers de-duplicate with the
idempotency key that every attempt carries.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.db import rowcount
from app.models import AuditEvent, Delivery, DeliveryAttempt, utcnow
from app.statuses import DeliveryStatus

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
MAX_DELAY_SECONDS = 12 * 3600


def next_delay(backoff: Sequence[int], attempts: int, retry_after: float | None) -> float | None:
    """Seconds until the next try after `attempts` tries, or None when the schedule is used up."""
    if attempts > len(backoff):
        return None
    delay = float(backoff[attempts - 1])
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_DELAY_SECONDS))
    return delay


def claim(session: Session, delivery_id: int, *, lease: timedelta = LEASE) -> Delivery | None:
    """Take the delivery for sending if it is due and nobody holds it; None otherwise.

    The lease must outlast the job time-out, so a live worker never loses its claim."""
    now = utcnow()
    claimed = rowcount(
        session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                or_(
                    Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.RETRYING)),
                    (Delivery.status == DeliveryStatus.SENDING) & (Delivery.next_attempt_at <= now),
                ),
                or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
            )
            .values(status=DeliveryStatus.SENDING, next_attempt_at=now + lease)
        )
    )
    session.commit()
    return session.get(Delivery, delivery_id) if claimed == 1 else None


def tries_in_schedule(session: Session, delivery: Delivery) -> int:
    """Tries since the retry schedule last started: all of them, or those since the latest replay.

    `attempts` counts every try of the delivery's life (job ids are built from it, so they
    never repeat); a replay starts a fresh schedule, and its audit event records where.
    """
    details = session.scalar(
        select(AuditEvent.details)
        .where(
            AuditEvent.action == "delivery.replayed",
            AuditEvent.subject_type == "delivery",
            AuditEvent.subject_id == delivery.id,
            AuditEvent.at >= delivery.created_at,
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    before = (details or {}).get("attempts_before", 0)
    return delivery.attempts - (before if isinstance(before, int) else 0)


def record_attempt(session: Session, delivery: Delivery, result: Any, *, backoff: Sequence[int]) -> float | None:
    """Log one attempt and set the next state; returns the delay before a retry, if any."""
    delivery.attempts += 1
    session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            ok=result.ok,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            response_excerpt=result.response_excerpt[:500],
            error=result.error[:1000],
        )
    )
    delay = None
    if result.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.DELIVERED, utcnow(), None
        delivery.last_error = ""
    elif (
        result.retryable
        and (delay := next_delay(backoff, tries_in_schedule(session, delivery), result.retry_after)) is not None
    ):
        delivery.status = DeliveryStatus.RETRYING
        delivery.next_attempt_at = utcnow() + timedelta(seconds=delay)
        delivery.last_error = result.error or f"HTTP {result.status_code}"
    else:
        delivery.status = DeliveryStatus.DEAD if result.retryable else DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        delivery.last_error = result.error or f"HTTP {result.status_code}"
        log.warning(
            "delivery %s is %s after %s attempt(s): %s",
            delivery.id,
            delivery.status,
            delivery.attempts,
            delivery.last_error,
        )
    session.commit()
    return delay


def replay(session: Session, delivery_ids: Sequence[int], *, actor: str) -> list[int]:
    """Put dead or failed deliveries back to pending with a fresh retry schedule; returns those reset.

    The idempotency key, the attempt log and the lifetime `attempts` count stay (job ids stay
    unique); the audit event's `attempts_before` is where the new schedule starts."""
    deliveries = session.scalars(
        select(Delivery).where(
            Delivery.id.in_(delivery_ids), Delivery.status.in_((DeliveryStatus.DEAD, DeliveryStatus.FAILED))
        )
    ).all()
    for delivery in deliveries:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.PENDING, None
        session.add(
            AuditEvent(
                actor=actor,
                action="delivery.replayed",
                subject_type="delivery",
                subject_id=delivery.id,
                details={"attempts_before": delivery.attempts},
            )
        )
    session.flush()
    return [d.id for d in deliveries]


def due(session: Session, *, limit: int = 500) -> list[tuple[int, int]]:
    """(id, attempts) of deliveries that should be sent now: pending, due retries, expired leases."""
    now = utcnow()
    rows = session.execute(
        select(Delivery.id, Delivery.attempts)
        .where(
            Delivery.status.in_((DeliveryStatus.PENDING, DeliveryStatus.RETRYING, DeliveryStatus.SENDING)),
            or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
        )
        .order_by(Delivery.id)
        .limit(limit)
    ).all()
    return [(row[0], row[1]) for row in rows]
