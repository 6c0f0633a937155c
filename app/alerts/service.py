"""Alerts: open and resolve them from what the checks found, and queue the notices that tell people.

An alert opens the first turn its condition holds and its destinations are told once; while it stays
open nothing is sent again, however often the check finds it (de-duplication). It resolves once the
condition has been clear for `resolve_after` (a condition flapping around its threshold is not re-sent
each turn), and the destinations told of the opening are told it resolved. A condition that holds again
later opens a new alert. Destinations that chose the daily digest get one message a day instead.

Services here flush; the caller commits (app/alerts/runner.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.alerts.checks import Condition
from app.forwarding.destinations import ALERT_KINDS
from app.models import Alert, AlertNotice, Destination
from app.statuses import DeliveryStatus
from screening.model import Words


class AlertEvent(Words):
    """What a notice tells: one alert opened or resolved, or a day's digest."""

    OPENED = "alert.opened"
    RESOLVED = "alert.resolved"
    DIGEST = "alert.digest"


@dataclass
class Changes:
    """What one turn changed: the alerts it opened and those it resolved."""

    opened: list[Alert] = field(default_factory=list)
    resolved: list[Alert] = field(default_factory=list)


def open_alerts(session: Session) -> list[Alert]:
    """Alerts open now, most severe first (critical sorts before warning), then oldest first."""
    return list(
        session.scalars(select(Alert).where(Alert.resolved_at.is_(None)).order_by(Alert.severity, Alert.opened_at))
    )


def open_alert_count(session: Session) -> int:
    """How many alerts are open (the admin badge)."""
    return int(session.scalar(select(func.count()).select_from(Alert).where(Alert.resolved_at.is_(None))) or 0)


def recent_alerts(session: Session, *, since: datetime, limit: int = 100) -> list[Alert]:
    """Alerts resolved since `since`, newest first."""
    return list(
        session.scalars(
            select(Alert)
            .where(Alert.resolved_at >= since)
            .order_by(Alert.resolved_at.desc(), Alert.id.desc())
            .limit(limit)
        )
    )


def apply_conditions(
    session: Session,
    *,
    conditions: Iterable[Condition],
    checked_kinds: Collection[str],
    now: datetime,
    resolve_after: timedelta,
) -> Changes:
    """Open an alert for each condition without one, refresh the open ones found again, and resolve
    those of a checked kind clear for `resolve_after` (a kind whose check could not run keeps its alerts)."""
    current = {alert.key: alert for alert in open_alerts(session)}
    changes, found = Changes(), set()
    for condition in conditions:
        if condition.key in found:
            continue
        found.add(condition.key)
        alert = current.get(condition.key)
        if alert is None:
            alert = Alert(key=condition.key[:200], kind=condition.kind, opened_at=now)
            session.add(alert)
            changes.opened.append(alert)
        alert.severity, alert.summary = condition.severity, condition.summary[:500]
        alert.details, alert.last_seen_at = dict(condition.details), now
    for key, alert in current.items():
        if key not in found and alert.kind in checked_kinds and now - alert.last_seen_at >= resolve_after:
            alert.resolved_at = now
            changes.resolved.append(alert)
    session.flush()
    return changes


def alert_destinations(session: Session, *, digest: bool) -> list[Destination]:
    """Destinations marked for alerts, one message per alert (digest False) or a daily digest (True).

    `active` is not asked: it says whether a destination receives leads, so an inactive one can be an
    alerts-only channel."""
    return list(
        session.scalars(
            select(Destination)
            .where(
                Destination.alerts.is_(True),
                Destination.alert_digest.is_(digest),
                Destination.kind.in_(ALERT_KINDS),
            )
            .order_by(Destination.id)
        )
    )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.replace(microsecond=0).isoformat() + "Z"


def alert_view(alert: Alert) -> dict[str, Any]:
    """An alert as a notice carries it."""
    return {
        "id": alert.id,
        "key": alert.key,
        "kind": alert.kind,
        "severity": alert.severity,
        "summary": alert.summary,
        "details": dict(alert.details or {}),
        "opened_at": _iso(alert.opened_at),
        "resolved_at": _iso(alert.resolved_at),
    }


def alert_payload(alert: Alert, event: str, *, admin_url: str) -> dict[str, Any]:
    """What one alert event sends: webhooks get it as JSON, e-mail and Slack as text."""
    return {"type": event, "alert": alert_view(alert), "admin_url": admin_url}


def _notice(
    destination: Destination, *, event: str, key: str, payload: dict[str, Any], alert: Alert | None
) -> AlertNotice:
    return AlertNotice(
        destination_id=destination.id,
        alert_id=alert.id if alert is not None else None,
        event=event,
        idempotency_key=key,
        payload=payload,
        status=DeliveryStatus.PENDING,
    )


def queue_notices(session: Session, *, changes: Changes, admin_url: str, now: datetime) -> list[AlertNotice]:
    """A notice per opened alert for each per-alert destination (setting `notified_at`), and per
    resolved alert for each destination that was told it opened and still takes alerts."""
    destinations = alert_destinations(session, digest=False)
    notices: list[AlertNotice] = []
    for alert in changes.opened:
        payload = alert_payload(alert, AlertEvent.OPENED, admin_url=admin_url)
        for destination in destinations:
            key = f"alert-{alert.id}-opened-{destination.id}"
            notices.append(_notice(destination, event=AlertEvent.OPENED, key=key, payload=payload, alert=alert))
        alert.notified_at = now if destinations else None
    for alert in changes.resolved:
        told = set(
            session.scalars(
                select(AlertNotice.destination_id).where(
                    AlertNotice.alert_id == alert.id, AlertNotice.event == AlertEvent.OPENED
                )
            )
        )
        payload = alert_payload(alert, AlertEvent.RESOLVED, admin_url=admin_url)
        for destination in destinations:
            if destination.id in told:
                key = f"alert-{alert.id}-resolved-{destination.id}"
                notices.append(_notice(destination, event=AlertEvent.RESOLVED, key=key, payload=payload, alert=alert))
    session.add_all(notices)
    session.flush()
    return notices


def digest_window(now: datetime, *, hour: int, time_zone: str) -> tuple[datetime, datetime, str]:
    """The last digest period that has ended by `now` (naive UTC): (start, end) in naive UTC and the local
    date it ends on. It ends at `hour`:00 in `time_zone` and starts a day earlier at the same local hour
    (23 or 25 hours across a daylight-saving change)."""
    zone = ZoneInfo(time_zone)
    local = now.replace(tzinfo=UTC).astimezone(zone)
    day = local.date() if local.hour >= hour else local.date() - timedelta(days=1)
    end = datetime.combine(day, time(hour), tzinfo=zone)
    start = datetime.combine(day - timedelta(days=1), time(hour), tzinfo=zone)
    return (
        start.astimezone(UTC).replace(tzinfo=None),
        end.astimezone(UTC).replace(tzinfo=None),
        day.isoformat(),
    )


def digest_payload(session: Session, *, start: datetime, end: datetime, admin_url: str) -> dict[str, Any] | None:
    """What opened and what resolved in [start, end), and what was already open before and still is;
    None when all three are empty (no message on a quiet day)."""
    in_period = select(Alert).where(
        or_(
            (Alert.opened_at >= start) & (Alert.opened_at < end),
            (Alert.resolved_at >= start) & (Alert.resolved_at < end),
            (Alert.opened_at < start) & (or_(Alert.resolved_at.is_(None), Alert.resolved_at >= end)),
        )
    )
    alerts = list(session.scalars(in_period.order_by(Alert.opened_at, Alert.id)))
    opened = [a for a in alerts if start <= a.opened_at < end]
    resolved = [a for a in alerts if a.resolved_at is not None and start <= a.resolved_at < end]
    still_open = [a for a in alerts if a.opened_at < start and (a.resolved_at is None or a.resolved_at >= end)]
    if not (opened or resolved or still_open):
        return None
    view = lambda rows: [alert_view(a) for a in rows]  # noqa: E731
    return {
        "type": AlertEvent.DIGEST,
        "period": {"from": _iso(start), "to": _iso(end)},
        "opened": view(opened),
        "resolved": view(resolved),
        "still_open": view(still_open),
        "admin_url": admin_url,
    }


def queue_digests(session: Session, *, now: datetime, hour: int, time_zone: str, admin_url: str) -> list[AlertNotice]:
    """Once the day's digest hour has passed, one digest notice per digest destination that has not had
    that day's (the unique idempotency key makes it once a day, whichever runner gets there first)."""
    destinations = alert_destinations(session, digest=True)
    if not destinations:
        return []
    start, end, day = digest_window(now, hour=hour, time_zone=time_zone)
    keys = {destination.id: f"alert-digest-{destination.id}-{day}" for destination in destinations}
    done = set(
        session.scalars(select(AlertNotice.idempotency_key).where(AlertNotice.idempotency_key.in_(keys.values())))
    )
    todo = [destination for destination in destinations if keys[destination.id] not in done]
    if not todo:
        return []
    payload = digest_payload(session, start=start, end=end, admin_url=admin_url)
    if payload is None:
        return []
    notices = [
        _notice(destination, event=AlertEvent.DIGEST, key=keys[destination.id], payload=payload, alert=None)
        for destination in todo
    ]
    session.add_all(notices)
    session.flush()
    return notices


def notices_of(session: Session, alert_ids: Sequence[int]) -> dict[int, list[AlertNotice]]:
    """Each alert's notices, oldest first (the alerts page shows where each went and how it fared)."""
    found: dict[int, list[AlertNotice]] = {}
    if not alert_ids:
        return found
    for notice in session.scalars(
        select(AlertNotice).where(AlertNotice.alert_id.in_(alert_ids)).order_by(AlertNotice.id)
    ):
        found.setdefault(notice.alert_id or 0, []).append(notice)
    return found
