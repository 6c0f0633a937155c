"""Lists: competitors, blocked values, allowlist — add, bulk import, remove with a note, export (admins only)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from wtforms.fields.choices import SelectChoice

from app.admin.blueprint import admin_only, bp
from app.db import get_session
from app.screening_context.learned_model import reset as reset_learned_model
from app.screening_context.learned_model import stats as learned_model_stats
from app.screening_context.lists import (
    LIST_KINDS,
    ListError,
    block_suggestion,
    count_entries,
    dismiss_suggestion,
    entries,
    export_csv,
    import_entries,
    remove_list_entry,
    suggested_domains,
)
from forms.admin import ListEntryForm, RemoveForm, SuggestionForm

PAGE_SIZE = 100


def _kind() -> str:
    kind = request.values.get("kind", "competitor_domain")
    if kind not in LIST_KINDS:
        abort(404)
    return kind


@bp.route("/lists", methods=["GET", "POST"])
@admin_only
def lists() -> Any:
    """One list at a time, with the form to add to it."""
    kind = _kind()
    form = ListEntryForm()
    form.kind.choices = [SelectChoice(k, label) for k, label in LIST_KINDS.items()]
    if request.method == "GET":
        form.kind.data = kind
    elif form.validate_on_submit():
        result = import_entries(
            get_session(),
            kind=form.kind.data or kind,
            text=form.values.data or "",
            actor=g.user.email,
            note=form.note.data or "",
        )
        get_session().commit()
        flash(f"Added {result.added}; {result.existing} already listed.", "ok")
        for error in result.errors[:20]:
            flash(error, "error")
        return redirect(url_for("admin.lists", kind=form.kind.data))
    db = get_session()
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows = entries(db, kind, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template(
        "admin/lists.html",
        kind=kind,
        kinds=LIST_KINDS,
        rows=rows,
        form=form,
        remove=RemoveForm(),
        total=count_entries(db, kind),
        page=page,
        page_size=PAGE_SIZE,
        suggestions=suggested_domains(db),
        suggestion=SuggestionForm(),
        learned=learned_model_stats(db, current_app.config),
    ), 400 if form.errors else 200


@bp.post("/lists/suggestions")
@admin_only
def list_suggestion() -> Any:
    """Block or dismiss a domain sales marked as spam; both are audited."""
    form = SuggestionForm()
    if not form.validate_on_submit():
        abort(400)
    action = request.form.get("action", "")
    domain, note = form.domain.data or "", form.note.data or ""
    try:
        if action == "block":
            added = block_suggestion(get_session(), domain=domain, actor=g.user.email, note=note)
            get_session().commit()
            if [e for e in added if e.kind == "blocked_email"]:
                flash(
                    f"Blocked only the address(es) {', '.join(e.value for e in added)}: {domain} is a "
                    "free-mail provider, so blocking it would block everyone who uses it.",
                    "ok",
                )
            else:
                flash(f"Blocked {domain}.", "ok")
        elif action == "dismiss":
            dismiss_suggestion(get_session(), domain=domain, actor=g.user.email, note=note)
            get_session().commit()
            flash(f"Dismissed the suggestion to block {domain}.", "ok")
        else:
            abort(400)
    except ListError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.lists", kind=request.args.get("kind", "blocked_domain")))


@bp.post("/lists/learned-model/reset")
@admin_only
def learned_model_reset() -> Any:
    """Forget every decision the learned spam model took from this installation (its seed stays); audited."""
    form = RemoveForm()
    if not form.validate_on_submit():
        abort(400)
    count = reset_learned_model(get_session(), actor=g.user.email, note=form.note.data or "")
    get_session().commit()
    flash(f"The learned spam model forgot {count} decision(s); it starts again from its seed.", "ok")
    return redirect(url_for("admin.lists", kind=request.args.get("kind", "competitor_domain")))


@bp.post("/lists/<int:entry_id>/remove")
@admin_only
def list_remove(entry_id: int) -> Any:
    """Remove one entry; the note goes into the audit log."""
    form = RemoveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        entry = remove_list_entry(get_session(), entry_id=entry_id, actor=g.user.email, note=form.note.data or "")
        get_session().commit()
    except ListError:
        abort(404)
    flash(f"Removed {entry.value}.", "ok")
    return redirect(url_for("admin.lists", kind=entry.kind))


@bp.get("/lists/<kind>.csv")
@admin_only
def list_export(kind: str) -> Response:
    """The list as CSV (value,note,added_by,added_at), ready to import elsewhere."""
    if kind not in LIST_KINDS:
        abort(404)
    return Response(
        export_csv(entries(get_session(), kind)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="leadsieve-{kind}.csv"'},
    )
