"""One alert turn, the single call the worker's sweep turn and `leadsieve sweep` make."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from app.alerts.checks import CHECKS, Condition, Thresholds
from app.alerts.delivery import send_due
from app.alerts.service import apply_conditions, queue_digests, queue_notices
from app.alerts.sla_breaches import queue_sla_breaches
from app.forwarding.adapters import DeliverySettings
from app.models import utcnow

log = logging.getLogger(__name__)

# Notices sent per turn at most (and none started after twice DELIVERY_TIMEOUT_SECONDS): each attempt may
# take DELIVERY_TIMEOUT_SECONDS of a worker's loop.
SEND_LIMIT = 20


@dataclass(frozen=True)
class AlertTurn:
    """What one turn did: alerts opened and resolved, notices queued and delivered, checks that could not run."""

    opened: int = 0
    resolved: int = 0
    queued: int = 0
    delivered: int = 0
    skipped: tuple[str, ...] = ()


def run_checks(
    session: Session, redis: Redis, thresholds: Thresholds, now: datetime
) -> tuple[list[Condition], set[str], list[str]]:
    """Every check: (conditions found, kinds checked, kinds that could not run). A check that cannot reach
    Redis or the database is logged and skipped, so its open alerts stay open rather than resolve."""
    conditions: list[Condition] = []
    checked: set[str] = set()
    skipped: list[str] = []
    for kind, check in CHECKS.items():
        try:
            conditions += check(session, redis, thresholds, now)
        except (RedisError, SQLAlchemyError) as exc:
            session.rollback()
            skipped.append(kind)
            log.warning("alert check %s could not run: %s", kind, exc)
        else:
            checked.add(kind)
    return conditions, checked, skipped


def delivery_settings(app: Flask) -> DeliverySettings:
    """The adapters' settings, as lead deliveries use them."""
    config = app.config
    return DeliverySettings(
        timeout=config["DELIVERY_TIMEOUT_SECONDS"],
        allowed_private_destinations=tuple(config["ALLOWED_PRIVATE_DESTINATIONS"]),
        smtp_url=config["SMTP_URL"],
        smtp_from=config["SMTP_FROM"],
        user_agent="leadsieve/0.1",
    )


def run_alert_checks(app: Flask, *, now: datetime | None = None) -> AlertTurn:
    """Run every check, open and resolve alerts, queue their notices (and a digest that is due), commit,
    then send the notices that are due. Safe to run from several processes at once: one open alert per
    key and one notice per idempotency key are enforced by the database, and sending is claimed."""
    config = app.config
    now = now or utcnow()
    admin_url = f"{config['PUBLIC_BASE_URL']}/admin/alerts"
    session: Session = app.extensions["leadsieve.sessionmaker"]()
    try:
        conditions, checked, skipped = run_checks(
            session, app.extensions["leadsieve.redis"], Thresholds.from_config(config), now
        )
        changes = apply_conditions(
            session,
            conditions=conditions,
            checked_kinds=checked,
            now=now,
            resolve_after=timedelta(minutes=config["ALERT_RESOLVE_AFTER_MINUTES"]),
        )
        notices = queue_notices(session, changes=changes, admin_url=admin_url, now=now)
        notices += queue_digests(
            session, now=now, hour=config["ALERT_DIGEST_HOUR"], time_zone=config["ADMIN_TIME_ZONE"], admin_url=admin_url
        )
        notices += queue_sla_breaches(session, now=now, admin_url=f"{config['PUBLIC_BASE_URL']}/admin")
        try:
            session.commit()
        except IntegrityError:  # another runner opened the same alert or queued the same notice just now
            session.rollback()
            log.info("another process ran the alert checks at the same time; this turn's changes were dropped")
            return AlertTurn(skipped=tuple(skipped))
        for alert in changes.opened:
            log.warning("alert opened: %s", alert.summary, extra={"alert": alert.key, "severity": alert.severity})
        for alert in changes.resolved:
            log.info("alert resolved: %s", alert.summary, extra={"alert": alert.key})
        delivered = send_due(
            session,
            settings=delivery_settings(app),
            backoff=config["DELIVERY_BACKOFF"],
            lease=timedelta(seconds=2 * config["DELIVERY_TIMEOUT_SECONDS"] + 30),
            limit=SEND_LIMIT,
            budget_seconds=2 * config["DELIVERY_TIMEOUT_SECONDS"],
        )
    finally:
        session.close()
    return AlertTurn(
        opened=len(changes.opened),
        resolved=len(changes.resolved),
        queued=len(notices),
        delivered=delivered,
        skipped=tuple(skipped),
    )
