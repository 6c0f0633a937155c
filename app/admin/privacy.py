"""Erasing a person from a lead's or a submission's page: admins only, POST with CSRF, address typed to confirm.

The submission page matters for people with no lead: everything they sent was held or rejected.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, redirect, url_for

from app.admin.blueprint import admin_only, bp
from app.db import get_session
from app.models import Lead, Submission
from app.privacy import erase_person
from forms.privacy import EraseForm
from screening.identity import lead_key


@bp.post("/leads/<int:lead_id>/erase")
@admin_only
def erase_lead(lead_id: int) -> Any:
    """Remove the lead's personal data everywhere (app/privacy.py); the counts stay."""
    db = get_session()
    lead = db.get(Lead, lead_id) or abort(404)
    form = EraseForm()
    if not form.validate_on_submit():
        abort(400)
    if lead.erased_at is not None:
        flash("This lead's personal data was already erased.", "error")
    elif lead_key(form.confirm_email.data or "") != lead.email:
        flash("The address typed does not match this lead; nothing was erased.", "error")
    else:
        _erase(db, email=lead.email)
    return redirect(url_for("admin.lead", lead_id=lead_id))


@bp.post("/submissions/<int:submission_id>/erase")
@admin_only
def erase_submitter(submission_id: int) -> Any:
    """Remove the personal data of whoever sent this submission, by its address (lead or not)."""
    db = get_session()
    item = db.get(Submission, submission_id) or abort(404)
    form = EraseForm()
    if not form.validate_on_submit():
        abort(400)
    if item.erased_at is not None:
        flash("This submission's personal data was already erased.", "error")
    elif lead_key(form.confirm_email.data or "") != lead_key(item.email):
        flash("The address typed does not match this submission; nothing was erased.", "error")
    else:
        _erase(db, email=item.email)
    return redirect(url_for("admin.submission", submission_id=submission_id))


def _erase(db: Any, *, email: str) -> None:
    """Erase (with the app's SMTP_URL outbox) and say what went."""
    report = erase_person(db, email=email, actor=g.user.email, smtp_url=current_app.config["SMTP_URL"])
    flash(f"Personal data erased: {report.submissions} submission(s), {report.deliveries} delivery(ies), "
          f"{report.outbox_files} outbox file(s).")
