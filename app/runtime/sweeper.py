"""The sweeper: re-enqueue work that fell through (Redis down at capture, a worker killed mid-job),
deliveries whose retry is due, and holds that only a DNS outage caused. `run_sweep` is one turn."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from redis import Redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.actions import rescreen, revisit_due_leads
from app.capture import visitor_email
from app.consent import opt_in
from app.forwarding.deliveries import due
from app.models import AuditEvent, Form, Submission, utcnow
from app.reporting import rollups
from app.runtime.queues import enqueue_delivery, enqueue_screening, enqueue_visitor_email, is_sales_request
from app.screening_context import dns_health
from app.statuses import SubmissionStatus, Verdict
from screening.resolver import MailResolver

DNS_RETRY = "submission.dns_retry"

log = logging.getLogger(__name__)


def sweep(session: Session, *, older_than_seconds: int, limit: int = 1000) -> int:
    """Enqueue screening for stale `received` submissions not already queued; returns how many."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    rows = session.execute(
        select(Submission.id, Form.kind)
        .join(Form, Form.id == Submission.form_id)
        .where(Submission.status == SubmissionStatus.RECEIVED, Submission.received_at <= cutoff)
        .order_by(Submission.id)
        .limit(limit)
    ).all()
    ids = [submission_id for submission_id, _ in rows]
    enqueued = sum(
        enqueue_screening(submission_id, sales=is_sales_request(kind), only_if_missing=True)
        for submission_id, kind in rows
    )
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


def sweep_visitor_emails(session: Session) -> int:
    """Enqueue visitor confirmation e-mails that are due (Redis was down when they were planned, a retry
    time reached, or a worker died holding one) and not queued."""
    enqueued = sum(
        enqueue_visitor_email(submission_id, attempts, only_if_missing=True)
        for submission_id, attempts in visitor_email.due(session)
    )
    if enqueued:
        log.info("sweeper enqueued %d due visitor e-mails", enqueued)
    return enqueued


def retry_dns_holds(
    session: Session, *, after_seconds: int, limit: int, batch: int = 200, immediately: bool = False
) -> int:
    """Screen again the submissions held only because DNS could not answer (`dns.unknown`), once their
    hold is `after_seconds` old, at most `limit` times each: our resolver's bad hour must not leave
    people waiting for a reviewer. Returns how many were queued again."""
    if (after_seconds <= 0 and not immediately) or limit <= 0:
        return 0
    cutoff = utcnow() if immediately else utcnow() - timedelta(seconds=after_seconds)
    # Screening marks these holds (`dns_held_at`, a partial index holding only them) and a decision or a
    # re-screen clears the mark, so this reads the few marked rows, never every held submission.
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
    rows: Sequence[Any] = session.execute(
        select(Submission.id, retries)
        .where(
            Submission.dns_held_at.is_not(None),
            Submission.status == SubmissionStatus.SCREENED,
            Submission.verdict == Verdict.HELD,
            Submission.screened_at <= cutoff,
            retries < limit,
        )
        .order_by(Submission.screened_at)
        .limit(batch)
    ).all()
    reopened = rescreen(
        session,
        submission_ids=[int(submission_id) for submission_id, _ in rows],
        actor="sweeper",
        action=DNS_RETRY,
        details={"of": limit},
        details_by_id={int(submission_id): {"attempt": int(done) + 1} for submission_id, done in rows},
    )
    if reopened:
        log.info("re-screening %d submission(s) held because DNS did not answer", len(reopened))
    return len(reopened)


@dataclass(frozen=True)
class DnsWatch:
    """What a sweep turn needs to probe DNS and share the answer: the worker's resolver and Redis."""

    resolver: MailResolver
    redis: Redis


@dataclass(frozen=True)
class SweepResult:
    """What one turn of the sweeper queued again, and whether DNS answered (None: not probed)."""

    submissions: int
    deliveries: int
    dns_holds: int
    dns_ok: bool | None = None
    visitor_emails: int = 0
    opt_ins_expired: int = 0
    revisits: int = 0  # recycled leads whose revisit date came (app/leads/revisit.py)
    rollup_days: int = 0


def watch_dns(watch: DnsWatch) -> tuple[bool, bool]:
    """Probe the canary and record it for every process; returns (ok now, just came back)."""
    ok, why = dns_health.probe(watch.resolver)
    current, previous = dns_health.record(watch.redis, ok, why)
    was_ok = previous.ok if previous is not None else True
    if was_ok and not ok:
        log.warning("%s (%s)", dns_health.NOTICE, why)
    elif ok and not was_ok:
        log.info("DNS answers again: screening the submissions it held")
    return current.ok, ok and not was_ok


def run_sweep(
    session: Session,
    *,
    older_than_seconds: int,
    dns_retry_after_seconds: int,
    dns_retry_limit: int,
    dns: DnsWatch | None = None,
) -> SweepResult:
    """One sweep: stale `received` submissions, due deliveries and visitor e-mails, holds DNS caused,
    recycled leads due for a revisit, and the dashboard's rollups (worker and CLI).

    With `dns`, the canary is probed too: when DNS has just come back, its holds are screened again
    at once instead of after `dns_retry_after_seconds`."""
    dns_ok, came_back = watch_dns(dns) if dns is not None else (None, False)
    return SweepResult(
        submissions=sweep(session, older_than_seconds=older_than_seconds),
        deliveries=sweep_deliveries(session),
        dns_holds=retry_dns_holds(
            session, after_seconds=dns_retry_after_seconds, limit=dns_retry_limit, immediately=came_back
        ),
        dns_ok=dns_ok,
        visitor_emails=sweep_visitor_emails(session),
        opt_ins_expired=opt_in.sweep_expired(session),
        revisits=revisit_due_leads(session),
        rollup_days=refresh_rollups(session),
    )


def refresh_rollups(session: Session) -> int:
    """Recompute the dashboard's daily rollups where something changed (app/reporting/rollups.py), and
    commit; returns how many days."""
    days = rollups.refresh(session)
    session.commit()
    return days


SWEEP_LOCK = "leadsieve:sweep-lock"


def take_turn(connection: Redis, *, seconds: int) -> bool:
    """With many workers, one sweeps per interval: the first to set the key (for `seconds`) does.

    Sweeping twice at once would be harmless (jobs are idempotent, deliveries are claimed) but wasteful.
    """
    return bool(connection.set(SWEEP_LOCK, "1", nx=True, ex=max(1, seconds)))
