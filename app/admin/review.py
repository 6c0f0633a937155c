"""The screening queue (held submissions, oldest first) and the spam folder (rejected ones)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.actions import approve_and_forward, rescreen
from app.admin.blueprint import bp
from app.db import get_session
from app.leads.review import REJECT_CATEGORIES, ReviewError, assign, list_senders, reject
from app.models import Form, Submission
from app.screening_context.lists import ListError
from app.statuses import Verdict

PAGE_SIZE = 50


def _ids() -> list[int]:
    return [int(v) for v in request.form.getlist("ids") if v.isdigit()]


def _page() -> int:
    return max(1, request.args.get("page", 1, type=int) or 1)


@dataclass(frozen=True)
class QueueFilters:
    """What the reviewer narrowed the folder to: words to find, a form, a reason, and the order."""

    q: str = ""
    form: str = ""
    category: str = ""
    sort: str = ""
    assignee: str = ""  # "me", "nobody", or "" for everyone's

    @classmethod
    def from_args(cls, args: Any) -> QueueFilters:
        """From the query string; a NUL (which PostgreSQL refuses in a text parameter) matches nothing anyway."""

        def arg(name: str) -> str:
            return str(args.get(name, "")).replace("\x00", "").strip()[:200]

        return cls(q=arg("q"), form=arg("form"), category=arg("category"), sort=arg("sort"), assignee=arg("assignee"))

    def conditions(self) -> list[Any]:
        """SQL conditions for these filters."""
        found: list[Any] = []
        if self.q:
            pattern = "%" + self.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            found.append(
                or_(
                    *(
                        func.lower(column).like(pattern, escape="\\")
                        for column in (
                            Submission.email,
                            Submission.first_name,
                            Submission.last_name,
                            Submission.company,
                        )
                    )
                )
            )
        if self.form:
            found.append(Submission.form.has(Form.slug == self.form))
        if self.category:
            found.append(Submission.reason_category == self.category)
        if self.assignee == "me":
            found.append(Submission.assigned_to_id == g.user.id)
        elif self.assignee == "nobody":
            found.append(Submission.assigned_to_id.is_(None))
        return found


def _submissions(verdict: str, *, filters: QueueFilters, oldest_first: bool) -> tuple[list[Any], int, Any]:
    """One page of rows, the total, and the oldest `received_at` of the filtered folder (not of this page)."""
    db = get_session()
    query = select(Submission).where(Submission.verdict == verdict, *filters.conditions())
    count_query = (
        select(func.count(), func.min(Submission.received_at))
        .select_from(Submission)
        .where(Submission.verdict == verdict, *filters.conditions())
    )
    if filters.sort in ("oldest", "newest"):
        oldest_first = filters.sort == "oldest"
    order = Submission.received_at.asc() if oldest_first else Submission.received_at.desc()
    rows = db.scalars(
        query.options(
            selectinload(Submission.form), selectinload(Submission.findings), selectinload(Submission.assigned_to)
        )
        .order_by(order, Submission.id)
        .limit(PAGE_SIZE)
        .offset((_page() - 1) * PAGE_SIZE)
    ).all()
    total, oldest = db.execute(count_query).one()
    return list(rows), total or 0, oldest


@bp.get("/")
def queue() -> str:
    """Held submissions, oldest first, with their findings."""
    filters = QueueFilters.from_args(request.args)
    rows, total, oldest = _submissions(Verdict.HELD, filters=filters, oldest_first=True)
    return render_template(
        "admin/queue.html",
        rows=rows,
        total=total,
        page=_page(),
        page_size=PAGE_SIZE,
        categories=REJECT_CATEGORIES,
        reasons=_reasons(Verdict.HELD),
        forms=_forms(),
        filters=filters,
        oldest=oldest,
        folder="queue",
    )


def _reasons(verdict: str) -> list[str]:
    """The reasons present in a folder, for its filter (held ones include `uncertain`, never a reject reason)."""
    db = get_session()
    found = db.scalars(
        select(Submission.reason_category)
        .where(Submission.verdict == verdict, Submission.reason_category.is_not(None))
        .distinct()
    )
    return sorted(str(r) for r in found)


def _forms() -> list[tuple[str, str]]:
    return [(slug, name) for slug, name in get_session().execute(select(Form.slug, Form.name).order_by(Form.name))]


@bp.get("/rejected")
def rejected() -> str:
    """The spam folder: rejected submissions, newest first, filterable by reason."""
    filters = QueueFilters.from_args(request.args)
    rows, total, _ = _submissions(Verdict.REJECTED, filters=filters, oldest_first=False)
    return render_template(
        "admin/queue.html",
        rows=rows,
        total=total,
        page=_page(),
        page_size=PAGE_SIZE,
        categories=REJECT_CATEGORIES,
        reasons=REJECT_CATEGORIES,
        forms=_forms(),
        filters=filters,
        category=filters.category,
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
        elif action in ("assign_me", "unassign"):
            count = assign(db, submission_ids=ids, user_id=g.user.id if action == "assign_me" else None, actor=actor)
            db.commit()
            flash(f"{'Assigned to you' if action == 'assign_me' else 'Unassigned'}: {count} submission(s).")
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
