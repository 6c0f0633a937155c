"""The screening queue (held submissions, oldest first) and the spam folder (rejected ones)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.actions import approve_and_forward, rescreen
from app.admin import listing
from app.admin.blueprint import bp
from app.db import get_session
from app.leads.review import REJECT_CATEGORIES, ReviewError, assign, list_senders, reject
from app.models import Form, Submission
from app.screening_context.lists import ListError
from app.statuses import Verdict


def _ids() -> list[int]:
    return [int(v) for v in request.form.getlist("ids") if v.isdigit()]


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

    def conditions(self, session: Session) -> list[Any]:
        """SQL conditions for these filters."""
        found: list[Any] = listing.search(session, self.q)
        if self.form:
            found.append(Submission.form_id == listing.form_id(session, self.form))
        if self.category:
            found.append(Submission.reason_category == self.category)
        if self.assignee == "me":
            found.append(Submission.assigned_to_id == g.user.id)
        elif self.assignee == "nobody":
            found.append(Submission.assigned_to_id.is_(None))
        return found


@dataclass(frozen=True)
class Folder:
    """One page of a folder, how many it holds (None: not counted) and since when."""

    page: listing.Page
    total: int | None
    oldest: Any


def _submissions(verdict: str, *, filters: QueueFilters, oldest_first: bool) -> Folder:
    """One keyset page of rows; for the queue (held submissions: as many as reviewers have left, not a
    share of the table) its total, counted up to listing.COUNT_CAP + 1, and its oldest `received_at`. The
    spam folder grows with the table: counted only when it fits on the page."""
    db = get_session()
    conditions = [Submission.verdict == verdict, *filters.conditions(db)]
    query = select(Submission).where(*conditions)
    if filters.sort in ("oldest", "newest"):
        oldest_first = filters.sort == "oldest"
    after, before = listing.cursors(request.args)
    current = listing.page(
        db,
        query.options(
            selectinload(Submission.form), selectinload(Submission.findings), selectinload(Submission.assigned_to)
        ),
        descending=not oldest_first,
        after=after,
        before=before,
    )
    if verdict != Verdict.HELD:
        alone = current.after is None and current.before is None
        return Folder(current, len(current.rows) if alone else None, None)
    oldest = db.scalar(select(func.min(Submission.received_at)).where(*conditions))
    return Folder(current, listing.capped_count(db, query), oldest)


def _folder_page(folder: Folder) -> dict[str, Any]:
    number = listing.page_number(request.args)
    total, size = folder.total, listing.PAGE_SIZE
    return {
        "rows": folder.page.rows,
        "total": total,
        "cap": listing.COUNT_CAP,
        "number": number,
        "pages": (total - 1) // size + 1 if total is not None and total <= listing.COUNT_CAP else None,
        "page_size": size,
        "links": listing.links(folder.page, request.args.to_dict(), number),
    }


@bp.get("/")
def queue() -> str:
    """Held submissions, oldest first, with their findings."""
    filters = QueueFilters.from_args(request.args)
    folder = _submissions(Verdict.HELD, filters=filters, oldest_first=True)
    return render_template(
        "admin/queue.html",
        **_folder_page(folder),
        categories=REJECT_CATEGORIES,
        reasons=_reasons(Verdict.HELD),
        forms=_forms(),
        filters=filters,
        oldest=folder.oldest,
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
    folder = _submissions(Verdict.REJECTED, filters=filters, oldest_first=False)
    return render_template(
        "admin/queue.html",
        **_folder_page(folder),
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
