"""The screening queue (held submissions, oldest first) and the spam folder (rejected ones)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.actions import approve_and_forward, rescreen
from app.admin.blueprint import bp
from app.db import get_session
from app.leads.review import REJECT_CATEGORIES, ReviewError, list_senders, reject
from app.models import Submission
from app.screening_context.lists import ListError
from app.statuses import Verdict

PAGE_SIZE = 50


def _ids() -> list[int]:
    return [int(v) for v in request.form.getlist("ids") if v.isdigit()]


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def _submissions(verdict: str, *, category: str | None = None, oldest_first: bool) -> tuple[list[Any], int, Any]:
    """One page of rows, the total, and the oldest `received_at` of the whole folder (not of this page)."""
    db = get_session()
    query = select(Submission).where(Submission.verdict == verdict)
    count_query = (
        select(func.count(), func.min(Submission.received_at))
        .select_from(Submission)
        .where(Submission.verdict == verdict)
    )
    if category:
        query = query.where(Submission.reason_category == category)
        count_query = count_query.where(Submission.reason_category == category)
    order = Submission.received_at.asc() if oldest_first else Submission.received_at.desc()
    rows = db.scalars(
        query.options(selectinload(Submission.form), selectinload(Submission.findings))
        .order_by(order, Submission.id)
        .limit(PAGE_SIZE)
        .offset((_page() - 1) * PAGE_SIZE)
    ).all()
    total, oldest = db.execute(count_query).one()
    return list(rows), total or 0, oldest


@bp.get("/")
def queue() -> str:
    """Held submissions, oldest first, with their findings."""
    rows, total, oldest = _submissions(Verdict.HELD, oldest_first=True)
    return render_template(
        "admin/queue.html",
        rows=rows,
        total=total,
        page=_page(),
        page_size=PAGE_SIZE,
        categories=REJECT_CATEGORIES,
        oldest=oldest,
        folder="queue",
    )


@bp.get("/rejected")
def rejected() -> str:
    """The spam folder: rejected submissions, newest first, filterable by reason."""
    # A NUL cannot be compared with a text column on PostgreSQL (it raises), and no category has one.
    category = request.args.get("category", "").replace("\x00", "") or None
    rows, total, _ = _submissions(Verdict.REJECTED, category=category, oldest_first=False)
    return render_template(
        "admin/queue.html",
        rows=rows,
        total=total,
        page=_page(),
        page_size=PAGE_SIZE,
        categories=REJECT_CATEGORIES,
        category=category,
        folder=Verdict.REJECTED,
    )


@bp.post("/decide")
def decide() -> Any:
    """Approve / release / reject / screen again the selected submissions, or list their domain."""
    action = request.form.get("action", "")
    ids = _ids()
    back = request.form.get("back") or url_for("admin.queue")
    if not back.startswith("/admin"):
        back = url_for("admin.queue")
    db = get_session()
    actor = g.user.email
    note = request.form.get("note", "").strip()[:500]
    try:
        if action == "approve":
            stage = request.form.get("stage") or None
            result = approve_and_forward(db, submission_ids=ids, actor=actor, note=note, stage=stage)
            skipped = len(set(ids)) - result.changed
            approved = result.changed - result.released
            done = [
                f"Approved {approved}" if approved else "",
                f"Released {result.released}" if result.released else "",
            ]
            flash(
                (" and ".join(d for d in done if d) or "Changed 0")
                + " submission(s)."
                + (f" {skipped} had already been decided." if skipped > 0 else "")
            )
        elif action == "reject":
            count = reject(db, submission_ids=ids, actor=actor, category=request.form.get("category", ""), note=note)
            db.commit()
            flash(f"Rejected {count} submission(s).")
        elif action == "rescreen":  # e.g. after DNS came back, or a list entry was added
            reopened = rescreen(db, submission_ids=ids, actor=actor, details={"note": note} if note else None)
            left = len(set(ids)) - len(reopened)
            flash(
                f"Queued {len(reopened)} submission(s) for screening again."
                + (
                    f" {left} rejected by a reviewer were left as decided: reopen one from its page to screen it again."
                    if left
                    else ""
                )
            )
        elif action in ("allow_domain", "block_domain"):
            allow = action == "allow_domain"
            listed = list_senders(db, submission_ids=ids, allow=allow, actor=actor, note=note)
            db.commit()
            verb = "Allowed" if allow else "Blocked"
            if listed.domains:
                flash(f"{verb} domain(s): {', '.join(listed.domains)}.")
            if listed.emails:
                flash(
                    f"{verb} only the address(es) {', '.join(listed.emails)}: their domain is a free-mail "
                    "provider, so listing it would cover everyone who uses it."
                )
        else:
            abort(400)
    except (ReviewError, ListError) as exc:
        flash(str(exc), "error")
    return redirect(back)
