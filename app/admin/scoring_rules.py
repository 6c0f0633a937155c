"""Scoring & qualification: edit the rules, preview what they would change, save (a new version) and
watch the re-score of the existing leads (admins only)."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for

from app.admin.blueprint import admin_only, bp
from app.db import get_session
from app.leads.rescore import latest_run, preview, start_run
from app.leads.scoring_rules import history, latest_rule_set, rules_cache, rules_in_force, save_rules
from app.models import RescoreRun
from app.runtime.queues import enqueue_rescore
from app.statuses import RescoreStatus
from forms.scoring_rules import TABLES, ScoringRulesForm
from screening.qualification import diff_lines, rules_from_stored

OPEN = (RescoreStatus.QUEUED, RescoreStatus.RUNNING)


def _progress(run: RescoreRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "version": run.rule_set_id,
        "status": run.status,
        "done": run.done,
        "total": run.total,
        "promoted": run.promoted,
        "suggested": run.suggested,
        "finished": run.status not in OPEN,
    }


@bp.route("/scoring", methods=["GET", "POST"])
@admin_only
def scoring_rules() -> Any:
    """GET: the rules in force; POST with action=preview: what they would change (nothing written);
    POST with action=save: a new version, and the re-score queued."""
    db = get_session()
    cache = rules_cache(current_app)
    editor = ScoringRulesForm()
    if request.method == "GET":
        editor.fill(rules_in_force(db, defaults=cache.defaults)[1].as_dict())
    result = None
    if editor.validate_on_submit():
        rules = rules_from_stored(editor.rules_values())
        if request.form.get("action") == "preview":
            result = preview(db, rules=rules)
        else:
            row = save_rules(db, rules=rules, defaults=cache.defaults, actor=g.user.email, note=editor.note.data or "")
            if row is None:
                flash("Nothing changed: these are the rules in force.", "ok")
                return redirect(url_for("admin.scoring_rules"))
            run = start_run(db, rule_set=row, actor=g.user.email)
            db.commit()
            cache.publish(row.id)
            if enqueue_rescore(run.id):
                flash(f"Saved as version {row.id}; re-scoring {run.total} lead(s).", "ok")
            else:
                flash(f"Saved as version {row.id}, but the re-score could not be queued: run it again below.", "error")
            return redirect(url_for("admin.scoring_rules"))
    latest = latest_run(db)
    return render_template(
        "admin/scoring_rules.html",
        editor=editor,
        tables=[name for name, _, _ in TABLES],
        preview=result,
        in_force=latest_rule_set(db),
        versions=[(row, diff_lines(row.changes)) for row in history(db)],
        progress=_progress(latest) if latest else None,
    )


@bp.get("/scoring/runs/<int:run_id>")
@admin_only
def scoring_run(run_id: int) -> Any:
    """A re-score's progress (the page polls it while the run is open)."""
    run = get_session().get(RescoreRun, run_id)
    if run is None:
        abort(404)
    return jsonify(_progress(run))


@bp.post("/scoring/runs/<int:run_id>/resume")
@admin_only
def scoring_run_resume(run_id: int) -> Any:
    """Queue an open run again (its job was lost): it resumes after the last lead done. CSRF: CSRFProtect."""
    db = get_session()
    run = db.get(RescoreRun, run_id)
    if run is None:
        abort(404)
    if run.status in OPEN and enqueue_rescore(run.id):
        flash(f"Re-score of version {run.rule_set_id} queued again; it resumes after lead {run.last_lead_id}.", "ok")
    elif run.status in OPEN:
        flash("The re-score could not be queued (Redis unreachable); try again.", "error")
    else:
        flash(f"That re-score is {run.status}.", "ok")
    return redirect(url_for("admin.scoring_rules"))
