"""Build the `screening.Context` from configuration, the admin lists and recent activity.

The resolver is made once per process and kept in `app.extensions`; its DNS
cache lives in Redis, shared by every work horse and worker; the lists are re-read
from the database when the cached copy
is older than SCREENING_LISTS_TTL_SECONDS (admins add entries during the day).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import screening
from app.models import ListEntry, Submission, utcnow
from app.screening_context.disposable_sources import disposable_for, mx_ledger_for
from app.screening_context.dns_cache import SharedDnsCache
from app.screening_context.learned_model import model_for
from screening.context import ListEntry as ScreeningListEntry
from screening.context import Lists, RecentActivity
from screening.resolver import MailResolver

_RESOLVER = "leadsieve.screening_resolver"
_LISTS = "leadsieve.screening_lists"
_lock = threading.Lock()


def policy_from_config(config: dict[str, Any]) -> screening.Policy:
    """The verdict policy: SCREENING_POLICY overrides plus the velocity and DNSBL settings."""
    values = dict(config.get("SCREENING_POLICY") or {})
    values.setdefault("velocity_window_seconds", config["SCREENING_VELOCITY_WINDOW_SECONDS"])
    values.setdefault("ip_burst", config["SCREENING_IP_BURST"])
    values.setdefault("email_burst", config["SCREENING_EMAIL_BURST"])
    values.setdefault("dnsbl_zones", config["DNSBL_ZONES"])
    return screening.Policy.from_mapping(values)


def resolver_for(app: Flask) -> MailResolver:
    """One resolver per process; its cache is kept in the shared Redis (app/dns_cache.py), so the
    work horses RQ forks per job, and every other worker, reuse each other's answers."""
    with _lock:
        resolver = app.extensions.get(_RESOLVER)
        if resolver is None:
            redis = app.extensions.get("leadsieve.redis")
            cache = SharedDnsCache(redis) if redis is not None else None
            resolver = MailResolver(
                app.config["DNS_NAMESERVERS"],
                timeout=app.config["DNS_TIMEOUT_SECONDS"],
                cache=cache,
                canary=app.config.get("DNS_CANARY_DOMAIN", ""),
            )
            app.extensions[_RESOLVER] = resolver
        return resolver


def load_lists(session: Any) -> Lists:
    """Every admin list entry, with who added it and when (for the evidence reviewers read)."""
    rows = session.execute(
        select(ListEntry.kind, ListEntry.value, ListEntry.note, ListEntry.created_by, ListEntry.created_at)
    ).all()
    return Lists.from_entries(
        (
            kind,
            ScreeningListEntry(value=value, note=note or "", created_by=created_by or "", created_at=created_at),
        )
        for kind, value, note, created_by, created_at in rows
    )


def lists_for(app: Flask, session: Session) -> Lists:
    """The lists, re-read when the cached copy is older than SCREENING_LISTS_TTL_SECONDS (0: every time)."""
    ttl = app.config["SCREENING_LISTS_TTL_SECONDS"]
    cached = app.extensions.get(_LISTS)
    now = time.monotonic()
    if cached is not None and ttl > 0 and now - cached[0] < ttl:
        return cached[1]  # type: ignore[no-any-return]
    lists = load_lists(session)
    app.extensions[_LISTS] = (now, lists)
    return lists


def refresh_lists(app: Flask) -> Lists:
    """Read the lists now, in this process. The worker's parent does this every TTL, so the work
    horses RQ forks from it start with a fresh copy instead of each reading the lists again."""
    from app.db import session_scope

    with session_scope() as session:
        lists = load_lists(session)
        model_for(app, session, fresh=True)  # the learned spam model's new decisions, likewise
    app.extensions[_LISTS] = (time.monotonic(), lists)
    disposable_for(app)  # lists downloaded since (`leadsieve lists refresh`) merged here, not per job
    return lists


def activity_counter(session: Session) -> RecentActivity:
    """`recent_activity(kind, value, window)` over the submissions table, through `session`."""

    def recent_activity(kind: str, value: str, window_seconds: int) -> int:
        """Submissions from this IP or e-mail received within the window (the current one included)."""
        since = utcnow() - timedelta(seconds=window_seconds)
        column = Submission.ip if kind == "ip" else func.lower(Submission.email)
        wanted = value if kind == "ip" else value.lower()
        return (
            session.scalar(
                select(func.count()).select_from(Submission).where(column == wanted, Submission.received_at >= since)
            )
            or 0
        )

    return recent_activity


def build_context(
    *,
    session: Session | None,
    app: Flask | None = None,
    lists: Lists | None = None,
    with_activity: bool = True,
) -> screening.Context:
    """The context for one screening: fresh lists, the process's resolver, the configured policy.

    `lists` given (e.g. empty, when the batch command has no database) skips reading them.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    config = app.config
    if lists is None:
        assert session is not None, "a session is needed to read the admin lists"
        lists = lists_for(app, session)
    return screening.Context(
        policy=policy_from_config(config),
        lists=lists,
        resolver=resolver_for(app) if config["DNS_ENABLED"] else None,
        dns_budget_seconds=config["DNS_BUDGET_SECONDS"],
        recent_activity=activity_counter(session) if with_activity and session is not None else None,
        disposable=disposable_for(app),
        mx_ledger=mx_ledger_for(app),
        learned=model_for(app, session) if session is not None else None,
    )


def preload(app: Flask) -> None:
    """Worker start-up: bundled lists into sets and the resolver made, before the first job."""
    from screening.bundled import preload as preload_bundled
    from screening.learned import seed_trainer

    preload_bundled()
    seed_trainer()  # the learned spam model's seed corpus, learned once here rather than in every horse
    disposable_for(app)
    policy_from_config(app.config)  # a bad SCREENING_POLICY stops the worker now, not every job later
    resolver_for(app)
