"""The lists admins keep: competitors, blocked values and the allowlist.

Values are checked and normalised per kind before they are stored, so screening
can compare them directly: domains and e-mails lower-case, IPs and ranges in
canonical CIDR form, competitor names as typed (screening normalises names).
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Lead, ListEntry
from app.reporting.export import csv_text, iso_utc
from screening.bundled import freemail_domains

LIST_KINDS = {
    "competitor_domain": "Competitor domains",
    "competitor_name": "Competitor names",
    "blocked_email": "Blocked e-mails",
    "blocked_domain": "Blocked domains",
    "blocked_ip": "Blocked IPs and ranges",
    "allowed_email": "Allowed e-mails",
    "allowed_domain": "Allowed domains",
    # Added by sales' spam feedback (app/leads/classification.py), removed by a later other outcome.
    "spam_feedback_email": "Marked spam by sales (held)",
}
DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


class ListError(ValueError):
    """A value that cannot go on the list asked for; the message says why."""


def normalize_value(kind: str, value: str) -> str:
    """The stored form of a value, or ListError."""
    if kind not in LIST_KINDS:
        raise ListError(f"list must be one of {', '.join(LIST_KINDS)}")
    value = value.strip()
    if not value:
        raise ListError("empty value")
    if kind.endswith("_domain"):
        domain = value.lower().removeprefix("@").rstrip(".")
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ListError(f"{value!r} is not a domain name") from exc
        if not DOMAIN.match(domain):
            raise ListError(f"{value!r} is not a domain name like example.com")
        return domain
    if kind.endswith("_email"):
        local, at, domain = value.lower().rpartition("@")
        if not at or not local or not DOMAIN.match(domain) or any(c.isspace() for c in local):
            raise ListError(f"{value!r} is not an e-mail address")
        return f"{local}@{domain}"
    if kind == "blocked_ip":
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError as exc:
            raise ListError(f"{value!r} is not an IP address or CIDR range") from exc
        return str(network.network_address) if network.num_addresses == 1 else str(network)
    if len(value) > 200:
        raise ListError("a competitor name is at most 200 characters")
    return " ".join(value.split())


def is_freemail(domain: str) -> bool:
    """A consumer mailbox provider (gmail.com, outlook.com…): listing the whole domain would list everyone on it."""
    return domain.lower().rstrip(".") in freemail_domains()


def add_list_entry(session: Session, *, kind: str, value: str, actor: str, note: str = "") -> ListEntry:
    """Add (or return the existing) entry; audited."""
    entry = _add_entry(session, kind=kind, value=value, actor=actor, note=note)
    session.flush()
    return entry


def _add_entry(session: Session, *, kind: str, value: str, actor: str, note: str = "") -> ListEntry:
    """Add (or return the existing) entry and its audit event, without committing."""
    value = normalize_value(kind, value)
    entry = session.scalars(select(ListEntry).where(ListEntry.kind == kind, ListEntry.value == value)).first()
    if entry is not None:
        return entry
    entry = ListEntry(kind=kind, value=value, note=note.strip()[:2000], created_by=actor)
    session.add(entry)
    session.flush()
    session.add(
        AuditEvent(
            actor=actor,
            action="list.added",
            subject_type="list_entry",
            subject_id=entry.id,
            details={"kind": kind, "value": entry.value, "note": note[:200]},
        )
    )
    return entry


def remove_list_entry(session: Session, *, entry_id: int, actor: str, note: str = "") -> ListEntry:
    """Remove an entry, keeping an audit record of what it was and why it went."""
    entry = session.get(ListEntry, entry_id)
    if entry is None:
        raise ListError(f"no list entry {entry_id}")
    session.add(
        AuditEvent(
            actor=actor,
            action="list.removed",
            subject_type="list_entry",
            subject_id=entry_id,
            details={"kind": entry.kind, "value": entry.value, "note": note[:200]},
        )
    )
    session.delete(entry)
    session.flush()
    return entry


@dataclass
class ImportResult:
    """What a bulk import did, line by line."""

    added: int = 0
    existing: int = 0
    errors: list[str] = field(default_factory=list)


def import_entries(session: Session, *, kind: str, text: str, actor: str, note: str = "") -> ImportResult:
    """Paste or CSV: one value per line, optionally `value,note`; a header row `value,...` is skipped.

    Bad lines are reported with their number and skipped; the good ones are added, in one transaction.
    """
    result = ImportResult()
    known = set(session.scalars(select(ListEntry.value).where(ListEntry.kind == kind)))
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [c.strip() for c in row]
        if not cells or not cells[0] or cells[0].startswith("#"):
            continue
        if number == 1 and cells[0].lower() == "value":
            continue
        try:
            value = normalize_value(kind, cells[0])
        except ListError as exc:
            result.errors.append(f"line {number}: {exc}")
            continue
        if value in known:
            result.existing += 1
            continue
        _add_entry(session, kind=kind, value=value, actor=actor, note=(cells[1] if len(cells) > 1 else note))
        known.add(value)
        result.added += 1
    session.flush()
    return result


def entries(session: Session, kind: str, *, limit: int | None = None, offset: int = 0) -> list[ListEntry]:
    """One list, newest first; `limit`/`offset` page it in SQL."""
    query = select(ListEntry).where(ListEntry.kind == kind).order_by(ListEntry.created_at.desc(), ListEntry.id.desc())
    if limit is not None:
        query = query.limit(limit).offset(offset)
    return list(session.scalars(query))


def count_entries(session: Session, kind: str) -> int:
    """How many entries one list has."""
    return session.scalar(select(func.count()).select_from(ListEntry).where(ListEntry.kind == kind)) or 0


def export_csv(rows: Iterable[ListEntry]) -> str:
    """value,note,added_by,added_at; importable again; formula-safe."""
    return csv_text(
        ["value", "note", "added_by", "added_at"],
        ([e.value, e.note, e.created_by, iso_utc(e.created_at)] for e in rows),
    )


SUGGESTED, DISMISSED = "domain.review_suggested", "domain.review_dismissed"


@dataclass
class Suggestion:
    """A domain sales marked as spam, not yet blocked or dismissed.

    For a free-mail domain the block applies to the marked addresses (`emails`), never the whole provider.
    """

    domain: str
    count: int = 0
    last_at: datetime | None = None
    freemail: bool = False
    emails: list[str] = field(default_factory=list)


def suggested_domains(session: Session) -> list[Suggestion]:
    """Open review suggestions, newest first, in a fixed number of queries."""
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action.in_((SUGGESTED, DISMISSED))).order_by(AuditEvent.id)
    ).all()
    pending: dict[str, list[AuditEvent]] = {}
    for event in events:
        domain = str((event.details or {}).get("domain") or "").lower()
        if not domain:
            continue
        if event.action == DISMISSED:
            pending.pop(domain, None)  # a dismissal closes every suggestion made before it
        else:
            pending.setdefault(domain, []).append(event)
    if not pending:
        return []
    blocked = set(
        session.scalars(select(ListEntry.value).where(ListEntry.kind.in_(("blocked_domain", "blocked_email"))))
    )
    lead_ids = {e.subject_id for found in pending.values() for e in found if e.subject_type == "lead"}
    emails = dict(session.execute(select(Lead.id, Lead.email).where(Lead.id.in_(lead_ids))).all()) if lead_ids else {}
    suggestions = []
    for domain, found in pending.items():
        suggestion = Suggestion(domain=domain, count=len(found), last_at=found[-1].at, freemail=is_freemail(domain))
        if suggestion.freemail:
            addresses = {emails[e.subject_id] for e in found if e.subject_id in emails}
            suggestion.emails = sorted(a for a in addresses if a.endswith("@" + domain) and a not in blocked)
            if not suggestion.emails:
                continue
        elif domain in blocked:
            continue
        suggestions.append(suggestion)
    suggestions.sort(key=lambda s: s.last_at or datetime.min, reverse=True)
    return suggestions


def block_suggestion(session: Session, *, domain: str, actor: str, note: str = "") -> list[ListEntry]:
    """Block a suggested domain, or for a free-mail domain the suggested addresses only; one transaction."""
    domain = domain.strip().lower()
    suggestion = next((s for s in suggested_domains(session) if s.domain == domain), None)
    if suggestion is None:
        raise ListError(f"{domain} is not waiting for review")
    note = note or "sales marked a lead from this domain as spam"
    if suggestion.freemail:
        added = [_add_entry(session, kind="blocked_email", value=e, actor=actor, note=note) for e in suggestion.emails]
    else:
        added = [_add_entry(session, kind="blocked_domain", value=domain, actor=actor, note=note)]
    session.flush()
    return added


def dismiss_suggestion(session: Session, *, domain: str, actor: str, note: str = "") -> None:
    """Close a suggestion without listing anything; audited like every list decision."""
    domain = domain.strip().lower()
    if not any(s.domain == domain for s in suggested_domains(session)):
        raise ListError(f"{domain} is not waiting for review")
    session.add(
        AuditEvent(
            actor=actor,
            action=DISMISSED,
            subject_type="domain",
            subject_id=None,
            details={"domain": domain, "note": note[:200]},
        )
    )
    session.flush()
