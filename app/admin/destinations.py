"""Destinations: configure, send a test lead, delivery log with status and latency, replay (admins only)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from app.actions import replay_deliveries, send_existing_leads
from app.admin.blueprint import admin_only, bp
from app.db import get_session
from app.forwarding.backfill import count_existing
from app.forwarding.destinations import (
    ADAPTERS,
    InvalidDestination,
    create_destination,
    list_destinations,
    remove_destination,
    test_destination,
    update_destination,
)
from app.jobs import delivery_settings
from app.models import Delivery, DeliveryAttempt, Destination, Form
from app.statuses import DeliveryStatus, EventType
from forms.admin import DestinationEditForm, DestinationForm, RemoveForm

LOG_SIZE = 100
EVENT_CHOICES = [SelectChoice(event, event) for event in EventType]


def _editor() -> DestinationForm:
    form = DestinationForm()
    form.kind.choices = [SelectChoice(kind, kind) for kind in sorted(ADAPTERS)]
    slugs = get_session().scalars(select(Form.slug).order_by(Form.slug))
    form.forms.choices = [SelectChoice(slug, slug) for slug in slugs]
    form.events.choices = EVENT_CHOICES
    return form


def _edit_form(row: Destination) -> DestinationEditForm:
    """The edit form: filled from the row on GET, from the request on POST."""
    form = DestinationEditForm()
    slugs = list(get_session().scalars(select(Form.slug).order_by(Form.slug)))
    form.forms.choices = [SelectChoice(slug, slug) for slug in dict.fromkeys([*slugs, *row.forms])]
    form.events.choices = EVENT_CHOICES
    if request.method == "GET":
        options = dict(row.options or {})
        form.name.data, form.target.data, form.active.data = row.name, row.target, row.active
        form.stages.data, form.forms.data = list(row.stages), list(row.forms)
        form.alerts.data, form.alert_digest.data = row.alerts, row.alert_digest
        form.events.data = list(row.events)
        form.oid.data = str(options.pop("oid", ""))
        form.options.data = "\n".join(f"{key} = {value}" for key, value in sorted(options.items()))
    return form


def _options(form: DestinationEditForm) -> dict[str, Any]:
    """`key = value` lines (and the oid field) as the destination's options; a line without `=` is refused."""
    options: dict[str, Any] = {}
    for number, line in enumerate((form.options.data or "").splitlines(), start=1):
        if not line.strip() or line.strip().startswith("#"):
            continue
        key, eq, value = line.partition("=")
        if not eq or not key.strip():
            raise InvalidDestination(f"line {number}: write options as key = value")
        options[key.strip()] = value.strip()
    if form.oid.data:
        options["oid"] = form.oid.data.strip()
    return options


def _stats() -> dict[int, dict[str, Any]]:
    """Per destination: deliveries by status and the mean latency of its attempts, in two queries."""
    db = get_session()
    stats: dict[int, dict[str, Any]] = {}
    by_status: Any = db.execute(
        select(Delivery.destination_id, Delivery.status, func.count()).group_by(
            Delivery.destination_id, Delivery.status
        )
    )
    for destination_id, status, count in by_status:
        stats.setdefault(destination_id, {})[status] = count
    latencies: Any = db.execute(
        select(Delivery.destination_id, func.avg(DeliveryAttempt.latency_ms))
        .join(DeliveryAttempt, DeliveryAttempt.delivery_id == Delivery.id)
        .group_by(Delivery.destination_id)
    )
    for destination_id, latency in latencies:
        stats.setdefault(destination_id, {})["latency"] = round(float(latency or 0))
    return stats


@bp.route("/destinations", methods=["GET", "POST"])
@admin_only
def destinations() -> Any:
    """Every destination with its routing and delivery counts, and the form to add one."""
    form = _editor()
    secret = None
    if form.validate_on_submit():
        try:
            created = create_destination(
                get_session(),
                kind=form.kind.data or "",
                target=(form.target.data or "").strip(),
                name=form.name.data or "",
                stages=form.stages.data or [],
                forms=form.forms.data or [],
                options={"oid": form.oid.data} if form.oid.data else {},
                allowed_private=current_app.config["ALLOWED_PRIVATE_DESTINATIONS"],
                alerts=bool(form.alerts.data),
                alert_digest=bool(form.alert_digest.data),
                events=form.events.data or [],
                actor=g.user.email,
            )
            get_session().commit()
        except InvalidDestination as exc:
            form.target.errors = [*form.target.errors, str(exc)]
        else:
            secret = created.secret  # shown once, in this response only (never in a redirect or flash)
            flash(f"Added “{created.name}”.", "ok")
            form = _editor()
            form.process(formdata=None)
    return render_template(
        "admin/destinations.html",
        rows=list_destinations(get_session()),
        form=form,
        stats=_stats(),
        secret=secret,
        action=RemoveForm(),
    ), 400 if form.errors else 200


@bp.get("/destinations/<int:destination_id>")
@admin_only
def destination(destination_id: int) -> str:
    """The delivery log: newest first, each with its attempts."""
    db = get_session()
    row = db.get(Destination, destination_id) or abort(404)
    status = request.args.get("status") or None
    query = select(Delivery).where(Delivery.destination_id == destination_id)
    if status:
        query = query.where(Delivery.status == status)
    deliveries = db.scalars(
        query.options(selectinload(Delivery.attempt_log)).order_by(Delivery.id.desc()).limit(LOG_SIZE)
    ).all()
    return render_template(
        "admin/destination.html",
        row=row,
        deliveries=deliveries,
        status=status,
        stats=_stats().get(destination_id, {}),
        action=RemoveForm(),
    )


@bp.route("/destinations/<int:destination_id>/edit", methods=["GET", "POST"])
@admin_only
def destination_edit(destination_id: int) -> Any:
    """Change a destination's target, routing, options or active flag; checked like a new one."""
    db = get_session()
    row = db.get(Destination, destination_id) or abort(404)
    form = _edit_form(row)
    if form.validate_on_submit():
        try:
            update_destination(
                db,
                destination=row,
                target=(form.target.data or "").strip(),
                name=(form.name.data or "").strip(),
                stages=form.stages.data or [],
                forms=form.forms.data or [],
                options=_options(form),
                active=bool(form.active.data),
                allowed_private=current_app.config["ALLOWED_PRIVATE_DESTINATIONS"],
                alerts=bool(form.alerts.data),
                alert_digest=bool(form.alert_digest.data),
                events=form.events.data or [],
                actor=g.user.email,
            )
            db.commit()
        except InvalidDestination as exc:
            db.rollback()
            field = form.options if str(exc).startswith("line ") else form.target
            field.errors = [*field.errors, str(exc)]
        else:
            flash(f"Saved “{row.name}”.", "ok")
            return redirect(url_for("admin.destination", destination_id=destination_id))
    return render_template("admin/destination_edit.html", row=row, form=form), 400 if form.errors else 200


@bp.post("/destinations/<int:destination_id>/test")
@admin_only
def destination_test(destination_id: int) -> Any:
    """Send the sample lead now and say what the destination answered."""
    row = get_session().get(Destination, destination_id) or abort(404)
    if not RemoveForm().validate_on_submit():
        abort(400)
    result = test_destination(row, delivery_settings())
    if result.ok:
        flash(f"Test lead delivered to “{row.name}” (HTTP {result.status_code or 'OK'}, {result.latency_ms} ms).", "ok")
    else:
        flash(
            f"Test lead to “{row.name}” failed: {result.error or f'HTTP {result.status_code}'} "
            f"{result.response_excerpt[:200]}",
            "error",
        )
    return redirect(url_for("admin.destinations"))


@bp.post("/destinations/<int:destination_id>/remove")
@admin_only
def destination_remove(destination_id: int) -> Any:
    """Delete it, or deactivate it if its delivery log must stay."""
    if not RemoveForm().validate_on_submit():
        abort(400)
    try:
        outcome = remove_destination(get_session(), destination_id, actor=g.user.email)
        get_session().commit()
    except InvalidDestination:
        abort(404)
    flash(f"Destination {outcome}.", "ok")
    return redirect(url_for("admin.destinations"))


@bp.post("/destinations/<int:destination_id>/replay")
@admin_only
def destination_replay(destination_id: int) -> Any:
    """Replay every dead or failed delivery of this destination (or the ticked ones, if they are its own)."""
    db = get_session()
    db.get(Destination, destination_id) or abort(404)
    if not RemoveForm().validate_on_submit():
        abort(400)
    ours = select(Delivery.id).where(
        Delivery.destination_id == destination_id, Delivery.status.in_((DeliveryStatus.DEAD, DeliveryStatus.FAILED))
    )
    ticked = [int(v) for v in request.form.getlist("ids") if v.isdigit()]
    if ticked:  # ids of another destination's deliveries are ignored, not replayed
        ours = ours.where(Delivery.id.in_(ticked))
    ids = list(db.scalars(ours))
    reset = replay_deliveries(db, delivery_ids=ids, actor=g.user.email)
    flash(f"Replaying {len(reset)} delivery(ies).", "ok")
    return redirect(url_for("admin.destination", destination_id=destination_id))


@bp.route("/destinations/<int:destination_id>/send-existing", methods=["GET", "POST"])
@admin_only
def destination_send_existing(destination_id: int) -> Any:
    """Send the leads that existed before this destination: GET says how many, POST (confirmed) sends."""
    db = get_session()
    row = db.get(Destination, destination_id) or abort(404)
    if request.method == "GET":
        return render_template(
            "admin/destination_backfill.html", row=row, count=count_existing(db, destination=row), action=RemoveForm()
        )
    if not RemoveForm().validate_on_submit():
        abort(400)
    sent = send_existing_leads(db, destination=row, actor=g.user.email)
    flash(f"Sending {len(sent)} existing lead(s) to {row.name}.", "ok")
    return redirect(url_for("admin.destination", destination_id=destination_id))
