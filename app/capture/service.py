"""`capture_submission`: the one path by which a form post becomes a stored Submission.

HTML and JSON capture both come here. The row is committed before anything
else happens; the screening job is enqueued only after the commit, so a worker
can never look for a row that does not exist yet.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Form, Submission
from app.queue import enqueue_screening
from forms import LeadForm


@dataclass(frozen=True)
class RequestContext:
    """What the request itself tells us about the visitor."""

    ip: str | None
    user_agent: str
    raw: dict[str, Any]
    signals: dict[str, Any]


def find_form(session: Session, slug: str) -> Form | None:
    """The form with this slug, active or not."""
    return session.scalars(select(Form).where(Form.slug == slug)).first()


def consent_version(text: str) -> str:
    """A short, stable fingerprint of the consent wording shown."""
    return hashlib.sha256(text.encode()).hexdigest()[:16] if text else ""


def capture_submission(session: Session, *, form_row: Form, form: LeadForm, request: RequestContext) -> Submission:
    """Store a validated post as `received`, commit, then enqueue screening (best effort)."""
    consent_text = form_row.settings.get("consent_text", "")
    submission = Submission(
        form_id=form_row.id,
        raw=request.raw,
        ip=request.ip,
        user_agent=request.user_agent[:512],
        consent_given=bool(form.consent.data),
        consent_text=consent_text if form.consent.data else "",
        consent_text_version=consent_version(consent_text) if form.consent.data else "",
        signals=request.signals,
        answers=form.answers_data(),
        **form.contact_data(),
        **form.context_data(),
    )
    session.add(submission)
    session.commit()
    enqueue_screening(submission.id)
    return submission
