"""The scoring rules in force, saved from the admin with their history.

The newest `ScoringRuleSet` is in force; until someone saves one, the settings are (SCORE_* and
SCORING_RULES, config.py), so an installation behaves as before. Each save is a new row holding every
rule and its diff against the rules it replaced: the table is the history (who, when, what changed).

Every accepted submission is scored, so reading the rules must not cost a database read each time.
Each process keeps the rules it read with their version (the row's id, 0 for the settings); the
newest version is published in Redis (`VERSION_KEY`) after the commit that saved it, and a process
whose copy is of another version, or older than `MAX_AGE_SECONDS`, reads the database again. RQ
forks a work horse per job, so the worker's parent refreshes its copy between jobs (worker.py) and
each horse inherits it. Without Redis the rules are read from the database every time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, ScoringRuleSet
from screening.qualification import rules_diff, rules_from_stored
from screening.scoring import ScoringRules

log = logging.getLogger(__name__)

VERSION_KEY = "leadsieve:scoring_rules:version"
# The longest a process trusts its copy whatever Redis says: the bound on staleness if publishing a
# new version failed (Redis unreachable at that moment).
MAX_AGE_SECONDS = 60.0
_EXTENSION = "leadsieve.scoring_rules"

# Settings that name one scoring rule each (config.py); they win over the same key in SCORING_RULES.
RULE_SETTINGS = {
    "SCORE_MQL_ENGAGEMENT": "mql_engagement",
    "SCORE_SQL_MIN_FIT": "sql_min_fit",
    "SCORE_SQL_FIT": "sql_fit",
    "SCORE_SQL_ENGAGEMENT": "sql_engagement",
    "SCORE_REPEAT_WINDOW_HOURS": "repeat_window_hours",
    "SCORE_HALF_LIFE_DAYS": "half_life_days",
    "DUPLICATE_WINDOW_SECONDS": "duplicate_window_seconds",
}


def configured_rules(config: Mapping[str, Any]) -> ScoringRules:
    """The defaults: SCORING_RULES' tables, then the threshold and window settings."""
    named = {rule: config[setting] for setting, rule in RULE_SETTINGS.items() if setting in config}
    return ScoringRules.from_mapping({**(config.get("SCORING_RULES") or {}), **named})


def latest_rule_set(session: Session) -> ScoringRuleSet | None:
    """The saved rules in force, if anyone saved any."""
    return session.scalars(select(ScoringRuleSet).order_by(ScoringRuleSet.id.desc()).limit(1)).first()


def rules_in_force(session: Session, *, defaults: ScoringRules) -> tuple[int, ScoringRules]:
    """(version, rules) from the database: the newest saved set, else `defaults` as version 0."""
    row = latest_rule_set(session)
    if row is None:
        return 0, defaults
    return row.id, rules_from_stored(row.rules)


def save_rules(
    session: Session, *, rules: ScoringRules, defaults: ScoringRules, actor: str, note: str = ""
) -> ScoringRuleSet | None:
    """Store `rules` as the new version with its diff against the rules in force (audited); None when
    nothing changed. The caller commits, then calls `publish` and queues the re-score."""
    _, before = rules_in_force(session, defaults=defaults)
    after = rules.as_dict()
    changes = rules_diff(before.as_dict(), after)
    if not changes:
        return None
    row = ScoringRuleSet(rules=after, changes=changes, note=note[:2000], created_by=actor)
    session.add(row)
    session.flush()
    session.add(
        AuditEvent(
            actor=actor,
            action="scoring_rules.saved",
            subject_type="scoring_rule_set",
            subject_id=row.id,
            details={"changes": changes, "note": note[:200]},
        )
    )
    session.flush()
    return row


def history(session: Session, *, limit: int = 50) -> list[ScoringRuleSet]:
    """The saved versions, newest first."""
    return list(session.scalars(select(ScoringRuleSet).order_by(ScoringRuleSet.id.desc()).limit(limit)))


@dataclass
class _Copy:
    version: int
    rules: ScoringRules
    loaded_at: float


class RulesCache:
    """One process's copy of the rules in force, checked against the version published in Redis."""

    def __init__(self, redis: Redis | None, defaults: ScoringRules, *, max_age: float = MAX_AGE_SECONDS) -> None:
        self.redis, self.defaults, self.max_age = redis, defaults, max_age
        self._copy: _Copy | None = None
        self._lock = threading.Lock()

    def published(self) -> int | None:
        """The version in Redis; None when Redis has none or does not answer."""
        if self.redis is None:
            return None
        try:
            value = self.redis.get(VERSION_KEY)
        except RedisError as exc:
            log.warning("scoring rules: no version from Redis (%s); reading them from the database", exc)
            return None
        return int(value) if value is not None else None

    def get(self, session: Session) -> ScoringRules:
        """The rules in force: this process's copy while it is of the published version and fresh, else
        read through `session` (and, when Redis had no version, published so others need not read)."""
        version = self.published()
        copy = self._copy
        if (
            copy is not None
            and version is not None
            and copy.version == version
            and time.monotonic() - copy.loaded_at < self.max_age
        ):
            return copy.rules
        read, rules = rules_in_force(session, defaults=self.defaults)
        with self._lock:
            self._copy = _Copy(read, rules, time.monotonic())
        if version is None:
            self._publish(read, only_if_missing=True)
        return rules

    def publish(self, version: int) -> None:
        """After the commit that saved `version`: every process reads the rules again on its next use."""
        self._publish(version, only_if_missing=False)
        with self._lock:
            self._copy = None

    def _publish(self, version: int, *, only_if_missing: bool) -> None:
        if self.redis is None:
            return
        try:
            self.redis.set(VERSION_KEY, version, nx=only_if_missing)
        except RedisError as exc:
            log.warning(
                "scoring rules: could not publish version %s (%s); processes notice within %g s",
                version,
                exc,
                self.max_age,
            )


def rules_cache(app: Flask) -> RulesCache:
    """The app's cache of the rules in force, made on first use."""
    cache = app.extensions.get(_EXTENSION)
    if cache is None:
        cache = app.extensions[_EXTENSION] = RulesCache(
            app.extensions.get("leadsieve.redis"), configured_rules(app.config)
        )
    return cache  # type: ignore[no-any-return]


def refresh_rules(app: Flask) -> ScoringRules:
    """The worker's parent, between jobs: its copy up to date, so the horses it forks inherit it."""
    from app.db import session_scope

    with session_scope() as session:
        return rules_cache(app).get(session)


__all__ = [
    "MAX_AGE_SECONDS",
    "RULE_SETTINGS",
    "VERSION_KEY",
    "RulesCache",
    "configured_rules",
    "history",
    "latest_rule_set",
    "refresh_rules",
    "rules_cache",
    "rules_in_force",
    "save_rules",
]
