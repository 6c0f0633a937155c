"""`capture_submission`: the one path by which a form post becomes a stored Submission.

HTML and JSON capture both come here. The row is committed before anything
else happens; the screening job is enqueued only after the commit, so a worker
can never look for a row that does not exist yet.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Table, bindparam, insert, select
from sqlalchemy.orm import Session

from app.capture.form_cache import PublicForm
from app.consent.records import records as consent_records
from app.models import Form, Submission, utcnow
from forms import LeadForm


@dataclass(frozen=True)
class RequestContext:
    """What the request itself tells us about the visitor."""

    ip: str | None
    user_agent: str
    raw: dict[str, Any]
    signals: dict[str, Any]
    # X-Request-ID of the capturing request; the screening and delivery jobs log it too.
    request_id: str | None = None
    # The language the visitor saw the form in, stored with each consent.
    language: str = ""


# Built once: constructing a statement costs more than running it from SQLAlchemy's compiled cache.
_FORM_BY_SLUG = select(Form).where(Form.slug == bindparam("slug"))
# A Core INSERT of the table: the ORM's unit of work (identity map, flush plan, refresh) was most of
# an ORM insert's cost and buys nothing here, where the row is written once and only its id is used.
_INSERT_SUBMISSION = insert(cast(Table, Submission.__table__))


def find_form(session: Session, slug: str) -> Form | None:
    """The form with this slug, active or not."""
    if "\x00" in slug:  # from /f/%00: no slug has one, and PostgreSQL raises on a NUL in a text parameter
        return None
    return session.scalars(_FORM_BY_SLUG, {"slug": slug}).first()


def consent_version(text: str) -> str:
    """A short, stable fingerprint of the consent wording shown."""
    return hashlib.sha256(text.encode()).hexdigest()[:16] if text else ""


def capture_submission(
    session: Session | Connection, *, form_row: PublicForm, form: LeadForm, request: RequestContext
) -> int:
    """Store a validated post as `received` and return its id; the caller commits, then enqueues screening.
    The web post passes a Core connection (app/db.py `autocommit_connection`): one INSERT needs no Session."""
    consent_text = form_row.settings.get("consent_text", "")
    values = dict(
        form_id=form_row.id,
        raw=request.raw,
        ip=request.ip,
        user_agent=request.user_agent[:512],
        consent_given=bool(form.consent.data),
        consent_text=consent_text if form.consent.data else "",
        consent_text_version=consent_version(consent_text) if form.consent.data else "",
        signals=request.signals,
        consents=consent_records(
            form_row.settings,
            {"contact": bool(form.consent.data), "marketing": bool(form.marketing_consent.data)},
            at=utcnow(),
            language=request.language,
        ),
        request_id=request.request_id,
        language=request.language or "en",
        answers=form.answers_data(),
        **form.contact_data(),
        **form.context_data(),
    )
    result = cast(CursorResult[Any], session.execute(_INSERT_SUBMISSION, values))
    key = result.inserted_primary_key
    assert key is not None
    submission_id: int = key[0]
    return submission_id
