"""Rollups: submissions counted per time bucket, form and utm source, so the dashboard and /metrics read
a few rows per day instead of every submission of the period.

A rollup row counts the submissions received in its bucket through that form with that utm source: all
of them, those not screened yet, by verdict, by reason while not accepted (a released submission no
longer counts as spam), and the new leads among them (a lead counts once, on its first accepted
submission) with how far each got: MQL or beyond, SQL or beyond, won; and what each ever reached and
what sales ever said of it (the loop: app/reporting/loop.py). Buckets are hours for yesterday
and today, where screenings and decisions keep changing counts, and whole days (UTC) before that: the
sweep turn recomputes a bucket from its own rows, so an hour keeps that cheap however busy a day is, and
a day keeps the rows a 30-day dashboard reads few. Hours are folded into their day once it is two days
old.

The worker keeps them current in its sweep turn (`refresh`, a minute apart by default): it recomputes,
from that bucket's submissions only (an indexed range), each bucket in which something changed since
the previous turn: new submissions, screenings, decisions and re-screens (their audit events; an
accepted one that became its lead's first also changes the bucket of the lead's former first), leads
whose stage changed (`stage_changes`) or that sales reported on (the lead's audit events), purges of old
rejects. Recomputing a bucket from its rows, rather than adding and subtracting one, cannot drift,
whoever wrote the rows. Rows written behind the application's back (an import into old days) need
`rebuild`.

Deliveries and delivery attempts are counted per day the same way (`delivery_rollups`,
`delivery_attempt_rollups`): both only grow, so the days of new rows are all that changes.

Readers (`counts`, `deliveries`, `attempts`) take the rows up to `covered_until` and count what came
since then live, so what was just captured shows at once; a decision about an older submission shows
after the next sweep turn. Before the first turn, everything is counted live.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, case, delete, exists, func, insert, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from app.db import rowcount
from app.models import (
    AuditEvent,
    Delivery,
    DeliveryAttempt,
    DeliveryAttemptRollup,
    DeliveryRollup,
    Lead,
    LeadFeedback,
    RollupState,
    StageChange,
    Submission,
    SubmissionRollup,
    utcnow,
)
from app.statuses import FeedbackOutcome, Stage, SubmissionStatus, Verdict
from screening.scoring import stage_rank

# The reasons counted per row (the dashboard's screening rates). Counted only while not accepted.
CATEGORIES = ("spam", "competitor", "student", "invalid")
# A capture's `received_at` is taken a moment before its commit: the newest seconds stay live.
SETTLE = timedelta(seconds=5)
# Changes are looked for from this long before the previous turn, so one committed just after that turn
# read (a screening job that took a while, a slow decision) is still seen.
OVERLAP = timedelta(minutes=10)
# At most this many days are recomputed by one query.
CHUNK_DAYS = 31
# The purge's audit action (app/privacy/erasure.py): the days before its cutoff lost rejected submissions.
PURGED = "privacy.purged"
STATE_ID = 1
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# A lead "reached MQL" (or SQL) at that stage or any later one on the funnel's order (SAL, opportunity,
# customer); the side states (recycled, disqualified) count in neither.
AT_LEAST_MQL = tuple(s for s in Stage if stage_rank(s) >= stage_rank(Stage.MQL))
AT_LEAST_SQL = tuple(s for s in Stage if stage_rank(s) >= stage_rank(Stage.SQL))
# The loop: what sales said at least once about a lead. Accepting outcomes imply the hand-off was taken
# (a meeting or a win without an explicit "accepted" counts); rejections are counted per reason, spam too.
ACCEPTING = (FeedbackOutcome.ACCEPTED, FeedbackOutcome.MEETING_HELD, FeedbackOutcome.WON)
REASONS = (
    FeedbackOutcome.NOT_A_FIT,
    FeedbackOutcome.BAD_TIMING,
    FeedbackOutcome.NO_BUDGET,
    FeedbackOutcome.DUPLICATE,
    FeedbackOutcome.ALREADY_CUSTOMER,
    FeedbackOutcome.SPAM,
)


@dataclass(frozen=True)
class Counts:
    """The measures of one group of submissions (see the module docstring)."""

    submissions: int = 0
    received: int = 0
    accepted: int = 0
    held: int = 0
    rejected: int = 0
    spam: int = 0
    competitor: int = 0
    student: int = 0
    invalid: int = 0
    leads: int = 0
    mql: int = 0
    sql: int = 0
    won: int = 0
    reached_mql: int = 0
    reached_sql: int = 0
    sales_accepted: int = 0
    sales_rejected: int = 0
    sales_won: int = 0
    rejected_not_a_fit: int = 0
    rejected_bad_timing: int = 0
    rejected_no_budget: int = 0
    rejected_duplicate: int = 0
    rejected_already_customer: int = 0
    rejected_spam: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, m) + getattr(other, m) for m in MEASURES))

    def category(self, name: str) -> int:
        """Submissions not accepted with this reason."""
        return int(getattr(self, name)) if name in CATEGORIES else 0


MEASURES = tuple(f.name for f in fields(Counts))
GROUPS = ("day", "form_id", "utm_source")


# Sales' outcomes as bits, so one correlated subquery per submission says which a lead ever got.
OUTCOME_BITS: dict[str, int] = {str(outcome): 1 << i for i, outcome in enumerate(FeedbackOutcome)}


def _mask(outcomes: Sequence[str]) -> int:
    mask = 0
    for outcome in outcomes:
        mask |= OUTCOME_BITS[outcome]
    return mask


def _per_submission(by: Sequence[str], start: datetime | None, end: datetime | None) -> Any:
    """One row per submission received in [start, end): its groups and what the measures need of it, each
    lookup done once: whether it counts its lead (the lead's first accepted submission), the lead's stage
    and outcome now, the highest stage it ever reached and which outcomes sales ever reported (only for
    accepted submissions of a lead: a correlated subquery each, by the lead's index)."""
    accepted = Submission.verdict == Verdict.ACCEPTED
    on_lead = and_(accepted, Submission.lead_id.is_not(None))
    earlier = aliased(Submission)
    new_lead = and_(
        on_lead,
        ~exists().where(
            earlier.lead_id == Submission.lead_id,
            earlier.verdict == Verdict.ACCEPTED,
            or_(
                earlier.received_at < Submission.received_at,
                and_(earlier.received_at == Submission.received_at, earlier.id < Submission.id),
            ),
        ),
    )
    ranked = [(StageChange.to_stage == s, stage_rank(s)) for s in Stage if stage_rank(s) >= 0]
    reached = (
        select(func.max(case(*ranked, else_=-1))).where(StageChange.lead_id == Submission.lead_id).scalar_subquery()
    )
    bits = [(LeadFeedback.outcome == o, bit) for o, bit in OUTCOME_BITS.items()]
    told = (
        select(func.coalesce(func.sum(case(*bits, else_=0).distinct()), 0))
        .where(LeadFeedback.lead_id == Submission.lead_id)
        .scalar_subquery()
    )
    query = (
        select(
            *(column.label(f"g_{name}") for name, column in zip(by, _live_groups(by), strict=True)),
            Submission.id,
            Submission.status,
            Submission.verdict,
            Submission.reason_category,
            case((new_lead, 1), else_=0).label("new"),
            Lead.stage,
            Lead.outcome,
            case((on_lead, reached), else_=-1).label("reached"),
            case((on_lead, told), else_=0).label("told"),
        )
        .select_from(Submission)
        .outerjoin(Lead, Lead.id == Submission.lead_id)
    )
    if start is not None:
        query = query.where(Submission.received_at >= start)
    if end is not None:
        query = query.where(Submission.received_at < end)
    # OFFSET 0 keeps PostgreSQL from pulling the rows up into the aggregates, which would repeat each
    # lookup once per measure that reads it.
    return query.offset(0).subquery()


def _live_measures(r: Any) -> list[ColumnElement[Any]]:
    """The measures as aggregates over `_per_submission` rows, in MEASURES order."""
    accepted = r.c.verdict == Verdict.ACCEPTED
    new = r.c.new == 1

    def number(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    def reached(stage: str) -> ColumnElement[Any]:
        return number(and_(new, r.c.reached >= stage_rank(stage)))

    def told(outcomes: Sequence[str]) -> ColumnElement[Any]:
        return number(and_(new, r.c.told.op("&")(_mask(outcomes)) != 0))

    return [
        func.count(r.c.id),
        number(r.c.status == SubmissionStatus.RECEIVED),
        number(accepted),
        number(r.c.verdict == Verdict.HELD),
        number(r.c.verdict == Verdict.REJECTED),
        *(number(and_(r.c.reason_category == c, r.c.verdict != Verdict.ACCEPTED)) for c in CATEGORIES),
        number(new),
        number(and_(new, r.c.stage.in_(AT_LEAST_MQL))),
        number(and_(new, r.c.stage.in_(AT_LEAST_SQL))),
        number(and_(new, r.c.outcome == FeedbackOutcome.WON)),
        reached(Stage.MQL),
        reached(Stage.SQL),
        told(ACCEPTING),
        told(REASONS),
        told((FeedbackOutcome.WON,)),
        *(told((reason,)) for reason in REASONS),
    ]


def _day_of(value: Any) -> date:
    """A grouped day as a date: PostgreSQL gives one, SQLite's date() gives 'YYYY-MM-DD'."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _live_groups(by: Sequence[str]) -> list[Any]:
    columns: dict[str, Any] = {
        "day": func.date(Submission.received_at),
        "form_id": Submission.form_id,
        "utm_source": Submission.utm_source,
    }
    return [columns[name] for name in by]


def _key(by: Sequence[str], values: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(_day_of(v) if name == "day" else v for name, v in zip(by, values, strict=True))


def _without_jit(session: Session) -> None:
    """JIT compiling these statements' many CASEs and sums takes PostgreSQL seconds, far longer than running
    them (measured: 26-38 s against 0.8-1 s for a live count of 10,000 submissions); off until the caller's
    commit."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def _live(session: Session, by: Sequence[str], start: datetime | None, end: datetime | None) -> Iterator[Any]:
    """Grouped measures counted from `submissions` received in [start, end)."""
    _without_jit(session)
    rows = _per_submission(by, start, end)
    groups = [rows.c[f"g_{name}"] for name in by]
    query = select(*groups, *_live_measures(rows))
    if groups:
        query = query.group_by(*groups)
    for row in session.execute(query):
        yield _key(by, row[: len(by)]), Counts(*(int(v or 0) for v in row[len(by) :]))


def covered_until(session: Session) -> datetime | None:
    """Up to when the rollups count (None: never refreshed, count live)."""
    return session.scalar(select(RollupState.covered_until).where(RollupState.id == STATE_ID))


def counts(
    session: Session, *, by: Sequence[str], start: datetime | None = None, end: datetime | None = None
) -> dict[tuple[Any, ...], Counts]:
    """Measures per group (`by`: any of day, form_id, utm_source) for submissions received in [start, end)
    (both at midnight, or None for no bound): rollup rows up to `covered_until`, the rest counted live."""
    unknown = set(by) - set(GROUPS)
    if unknown:
        raise ValueError(f"cannot group by {', '.join(sorted(unknown))}")
    found: dict[tuple[Any, ...], Counts] = {}
    _without_jit(session)  # the rollup rows' sums too

    def add(rows: Iterable[tuple[tuple[Any, ...], Counts]]) -> None:
        for key, value in rows:
            found[key] = found[key] + value if key in found else value

    until = covered_until(session)
    if until is not None and (start is None or start < until):
        stored = {
            "day": func.date(SubmissionRollup.starts_at),
            "form_id": SubmissionRollup.form_id,
            "utm_source": SubmissionRollup.utm_source,
        }
        columns = [stored[name] for name in by]
        query = select(*columns, *(func.coalesce(func.sum(getattr(SubmissionRollup, m)), 0) for m in MEASURES))
        if start is not None:
            query = query.where(SubmissionRollup.starts_at >= start)
        if end is not None:
            query = query.where(SubmissionRollup.starts_at < end)
        if columns:
            query = query.group_by(*columns)
        add(
            (_key(by, row[: len(by)]), Counts(*(int(v or 0) for v in row[len(by) :])))
            for row in session.execute(query)
            if columns or row[len(by)]  # an aggregate over no rows is one row of zeros
        )
    live_start = until if until is not None and (start is None or until > start) else start
    if end is None or live_start is None or live_start < end:
        add((key, value) for key, value in _live(session, by, live_start, end) if value.submissions)
    return found


# --- refresh (the worker's sweep turn) ---------------------------------------------------------------


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min)


def _days(first: date, last: date) -> set[date]:
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


def _runs(days: Iterable[date]) -> Iterator[tuple[date, date]]:
    """Consecutive days as (first, last) runs of at most CHUNK_DAYS."""
    run: list[date] = []
    for day in sorted(set(days)):
        if run and (day - run[-1] != timedelta(days=1) or len(run) >= CHUNK_DAYS):
            yield run[0], run[-1]
            run = []
        run.append(day)
    if run:
        yield run[0], run[-1]


def _first_accepted(session: Session, lead_ids: Iterable[int]) -> set[datetime]:
    """When each lead's first accepted submission was received (the bucket that counts the lead)."""
    ids = sorted(set(lead_ids))
    found: set[datetime] = set()
    for i in range(0, len(ids), 500):
        found.update(
            first
            for first in session.scalars(
                select(func.min(Submission.received_at))
                .where(Submission.lead_id.in_(ids[i : i + 500]), Submission.verdict == Verdict.ACCEPTED)
                .group_by(Submission.lead_id)
            )
            if first is not None
        )
    return found


def _displaced(session: Session, touched: dict[int, int]) -> set[datetime]:
    """For accepted submissions ({id: lead id}) that are now their lead's first accepted one: when the
    lead's second was received, which may have counted the lead until now (an older held submission
    approved later)."""
    leads = sorted(set(touched.values()))
    found: set[datetime] = set()
    for i in range(0, len(leads), 500):
        ranked = (
            select(
                Submission.lead_id,
                Submission.id,
                Submission.received_at,
                func.row_number()
                .over(partition_by=Submission.lead_id, order_by=(Submission.received_at, Submission.id))
                .label("rank"),
            )
            .where(Submission.lead_id.in_(leads[i : i + 500]), Submission.verdict == Verdict.ACCEPTED)
            .subquery()
        )
        firsts: dict[int, int] = {}
        seconds: dict[int, datetime] = {}
        rows: Sequence[Any] = session.execute(
            select(ranked.c.lead_id, ranked.c.id, ranked.c.received_at, ranked.c.rank).where(ranked.c.rank <= 2)
        ).all()
        for lead_id, submission_id, received_at, rank in rows:
            if rank == 1:
                firsts[int(lead_id)] = int(submission_id)
            else:
                seconds[int(lead_id)] = received_at
        found.update(
            seconds[lead_id]
            for submission_id, lead_id in touched.items()
            if firsts.get(lead_id) == submission_id and lead_id in seconds
        )
    return found


def changed(session: Session, *, since: datetime) -> set[datetime]:
    """When the submissions whose counts may have changed since `since` were received (see the module
    docstring); new ones are the caller's, as a time range."""
    touched: Sequence[Any] = session.execute(
        select(Submission.received_at, Submission.id, Submission.lead_id, Submission.verdict)
        .join(AuditEvent, AuditEvent.subject_id == Submission.id)
        .where(AuditEvent.at >= since, AuditEvent.subject_type == "submission")
        .distinct()
    ).all()
    found: set[datetime] = {received_at for received_at, *_ in touched}
    found.update(
        _displaced(
            session,
            {int(i): int(lead) for _, i, lead, verdict in touched if lead is not None and verdict == Verdict.ACCEPTED},
        )
    )
    lead_ids = set(session.scalars(select(StageChange.lead_id).where(StageChange.at >= since)))
    lead_ids.update(
        int(subject_id)
        for subject_id in session.scalars(
            select(AuditEvent.subject_id).where(AuditEvent.at >= since, AuditEvent.subject_type == "lead")
        )
        if subject_id is not None
    )
    found.update(_first_accepted(session, lead_ids))
    purges: Sequence[dict[str, Any]] = session.scalars(
        select(AuditEvent.details).where(AuditEvent.at >= since, AuditEvent.action == PURGED)
    ).all()
    for details in purges:
        try:
            cutoff = datetime.fromisoformat(str(details.get("cutoff")))
        except (AttributeError, ValueError):
            cutoff = utcnow()
        found.update(
            session.scalars(
                select(SubmissionRollup.starts_at)
                .where(SubmissionRollup.starts_at <= cutoff, SubmissionRollup.rejected > 0)
                .distinct()
            )
        )
    return found


def hourly_from(until: datetime) -> datetime:
    """Buckets are hours from here (yesterday's midnight) on, days before."""
    return _midnight(until.date() - timedelta(days=1))


def bucket(moment: datetime, *, until: datetime) -> datetime:
    """The start of the bucket `moment` falls in: its hour from `hourly_from(until)` on, else its day."""
    if moment >= hourly_from(until):
        return moment.replace(minute=0, second=0, microsecond=0)
    return _midnight(moment.date())


def _buckets(first: datetime, until: datetime) -> set[datetime]:
    """Every bucket from the one holding `first` to the one holding `until`."""
    found, start = set(), bucket(first, until=until)
    while start < until:
        found.add(start)
        start += HOUR if start >= hourly_from(until) else DAY
    return found


def _first_day(session: Session, column: Any, until: datetime) -> set[date]:
    """Every day from the first row's (by `column`) to `until`: a first build counts them all."""
    first = session.scalar(select(func.min(column)).where(column < until))
    return _days(first.date(), until.date()) if first is not None else set()


def recompute(session: Session, starts: Iterable[datetime], *, until: datetime) -> int:
    """Replace the submission rows of these buckets (their starts) with counts of their submissions
    received before `until`; a day bucket also replaces the hours of that day. Returns how many buckets."""
    table = cast(Table, SubmissionRollup.__table__)
    hourly = hourly_from(until)
    starts = sorted(set(starts))
    days = [s.date() for s in starts if s < hourly]
    for first, last in _runs(days):  # whole days: consecutive ones in one grouped query
        end = min(_midnight(last + timedelta(days=1)), until)
        rows = [
            {"starts_at": _midnight(day), "hours": 24, "form_id": form_id, "utm_source": source or "", **vars(value)}
            for (day, form_id, source), value in _live(session, GROUPS, _midnight(first), end)
        ]
        session.execute(
            delete(SubmissionRollup).where(
                SubmissionRollup.starts_at >= _midnight(first), SubmissionRollup.starts_at < end
            )
        )
        if rows:
            session.execute(insert(table), rows)
    for start in (s for s in starts if s >= hourly):
        end = min(start + HOUR, until)
        rows = [
            {"starts_at": start, "hours": 1, "form_id": form_id, "utm_source": source or "", **vars(value)}
            for (form_id, source), value in _live(session, ("form_id", "utm_source"), start, end)
        ]
        session.execute(delete(SubmissionRollup).where(SubmissionRollup.starts_at == start))
        if rows:
            session.execute(insert(table), rows)
    return len(starts)


def _to_fold(previous: datetime, until: datetime) -> set[datetime]:
    """The days that were hourly at the previous turn and are old enough now: each becomes one bucket."""
    return {
        _midnight(day)
        for day in _days(hourly_from(previous).date(), hourly_from(until).date())
        if _midnight(day) < hourly_from(until)
    }


# --- deliveries and attempts: logs that only grow, counted per day --------------------------------


@dataclass(frozen=True)
class _Log:
    """A table counted per day of `time`, grouped by `keys` ((rollup column, expression) pairs)."""

    rollup: Any
    time: Any
    keys: tuple[tuple[str, Any], ...]
    count: str

    def grouped(self, session: Session, start: datetime | None, end: datetime | None, *, by_day: bool) -> Any:
        day = [func.date(self.time)] if by_day else []
        keys = [expression for _, expression in self.keys]
        query = select(*day, *keys, func.count()).select_from(self.time.class_)
        if start is not None:
            query = query.where(self.time >= start)
        if end is not None:
            query = query.where(self.time < end)
        if day or keys:
            query = query.group_by(*day, *keys)
        return session.execute(query)

    def recompute(self, session: Session, days: Iterable[date], *, until: datetime) -> None:
        table = cast(Table, self.rollup.__table__)
        for first, last in _runs(days):
            end = min(_midnight(last + timedelta(days=1)), until)
            rows = [
                {
                    "day": _day_of(row[0]),
                    **dict(zip((k for k, _ in self.keys), row[1:-1], strict=True)),
                    self.count: row[-1],
                }
                for row in self.grouped(session, _midnight(first), end, by_day=True)
            ]
            session.execute(delete(self.rollup).where(self.rollup.day >= first, self.rollup.day <= last))
            if rows:
                session.execute(insert(table), rows)

    def totals(self, session: Session) -> dict[tuple[Any, ...], int]:
        """Counts per key, all time: the rollup rows, then the rows since `covered_until` live."""
        until = covered_until(session)
        found: dict[tuple[Any, ...], int] = {}
        if until is not None:
            columns = [getattr(self.rollup, k) for k, _ in self.keys]
            query = select(*columns, func.coalesce(func.sum(getattr(self.rollup, self.count)), 0))
            if columns:
                query = query.group_by(*columns)
            for row in session.execute(query):
                if columns or row[-1]:
                    found[tuple(row[:-1])] = found.get(tuple(row[:-1]), 0) + int(row[-1])
        for row in self.grouped(session, until, None, by_day=False):
            if row[-1]:
                found[tuple(row[:-1])] = found.get(tuple(row[:-1]), 0) + int(row[-1])
        return found


DELIVERIES = _Log(DeliveryRollup, Delivery.created_at, (), "deliveries")
ATTEMPTS = _Log(
    DeliveryAttemptRollup,
    DeliveryAttempt.at,
    (("ok", DeliveryAttempt.ok), ("status_code", func.coalesce(DeliveryAttempt.status_code, 0))),
    "attempts",
)


def deliveries(session: Session) -> int:
    """All deliveries ever created (less any purged)."""
    return sum(DELIVERIES.totals(session).values())


def attempts(session: Session) -> dict[tuple[bool, int | None], int]:
    """Delivery attempts per (ok, status code or None), all time."""
    found: dict[tuple[bool, int | None], int] = {}
    for (ok, code), count in ATTEMPTS.totals(session).items():
        key = (bool(ok), int(code) or None)
        found[key] = found.get(key, 0) + count
    return found


# --- refresh (the worker's sweep turn) ---------------------------------------------------------------


def refresh(session: Session, *, now: datetime | None = None) -> int:
    """Bring the rollups up to date (the first time: all of them); returns how many submission buckets
    were recomputed.

    One refresh at a time: the state row is updated first, which holds its lock (PostgreSQL) or the
    database's write lock (SQLite) until the caller commits. Flushes only; the caller commits."""
    now = now or utcnow()
    until = now - SETTLE
    locked = rowcount(session.execute(update(RollupState).where(RollupState.id == STATE_ID).values(refreshed_at=now)))
    if not locked:
        session.add(RollupState(id=STATE_ID, covered_until=until, refreshed_at=now))
        session.flush()
        first = session.scalar(select(func.min(Submission.received_at)).where(Submission.received_at < until))
        starts = _buckets(first, until) if first is not None else set()
        logs = {log: _first_day(session, log.time, until) for log in (DELIVERIES, ATTEMPTS)}
    else:
        previous = session.scalar(select(RollupState.covered_until).where(RollupState.id == STATE_ID))
        assert previous is not None
        since = min(previous, until) - OVERLAP
        starts = _buckets(since, until)  # new submissions
        starts.update(bucket(moment, until=until) for moment in changed(session, since=since) if moment < until)
        starts.update(_to_fold(previous, until))
        new_days = {day for day in _days(since.date(), until.date()) if _midnight(day) < until}
        logs = {DELIVERIES: new_days, ATTEMPTS: new_days}
        session.execute(update(RollupState).where(RollupState.id == STATE_ID).values(covered_until=until))
    done = recompute(session, starts, until=until)
    for log, log_days in logs.items():
        log.recompute(session, log_days, until=until)
    session.flush()
    return done


def rebuild(session: Session, *, now: datetime | None = None) -> int:
    """Forget the rollups and count every day again (after rows were changed by hand). Flushes only."""
    for table in (RollupState, SubmissionRollup, DeliveryRollup, DeliveryAttemptRollup):
        session.execute(delete(table))
    return refresh(session, now=now)
