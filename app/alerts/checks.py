"""The conditions that need a person, each found by one small check.

A check reads the database or Redis and returns the conditions that hold now. A condition's key names
it (`deliveries.dead:3` is destination 3's dead deliveries; the part before the colon is its kind): one
alert stays open per key while the condition holds. Checks never write; `app.alerts.service` opens and
resolves alerts from what they return. Adding a condition is one function and one line in CHECKS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.utils import utcparse
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.capture.signals import origin_allowed
from app.models import Delivery, Destination, Form, Submission
from app.runtime.queues import QUEUE_NAMES, WORKER_SILENT_SECONDS, WORKERS_KEY
from app.screening_context import dns_health
from app.statuses import DeliveryStatus, Verdict
from screening.model import Words

# Rejections in the last hour are compared with the hourly average of this many hours before it.
SPIKE_BASELINE_HOURS = 7 * 24


class Severity(Words):
    """How urgently a person is needed: critical (leads are not flowing) or warning (look today)."""

    CRITICAL = "critical"
    WARNING = "warning"


@dataclass(frozen=True)
class Thresholds:
    """The limits the checks apply (ALERT_* settings)."""

    queue_age_hours: float = 24.0
    dns_down_minutes: float = 5.0
    workers_gone_minutes: float = 5.0
    foreign_origin_hours: float = 24.0
    foreign_origin_min: int = 1
    rejection_spike_factor: float = 3.0
    rejection_spike_min: int = 20

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Thresholds:
        """From the app's settings."""
        return cls(
            queue_age_hours=config["ALERT_QUEUE_AGE_HOURS"],
            dns_down_minutes=config["ALERT_DNS_DOWN_MINUTES"],
            workers_gone_minutes=config["ALERT_WORKERS_GONE_MINUTES"],
            foreign_origin_hours=config["ALERT_FOREIGN_ORIGIN_HOURS"],
            foreign_origin_min=config["ALERT_FOREIGN_ORIGIN_MIN"],
            rejection_spike_factor=config["ALERT_REJECTION_SPIKE_FACTOR"],
            rejection_spike_min=config["ALERT_REJECTION_SPIKE_MIN"],
        )


@dataclass(frozen=True)
class Condition:
    """Something that needs a person, as one check sees it now."""

    key: str
    severity: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The check that found it: the key up to its first colon."""
        return self.key.split(":", 1)[0]


Check = Callable[[Session, Redis, Thresholds, datetime], list[Condition]]


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _duration(delta: timedelta) -> str:
    """'45 min', '3.5 h', '2.1 days'."""
    minutes = delta.total_seconds() / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


# --- the checks ---------------------------------------------------------------------------------------


def dead_deliveries(session: Session, redis: Redis, limits: Thresholds, now: datetime) -> list[Condition]:
    """Deliveries out of retries (`dead`), one condition per active destination: its leads are not
    arriving, and only a person can fix the receiver and replay them (which clears the condition)."""
    rows = session.execute(
        select(Destination.id, Destination.name, func.count(Delivery.id), func.max(Delivery.id))
        .join(Delivery, Delivery.destination_id == Destination.id)
        .where(Delivery.status == DeliveryStatus.DEAD, Destination.active.is_(True))
        .group_by(Destination.id, Destination.name)
        .order_by(Destination.id)
    ).all()
    latest = dict(
        session.execute(select(Delivery.id, Delivery.last_error).where(Delivery.id.in_([row[3] for row in rows]))).all()
    )
    return [
        Condition(
            key=f"deliveries.dead:{destination_id}",
            severity=Severity.CRITICAL,
            summary=f"{_plural(count, 'delivery', 'deliveries')} to “{name}” ran out of retries (dead): "
            "fix the receiver, then replay them",
            details={
                "destination_id": destination_id,
                "destination": name,
                "dead": count,
                "latest_delivery_id": latest_id,
                "latest_error": (latest.get(latest_id) or "")[:300],
            },
        )
        for destination_id, name, count, latest_id in rows
    ]


def queue_age(session: Session, redis: Redis, limits: Thresholds, now: datetime) -> list[Condition]:
    """The screening queue's oldest held submission has waited longer than ALERT_QUEUE_AGE_HOURS: a
    person who asked for something is still waiting for a reviewer."""
    held, oldest = session.execute(
        select(func.count(), func.min(Submission.received_at)).where(Submission.verdict == Verdict.HELD)
    ).one()
    if oldest is None or now - oldest <= timedelta(hours=limits.queue_age_hours):
        return []
    return [
        Condition(
            key="screening.queue_age",
            severity=Severity.WARNING,
            summary=f"{_plural(held, 'held submission waits', 'held submissions wait')} for review; "
            f"the oldest for {_duration(now - oldest)} (limit {limits.queue_age_hours:g} h)",
            details={"held": held, "oldest_received_at": _iso(oldest), "limit_hours": limits.queue_age_hours},
        )
    ]


def dns_unavailable(session: Session, redis: Redis, limits: Thresholds, now: datetime) -> list[Condition]:
    """The DNS canary the workers probe on each sweep turn has failed for ALERT_DNS_DOWN_MINUTES: every
    submission is being held as `dns.unknown`. Raises RedisError when Redis cannot say (no verdict)."""
    redis.ping()  # `dns_health.read` answers None for an unreachable Redis; that must not resolve the alert
    health = dns_health.read(redis)
    if health is None or health.ok:
        return []
    down_for = timedelta(seconds=max(0.0, now.replace(tzinfo=UTC).timestamp() - health.since))
    if down_for < timedelta(minutes=limits.dns_down_minutes):
        return []
    return [
        Condition(
            key="dns.unavailable",
            severity=Severity.CRITICAL,
            summary=f"DNS unavailable for {_duration(down_for)}: submissions are held (dns.unknown) "
            "and screened again automatically when it answers",
            details={
                "why": health.why[:300],
                "since": _iso(datetime.fromtimestamp(health.since, UTC).replace(tzinfo=None)),
            },
        )
    ]


def _served_queues(redis: Redis, now: datetime) -> set[str]:
    """Queues some worker listens on and heartbeat for within WORKER_SILENT_SECONDS (read, never pruned)."""
    keys = sorted(redis.smembers(WORKERS_KEY))
    if not keys:
        return set()
    pipeline = redis.pipeline(transaction=False)
    for key in keys:
        pipeline.hmget(key, "queues", "last_heartbeat")
    served: set[str] = set()
    for queues, heartbeat in pipeline.execute():
        if not queues or not heartbeat:
            continue
        if (now - utcparse(heartbeat.decode()).replace(tzinfo=None)).total_seconds() > WORKER_SILENT_SECONDS:
            continue
        served.update(name for name in queues.decode().split(",") if name)
    return served


def workers_gone(session: Session, redis: Redis, limits: Thresholds, now: datetime) -> list[Condition]:
    """Jobs have waited ALERT_WORKERS_GONE_MINUTES in a queue no live worker serves: nothing is screened or
    delivered. (A worker running this check serves its queues, so this fires from `leadsieve sweep` run by
    cron or by hand, or for a queue the running workers leave out.)"""
    served = _served_queues(redis, now)
    stranded: dict[str, dict[str, Any]] = {}
    for name in QUEUE_NAMES:
        if name in served:
            continue
        queue = Queue(name, connection=redis)
        waiting = queue.count
        if not waiting:
            continue
        try:
            enqueued_at = Job.fetch(queue.get_job_ids(0, 1)[0], connection=redis).enqueued_at
        except (NoSuchJobError, IndexError):
            continue  # taken or expired since it was counted
        if enqueued_at is None:
            continue
        age = now - enqueued_at.replace(tzinfo=None)
        if age >= timedelta(minutes=limits.workers_gone_minutes):
            stranded[name] = {"waiting": waiting, "oldest_enqueued_at": _iso(enqueued_at.replace(tzinfo=None))}
    if not stranded:
        return []
    waiting = sum(queue["waiting"] for queue in stranded.values())
    oldest = min(datetime.fromisoformat(q["oldest_enqueued_at"].removesuffix("Z")) for q in stranded.values())
    return [
        Condition(
            key="workers.gone",
            severity=Severity.CRITICAL,
            summary=f"No live worker serves the {', '.join(stranded)} queue(s): "
            f"{_plural(waiting, 'job waits', 'jobs wait')}, the oldest for {_duration(now - oldest)}",
            details={"queues": stranded},
        )
    ]


def foreign_origins(session: Session, redis: Redis, limits: Thresholds, now: datetime) -> list[Condition]:
    """A form received posts from a site not on its allowed origins (capture stored `origin_allowed`
    False) within ALERT_FOREIGN_ORIGIN_HOURS: it was embedded somewhere new, or copied. Each origin is
    checked again against the form's list as it is now, so adding the site to the list clears it."""
    origin = Submission.signals["origin"].as_string()
    rows: Sequence[Any] = session.execute(
        select(Submission.form_id, origin, func.count(), func.max(Submission.id))
        .where(
            Submission.received_at >= now - timedelta(hours=limits.foreign_origin_hours),
            Submission.signals["origin_allowed"].as_boolean().is_(False),
        )
        .group_by(Submission.form_id, origin)
    ).all()
    forms = {form.id: form for form in session.scalars(select(Form).where(Form.id.in_({row[0] for row in rows})))}
    seen: dict[int, dict[str, int]] = {}
    latest: dict[int, int] = {}
    for form_id, site, count, last_id in rows:
        allowed = (forms[form_id].settings or {}).get("allowed_origins") or []
        if origin_allowed(site, allowed) is False:
            seen.setdefault(form_id, {})[site] = count
            latest[form_id] = max(latest.get(form_id, 0), last_id)
    conditions = []
    for form_id, sites in sorted(seen.items()):
        total = sum(sites.values())
        if total < limits.foreign_origin_min:
            continue
        form = forms[form_id]
        top = sorted(sites.items(), key=lambda item: (-item[1], item[0]))
        conditions.append(
            Condition(
                key=f"form.foreign_origin:{form_id}",
                severity=Severity.WARNING,
                summary=f"Form “{form.name}” received {_plural(total, 'post', 'posts')} from "
                f"{_plural(len(sites), 'site', 'sites')} not on its allowed origins "
                f"({', '.join(site for site, _ in top[:3])}{', …' if len(top) > 3 else ''}): add them to "
                "the form's list if they are yours",
                details={
                    "form_id": form_id,
                    "form": form.slug,
                    "posts": total,
                    "origins": dict(top[:20]),
                    "latest_submission_id": latest[form_id],
                    "window_hours": limits.foreign_origin_hours,
                },
            )
        )
    return conditions


def rejection_spike(session: Session, redis: Redis, limits: Thresholds, now: datetime) -> list[Condition]:
    """More rejections (by time received) in the last hour than ALERT_REJECTION_SPIKE_FACTOR times the
    hourly average of the week before, and at least ALERT_REJECTION_SPIKE_MIN: a spam wave, or a
    screening change rejecting real people."""
    hour_ago = now - timedelta(hours=1)
    start = hour_ago - timedelta(hours=SPIKE_BASELINE_HOURS)
    counts: Any = session.execute(
        select(
            func.coalesce(func.sum(case((Submission.received_at >= hour_ago, 1), else_=0)), 0),
            func.coalesce(func.sum(case((Submission.received_at < hour_ago, 1), else_=0)), 0),
        ).where(Submission.verdict == Verdict.REJECTED, Submission.received_at >= start, Submission.received_at <= now)
    ).one()
    last_hour, before = int(counts[0]), int(counts[1])
    average = before / SPIKE_BASELINE_HOURS
    if last_hour < limits.rejection_spike_min or last_hour <= limits.rejection_spike_factor * average:
        return []
    against = (
        f"{last_hour / average:.1f}× the hourly average of the week before ({average:.1f})"
        if average
        else ("none in the week before")
    )
    return [
        Condition(
            key="screening.rejection_spike",
            severity=Severity.WARNING,
            summary=f"{_plural(last_hour, 'rejection', 'rejections')} in the last hour, {against}: "
            "a spam wave, or screening rejecting real people",
            details={
                "last_hour": last_hour,
                "hourly_average": round(average, 2),
                "factor": limits.rejection_spike_factor,
                "min": limits.rejection_spike_min,
            },
        )
    ]


# Kind -> check. The kind is what a check's condition keys start with; an open alert of a kind whose check
# could not run this turn (Redis away) is left as it is, never resolved for lack of an answer.
CHECKS: dict[str, Check] = {
    "deliveries.dead": dead_deliveries,
    "screening.queue_age": queue_age,
    "dns.unavailable": dns_unavailable,
    "workers.gone": workers_gone,
    "form.foreign_origin": foreign_origins,
    "screening.rejection_spike": rejection_spike,
}
