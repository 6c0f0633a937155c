"""Erasing a person from a lead's or a submission's page: admins only, POST with CSRF, address typed to confirm.

The submission page matters for people with no lead: everything they sent was held or rejected.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, redirect, url_for

from app.admin.blueprint import admin_only, bp
from app.db import get_session
from app.models import Lead, Submission
from app.privacy.erasure import erase_person
from forms.privacy import EraseForm
from screening.identity import lead_key


@bp.post("/leads/<int:lead_id>/erase")
@admin_only
def erase_lead(lead_id: int) -> Any:
    """Remove the lead's personal data everywhere (app/privacy.py); the counts stay."""
    lead = get_session().get(Lead, lead_id) or abort(404)
    _confirm_and_erase(what="lead", email=lead.email, erased_at=lead.erased_at)
    return redirect(url_for("admin.lead", lead_id=lead_id))


@bp.post("/submissions/<int:submission_id>/erase")
@admin_only
def erase_submitter(submission_id: int) -> Any:
    """Remove the personal data of whoever sent this submission, by its address (lead or not)."""
    item = get_session().get(Submission, submission_id) or abort(404)
    _confirm_and_erase(what="submission", email=item.email, erased_at=item.erased_at)
    return redirect(url_for("admin.submission", submission_id=submission_id))


def _confirm_and_erase(*, what: str, email: str, erased_at: Any) -> None:
    """Erase `email` if the admin typed the same address (compared as lead keys); flash what happened."""
    form = EraseForm()
    if not form.validate_on_submit():
        abort(400)
    if erased_at is not None:
        flash(f"This {what}'s personal data was already erased.", "error")
        return
    if lead_key(form.confirm_email.data or "") != lead_key(email):
        flash(f"The address typed does not match this {what}; nothing was erased.", "error")
        return
    report = erase_person(get_session(), email=email, actor=g.user.email, smtp_url=current_app.config["SMTP_URL"])
    get_session().commit()
    flash(
        f"Personal data erased: {report.submissions} submission(s), {report.deliveries} delivery(ies), "
        f"{report.outbox_files} outbox file(s)."
    )
