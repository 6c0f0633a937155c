"""The confirmation e-mail a form promises the visitor: its state, its content and how it is sent.

A `VisitorEmail` row is created when a submission is accepted (`plan`, from `app.flows.accept`): so
never for a rejected submission, and for a held one only when a reviewer approves or releases it.
The worker's `send_visitor_email` job claims the row with a lease (two workers never send it), sends
through the lead e-mails' path (`serialise` checks the headers, SMTP_URL or the file outbox), and
records the attempt: delivered, a retry on the delivery back-off schedule, or failed. A second run
finds it delivered and sends nothing; the Message-ID is the submission's, so a copy that did go
twice (a worker killed between the SMTP answer and the commit) reads as one message.

Content: the marketer's subject and text (or a default per kind), the absolute download link of a
download form, and for a webinar the title, time, join link and the event as `invite.ics`. Plain
text and an HTML alternative are rendered from `templates/email/visitor_confirmation.{txt,html}`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.errors import HeaderDefect
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from flask_babel import force_locale, gettext
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.capture.calendar import Webinar, ics, local_when_text, webinar_of
from app.capture.thanks import absolute_url, sends_visitor_email, visitor_email_settings
from app.db import rowcount
from app.forwarding.adapters.email import (
    TEMPLATES,
    EmailConfigError,
    UnsafeMessage,
    encoded_words,
    header_text,
    outbox_dir,
    serialise,
    transmit,
    valid_address,
)
from app.forwarding.adapters.types import AttemptResult, DeliverySettings
from app.forwarding.deliveries import next_delay
from app.i18n import with_gettext
from app.i18n.overrides import text_for
from app.models import Submission, VisitorEmail, utcnow
from app.statuses import DeliveryStatus, Verdict

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
# The lead e-mails' templates, with `_()` in the visitor's language (the worker renders them outside a request).
_TEMPLATES = with_gettext(TEMPLATES)
OUTBOX_PREFIX = "visitor"


class VisitorEmailError(ValueError):
    """This e-mail cannot be sent as it is (no plain address to send to): a permanent failure."""


# State ----------------------------------------------------------------------------------------


def plan(session: Session, *, submission: Submission, smtp_url: str) -> VisitorEmail | None:
    """The pending e-mail for a just-accepted submission, if its form sends one (once); flushes."""
    form = submission.form
    if not sends_visitor_email(form.kind, dict(form.settings or {}), smtp_url=smtp_url):
        return None
    row = session.scalar(select(VisitorEmail).where(VisitorEmail.submission_id == submission.id))
    if row is None:
        row = VisitorEmail(submission_id=submission.id, status=DeliveryStatus.PENDING)
        session.add(row)
        session.flush()
    return row


def waiting(session: Session, submission_ids: Sequence[int]) -> list[int]:
    """Of these submissions, those whose e-mail waits for its first try (to enqueue after commit)."""
    if not submission_ids:
        return []
    return list(
        session.scalars(
            select(VisitorEmail.submission_id).where(
                VisitorEmail.submission_id.in_(list(submission_ids)),
                VisitorEmail.status == DeliveryStatus.PENDING,
                VisitorEmail.attempts == 0,
            )
        )
    )


def claim(session: Session, submission_id: int, *, lease: timedelta = LEASE) -> VisitorEmail | None:
    """Take the submission's e-mail for sending if it is due and nobody holds it; None otherwise.

    Commits, like a delivery's claim: the lease must be visible to every worker before the SMTP
    conversation starts. It must outlast the job time-out."""
    now = utcnow()
    claimed = rowcount(
        session.execute(
            update(VisitorEmail)
            .where(
                VisitorEmail.submission_id == submission_id,
                or_(
                    VisitorEmail.status.in_((DeliveryStatus.PENDING, DeliveryStatus.RETRYING)),
                    (VisitorEmail.status == DeliveryStatus.SENDING) & (VisitorEmail.next_attempt_at <= now),
                ),
                or_(VisitorEmail.next_attempt_at.is_(None), VisitorEmail.next_attempt_at <= now),
            )
            .values(status=DeliveryStatus.SENDING, next_attempt_at=now + lease)
        )
    )
    session.commit()
    if claimed != 1:
        return None
    return session.scalar(select(VisitorEmail).where(VisitorEmail.submission_id == submission_id))


def record_attempt(
    session: Session, row: VisitorEmail, result: AttemptResult, *, backoff: Sequence[int]
) -> float | None:
    """Record one try and set the next state; the delay before a retry, if any. Commits: each try
    is recorded whatever happens next."""
    row.attempts += 1
    delay = None
    if result.ok:
        row.status, row.sent_at, row.next_attempt_at, row.last_error = DeliveryStatus.DELIVERED, utcnow(), None, ""
    elif result.retryable and (delay := next_delay(backoff, row.attempts, result.retry_after)) is not None:
        row.status = DeliveryStatus.RETRYING
        row.next_attempt_at = utcnow() + timedelta(seconds=delay)
        row.last_error = result.error[:1000]
    else:
        row.status = DeliveryStatus.DEAD if result.retryable else DeliveryStatus.FAILED
        row.next_attempt_at = None
        row.last_error = result.error[:1000]
        log.warning(
            "visitor e-mail of submission %s is %s after %s attempt(s): %s",
            row.submission_id,
            row.status,
            row.attempts,
            row.last_error,
        )
    session.commit()
    return delay


def give_up(session: Session, row: VisitorEmail, reason: str) -> None:
    """Mark the e-mail failed without sending (the submission is no longer accepted, or was erased); commits."""
    row.status, row.next_attempt_at, row.last_error = DeliveryStatus.FAILED, None, reason
    session.commit()


def due(session: Session, *, limit: int = 500) -> list[tuple[int, int]]:
    """(submission id, attempts) of e-mails to send now: pending, due retries, expired leases (the sweeper)."""
    now = utcnow()
    rows = session.execute(
        select(VisitorEmail.submission_id, VisitorEmail.attempts)
        .where(
            VisitorEmail.status.in_((DeliveryStatus.PENDING, DeliveryStatus.RETRYING, DeliveryStatus.SENDING)),
            or_(VisitorEmail.next_attempt_at.is_(None), VisitorEmail.next_attempt_at <= now),
        )
        .order_by(VisitorEmail.id)
        .limit(limit)
    ).all()
    return [(row[0], row[1]) for row in rows]


def still_wanted(submission: Submission) -> str:
    """Why the e-mail must not go out now ("" when it may): only accepted, unerased submissions get one."""
    if submission.erased_at is not None:
        return "the submission was erased"
    if submission.verdict != Verdict.ACCEPTED:
        return f"the submission is {submission.verdict or 'not screened'}, not accepted"
    return ""


# Content --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VisitorMessage:
    """Everything one confirmation says, as plain values."""

    to: str
    submission_id: int
    kind: str
    form_name: str
    first_name: str
    subject: str
    body: str
    asset_name: str = ""
    asset_url: str = ""
    webinar: Webinar | None = None
    calendar: bytes | None = None
    # The double opt-in's confirmation link and the unsubscribe link (app/consent/mail.py).
    confirm_url: str = ""
    unsubscribe_url: str = ""
    # The language of the visitor's page (Submission.language): the e-mail is written in it.
    language: str = "en"


def default_subject(kind: str, form_name: str, *, asset_name: str = "", webinar: Webinar | None = None) -> str:
    """The subject when the marketer gave none."""
    if kind == "webinar" and webinar is not None:
        return gettext("You are registered: %(title)s", title=webinar.title)
    if kind == "download":
        return gettext("Your copy of %(name)s", name=asset_name or form_name)
    return gettext("Thank you: %(name)s", name=form_name)


def default_body(kind: str, settings: dict[str, Any]) -> str:
    """The text when the marketer gave none."""
    if kind == "webinar":
        return gettext("Thank you for registering. Here is everything you need to join.")
    if kind == "download":
        return gettext("Thank you for your interest. Here is your copy.")
    return str(settings.get("thank_you") or gettext("Thank you! We have received your details."))


def calendar_uid(form_id: int, base_url: str) -> str:
    """One UID per webinar form: the .ics from the e-mail and from the thank-you page are one event."""
    host = urlsplit(base_url).hostname or "leadsieve.invalid"
    return f"webinar-form-{form_id}@{host}"


def message_for(submission: Submission, *, base_url: str, now: datetime) -> VisitorMessage:
    """The confirmation for one stored submission (its form's settings as they are now), in the language
    of the visitor's page."""
    with force_locale(submission.language or "en"):
        return _message_for(submission, base_url=base_url, now=now)


def _message_for(submission: Submission, *, base_url: str, now: datetime) -> VisitorMessage:
    form = submission.form

    def own(key: str) -> str:  # the marketer's translation of their subject or text, if any
        return text_for(form.translations, submission.language or "en", key)

    settings = dict(form.settings or {})
    configured = visitor_email_settings(form.kind, settings)
    webinar = webinar_of(form.name, settings) if form.kind == "webinar" else None
    asset_name = str(settings.get("asset_name") or "")
    calendar = None
    if webinar is not None and webinar.starts_at is not None:
        calendar = ics(
            webinar, uid=calendar_uid(form.id, base_url), now=now, description=str(settings.get("intro") or "")
        )
    return VisitorMessage(
        to=submission.email,
        submission_id=submission.id,
        kind=form.kind,
        form_name=form.name,
        first_name=submission.first_name,
        subject=own("email_subject")
        or configured["subject"]
        or default_subject(form.kind, form.name, asset_name=asset_name, webinar=webinar),
        body=own("email_body") or configured["body"] or default_body(form.kind, settings),
        asset_name=asset_name,
        asset_url=absolute_url(str(settings.get("asset_url") or ""), base_url),
        webinar=webinar,
        calendar=calendar,
        language=submission.language or "en",
    )


def recipient(address: str) -> str:
    """The visitor's address as SMTP can carry it (an internationalised domain as IDNA);
    VisitorEmailError when it is not a plain address (a non-ASCII local part needs SMTPUTF8)."""
    local, _, domain = address.rpartition("@")
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise VisitorEmailError(f"the domain of {address!r} cannot be written in ASCII") from exc
    plain = f"{local}@{ascii_domain}"
    if not valid_address(plain):
        raise VisitorEmailError(f"{address!r} is not a plain address this sender can write to")
    try:
        Address(addr_spec=plain)
    except HeaderDefect as exc:
        raise VisitorEmailError(f"{address!r} is not a valid address") from exc
    return plain


def _paragraphs(text: str) -> list[list[str]]:
    """Blank-line separated paragraphs, each a list of lines (the HTML keeps the marketer's breaks)."""
    blocks = [block.strip() for block in text.replace("\r\n", "\n").split("\n\n")]
    return [[line.strip() for line in block.split("\n")] for block in blocks if block]


def render_bodies(message: VisitorMessage) -> tuple[str, str]:
    """(plain text, HTML) from the templates; the HTML is autoescaped."""
    values = {
        "first_name": message.first_name,
        "form_name": message.form_name,
        "body": message.body.strip(),
        "paragraphs": _paragraphs(message.body),
        "asset_name": message.asset_name,
        "asset_url": message.asset_url,
        "webinar": message.webinar,
        "when": local_when_text(message.webinar.starts_at, message.language)
        if message.webinar and message.webinar.starts_at
        else "",
        "has_calendar": message.calendar is not None,
        "confirm_url": message.confirm_url,
        "unsubscribe_url": message.unsubscribe_url,
        "language": message.language,
    }
    with force_locale(message.language):
        plain = _TEMPLATES.get_template("email/visitor_confirmation.txt").render(**values)
        html = _TEMPLATES.get_template("email/visitor_confirmation.html").render(**values)
    return plain, html


def message_id(submission_id: int, sender: str) -> str:
    """One Message-ID per submission's confirmation: every retry of it carries the same."""
    domain = sender.rsplit("@", 1)[-1] if valid_address(sender) else "leadsieve.invalid"
    return f"<visitor-{submission_id}@{domain}>"


def build_message(message: VisitorMessage, *, sender: str) -> tuple[EmailMessage, list[str]]:
    """The EmailMessage and its one recipient; the marketer's subject reaches the header only as
    encoded words. EmailConfigError for a bad SMTP_FROM, VisitorEmailError for a bad recipient."""
    if not valid_address(sender):
        raise EmailConfigError(f"SMTP_FROM is not a plain address: {sender!r}")
    to = recipient(message.to)
    plain, html = render_bodies(message)
    msg = EmailMessage()
    msg.set_raw("Subject", encoded_words("Subject", header_text(message.subject)))
    msg["From"] = Address(addr_spec=sender)
    msg["To"] = to
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id(message.submission_id, sender)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to it
    if message.unsubscribe_url:  # RFC 2369 and RFC 8058: the mail client's one-click unsubscribe
        msg["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # 7bit keeps links whole in the raw message (an outbox file can be read as it is) where possible.
    msg.set_content(plain, cte="7bit" if plain.isascii() and _short_lines(plain) else "quoted-printable")
    msg.add_alternative(html, subtype="html")
    if message.calendar is not None:
        msg.add_attachment(
            message.calendar, maintype="text", subtype="calendar", filename="invite.ics", params={"method": "PUBLISH"}
        )
    return msg, [to]


def _short_lines(text: str) -> bool:
    return all(len(line) <= 998 for line in text.splitlines())


def send(message: VisitorMessage, settings: DeliverySettings) -> AttemptResult:
    """Serialise (headers checked) and send over SMTP_URL, or write `visitor-<id>.eml` to the outbox."""
    try:
        msg, recipients = build_message(message, sender=settings.smtp_from)
        outbox = outbox_dir(settings.smtp_url)
        parts = (
            ("multipart/alternative", "text/calendar") if message.calendar is not None else ("text/plain", "text/html")
        )
        data = serialise(msg, recipients=recipients, linesep="\n" if outbox is not None else "\r\n", parts=parts)
    except (EmailConfigError, VisitorEmailError) as exc:
        return AttemptResult(ok=False, error=str(exc), retryable=False)
    except UnsafeMessage as exc:
        log.warning("visitor e-mail of submission %s refused: %s", message.submission_id, exc)
        return AttemptResult(ok=False, error=f"refused to send: {exc}", retryable=False)
    return transmit(
        data,
        recipients=recipients,
        settings=settings,
        idempotency_key=f"submission-{message.submission_id}",
        outbox_prefix=OUTBOX_PREFIX,
    )
