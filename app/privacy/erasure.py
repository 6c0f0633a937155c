"""Privacy: erase a person, purge old rejected submissions, truncate IP addresses.

Erasure removes what identifies a person and keeps what is counted: rows stay with
their form, status, verdict, category, stage, score, utm and timestamps, so the
dashboard funnel and the metrics do not change; names, addresses, messages,
answers, raw posts, IPs, user agents, URLs, finding evidence, delivery payloads
and response excerpts are blanked, and the .eml files their e-mail deliveries left in a
`file://` SMTP_URL outbox are deleted. The audit event names the person only by a
SHA-256 of their normalised address, so a later request can be matched to it
without the address being kept in clear.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

from flask import current_app, has_app_context
from redis import Redis
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from app.forwarding.adapters.email import EmailConfigError, eml_path, outbox_dir
from app.models import (
    AuditEvent,
    Delivery,
    DeliveryAttempt,
    Finding,
    Lead,
    LeadFeedback,
    StageChange,
    Submission,
    utcnow,
)
from app.statuses import DeliveryStatus, Verdict
from screening.identity import GMAIL, lead_key

log = logging.getLogger(__name__)

ERASED = "[erased]"
# Deliveries not yet sent when their person is erased end here: nothing left to send, and
# neither the sweeper, a retry nor a replay (dead/failed only) picks them up again.
ERASED_DELIVERY = "erased"
UNSENT = tuple(s for s in DeliveryStatus if s != DeliveryStatus.DELIVERED)
RETENTION_LOCK = "leadsieve:retention:last-run"
RETENTION_EVERY_SECONDS = 3600


class InvalidEmail(ValueError):
    """The value given to erase is not an e-mail address."""


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure changed; `email_sha256` is how the audit log names the person."""

    email_sha256: str
    submissions: int
    leads: int
    findings: int
    deliveries: int
    outbox_files: int = 0

    @property
    def found(self) -> bool:
        """Whether anything belonged to that address."""
        return bool(self.submissions or self.leads)


def truncate_ip(ip: str | None) -> str | None:
    """The /24 network of an IPv4 address or the /48 of an IPv6 one, as an address; junk stays None."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:  # type: ignore[union-attr]
        address = address.ipv4_mapped  # type: ignore[union-attr]
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def email_hash(email: str) -> str:
    """SHA-256 (hex) of the normalised address: the person's name in the audit log."""
    return hashlib.sha256(lead_key(email).encode()).hexdigest()


def _normalised(email: str) -> str:
    key = lead_key(email or "")
    local, _, domain = key.rpartition("@")
    if not local or not domain or "." not in domain or any(c.isspace() for c in key):
        raise InvalidEmail(f"not an e-mail address: {email!r}")
    return key


def _submission_ids(session: Session, key: str, lead: Lead | None) -> set[int]:
    """Every submission of this person: attached to their lead, or from any spelling of their address."""
    domain = key.rpartition("@")[2]
    domains = GMAIL if domain in GMAIL else {domain}
    rows = session.execute(
        select(Submission.id, Submission.email).where(
            or_(*(func.lower(Submission.email).like(f"%@{d}") for d in domains))
        )
    ).all()
    ids = {row.id for row in rows if row.email and lead_key(row.email) == key}
    if lead is not None:
        ids |= set(session.scalars(select(Submission.id).where(Submission.lead_id == lead.id)).all())
    return ids


def _outbox_files(smtp_url: str, deliveries: Sequence[Delivery]) -> list[Path]:
    """The .eml files these deliveries left in a `file://` SMTP_URL outbox (none for a real SMTP server)."""
    try:
        outbox = outbox_dir(smtp_url)
    except EmailConfigError as exc:  # the adapter refuses such a URL too, so it wrote nothing there
        log.warning("erasure: SMTP_URL names no usable outbox (%s); no .eml files looked for", exc)
        return []
    if outbox is None:
        return []
    return [path for d in deliveries if (path := eml_path(outbox, d.idempotency_key)).is_file()]


def _redactor(values: set[str]) -> re.Pattern[str] | None:
    values = {v for v in values if v and len(v) >= 3}
    if not values:
        return None
    return re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)), re.IGNORECASE)


def erase_person(session: Session, *, email: str, actor: str, smtp_url: str | None = None) -> ErasureReport:
    """Remove the personal data of the person with this address; audited, committed.

    Args:
        smtp_url: the SMTP_URL the e-mail adapter writes with; when it is a `file://` outbox, the
            person's .eml files there are deleted. None: the current app's SMTP_URL (none outside one).

    Raises InvalidEmail for something that is not an address, OSError when an outbox file cannot
    be deleted (nothing is committed then). An address nobody used gives a report with
    `found == False` (and is audited as a request all the same).
    """
    if smtp_url is None:
        smtp_url = current_app.config.get("SMTP_URL", "") if has_app_context() else ""
    key = _normalised(email)
    now = utcnow()
    lead = session.scalars(select(Lead).where(Lead.email == key)).first()
    ids = _submission_ids(session, key, lead)
    submissions = session.scalars(select(Submission).where(Submission.id.in_(ids))).all() if ids else []

    # Values that identify them, to take out of free text written about other rows (evidence, notes).
    personal = {key, email.strip().lower()}
    for s in submissions:
        personal |= {s.email, s.phone, s.ip or ""}
    pattern = _redactor(personal)

    for s in submissions:
        s.email = s.first_name = s.last_name = s.company = s.job_title = s.phone = s.country = ""
        s.message = s.user_agent = s.referrer = s.page_url = ""
        s.raw, s.answers, s.ip = {}, {}, None
        s.erased_at = now

    findings = 0
    if ids:
        for finding in session.scalars(select(Finding).where(Finding.submission_id.in_(ids))).all():
            finding.evidence = ERASED if finding.evidence else ""
            findings += 1
    if pattern is not None:
        # Other rows' evidence that names them (e.g. a velocity finding quoting the address).
        mentions = or_(*(func.lower(Finding.evidence).contains(v) for v in personal if len(v) >= 3))
        for finding in session.scalars(select(Finding).where(mentions)).all():
            if finding.submission_id not in ids:
                finding.evidence = pattern.sub(ERASED, finding.evidence)
                findings += 1

    deliveries = session.scalars(select(Delivery).where(Delivery.submission_id.in_(ids))).all() if ids else []
    for delivery in deliveries:
        delivery.payload, delivery.last_error = {"erased": True}, ""
        if delivery.status in UNSENT:
            delivery.status, delivery.next_attempt_at = ERASED_DELIVERY, None
    if deliveries:
        for attempt in session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_([d.id for d in deliveries]))
        ).all():
            attempt.response_excerpt = ""
            if pattern is not None:
                attempt.error = pattern.sub(ERASED, attempt.error)

    if lead is not None:
        lead.email = f"erased-{lead.id}@erased.invalid"
        lead.first_name = lead.last_name = lead.company = lead.job_title = lead.phone = lead.country = ""
        lead.erased_at = now
        for feedback in session.scalars(select(LeadFeedback).where(LeadFeedback.lead_id == lead.id)).all():
            feedback.note = ""

    # Reviewer and sales notes in the audit log may quote the person.
    subjects = [(AuditEvent.subject_type == "submission") & AuditEvent.subject_id.in_(ids)] if ids else []
    if lead is not None:
        subjects.append((AuditEvent.subject_type == "lead") & (AuditEvent.subject_id == lead.id))
    if subjects:
        for event in session.scalars(select(AuditEvent).where(or_(*subjects))).all():
            if (event.details or {}).get("note"):
                event.details = {**event.details, "note": ERASED}

    # Last before the commit: a file that cannot be deleted fails the whole erasure (rolled back,
    # so it can be run again) instead of leaving the person in the outbox behind a success.
    files = _outbox_files(smtp_url, deliveries)
    for path in files:
        path.unlink(missing_ok=True)

    report = ErasureReport(
        email_sha256=email_hash(key),
        submissions=len(submissions),
        leads=int(lead is not None),
        findings=findings,
        deliveries=len(deliveries),
        outbox_files=len(files),
    )
    session.add(
        AuditEvent(
            actor=actor,
            action="privacy.erased",
            subject_type="person",
            subject_id=lead.id if lead is not None else None,
            details={**asdict(report), "found": report.found},
        )
    )
    session.flush()
    log.info(
        "erased personal data of %s: %d submission(s), %d lead(s), %d delivery(ies), %d outbox file(s)",
        report.email_sha256[:12],
        report.submissions,
        report.leads,
        report.deliveries,
        report.outbox_files,
    )
    return report


def purge_rejected(session: Session, *, older_than_days: int, actor: str, batch: int = 500) -> int:
    """Delete rejected submissions received more than `older_than_days` ago (0: none); audited."""
    if older_than_days <= 0:
        return 0
    cutoff = utcnow() - timedelta(days=older_than_days)
    total = 0
    while True:
        ids = session.scalars(
            select(Submission.id)
            .where(Submission.verdict == Verdict.REJECTED, Submission.received_at < cutoff)
            .order_by(Submission.id)
            .limit(batch)
        ).all()
        if not ids:
            break
        # Children first: the same on SQLite and PostgreSQL, whatever the FK actions say.
        session.execute(
            delete(DeliveryAttempt).where(
                DeliveryAttempt.delivery_id.in_(select(Delivery.id).where(Delivery.submission_id.in_(ids)))
            )
        )
        session.execute(delete(Delivery).where(Delivery.submission_id.in_(ids)))
        session.execute(delete(Finding).where(Finding.submission_id.in_(ids)))
        session.execute(update(StageChange).where(StageChange.submission_id.in_(ids)).values(submission_id=None))
        session.execute(delete(Submission).where(Submission.id.in_(ids)))
        session.commit()
        total += len(ids)
    if total:
        session.add(
            AuditEvent(
                actor=actor,
                action="privacy.purged",
                subject_type="submission",
                details={
                    "verdict": Verdict.REJECTED,
                    "older_than_days": older_than_days,
                    "cutoff": cutoff.isoformat(),
                    "deleted": total,
                },
            )
        )
        session.commit()
        log.info("retention: purged %d rejected submission(s) received before %s", total, cutoff.isoformat())
    return total


def purge_if_due(
    session: Session, redis: Redis, *, older_than_days: int, every_seconds: int = RETENTION_EVERY_SECONDS
) -> int | None:
    """The worker's scheduled retention run: at most once per `every_seconds` across all workers.

    Returns how many were purged, or None when retention is off or another worker ran it recently.
    """
    if older_than_days <= 0:
        return None
    if not redis.set(RETENTION_LOCK, utcnow().isoformat(), nx=True, ex=max(1, every_seconds)):
        return None
    try:
        return purge_rejected(session, older_than_days=older_than_days, actor="retention")
    except Exception:
        redis.delete(RETENTION_LOCK)  # let the next sweep try again instead of waiting an hour
        raise
