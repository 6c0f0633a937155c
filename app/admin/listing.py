"""What every admin list of submissions shares: the search, keyset pages and a capped count.

A page is read from where the previous one ended (`received_at`, then `id`), never with OFFSET, and the
count stops at COUNT_CAP: so a page reads about PAGE_SIZE index entries however large the table and
however deep the page (the indexes behind each filter are in app/models.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from app.models import SEARCHED_COLUMNS, Form, Submission

PAGE_SIZE = 50
# Counted exactly up to here; beyond it a list says "more than".
COUNT_CAP = 1000
# An address, whole ("ana@acme.com"): looked up exactly; any other text with an @ is its start or, from
# the @ on, its domain.
WHOLE_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_WORDS = 6


def _escaped(text: str) -> str:
    """`text` for LIKE, its own % and _ taken literally (escape character: \\)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _email_is(q: str, *, postgresql: bool) -> ColumnElement[bool]:
    """The e-mail equals `q` in any case, through ix_submissions_email_lower."""
    if postgresql:
        return func.lower(Submission.email) == q.lower()
    return Submission.email.collate("NOCASE") == q


def _email_starts(q: str, *, postgresql: bool) -> ColumnElement[bool]:
    """The e-mail starts with `q` in any case, through ix_submissions_email_lower (SQLite's LIKE ignores
    ASCII case and uses the NOCASE index)."""
    if postgresql:
        return func.lower(Submission.email).like(f"{_escaped(q.lower())}%", escape="\\")
    return Submission.email.like(f"{_escaped(q)}%", escape="\\")


def search(session: Session, q: str) -> list[ColumnElement[bool]]:
    """Conditions finding `q`: an e-mail-looking query in the e-mail column only (a whole address exactly,
    the start of one, "@acme.com" anywhere), anything else word by word, each word somewhere in the e-mail,
    names or company.

    A whole address or a start goes to the b-tree on lower(email); the rest is ILIKE '%...%', which the
    trigram indexes answer on PostgreSQL (SQLite reads the table)."""
    q = q.strip()
    if not q:
        return []
    postgresql = session.get_bind().dialect.name == "postgresql"
    if "@" in q and " " not in q:
        if WHOLE_ADDRESS.fullmatch(q):
            return [_email_is(q, postgresql=postgresql)]
        if q.startswith("@"):
            return [Submission.email.ilike(f"%{_escaped(q)}%", escape="\\")]
        return [_email_starts(q, postgresql=postgresql)]
    columns = [getattr(Submission, name) for name in SEARCHED_COLUMNS]
    return [
        or_(*(column.ilike(f"%{_escaped(word)}%", escape="\\") for column in columns)) for word in q.split()[:MAX_WORDS]
    ]


def form_id(session: Session, slug: str) -> int:
    """The id of the form with this slug (0, which matches nothing, when there is none): filtering on the
    id lets the (form_id, received_at) index give the page in order."""
    return session.scalar(select(Form.id).where(Form.slug == slug)) or 0


@dataclass(frozen=True)
class Cursor:
    """A row's place in a list: its `received_at`, then its id."""

    received_at: datetime
    id: int

    def encode(self) -> str:
        """For a link: "2026-12-02T09:00:00.123456_42"."""
        return f"{self.received_at.isoformat()}_{self.id}"

    @classmethod
    def decode(cls, text: str | None) -> Cursor | None:
        """From a link; anything malformed is no cursor (the first page)."""
        moment, _, number = (text or "").rpartition("_")
        try:
            return cls(datetime.fromisoformat(moment).replace(tzinfo=None), int(number))
        except ValueError:
            return None

    @classmethod
    def of(cls, row: Any) -> Cursor:
        """The cursor of a listed submission."""
        return cls(row.received_at, row.id)


def _beyond(cursor: Cursor, *, descending: bool) -> ColumnElement[bool]:
    """Rows after `cursor` in the order (received_at, id), ascending or descending. Written so that the
    time comparison alone can bound an index range."""
    if descending:
        return and_(
            Submission.received_at <= cursor.received_at,
            or_(Submission.received_at < cursor.received_at, Submission.id < cursor.id),
        )
    return and_(
        Submission.received_at >= cursor.received_at,
        or_(Submission.received_at > cursor.received_at, Submission.id > cursor.id),
    )


@dataclass(frozen=True)
class Page:
    """One page of a list, with the cursors of the pages around it (None: there is none)."""

    rows: list[Any]
    after: Cursor | None  # the next page starts after this row
    before: Cursor | None  # the previous page ends before this row


def page(
    session: Session,
    query: Select[Any],
    *,
    descending: bool,
    after: Cursor | None = None,
    before: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """The page of `query` (a select of Submission) after `after`, or the one before `before`, or the first.

    Reads size + 1 rows: the extra one only says whether there is a further page."""
    order = (
        (Submission.received_at.desc(), Submission.id.desc())
        if descending
        else (Submission.received_at.asc(), Submission.id.asc())
    )
    backward = (
        (Submission.received_at.asc(), Submission.id.asc())
        if descending
        else (Submission.received_at.desc(), Submission.id.desc())
    )
    if before is not None and after is None:
        found = list(
            session.scalars(query.where(_beyond(before, descending=not descending)).order_by(*backward).limit(size + 1))
        )
        more = len(found) > size
        rows = list(reversed(found[:size]))
        return Page(rows, Cursor.of(rows[-1]) if rows else None, Cursor.of(rows[0]) if rows and more else None)
    if after is not None:
        query = query.where(_beyond(after, descending=descending))
    found = list(session.scalars(query.order_by(*order).limit(size + 1)))
    rows = found[:size]
    return Page(
        rows,
        Cursor.of(rows[-1]) if len(found) > size else None,
        Cursor.of(rows[0]) if rows and after is not None else None,
    )


def capped_count(session: Session, query: Select[Any], cap: int = COUNT_CAP) -> int:
    """How many rows `query` has, counting no further than cap + 1 (more than `cap`: cap + 1)."""
    limited = query.with_only_columns(Submission.id).order_by(None).limit(cap + 1).subquery()
    return int(session.scalar(select(func.count()).select_from(limited)) or 0)


class _Link(Protocol):
    def encode(self) -> str: ...


class Paged(Protocol):
    """A page of any keyset list: the cursors of the pages around it."""

    @property
    def after(self) -> _Link | None: ...

    @property
    def before(self) -> _Link | None: ...


def links(current: Paged, args: dict[str, Any], number: int) -> dict[str, dict[str, Any]]:
    """Query arguments for the previous and next pages (those that exist), carrying the filters and a
    page number for display."""
    kept = {k: v for k, v in args.items() if k not in ("after", "before", "page")}
    found: dict[str, dict[str, Any]] = {}
    if current.before is not None:
        found["previous"] = {**kept, "before": current.before.encode(), "page": max(1, number - 1)}
    if current.after is not None:
        found["next"] = {**kept, "after": current.after.encode(), "page": number + 1}
    return found


def page_number(args: Any) -> int:
    """The page number to show (it only labels the page: the cursor decides which rows)."""
    try:
        return max(1, int(args.get("page", 1)))
    except (TypeError, ValueError):
        return 1


def cursors(args: Any) -> tuple[Cursor | None, Cursor | None]:
    """(after, before) from the query string."""
    return Cursor.decode(args.get("after")), Cursor.decode(args.get("before"))
