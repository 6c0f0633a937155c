"""The sweeper: re-enqueue submissions stuck in `received` (e.g. Redis was down at capture)."""

from __future__ import annotations

import logging
from datetime import timedelta

from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.forwarding.deliveries import due
from app.leads.review import HELD, reopen_for_screening
from app.models import RECEIVED, SCREENED, AuditEvent, Finding, Submission, utcnow
from app.runtime.queues import enqueue_delivery, enqueue_screening

DNS_RETRY = "submission.dns_retry"

log = logging.getLogger(__name__)


def sweep(session: Session, *, older_than_seconds: int, limit: int = 1000) -> int:
    """Enqueue screening for stale `received` submissions not already queued; returns how many."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    ids = session.scalars(
        select(Submission.id)
        .where(Submission.status == RECEIVED, Submission.received_at <= cutoff)
        .order_by(Submission.id)
        .limit(limit)
    ).all()
    enqueued = sum(enqueue_screening(submission_id, only_if_missing=True) for submission_id in ids)
    if enqueued:
        log.info("sweeper re-enqueued %d of %d stale submissions", enqueued, len(ids))
    return enqueued


def sweep_deliveries(session: Session) -> int:
    """Enqueue deliveries that are due (pending, retry time reached, or lease expired) and not queued."""
    enqueued = sum(
        enqueue_delivery(delivery_id, attempts, only_if_missing=True) for delivery_id, attempts in due(session)
    )
    if enqueued:
        log.info("sweeper enqueued %d due deliveries", enqueued)
    return enqueued


def retry_dns_holds(session: Session, *, after_seconds: int, limit: int, batch: int = 200) -> int:
    """Screen again the submissions held only because DNS could not answer (`dns.unknown`), once their
    hold is `after_seconds` old, at most `limit` times each: our resolver's bad hour must not leave
    people waiting for a reviewer. Returns how many were queued again."""
    if after_seconds <= 0 or limit <= 0:
        return 0
    cutoff = utcnow() - timedelta(seconds=after_seconds)
    retries = (
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.subject_type == "submission",
            AuditEvent.subject_id == Submission.id,
            AuditEvent.action == DNS_RETRY,
        )
        .scalar_subquery()
    )
    unknown_dns = select(Finding.id).where(Finding.submission_id == Submission.id, Finding.code == "dns.unknown")
    rows = session.execute(
        select(Submission.id, retries)
        .where(
            Submission.status == SCREENED,
            Submission.verdict == HELD,
            Submission.screened_at <= cutoff,
            unknown_dns.exists(),
            retries < limit,
        )
        .order_by(Submission.screened_at)
        .limit(batch)
    ).all()
    reopened = [
        submission_id
        for submission_id, done in rows
        if reopen_for_screening(
            session,
            submission_id=submission_id,
            actor="sweeper",
            action=DNS_RETRY,
            details={"attempt": done + 1, "of": limit},
        )
    ]
    session.commit()
    for submission_id in reopened:
        enqueue_screening(submission_id)
    if reopened:
        log.info("re-screening %d submission(s) held because DNS did not answer", len(reopened))
    return len(reopened)


SWEEP_LOCK = "leadsieve:sweep-lock"


def take_turn(connection: Redis, *, seconds: int) -> bool:
    """With many workers, one sweeps per interval: the first to set the key (for `seconds`) does.

    Sweeping twice at once would be harmless (jobs are idempotent, deliveries are claimed) but wasteful.
    """
    return bool(connection.set(SWEEP_LOCK, "1", nx=True, ex=max(1, seconds)))
