"""RQ job functions. They take ids, run inside the worker's app context, and are idempotent."""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import timedelta

from flask import current_app
from rq import Queue, get_current_job
from rq.job import Job, JobStatus
from rq.timeouts import JobTimeoutException
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

import screening
from app.capture import visitor_email
from app.consent.mail import with_consent_links
from app.db import rowcount, session_scope
from app.flows import accept
from app.forwarding.adapters import DeliverySettings, DestinationSpec
from app.forwarding.adapters import deliver as send
from app.forwarding.deliveries import claim, record_attempt
from app.leads.rescore import rescore_batch
from app.models import AuditEvent, Finding, Submission, utcnow
from app.observability.context import META_KEY, bind_job_request_id, current_request_id
from app.observability.metrics import observe_screening
from app.runtime import batching
from app.runtime.queues import (
    SALES_SCREENING,
    SCREENING,
    enqueue_delivery,
    enqueue_rescore,
    enqueue_visitor_email,
    screening_job_id,
)
from app.screening_context.challenges import gather
from app.statuses import SubmissionStatus, Verdict
from forms import FORM_KINDS

log = logging.getLogger(__name__)


def candidate_for(submission: Submission) -> screening.Candidate:
    """The screening view of a stored submission."""
    kind = submission.form.kind
    return screening.Candidate(
        email=submission.email,
        first_name=submission.first_name,
        last_name=submission.last_name,
        company=submission.company,
        job_title=submission.job_title,
        phone=submission.phone,
        country=submission.country,
        message=submission.message,
        ip=submission.ip,
        form_kind=kind,
        form_intent=FORM_KINDS[kind].INTENT if kind in FORM_KINDS else "",
        signals=dict(submission.signals or {}),
    )


def screening_context(session: Session) -> screening.Context:
    """Fresh admin lists, this process's resolver and the configured policy (app/screening_context.py)."""
    from app.screening_context.builder import build_context

    return build_context(session=session)


def screen_submission(submission_id: int) -> str:
    """Screen one received submission and store findings and verdict exactly once.

    The final UPDATE is guarded by `status = received`: if another worker got
    there first, this run's findings are rolled back and nothing changes.
    """
    with session_scope() as session:
        outcome = _screen(session, submission_id, None)
    if isinstance(outcome, str):
        return outcome
    _send(outcome.deliveries, outcome.emails)
    return outcome.verdict


def screen_batch(submission_ids: list[int], sales: bool = False, budget: float | None = None) -> dict[str, int]:
    """Screen a batch of received submissions in this one work horse, each in a transaction of its own,
    with one session (one database connection) and one screening context for all (app/runtime/batching.py).

    A submission whose screening raises is queued again alone (its own job fails as a single one would);
    the rest goes on. The batch makes way, queuing what it has not started again at the front of its lane,
    when a queue served before its lane has work or `budget` seconds (half its time-out) are used. A
    download's deliveries are queued at the end of its batch (a sales request's at once)."""
    job = get_current_job()
    connection = current_app.extensions["leadsieve.redis"]
    lane = SALES_SCREENING if sales else SCREENING
    budget = _budget(job, budget)
    started = time.monotonic()
    counts = {"screened": 0, "skipped": 0, "alone": 0, "given back": 0}
    deliveries: list[int] = []
    emails: list[int] = []
    with session_scope() as session:
        context = screening_context(session)
        for index, submission_id in enumerate(submission_ids):
            if index and (time.monotonic() - started > budget or batching.lanes_ahead_waiting(connection, lane)):
                rest = submission_ids[index:]
                batching.queue_again(connection, rest, sales=sales, alone=False)
                counts["given back"] = len(rest)
                break
            try:
                outcome = _screen(session, submission_id, context)
            except JobTimeoutException:
                raise  # RQ's time-out: the batch fails and the worker queues what is left alone
            except Exception:  # noqa: BLE001 - not hidden: its own job runs it again and fails with this error
                log.exception("screening submission %s failed in a batch; queueing it alone", submission_id)
                session.rollback()
                batching.queue_again(connection, [submission_id], sales=sales, alone=True)
                counts["alone"] += 1
                continue
            if isinstance(outcome, str):
                counts["skipped"] += 1
            else:
                counts["screened"] += 1
                if sales:
                    _send(outcome.deliveries, outcome.emails)
                else:
                    deliveries += outcome.deliveries
                    emails += outcome.emails
            batching.mark(connection, [screening_job_id(submission_id)], JobStatus.FINISHED)
    _send(deliveries, emails)
    return counts


def run_deliveries(job_ids: list[str], budget: float | None = None) -> dict[str, int]:
    """Deliveries and visitor e-mails (`deliver`, `send_visitor_email` jobs) in this one work horse, one
    after another, each exactly as its own job would run (app/runtime/batching.py). One that raises is
    queued alone, to fail (and be retried) by itself; past `budget` seconds (half the time-out) the rest
    goes back to the front of the lane."""
    batch = get_current_job()
    connection = current_app.extensions["leadsieve.redis"]
    budget = _budget(batch, budget)
    started = time.monotonic()
    counts = {"done": 0, "alone": 0, "given back": 0}
    members = [job for job in Job.fetch_many(job_ids, connection) if job is not None]
    for index, member in enumerate(members):
        if index and time.monotonic() - started > budget:
            rest = members[index:]
            with connection.pipeline() as pipeline:
                for job in reversed(rest):
                    Queue(job.origin, connection=connection).enqueue_job(job, pipeline=pipeline, at_front=True)
                pipeline.execute()
            counts["given back"] = len(rest)
            break
        if batch is not None:  # log lines and jobs queued from here carry this member's request id
            batch.meta[META_KEY] = member.meta.get(META_KEY)
        try:
            member.func(*member.args, **member.kwargs)
        except JobTimeoutException:
            raise  # RQ's time-out: the batch fails and the worker queues what is left alone
        except Exception:  # noqa: BLE001 - not hidden: its own job runs it again and fails with this error
            log.exception("%s failed in a batch; queueing it alone", member.id)
            batching.run_alone(connection, [member.id], only_started=False)
            counts["alone"] += 1
            continue
        batching.mark(connection, [member.id], JobStatus.FINISHED)
        counts["done"] += 1
    return counts


def _budget(batch: Job | None, budget: float | None) -> float:
    """How long a batch may start new work: `budget`, else half its time-out (the rest must still fit)."""
    if budget is not None:
        return budget
    return (batch.timeout if batch is not None and batch.timeout else current_app.config["JOB_TIMEOUT_SECONDS"]) / 2


@dataclasses.dataclass(frozen=True)
class Screened:
    """A screening stored: its verdict, and the deliveries and visitor e-mails to queue."""

    verdict: str
    deliveries: list[int]
    emails: list[int]


def _screen(session: Session, submission_id: int, context: screening.Context | None) -> Screened | str:
    """Screen one submission and commit; a word instead when there was nothing to do.

    On PostgreSQL the row is locked for the transaction and a row another worker holds is skipped
    (`FOR UPDATE SKIP LOCKED`): it is being screened there. Everywhere the verdict's UPDATE is guarded by
    `status = received`, so a submission is screened, classified and routed once."""
    submission = session.scalars(
        select(Submission)
        .where(Submission.id == submission_id)
        .with_for_update(skip_locked=True, of=Submission.__table__)
    ).first()
    if submission is None:
        if session.get(Submission, submission_id) is not None:
            session.rollback()
            return "already screened"  # locked: another worker is screening it now
        log.warning("screen_submission: submission %s does not exist", submission_id)
        return "missing"
    _bind_request_id(submission.request_id)  # log lines below carry the capturing request's id
    if submission.status != SubmissionStatus.RECEIVED:
        session.rollback()
        return "already screened"
    # The form's challenge and Akismet answers, asked here (never in the request), handed to screening as data.
    candidate = dataclasses.replace(candidate_for(submission), **gather(submission, current_app.config))
    started = time.perf_counter()
    result = screening.screen(candidate, context if context is not None else screening_context(session))
    elapsed = time.perf_counter() - started
    deliveries = _record(session, submission, result)
    if deliveries is None:
        session.rollback()
        return "already screened"
    emails = visitor_email.waiting(session, [submission_id]) if result.verdict == Verdict.ACCEPTED else []
    session.commit()
    observe_screening(current_app.extensions["leadsieve.redis"], elapsed)
    log.info(
        "screened submission %s: %s",
        submission_id,
        result.verdict,
        extra={
            "submission_id": submission_id,
            "verdict": result.verdict,
            "category": result.category,
            "duration_ms": round(elapsed * 1000, 1),
        },
    )
    return Screened(verdict=result.verdict, deliveries=deliveries, emails=emails)


def _bind_request_id(request_id: str | None) -> None:
    """The submission's request id on the running job (a batch carries each member's in turn)."""
    job = get_current_job()
    if job is not None and job.func_name == batching.BATCH_FUNC:
        job.meta.pop(META_KEY, None)
    bind_job_request_id(request_id)


def _send(deliveries: list[int], emails: list[int]) -> None:
    """Queue the deliveries and visitor e-mails a screening made (after its commit)."""
    for delivery_id in deliveries:
        enqueue_delivery(delivery_id, 0)
    for email_submission_id in emails:
        enqueue_visitor_email(email_submission_id)


def _record(session: Session, submission: Submission, result: screening.Screening) -> list[int] | None:
    """Store the verdict (guarded by `status = received`), findings and audit event, and classify and
    route an accepted lead; the new delivery ids, or None if another worker got there first. No commit."""
    now = utcnow()
    claimed = rowcount(
        session.execute(
            update(Submission)
            .where(Submission.id == submission.id, Submission.status == SubmissionStatus.RECEIVED)
            .values(
                status=SubmissionStatus.SCREENED,
                verdict=result.verdict,
                reason_category=result.category,
                score=result.score,
                screened_at=now,
                dns_held_at=now if held_for_dns(result) else None,  # the sweeper's retry list
            )
        )
    )
    if claimed != 1:
        return None
    # Re-screening replaces the findings of an earlier run, never adds to them.
    session.execute(delete(Finding).where(Finding.submission_id == submission.id))
    session.add_all(
        Finding(submission_id=submission.id, code=f.code, category=f.category, weight=f.weight, evidence=f.evidence)
        for f in result.findings
    )
    session.add(
        AuditEvent(
            actor="screening",
            action="screened",
            subject_type="submission",
            subject_id=submission.id,
            details={"verdict": result.verdict, "category": result.category, "score": result.score},
        )
    )
    if result.verdict != Verdict.ACCEPTED:
        return []
    session.refresh(submission)
    return accept(session, submission=submission, actor="classifier")


def held_for_dns(result: screening.Screening) -> bool:
    """Held with a finding that DNS did not answer: the sweeper screens it again later."""
    return result.verdict == Verdict.HELD and any(f.code == "dns.unknown" for f in result.findings)


def warm_up() -> bool:
    """Run one screening job's statements in a transaction that is rolled back, without DNS.

    RQ forks a work horse per job from the worker's process: whatever that process has built
    (SQLAlchemy's compiled statements, lazily loaded modules and tables) each horse inherits, and
    whatever it has not, every horse builds again. Measured: ~49 ms a job cold, ~23 ms warm.
    False when there is no form to warm up with (a fresh database)."""
    from app.models import Form
    from app.screening_context.builder import build_context

    with session_scope() as session:
        form_id = session.scalar(select(Form.id).order_by(Form.id).limit(1))
        if form_id is None:
            return False
        submission = Submission(
            form_id=form_id,
            email="info@example.com",
            first_name="Warm",
            last_name="Up",
            company="Example",
            status=SubmissionStatus.RECEIVED,
            signals={},
            raw={},
            answers={},
        )
        session.add(submission)  # a role address: accepted, with a finding, so every INSERT gets compiled
        session.flush()
        context = build_context(session=session)
        context = dataclasses.replace(context, resolver=None)  # no network at start-up
        _record(session, submission, screening.screen(candidate_for(submission), context))
        session.rollback()
    return True


def delivery_settings() -> DeliverySettings:
    """Adapter settings from configuration."""
    config = current_app.config
    return DeliverySettings(
        timeout=config["DELIVERY_TIMEOUT_SECONDS"],
        allowed_private_destinations=tuple(config["ALLOWED_PRIVATE_DESTINATIONS"]),
        smtp_url=config["SMTP_URL"],
        smtp_from=config["SMTP_FROM"],
        user_agent="leadsieve/0.1",
    )


def deliver(delivery_id: int) -> str:
    """Send one delivery once; on a retryable failure schedule the next try, else dead-letter it."""
    with session_scope() as session:
        lease = timedelta(seconds=current_app.config["JOB_TIMEOUT_SECONDS"] + 5)
        delivery = claim(session, delivery_id, lease=lease)
        if delivery is None:
            return "not due"
        if not current_request_id():  # enqueued by the sweeper: adopt the id stored at capture
            bind_job_request_id(
                session.scalar(select(Submission.request_id).where(Submission.id == delivery.submission_id))
            )
        destination = delivery.destination
        spec = DestinationSpec(
            kind=destination.kind,
            target=destination.target,
            secret=destination.secret,
            options=dict(destination.options or {}),
        )
        result = send(spec, delivery.payload, idempotency_key=delivery.idempotency_key, settings=delivery_settings())
        delay = record_attempt(session, delivery, result, backoff=current_app.config["DELIVERY_BACKOFF"])
        status, attempts = delivery.status, delivery.attempts
    log.info(
        "delivery %s attempt %s: %s",
        delivery_id,
        attempts,
        status,
        extra={"delivery_id": delivery_id, "status": status, "attempts": attempts},
    )
    if delay is not None:
        enqueue_delivery(delivery_id, attempts, delay=delay)
    return status


def send_visitor_email(submission_id: int) -> str:
    """Send the confirmation e-mail a form promised, once: claimed with a lease, retried on the delivery
    back-off schedule, never for a submission that is not (or no longer) accepted."""
    with session_scope() as session:
        lease = timedelta(seconds=current_app.config["JOB_TIMEOUT_SECONDS"] + 5)
        row = visitor_email.claim(session, submission_id, lease=lease)
        if row is None:
            return "not due"
        submission = session.get(Submission, submission_id)
        assert submission is not None  # the row cascades with its submission
        if not current_request_id():
            bind_job_request_id(submission.request_id)
        if reason := visitor_email.still_wanted(submission):
            visitor_email.give_up(session, row, reason)
            return "not sent"
        config = current_app.config
        message = visitor_email.message_for(submission, base_url=config["PUBLIC_BASE_URL"], now=utcnow())
        message = with_consent_links(
            session, message, submission, secret=config["SECRET_KEY"], base_url=config["PUBLIC_BASE_URL"]
        )
        result = visitor_email.send(message, delivery_settings())
        delay = visitor_email.record_attempt(session, row, result, backoff=config["DELIVERY_BACKOFF"])
        status, attempts = row.status, row.attempts
    log.info(
        "visitor e-mail of submission %s, attempt %s: %s",
        submission_id,
        attempts,
        status,
        extra={"submission_id": submission_id, "status": status, "attempts": attempts},
    )
    if delay is not None:
        enqueue_visitor_email(submission_id, attempts, delay=delay)
    return status


def rescore_leads(run_id: int) -> str:
    """Re-score the existing leads under a saved rule set, one committed batch at a time (the scoring page
    shows n of total). Past half the job time-out the rest goes to a new job. Idempotent: a finished run
    does nothing, and a re-run resumes after the last lead done (app/leads/rescore.py)."""
    started, budget = time.monotonic(), current_app.config["JOB_TIMEOUT_SECONDS"] / 2
    while True:
        with session_scope() as session:
            more = rescore_batch(session, run_id=run_id)
            session.commit()
        if not more:
            return "done"
        if time.monotonic() - started > budget:
            enqueue_rescore(run_id)
            return "continued"
