"""Owners: the salespeople SQLs are assigned to and the assignment rules (admins only), and handing one lead
to another owner from its page (anyone who works leads); every change audited."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, url_for
from sqlalchemy import select

from app.admin.blueprint import admin_only, bp
from app.db import get_session
from app.leads.owners import (
    OwnerError,
    RuleField,
    add_rule,
    create_owner,
    list_owners,
    list_rules,
    reassign_owner,
    remove_rule,
    update_owner,
)
from app.models import User
from forms.admin import RemoveForm
from forms.owners import OwnerForm, OwnerStateForm, ReassignForm, RuleForm

RULE_FIELDS = {RuleField.COUNTRY: "Country", RuleField.COMPANY_SIZE: "Company size", RuleField.FORM: "Form (slug)"}


def _forms() -> tuple[OwnerForm, RuleForm]:
    """The two add forms with their choices: users to link, fields to compare, owners to assign to."""
    db = get_session()
    owner_form, rule_form = OwnerForm(), RuleForm()
    users = db.scalars(select(User).where(User.active.is_(True)).order_by(User.email))
    owner_form.user_id.choices = [("", "no login")] + [(str(u.id), u.email) for u in users]
    rule_form.field.choices = list(RULE_FIELDS.items())
    rule_form.owner_id.choices = [(str(o.id), o.name) for o in list_owners(db) if o.active]
    return owner_form, rule_form


def _page(owner_form: OwnerForm, rule_form: RuleForm, status: int = 200) -> Any:
    db = get_session()
    return render_template(
        "admin/owners.html",
        owners=list_owners(db),
        rules=list_rules(db),
        rule_fields=RULE_FIELDS,
        owner_form=owner_form,
        rule_form=rule_form,
        state=OwnerStateForm(),
        remove=RemoveForm(),
    ), status


@bp.get("/owners")
@admin_only
def owners() -> Any:
    """Owners, their state, and the rules in the order they are tried."""
    return _page(*_forms())


@bp.post("/owners")
@admin_only
def owner_add() -> Any:
    """Add an owner (in round-robin from now on)."""
    owner_form, rule_form = _forms()
    if owner_form.validate_on_submit():
        user_id = int(owner_form.user_id.data) if owner_form.user_id.data else None
        try:
            owner = create_owner(
                get_session(),
                name=owner_form.name.data or "",
                email=owner_form.email.data or "",
                user_id=user_id,
                actor=g.user.email,
            )
        except OwnerError as exc:
            owner_form.email.errors = [str(exc)]
        else:
            get_session().commit()
            flash(f"Added {owner.name}.", "ok")
            return redirect(url_for("admin.owners"))
    get_session().rollback()
    return _page(owner_form, rule_form, 400)


@bp.post("/owners/<int:owner_id>/state")
@admin_only
def owner_state(owner_id: int) -> Any:
    """Activate or deactivate an owner, or take them in or out of round-robin."""
    form = OwnerStateForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        owner = update_owner(
            get_session(),
            owner_id=owner_id,
            actor=g.user.email,
            active=bool(form.active.data),
            in_rotation=bool(form.in_rotation.data),
        )
    except OwnerError:
        abort(404)
    get_session().commit()
    flash(f"Saved {owner.name}.", "ok")
    return redirect(url_for("admin.owners"))


@bp.post("/owners/rules")
@admin_only
def owner_rule_add() -> Any:
    """Add an assignment rule, tried after the existing ones."""
    owner_form, rule_form = _forms()
    if rule_form.validate_on_submit():
        try:
            add_rule(
                get_session(),
                field=rule_form.field.data or "",
                value=rule_form.value.data or "",
                owner_id=int(rule_form.owner_id.data or 0),
                actor=g.user.email,
            )
        except OwnerError as exc:
            rule_form.value.errors = [str(exc)]
        else:
            get_session().commit()
            flash("Rule added.", "ok")
            return redirect(url_for("admin.owners"))
    get_session().rollback()
    return _page(owner_form, rule_form, 400)


@bp.post("/owners/rules/<int:rule_id>/remove")
@admin_only
def owner_rule_remove(rule_id: int) -> Any:
    """Delete a rule (the audit log keeps what it said)."""
    if not RemoveForm().validate_on_submit():
        abort(400)
    try:
        remove_rule(get_session(), rule_id=rule_id, actor=g.user.email)
    except OwnerError:
        abort(404)
    get_session().commit()
    flash("Rule removed.", "ok")
    return redirect(url_for("admin.owners"))


def _reassign_form() -> ReassignForm:
    form = ReassignForm()
    form.owner_id.choices = [("", "nobody")] + [(str(o.id), o.name) for o in list_owners(get_session()) if o.active]
    return form


@bp.app_template_global("owner_reassign_form")
def owner_reassign_form() -> ReassignForm:
    """The lead page's "change owner" form (app/templates/admin/_owner_assign.html), built only where shown."""
    return _reassign_form()


@bp.post("/leads/<int:lead_id>/owner")
def lead_owner(lead_id: int) -> Any:
    """Hand a lead to another owner (anyone signed in who works leads; audited)."""
    form = _reassign_form()
    if not form.validate_on_submit():
        abort(400)
    try:
        lead = reassign_owner(
            get_session(),
            lead_id=lead_id,
            owner_id=int(form.owner_id.data) if form.owner_id.data else None,
            actor=g.user.email,
        )
    except OwnerError:
        abort(404)
    get_session().commit()
    flash(f"Owner: {lead.owner.name if lead.owner else 'nobody'}.", "ok")
    return redirect(url_for("admin.lead", lead_id=lead_id))
