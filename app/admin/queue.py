"""The screening queue (held submissions, oldest first) and the spam folder (rejected ones)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.admin.blueprint import bp
from app.db import get_session
from app.models import Submission
from app.queue import enqueue_delivery
from app.lists import ListError, add_list_entry
from app.review import REJECT_CATEGORIES, ReviewError, approve, reject

PAGE_SIZE = 50


def _ids() -> list[int]:
    return [int(v) for v in request.form.getlist("ids") if v.isdigit()]


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


def _submissions(verdict: str, *, category: str | None = None, oldest_first: bool) -> tuple[list[Any], int]:
    db = get_session()
    query = select(Submission).where(Submission.verdict == verdict)
    count_query = select(func.count()).select_from(Submission).where(Submission.verdict == verdict)
    if category:
        query = query.where(Submission.reason_category == category)
        count_query = count_query.where(Submission.reason_category == category)
    order = Submission.received_at.asc() if oldest_first else Submission.received_at.desc()
    rows = db.scalars(
        query.options(selectinload(Submission.form), selectinload(Submission.findings))
        .order_by(order, Submission.id).limit(PAGE_SIZE).offset((_page() - 1) * PAGE_SIZE)
    ).all()
    return list(rows), db.scalar(count_query) or 0


@bp.get("/")
def queue() -> str:
    """Held submissions, oldest first, with their findings."""
    rows, total = _submissions("held", oldest_first=True)
    oldest = rows[0].received_at if rows else None
    return render_template("admin/queue.html", rows=rows, total=total, page=_page(), page_size=PAGE_SIZE,
                           categories=REJECT_CATEGORIES, oldest=oldest, folder="queue")


@bp.get("/rejected")
def rejected() -> str:
    """The spam folder: rejected submissions, newest first, filterable by reason."""
    category = request.args.get("category") or None
    rows, total = _submissions("rejected", category=category, oldest_first=False)
    return render_template("admin/queue.html", rows=rows, total=total, page=_page(), page_size=PAGE_SIZE,
                           categories=REJECT_CATEGORIES, category=category, folder="rejected")


@bp.post("/decide")
def decide() -> Any:
    """Approve / release / reject the selected submissions, or list their domain."""
    action = request.form.get("action", "")
    ids = _ids()
    back = request.form.get("back") or url_for("admin.queue")
    if not back.startswith("/admin"):
        back = url_for("admin.queue")
    db = get_session()
    actor = g.user.email
    note = request.form.get("note", "")[:500]
    try:
        if action == "approve":
            stage = request.form.get("stage") or None
            deliveries = approve(db, submission_ids=ids, actor=actor, note=note, stage=stage)
            for delivery_id in deliveries:
                enqueue_delivery(delivery_id, 0)
            flash(f"Approved {len(ids)} submission(s).")
        elif action == "reject":
            count = reject(db, submission_ids=ids, actor=actor, category=request.form.get("category", ""),
                           note=note)
            flash(f"Rejected {count} submission(s).")
        elif action in ("allow_domain", "block_domain"):
            kind = "allowed_domain" if action == "allow_domain" else "blocked_domain"
            domains = {s.email.rpartition("@")[2].lower()
                       for s in db.scalars(select(Submission).where(Submission.id.in_(ids)))}
            for domain in sorted(domains):
                add_list_entry(db, kind=kind, value=domain, actor=actor, note=note or "from the screening queue")
            flash(f"{'Allowed' if kind == 'allowed_domain' else 'Blocked'}: {', '.join(sorted(domains))}")
        else:
            abort(400)
    except (ReviewError, ListError) as exc:
        flash(str(exc), "error")
    return redirect(back)
