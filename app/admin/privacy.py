"""Erasing a person from the lead page: admins only, POST with CSRF, address typed to confirm."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, url_for

from app.admin.blueprint import admin_only, bp
from app.db import get_session
from app.models import Lead
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
        report = erase_person(db, email=lead.email, actor=g.user.email)
        flash(f"Personal data erased: {report.submissions} submission(s), {report.deliveries} delivery(ies).")
    return redirect(url_for("admin.lead", lead_id=lead_id))
