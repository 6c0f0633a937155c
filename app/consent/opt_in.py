"""Double opt-in: a marketing consent (or a newsletter sign-up) counts once the visitor confirms it from the
e-mail leadsieve sends, and no marketing destination receives the person before that.

After routing (`hold`, from `app.flows.accept`, so only for accepted submissions), the new deliveries to
marketing destinations wait as `awaiting_opt_in`, an `OptIn` row is pending and the visitor e-mail is
planned (its confirmation link is added when it is sent: app/consent/mail.py). Confirming releases the
held deliveries with the payload's marketing consent marked confirmed; the sweeper's `expire` withholds
them for good once OPT_IN_CONFIRM_HOURS have passed. A person who confirmed before (and has not
unsubscribed since) is not asked again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.consent.payload import confirm_in_payload
from app.consent.records import MARKETING, given, iso
from app.forwarding.routing import is_marketing
from app.models import AuditEvent, Delivery, Destination, Lead, OptIn, Submission, VisitorEmail, utcnow
from app.statuses import DeliveryStatus, OptInStatus

SALT = "leadsieve.opt-in"
NOT_CONFIRMED = "marketing consent not confirmed"


def opt_in_token(secret: str, opt_in_id: int) -> str:
    """The signed part of a confirmation link."""
    return str(URLSafeTimedSerializer(secret, salt=SALT).dumps({"opt_in": opt_in_id}))


def read_opt_in_token(secret: str, token: str, *, max_age: int, fallbacks: Sequence[str] = ()) -> int | None:
    """The opt-in a confirmation link names, if it is genuine and fresh; None otherwise."""
    try:
        data = URLSafeTimedSerializer([*fallbacks, secret], salt=SALT).loads(token, max_age=max_age)
    except BadSignature:  # SignatureExpired is one too
        return None
    value = data.get("opt_in") if isinstance(data, dict) else None
    return value if type(value) is int else None


def needs_opt_in(submission: Submission) -> bool:
    """A ticked marketing box, or a newsletter sign-up (which is itself asking for marketing)."""
    return given(submission.consents, MARKETING) or submission.form.kind == "newsletter"


def confirmed_before(session: Session, lead: Lead) -> OptIn | None:
    """The person's latest confirmed opt-in, if they have not unsubscribed since."""
    row = session.scalar(
        select(OptIn)
        .where(OptIn.lead_id == lead.id, OptIn.status == OptInStatus.CONFIRMED)
        .order_by(OptIn.confirmed_at.desc())
        .limit(1)
    )
    if row is None or row.confirmed_at is None:
        return None
    if lead.unsubscribed_at is not None and lead.unsubscribed_at >= row.confirmed_at:
        return None
    return row


def hold(
    session: Session, *, submission: Submission, lead: Lead, deliveries: list[Delivery], hours: int, email: bool
) -> list[Delivery]:
    """After routing: hold this submission's new marketing deliveries until the visitor confirms; returns
    the deliveries to send now. `email`: an e-mail can be sent (SMTP_URL set), so one is planned. Flushes."""
    if not needs_opt_in(submission):
        return deliveries
    kinds = {
        d.id: d
        for d in session.scalars(
            select(Destination).where(Destination.id.in_([delivery.destination_id for delivery in deliveries]))
        )
    }
    marketing = [d for d in deliveries if d.destination_id in kinds and is_marketing(kinds[d.destination_id])]
    earlier = confirmed_before(session, lead)
    if earlier is not None and earlier.confirmed_at is not None:
        for delivery in marketing:
            delivery.payload = confirm_in_payload(delivery.payload, iso(earlier.confirmed_at))
        return deliveries
    if session.scalar(select(OptIn.id).where(OptIn.submission_id == submission.id)) is None:
        session.add(
            OptIn(
                submission_id=submission.id,
                lead_id=lead.id,
                status=OptInStatus.PENDING,
                expires_at=utcnow() + timedelta(hours=hours),
            )
        )
    if email and session.scalar(select(VisitorEmail.id).where(VisitorEmail.submission_id == submission.id)) is None:
        session.add(VisitorEmail(submission_id=submission.id, status=DeliveryStatus.PENDING))
    for delivery in marketing:
        delivery.status = DeliveryStatus.AWAITING_OPT_IN
    session.flush()
    return [d for d in deliveries if d not in marketing]


def pending_for(session: Session, submission_id: int) -> OptIn | None:
    """The submission's opt-in while it waits for the visitor."""
    return session.scalar(
        select(OptIn).where(OptIn.submission_id == submission_id, OptIn.status == OptInStatus.PENDING)
    )


def confirm(session: Session, opt_in_id: int) -> tuple[str, list[int]]:
    """The visitor clicked the link: (the opt-in's status now, the released delivery ids to enqueue after
    commit). Confirming twice releases nothing more; an expired opt-in stays expired. Flushes."""
    row = session.get(OptIn, opt_in_id)
    if row is None:
        return OptInStatus.EXPIRED, []
    now = utcnow()
    if row.status == OptInStatus.PENDING and row.expires_at <= now:
        expire(session, now=now, ids=[row.id])
    if row.status != OptInStatus.PENDING:
        return row.status, []
    row.status, row.confirmed_at = OptInStatus.CONFIRMED, now
    lead = session.get(Lead, row.lead_id) if row.lead_id is not None else None
    if lead is not None and lead.unsubscribed_at is not None:
        lead.unsubscribed_at = None  # subscribed again, confirmed by the person
    held = session.scalars(
        select(Delivery).where(
            Delivery.submission_id == row.submission_id, Delivery.status == DeliveryStatus.AWAITING_OPT_IN
        )
    ).all()
    for delivery in held:
        delivery.status = DeliveryStatus.PENDING
        delivery.payload = confirm_in_payload(delivery.payload, iso(now))
    session.add(
        AuditEvent(
            actor="visitor",
            action="consent.confirmed",
            subject_type="lead",
            subject_id=row.lead_id,
            details={"submission_id": row.submission_id, "released": [d.id for d in held]},
        )
    )
    session.flush()
    return row.status, [d.id for d in held]


def expire(session: Session, *, now: datetime | None = None, ids: Sequence[int] | None = None, limit: int = 500) -> int:
    """Close the pending opt-ins whose window has passed (or those in `ids`): their held deliveries are
    withheld for good and the lead's history says so. Returns how many; flushes (the sweeper commits)."""
    moment = utcnow() if now is None else now
    query = select(OptIn).where(OptIn.status == OptInStatus.PENDING, OptIn.expires_at <= moment)
    if ids is not None:
        query = query.where(OptIn.id.in_(list(ids)))
    rows = session.scalars(query.order_by(OptIn.id).limit(limit)).all()
    for row in rows:
        row.status = OptInStatus.EXPIRED
        session.execute(
            update(Delivery)
            .where(Delivery.submission_id == row.submission_id, Delivery.status == DeliveryStatus.AWAITING_OPT_IN)
            .values(status=DeliveryStatus.WITHHELD, last_error=NOT_CONFIRMED, next_attempt_at=None)
        )
        session.add(
            AuditEvent(
                actor="opt-in window",
                action="consent.not_confirmed",
                subject_type="lead",
                subject_id=row.lead_id,
                details={"submission_id": row.submission_id},
            )
        )
    session.flush()
    return len(rows)


def marketing_status(session: Session, lead: Lead) -> str:
    """What the lead page says about marketing consent ("" when the person never gave one)."""
    if lead.unsubscribed_at is not None:
        return f"unsubscribed from marketing on {lead.unsubscribed_at:%Y-%m-%d %H:%M} UTC"
    row = session.scalar(select(OptIn).where(OptIn.lead_id == lead.id).order_by(OptIn.id.desc()).limit(1))
    if row is None:
        return ""
    if row.status == OptInStatus.CONFIRMED and row.confirmed_at is not None:
        return f"marketing consent confirmed on {row.confirmed_at:%Y-%m-%d %H:%M} UTC"
    if row.status == OptInStatus.EXPIRED:
        return NOT_CONFIRMED
    return f"marketing consent awaiting confirmation until {row.expires_at:%Y-%m-%d %H:%M} UTC"


def sweep_expired(session: Session) -> int:
    """The sweeper's turn: close the opt-ins whose window has passed, and commit."""
    closed = expire(session)
    session.commit()
    return closed


def may_market(session: Session, submission: Submission, lead: Lead) -> bool:
    """Whether a marketing destination may get this person from this submission outside routing (a
    backfill): not unsubscribed, and no opt-in needed or one confirmed."""
    if lead.unsubscribed_at is not None:
        return False
    return not needs_opt_in(submission) or confirmed_before(session, lead) is not None


def language_of(session: Session, opt_in_id: int) -> str:
    """The language of the page the visitor consented on ("" if unknown)."""
    language = session.scalar(
        select(Submission.language).join(OptIn, OptIn.submission_id == Submission.id).where(OptIn.id == opt_in_id)
    )
    return language or ""
