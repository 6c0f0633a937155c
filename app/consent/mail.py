"""The consent links in every e-mail to a visitor: the double opt-in's confirmation link while it is
pending, and always the signed unsubscribe link (also as List-Unsubscribe headers: app/capture/visitor_email.py).
A form that sends no confirmation e-mail of its own still sends this one when an opt-in waits."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask_babel import force_locale, gettext
from sqlalchemy.orm import Session

from app.capture.thanks import visitor_email_settings
from app.capture.visitor_email import VisitorMessage
from app.consent.opt_in import opt_in_token, pending_for
from app.consent.unsubscribe import unsubscribe_token
from app.models import Submission


def with_consent_links(
    session: Session, message: VisitorMessage, submission: Submission, *, secret: str, base_url: str
) -> VisitorMessage:
    """The message with its confirmation link (while the opt-in waits) and unsubscribe link."""
    base = base_url.rstrip("/")
    changes: dict[str, Any] = {}
    if submission.lead_id is not None:
        changes["unsubscribe_url"] = f"{base}/u/{unsubscribe_token(secret, submission.lead_id)}"
    opt_in = pending_for(session, submission.id)
    if opt_in is not None:
        changes["confirm_url"] = f"{base}/c/{opt_in_token(secret, opt_in.id)}"
        form = submission.form
        if not visitor_email_settings(form.kind, dict(form.settings or {}))["enabled"]:
            with force_locale(submission.language or "en"):  # the visitor's language, as the rest of the e-mail
                changes["subject"] = gettext("Please confirm: %(form)s", form=form.name)
                changes["body"] = gettext(
                    "Please confirm that you want to receive marketing e-mails from us: open the link below. "
                    "If you did not ask for this, ignore this e-mail and you will receive nothing more."
                )
    return dataclasses.replace(message, **changes)
