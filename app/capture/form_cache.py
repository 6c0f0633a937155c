"""A per-process cache of the public forms, checked against one version in Redis.

Every public request needs its form (slug, kind, settings), and reading it from the database cost a
query per request (and a round trip on PostgreSQL). Each web process keeps the forms it has served,
each entry tagged with the forms' version it was read under. The version is a random token in Redis
(`VERSION_KEY`): a commit that inserted, changed or deleted a form replaces it, so every process
reads the form again on its next request. Capture reads the version in the same round trip as its
rate limit (`app.capture.gate`), so a cached form costs no extra round trip.
`init_app` also opens capture's own Redis connection (`app.capture.link`).

Why it cannot serve a stale form:

- The version is replaced *after* the commit (a session `after_commit` hook), so a process that
  sees the new version reads the committed row. One that read the old row under the old version
  sees the new version on its next request.
- Any ORM write to a `Form` row marks its session, whoever makes it: the editor, `set_active`,
  the seed, the CLI, a test's session.
- A missing version (Redis restarted empty) is replaced by a fresh random one, never by a value a
  process may have cached under before.
- Without Redis (down, or the replacement failed) there is no version: the form is read from the
  database on every request, and an entry is never trusted longer than `MAX_AGE_SECONDS` anyway.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import Table, bindparam, event, select
from sqlalchemy.orm import Session, object_session

from app.capture.link import RedisLink
from app.models import Form

log = logging.getLogger(__name__)

VERSION_KEY = "leadsieve:forms:version"
# The longest a process trusts a form it read, whatever the version says: the bound on staleness if
# replacing the version failed (Redis unreachable at that moment) while capture still reaches Redis.
MAX_AGE_SECONDS = 30.0
# session.info keys: "a form changed in this transaction", and what to call after its commit.
CHANGED = "leadsieve.forms_changed"
ON_CHANGE = "leadsieve.on_forms_changed"

_forms = cast(Table, Form.__table__)
# Only the columns public pages use, as plain rows: cheaper than loading ORM entities.
_BY_SLUG = select(
    _forms.c.id, _forms.c.slug, _forms.c.name, _forms.c.kind, _forms.c.active, _forms.c.settings, _forms.c.translations
).where(_forms.c.slug == bindparam("slug"))


@dataclass(frozen=True, eq=False)
class PublicForm:
    """What the public pages and capture need of a form, detached from any session and shared by the
    requests of one process: read it, never change it (`settings` included)."""

    id: int
    slug: str
    name: str
    kind: str
    active: bool
    settings: dict[str, Any]
    # The form's own texts per language (app/i18n/overrides.py).
    translations: dict[str, Any] = field(default_factory=dict)
    loaded_at: float = field(default_factory=time.monotonic)
    # Per-thread scratch space for objects built from this form (capture's reusable WTForms instance).
    local: threading.local = field(default_factory=threading.local, repr=False)


def load_form(session: Session, slug: str) -> PublicForm | None:
    """The form with this slug from the database, active or not."""
    if "\x00" in slug:  # from /f/%00: no slug has one, and PostgreSQL raises on a NUL in a text parameter
        return None
    row = session.execute(_BY_SLUG, {"slug": slug}).first()
    if row is None:
        return None
    return PublicForm(
        id=row.id,
        slug=row.slug,
        name=row.name,
        kind=row.kind,
        active=bool(row.active),
        settings=copy.deepcopy(row.settings or {}),
        translations=copy.deepcopy(row.translations or {}),
    )


def new_version() -> str:
    """A version no process can have cached anything under."""
    return uuid.uuid4().hex


class FormCache:
    """One process's forms by slug, each with the version it was read under."""

    def __init__(self, link: RedisLink, *, max_age: float = MAX_AGE_SECONDS) -> None:
        self.link, self.max_age = link, max_age
        self._entries: dict[str, tuple[str, PublicForm]] = {}

    def get(self, session: Callable[[], Session], slug: str, version: str | None) -> PublicForm | None:
        """The form for `slug`, from memory when it was read under `version` and recently enough; else from
        the database through `session()` (called only then), and remembered unless `version` is None (Redis
        did not answer)."""
        entry = self._entries.get(slug)
        if (
            version is not None
            and entry is not None
            and entry[0] == version
            and time.monotonic() - entry[1].loaded_at < self.max_age
        ):
            return entry[1]
        form = load_form(session(), slug)
        if version is not None and form is not None:
            self._entries[slug] = (version, form)
        elif entry is not None:
            self._entries.pop(slug, None)
        return form

    def version(self) -> str | None:
        """The forms' version (set now if Redis has none); None when Redis does not answer."""
        try:
            _, value = self.link.call(("SET", VERSION_KEY, new_version(), "NX"), ("GET", VERSION_KEY))
        except RedisError as exc:
            log.debug("forms version unavailable (%s); reading the form from the database", exc)
            return None
        return value.decode() if isinstance(value, bytes) else value


def forms_changed(redis: Redis) -> None:
    """Replace the forms' version so every process reads its forms again; logged, never raised (the
    change is committed already; caches then expire within MAX_AGE_SECONDS)."""
    try:
        redis.set(VERSION_KEY, new_version())
    except RedisError as exc:
        log.warning("could not announce a form change (%s); web processes see it within %gs", exc, MAX_AGE_SECONDS)


def init_app(app: Flask) -> None:
    """The app's form cache, and sessions that announce their committed form changes."""
    redis: Redis = app.extensions["leadsieve.redis"]
    link = app.extensions["leadsieve.capture_link"] = RedisLink(redis)
    app.extensions["leadsieve.form_cache"] = FormCache(link)
    maker = app.extensions["leadsieve.sessionmaker"]
    info = dict(maker.kw.get("info") or {})
    info[ON_CHANGE] = lambda: forms_changed(redis)
    maker.configure(info=info)


# --- marking sessions that changed a form ----------------------------------------------------------------


def _mark(_mapper: Any, _connection: Any, target: Form) -> None:
    session = object_session(target)
    if session is not None:
        session.info[CHANGED] = True


for _event in ("after_insert", "after_update", "after_delete"):
    event.listen(Form, _event, _mark)


@event.listens_for(Session, "after_commit")
def _announce(session: Session) -> None:
    """After the commit, never before: a process that sees the new version must find the new row. (A mark
    left by a rolled-back transaction only costs the caches one extra read.)"""
    if session.info.pop(CHANGED, False):
        hook: Callable[[], None] | None = session.info.get(ON_CHANGE)
        if hook is not None:
            hook()
