"""The sweeper: re-enqueue submissions stuck in `received` (e.g. Redis was down at capture)."""

from __future__ import annotations

import logging
from datetime import timedelta

from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.deliveries import due
from app.models import RECEIVED, Submission, utcnow
from app.queue import enqueue_delivery, enqueue_screening

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
    enqueued = sum(enqueue_delivery(delivery_id, attempts, only_if_missing=True)
                   for delivery_id, attempts in due(session))
    if enqueued:
        log.info("sweeper enqueued %d due deliveries", enqueued)
    return enqueued


SWEEP_LOCK = "leadsieve:sweep-lock"


def take_turn(connection: Redis, *, seconds: int) -> bool:
    """With many workers, one sweeps per interval: the first to set the key (for `seconds`) does.

    Sweeping twice at once would be harmless (jobs are idempotent, deliveries are claimed) but wasteful.
    """
    return bool(connection.set(SWEEP_LOCK, "1", nx=True, ex=max(1, seconds)))
